package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/peerplay/peerplay/bench"
)

const slo = 20 * time.Millisecond

type server struct {
	name  string
	proto bench.SignalProtocol
	start func(context.Context) (*bench.Proc, bool, error)
}

func (r *report) signaling(ctx context.Context) error {
	tmp, err := os.MkdirTemp("", "peerplay-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	peerjs, err := bench.InstallPeerJS(ctx, "")
	if err != nil {
		return err
	}
	pinServer := 1
	if r.quick {
		pinServer = -1
	}
	servers := []server{
		{"Peerplay signald", bench.Peerplay{}, func(ctx context.Context) (*bench.Proc, bool, error) {
			return bench.StartSignald(ctx, r.module, tmp, pinServer)
		}},
		{"PeerJS server " + bench.PeerJSVersion, bench.PeerJS{}, func(ctx context.Context) (*bench.Proc, bool, error) {
			return bench.StartPeerJS(ctx, peerjs, pinServer)
		}},
	}
	rates := []float64{2000, 4000, 8000, 16000, 24000, 32000, 40000, 48000, 56000, 64000, 72000, 80000, 96000, 128000}
	step, pairs, idle, sweeps := 2*time.Second, 100, 10000, 5
	if r.quick {
		rates, step, pairs, idle, sweeps = []float64{1000, 4000}, 300*time.Millisecond, 10, 500, 1
	}
	const stopAt = time.Second // a sweep continues past the SLO until saturation or this p99

	type result struct {
		steps          []bench.RelayStep // per rate: medians over the sweeps that reached it
		best           float64           // highest delivered rate with p99 ≤ slo
		saturation     float64           // highest delivered rate (≥ 90% of offered)
		cpuPerMsg      float64           // µs of server CPU per relayed signal, over the sweeps
		rssPerConn     float64
		connRate       float64
		pinned         bool
		baseRSS, idleR int64
		// Go servers only: heap+stack in use and goroutines, per idle
		// connection (from /metrics).
		goBytes, goroutines float64
		hasGo               bool
		slowCuts            int // clients cut as slow consumers during the sweeps (ours only)
	}
	res := make([]result, len(servers))
	raw := make([][][]bench.RelayStep, len(servers)) // [server][sweep]
	cpu := make([]time.Duration, len(servers))
	recv := make([]int, len(servers))
	for sw := 0; sw < sweeps; sw++ {
		for k := range servers {
			i := (k + sw) % len(servers)
			s := servers[i]
			p, pin, err := s.start(ctx)
			if err != nil {
				return err
			}
			res[i].pinned = pin
			c0, _ := p.CPU()
			steps, err := bench.RelaySweep(ctx, s.proto, p.Base, bench.RelayConfig{Pairs: pairs, Rates: rates, Step: step, SLO: stopAt})
			c1, _ := p.CPU()
			if v, err := bench.PromValue(p.Base, `signald_rejects_total{reason="slow_consumer"}`); err == nil {
				res[i].slowCuts += int(v)
			}
			p.Stop()
			if err != nil {
				return fmt.Errorf("%s relay: %w", s.name, err)
			}
			raw[i] = append(raw[i], steps)
			cpu[i] += c1 - c0
			for _, st := range steps {
				recv[i] += st.Received
			}
		}
	}
	for i := range servers {
		for k, rate := range rates {
			var ach, p50, p99 []float64
			for _, steps := range raw[i] {
				if k < len(steps) {
					ach = append(ach, steps[k].Achieved)
					p50 = append(p50, float64(steps[k].P50))
					p99 = append(p99, float64(steps[k].P99))
				}
			}
			if len(ach) == 0 {
				break
			}
			st := bench.RelayStep{Offered: rate, Achieved: bench.Median(ach), P50: time.Duration(bench.Median(p50)), P99: time.Duration(bench.Median(p99))}
			res[i].steps = append(res[i].steps, st)
			if st.Achieved >= 0.9*rate {
				res[i].saturation = max(res[i].saturation, st.Achieved)
			}
		}
		res[i].best = bench.MaxRateWithin(res[i].steps, slo)
		if recv[i] > 0 {
			res[i].cpuPerMsg = float64(cpu[i]) / float64(time.Microsecond) / float64(recv[i])
		}
	}
	for i, s := range servers {
		// Idle connections on a fresh server.
		p, _, err := s.start(ctx)
		if err != nil {
			return err
		}
		time.Sleep(time.Second)
		base, err := p.RSS()
		if err != nil {
			p.Stop()
			return err
		}
		h0, s0, g0, goErr := bench.GoMetrics(p.Base)
		conns, took, err := bench.IdleConns(ctx, s.proto, p.Base, idle)
		if err != nil {
			p.Stop()
			return fmt.Errorf("%s idle: %w", s.name, err)
		}
		time.Sleep(5 * time.Second) // settle
		if goErr == nil {
			if h1, s1, g1, err := bench.GoMetrics(p.Base); err == nil {
				res[i].hasGo = true
				res[i].goBytes = (h1 + s1 - h0 - s0) / float64(idle)
				res[i].goroutines = (g1 - g0) / float64(idle)
			}
		}
		rss, err := p.RSS()
		bench.CloseIdle(conns)
		p.Stop()
		if err != nil {
			return err
		}
		res[i].baseRSS, res[i].idleR = base, rss
		res[i].rssPerConn = float64(rss-base) / float64(idle)
		res[i].connRate = float64(idle) / took.Seconds()
	}

	r.printf("## 7. Signaling: Peerplay vs PeerJS server\n\n")
	r.printf("Both servers run as separate processes on 127.0.0.1")
	if res[0].pinned {
		r.printf(", each pinned to CPU 1 (`taskset -c 1`; Go then runs with GOMAXPROCS 1, Node is single-threaded for JavaScript)")
	}
	r.printf("; the Go load client (this process) is not pinned: pinned to the other core with GOMAXPROCS 1 it could not offer even 2,000 signals/s with a steady p99 on this machine")
	r.printf(". Ours is the real `cmd/signald` with its limits lifted for load (no per-IP cap, no message rate limit); PeerJS is npm `peer@%s` started with `--concurrent_limit 30000 --alive_timeout 600000`. "+
		"The same Go load client (coder/websocket) speaks each protocol: %d client pairs, the first of each pair relays a ~250-byte trickled-candidate message to the second "+
		"(the same JSON object in both: ours as the `data` of a `signal`, which protocol version 2 relays byte for byte; PeerJS as the `payload` of a `CANDIDATE`, relayed by `dst`), open loop at each offered rate for %s, latency = receive time − send time in the client. "+
		"A sweep goes up until the server delivers under 90%% of the offered rate or p99 passes %s; %d sweeps per server, alternating servers, each on a fresh server process; the table shows per-rate medians.\n\n", bench.PeerJSVersion, pairs, step, stopAt, sweeps)
	r.printf("| Offered /s |")
	for _, s := range servers {
		r.printf(" %s: delivered /s | p50 ms | p99 ms |", s.name)
	}
	r.printf("\n|---|")
	for range servers {
		r.printf("---|---|---|")
	}
	r.printf("\n")
	for k, rate := range rates {
		any := false
		row := fmt.Sprintf("| %s |", fmtF(rate))
		for i := range servers {
			if k < len(res[i].steps) {
				st := res[i].steps[k]
				row += fmt.Sprintf(" %s | %s | %s |", fmtF(st.Achieved), fmtF(float64(st.P50)/1e6), fmtF(float64(st.P99)/1e6))
				any = true
			} else {
				row += " – | – | – |"
			}
		}
		if any {
			r.printf("%s\n", row)
		}
	}
	r.printf("\n| Server | highest rate with p99 ≤ %s | saturation rate | server CPU per relayed signal | RSS idle (fresh) | RSS with %d idle clients | per idle connection | connections opened /s |\n|---|---|---|---|---|---|---|---|\n", slo, idle)
	for i, s := range servers {
		r.printf("| %s | %s /s | %s /s | %s µs | %s MiB | %s MiB | %s KiB | %s |\n", s.name, fmtF(res[i].best), fmtF(res[i].saturation), fmtF(res[i].cpuPerMsg),
			fmtF(float64(res[i].baseRSS)/(1<<20)), fmtF(float64(res[i].idleR)/(1<<20)), fmtF(res[i].rssPerConn/1024), fmtF(res[i].connRate))
	}
	ratio, satRatio := 0.0, 0.0
	if res[1].best > 0 {
		ratio = res[0].best / res[1].best
	}
	if res[1].saturation > 0 {
		satRatio = res[0].saturation / res[1].saturation
	}
	top := rates[len(rates)-1]
	capped := res[0].steps[len(res[0].steps)-1].Offered == top && res[0].best >= 0.9*top
	r.printf("\nRelay rate ratio at p99 ≤ %s: **%s×** (ours / PeerJS); at saturation: **%s×**. Server CPU per relayed signal, PeerJS / ours: %s×.", slo, fmtF(ratio), fmtF(satRatio), fmtF(res[1].cpuPerMsg/res[0].cpuPerMsg))
	if capped {
		r.printf(" Ours met the SLO at the highest offered rate, so its ceiling (and the ratio) is at least this: this load client, not the server, set the limit; section 7b measures both ceilings with generators that are not the bottleneck.")
	}
	for i, s := range servers {
		if n := len(res[i].steps); n > 0 && res[i].steps[n-1].Achieved < 0.5*res[i].steps[n-1].Offered {
			r.printf(" %s's delivery collapsed at %s offered/s", s.name, fmtF(res[i].steps[n-1].Offered))
			if i == 0 {
				r.printf(" (it cuts a client whose send queue overflows, `slow_consumer`, by design, so overload sheds clients rather than growing memory; %d such cuts over the %d sweeps, from signald's /metrics)", res[0].slowCuts, sweeps)
			}
			r.printf(".")
		}
	}
	r.printf(" Memory is the server's VmRSS growth over a fresh process divided by the idle connections (each joined: ours in a room of its own, PeerJS registered with an id), after 5 s to settle.")
	if res[0].hasGo {
		r.printf(" From signald's own /metrics (Go collector), each idle connection holds %s KiB of heap + stack in use and %s goroutine(s); RSS also carries garbage not yet collected (GOGC 100 lets the heap grow to twice the live data) and runtime overhead.",
			fmtF(res[0].goBytes/1024), fmtF(res[0].goroutines))
	}
	r.printf("\n\n![signaling](signaling.png)\n\n")
	kib := res[0].rssPerConn / 1024
	cutsWhy := ""
	if res[0].slowCuts > 0 {
		cutsWhy = fmt.Sprintf(" Under overload signald cut %d receivers whose send queue overflowed (slow_consumer, by design) where PeerJS buffers without bound, so its delivery drops off earlier.", res[0].slowCuts)
	}
	relayWhy := fmt.Sprintf("on one core each, our server delivered at most %s signals/s and PeerJS %s; CPU per relayed signal: ours %s µs, PeerJS %s µs. Per message our server decodes and validates the JSON frame, passes the data through the backplane, and encodes a new frame for the receiver's writer goroutine; PeerJS parses and re-stringifies.%s The p99 ≤ %s point is noisy on this shared 2-core machine (scheduling pauses of tens of ms), see the table. This load client is one process and did not saturate signald; section 7b measures both servers' ceilings with generators that are not the bottleneck",
		fmtF(res[0].saturation), fmtF(res[1].saturation), fmtF(res[0].cpuPerMsg), fmtF(res[1].cpuPerMsg), cutsWhy, slo)
	relayMet := ratio >= 3 && satRatio >= 1
	if ratio >= 3 && !relayMet {
		relayWhy = "not counted as met: the p99 ≤ " + slo.String() + " ratio reached 3× in this run, but at saturation ours delivered less than PeerJS, so the p99 crossing points reflect noise on this loaded machine (p99 jumps of tens of ms between neighbouring rates, see the table) rather than a 3× capacity. " + relayWhy
	}
	r.target("Signaling relay rate", "≥ 3× PeerJS at equal p99", fmt.Sprintf("%s× at p99 ≤ %s, %s× at saturation", fmtF(ratio), slo, fmtF(satRatio)), relayMet, relayWhy)
	memWhy := "RSS includes garbage the GC has not yet collected"
	if res[0].hasGo {
		memWhy = fmt.Sprintf("signald's /metrics show %s KiB of heap+stack in use and %s goroutine(s) per idle connection; RSS adds garbage not yet collected and runtime overhead",
			fmtF(res[0].goBytes/1024), fmtF(res[0].goroutines))
	}
	r.target("Signaling memory per idle connection", "≤ 16 KB", fmtF(kib)+" KiB (RSS)", res[0].rssPerConn <= 16000, memWhy)

	var lines []line
	for i, s := range servers {
		var pts plotter.XYs
		for _, st := range res[i].steps {
			if st.Achieved >= 0.5*st.Offered { // a collapsed step would draw the curve backwards
				pts = append(pts, plotter.XY{X: st.Achieved, Y: float64(st.P99) / 1e6})
			}
		}
		lines = append(lines, line{name: s.name + " p99", pts: pts})
	}
	lines = append(lines, line{name: "SLO 20 ms", pts: plotter.XYs{{X: 0, Y: 20}, {X: top, Y: 20}}, dashed: true})
	return linePlot(filepath.Join(r.out, "signaling.png"), "Signaling relay: p99 latency vs delivered rate", "signals relayed per second", "p99 latency (ms, log scale)", lines, true, 0)
}
