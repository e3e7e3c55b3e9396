package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/peerplay/peerplay/bench"
)

// Saturation (section sigsat): each server pinned to CPU 1, satProcs
// generator processes of the raw WebSocket client pinned to CPU 0, closed
// loop, relay and churn.
var satProcs = []int{1, 2, 4}

const (
	satPairs   = 60 // relay pairs in all
	satWindow  = 16 // relay signals in flight per pair
	satWorkers = 24 // churn loops in all
)

type satCell struct {
	rate, srv, gen, srvIdle, genIdle, atSrv []float64 // per repeat
}

func (r *report) sigsat(ctx context.Context) error {
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("sigsat: needs 2 CPUs (server and generators on their own), have %d", runtime.NumCPU())
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("sigsat: needs taskset: %w", err)
	}
	tmp, err := os.MkdirTemp("", "peerplay-sigsat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	peerjs, err := bench.InstallPeerJS(ctx, "")
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	gen := func() *exec.Cmd { return exec.Command(exe, "-siggen") }
	const srvCPU, genCPU = 1, 0
	servers := []struct {
		name, proto string
		start       func(context.Context) (*bench.Proc, bool, error)
	}{
		{"Peerplay signald", "peerplay", func(ctx context.Context) (*bench.Proc, bool, error) {
			return bench.StartSignald(ctx, r.module, tmp, srvCPU)
		}},
		{"PeerJS server " + bench.PeerJSVersion, "peerjs", func(ctx context.Context) (*bench.Proc, bool, error) {
			return bench.StartPeerJS(ctx, peerjs, srvCPU)
		}},
	}
	workloads := strings.Split(r.satWorkloads, ",")
	warm, measure := time.Second, 3*time.Second
	if r.quick {
		warm, measure = 200*time.Millisecond, 500*time.Millisecond
	}
	load0 := loadAvg()
	// cells[workload][server][procs-1]
	cells := make([][][]satCell, len(workloads))
	for w := range cells {
		cells[w] = make([][]satCell, len(servers))
		for i := range cells[w] {
			cells[w][i] = make([]satCell, len(satProcs))
		}
	}
	for rep := 0; rep < r.repeats; rep++ {
		// Both servers fresh each repeat; the two measurements of a cell
		// run back to back (alternating which goes first), so that the
		// load of this shared machine changes little between them.
		procs := make([]*bench.Proc, len(servers))
		stop := func() {
			for _, p := range procs {
				if p != nil {
					p.Stop()
				}
			}
		}
		for i, s := range servers {
			p, _, err := s.start(ctx)
			if err != nil {
				stop()
				return err
			}
			procs[i] = p
		}
		turn := rep
		for w, workload := range workloads {
			for gi, g := range satProcs {
				turn++
				for k := range servers {
					i := (k + turn) % len(servers)
					s, p := servers[i], procs[i]
					res, err := bench.SigSaturate(ctx, bench.SatConfig{Proto: s.proto, Server: p, Workload: workload,
						Procs: g, Pairs: satPairs, Window: satWindow, Workers: satWorkers, Warmup: warm, Measure: measure,
						Command: gen, GenCPU: genCPU, ServerCPU: srvCPU})
					if err != nil {
						stop()
						return fmt.Errorf("%s %s, %d generators: %w", s.name, workload, g, err)
					}
					log.Printf("sigsat: repeat %d %s %s gen=%d: %.0f/s server %.0f%% queued at server %.0f%% (CPU idle %.0f%%) generators %.0f%% (CPU idle %.0f%%)",
						rep, s.proto, workload, g, res.Rate, 100*res.ServerCPU, 100*res.AtServer, 100*res.ServerIdle, 100*res.GenCPU, 100*res.GenIdle)
					c := &cells[w][i][gi]
					c.rate = append(c.rate, res.Rate)
					c.srv = append(c.srv, res.ServerCPU)
					c.gen = append(c.gen, res.GenCPU)
					c.srvIdle = append(c.srvIdle, res.ServerIdle)
					c.genIdle = append(c.genIdle, res.GenIdle)
					c.atSrv = append(c.atSrv, res.AtServer)
				}
			}
		}
		stop()
	}

	procs := make([]string, len(satProcs))
	for i, g := range satProcs {
		procs[i] = fmt.Sprint(g)
	}
	r.printf("## 7b. Signaling saturation: a generator that is not the bottleneck\n\n")
	r.printf("Issue 20: section 7's load client (one Go process, coder/websocket) could not saturate signald, so its ratio was a floor. "+
		"Here each server runs alone on CPU 1 (`taskset -c 1`, both fresh each repeat; Go then runs with GOMAXPROCS 1, Node runs JavaScript on one thread) "+
		"and %s load generator processes run on CPU 0 (`taskset -c 0`: this command started again with `-siggen`, `bench.SigGenMain`; `BenchmarkSignalSaturation` runs the same code with 2). "+
		"The generator is a hand-written WebSocket client (`bench/wsraw.go`): frames are built once, masked with a fixed non-zero key (ws under PeerJS skips unmasking for a zero key), "+
		"every frame a connection may send goes out in one write, and received frames are parsed in place. Both servers get the same byte streams. Closed loop, so neither server queues without bound:\n\n"+
		"- **relay**: %d client pairs in all (split over the generators); the first of each pair keeps %d signals in flight to the second (a signal received lets the next go). "+
		"The signal is section 7's ~250-byte trickled-candidate JSON object, ours as the `data` of a `signal` frame (relayed byte for byte), PeerJS's as the `payload` of a `CANDIDATE` (relayed by `dst`). Op = one signal received.\n"+
		"- **offer**: the same with an offer-sized signal: the JSON object a PeerJS client sends with a data-channel offer (the SDP of a browser's data-channel-only offer, CRLFs escaped, plus connection id, label and options; %d bytes), ours as `data`, PeerJS's as the `payload` of an `OFFER`.\n"+
		"- **churn**: %d loops in all, each: open a TCP connection and a WebSocket, join (ours: a fresh room of 2; PeerJS: a fresh id), wait for `welcome` / `OPEN`, leave as the protocol's client does (ours: a `leave` frame; both: a close frame) and close. Op = one cycle. (PeerJS's command logs each connect and disconnect to stdout, here /dev/null: its default.)\n\n"+
		"Each cell: %s warm-up, %s measured, the two servers back to back (alternating which goes first). Server CPU = the run time of the server's threads over the window (/proc/PID/task/*/schedstat, ns; kernel work done in its context, such as loopback TCP, included), "+
		"generators' CPU = the sum of their own (getrusage). *Queued at server* is where the work in flight waited: the share of unread bytes (relay) or waiting cycles (churn: connections in the accept backlog, sockets with unread bytes) in TCP receive queues that sat on the server's side rather than the generators' (/proc/net/tcp, sampled every 50 ms). "+
		"Medians over %d repeats; ratios are computed within each repeat, [min–max] over repeats. Load average at the start of this section: %s (2 cores, shared with other work).\n\n",
		strings.Join(procs, ", "), satPairs, satWindow, bench.OfferSize(), satWorkers, warm, measure, r.repeats, load0)
	r.printf("| Workload | generator processes | signald ops/s | server CPU | CPU µs per op | queued at server | generators' CPU (µs per op) | PeerJS ops/s | server CPU | CPU µs per op | queued at server | generators' CPU (µs per op) | rate ratio signald / PeerJS |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	pct := func(xs []float64) string {
		m := bench.Median(xs)
		if m < 0 {
			return "–"
		}
		return fmtF(100*m) + " %"
	}
	type sat struct {
		ratio, lo, hi, sd, pj, sdPer, pjPer, perRatio, perLo, perHi float64
		sdQ, pjQ                                                    float64
	}
	sats := make([]sat, len(workloads))
	for w, workload := range workloads {
		for gi, g := range satProcs {
			a, b := cells[w][0][gi], cells[w][1][gi]
			var ratios, perRatios []float64
			for k := range a.rate {
				if k < len(b.rate) && b.rate[k] > 0 && a.rate[k] > 0 {
					ratios = append(ratios, a.rate[k]/b.rate[k])
					perRatios = append(perRatios, (b.srv[k]/b.rate[k])/(a.srv[k]/a.rate[k]))
				}
			}
			r.printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | **%s×** [%s–%s] |\n", workload, g,
				fmtF(bench.Median(a.rate)), pct(a.srv), fmtF(cpuPer(a.srv, a.rate)), pct(a.atSrv), pct(a.gen)+" ("+fmtF(cpuPer(a.gen, a.rate))+")",
				fmtF(bench.Median(b.rate)), pct(b.srv), fmtF(cpuPer(b.srv, b.rate)), pct(b.atSrv), pct(b.gen)+" ("+fmtF(cpuPer(b.gen, b.rate))+")",
				fmtF(bench.Median(ratios)), fmtF(minF(ratios)), fmtF(maxF(ratios)))
			if gi == len(satProcs)-1 {
				sats[w] = sat{ratio: bench.Median(ratios), lo: minF(ratios), hi: maxF(ratios), sd: bench.Median(a.rate), pj: bench.Median(b.rate),
					sdPer: cpuPer(a.srv, a.rate), pjPer: cpuPer(b.srv, b.rate), perRatio: bench.Median(perRatios), perLo: minF(perRatios), perHi: maxF(perRatios),
					sdQ: bench.Median(a.atSrv), pjQ: bench.Median(b.atSrv)}
			}
		}
	}
	genShare := 0.0 // the generators' CPU per op / the server's, at most, over the cells
	for w := range workloads {
		for i := range servers {
			for gi := range satProcs {
				c := cells[w][i][gi]
				if sp := cpuPer(c.srv, c.rate); sp > 0 {
					genShare = max(genShare, cpuPer(c.gen, c.rate)/sp)
				}
			}
		}
	}
	r.printf("\nHow to read it. *Server CPU* is the share of one core the server got. It stays below 100 %% because other work on this shared machine ran on the same core (CPU 1 was idle %s of the time in the last relay cells, /proc/stat), not because the server waited for input: "+
		"where *queued at server* is near 100 %%, the work in flight sat in the server's receive queues, so the server was behind and the generators ahead (a generator-bound cell would show the queue on the generators' side). "+
		"Adding generator processes does not raise the delivered rates (beyond the spread), as expected of a server-bound run. "+
		"Because the share of its core each server got moves with the machine's load, delivered rates and their ratio spread even back to back. "+
		"The server's CPU time per op does not depend on that share: its estimated ceiling on a dedicated core is 1 / (CPU per op), and the **capacity ratio** is PeerJS's CPU per op / signald's, per repeat. "+
		"The generators' CPU per op is at most %s of the server's in any cell, so with a core each the generators would still keep the server saturated.\n\n",
		pct(cells[0][0][len(satProcs)-1].srvIdle), fmtF(100*genShare)+" %")
	for w, workload := range workloads {
		x := sats[w]
		r.printf("- **%s**, %d generator processes: queued at the server %s (signald) and %s (PeerJS). Estimated ceiling on one dedicated core: signald %s ops/s, PeerJS %s ops/s; **capacity ratio %s×** [%s–%s]; delivered-rate ratio %s× [%s–%s].\n",
			workload, satProcs[len(satProcs)-1], fmtF(100*x.sdQ)+" %", fmtF(100*x.pjQ)+" %", fmtF(1e6/x.sdPer), fmtF(1e6/x.pjPer),
			fmtF(x.perRatio), fmtF(x.perLo), fmtF(x.perHi), fmtF(x.ratio), fmtF(x.lo), fmtF(x.hi))
	}
	r.printf("\n")
	return nil
}

// cpuPer is the median over repeats of CPU µs per op (cpu: share of a
// core, per repeat; rate: ops/s, per repeat).
func cpuPer(cpu, rate []float64) float64 {
	var xs []float64
	for k := range rate {
		if rate[k] > 0 {
			xs = append(xs, cpu[k]*1e6/rate[k])
		}
	}
	return bench.Median(xs)
}

func minF(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxF(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
