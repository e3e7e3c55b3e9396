package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/peerplay/peerplay/bench"
)

type rung struct {
	name string
	run  func(n int) (bench.Durations, int, error)
}

const pingSize = 64 // a steady 2-seat lockstep datagram (wire v2)

func (r *report) rtt(ctx context.Context) error {
	n := 20000
	if r.quick {
		n = 300
	}
	udp, err := bench.NewUDPPinger()
	if err != nil {
		return err
	}
	defer udp.Close()
	unrel, err := bench.NewPionPair(ctx, bench.PionConfig{})
	if err != nil {
		return err
	}
	defer unrel.Close()
	pionPing := bench.NewChannelPinger(unrel.ChA, unrel.ChB)
	defer pionPing.Close()
	rel, err := bench.NewPionPair(ctx, bench.PionConfig{Reliable: true})
	if err != nil {
		return err
	}
	defer rel.Close()
	relPing := bench.NewChannelPinger(rel.ChA, rel.ChB)
	defer relPing.Close()
	ms, err := bench.JoinMeshes(ctx, 2)
	if err != nil {
		return err
	}
	defer ms.Close()
	a, b := ms.M[0].Channel(bench.LabelInput), ms.M[1].Channel(bench.LabelInput)

	pinger := func(p bench.Pinger) func(int) (bench.Durations, int, error) {
		return func(n int) (bench.Durations, int, error) { return bench.RTT(p, pingSize, 100, n) }
	}
	rungs := []rung{
		{"raw UDP", pinger(udp)},
		{"raw pion DC (unreliable)", pinger(pionPing)},
		{"raw pion DC (reliable)", pinger(relPing)},
		{"netcode Channel (unreliable)", func(n int) (bench.Durations, int, error) {
			p := bench.NewConnPinger(a, b)
			defer p.Close()
			return bench.RTT(p, pingSize, 100, n)
		}},
		{"lockstep frame", func(n int) (bench.Durations, int, error) { return bench.LockstepRTT(a, b, 100, n) }},
	}
	const base = 1 // raw pion unreliable
	p50 := make([][]float64, len(rungs))
	p99 := make([][]float64, len(rungs))
	r50 := make([][]float64, len(rungs))
	r99 := make([][]float64, len(rungs))
	lost := make([]int, len(rungs))
	pooled := map[string][]float64{}
	for rep := 0; rep < r.repeats; rep++ {
		sums := make([]bench.Summary, len(rungs))
		for k := range rungs {
			i := (k + rep) % len(rungs) // rotate the order
			d, l, err := rungs[i].run(n)
			if err != nil {
				return fmt.Errorf("%s: %w", rungs[i].name, err)
			}
			lost[i] += l
			sums[i] = d.Summary()
			for _, v := range d {
				pooled[rungs[i].name] = append(pooled[rungs[i].name], bench.Micros(v))
			}
		}
		for i := range rungs {
			p50[i] = append(p50[i], bench.Micros(sums[i].P50))
			p99[i] = append(p99[i], bench.Micros(sums[i].P99))
			r50[i] = append(r50[i], float64(sums[i].P50)/float64(sums[base].P50))
			r99[i] = append(r99[i], float64(sums[i].P99)/float64(sums[base].P99))
		}
	}
	r.printf("## 1. Round trip on loopback\n\n")
	r.printf("One %d-byte message there and back, one at a time, %d timed round trips per rung per repeat (after 100 untimed), rungs interleaved in rotating order. "+
		"Both ends in this process. Raw pion: two PeerConnections, loopback-only UDP4, mDNS off, negotiated detached channel (unordered, maxRetransmits 0 unless reliable), an echo goroutine. "+
		"netcode: a 2-peer mesh (in-process signaling server), `Channel(\"input\")` Send/Recv with an echo goroutine. "+
		"Lockstep frame: two 2-seat `lockstep.Session`s over that channel playing ping-pong (`bench.LockstepRTT`): a sample runs from the end of the Advance that sent an input to the end of the next Advance, "+
		"which runs as soon as the other session's datagram (sent from its own Advance on receipt) arrives: encode, send, receive, decode and a frame step on each side.\n\n", pingSize, n)
	r.printf("| Rung | p50 µs | p99 µs | p50 / raw pion | p99 / raw pion | lost |\n|---|---|---|---|---|---|\n")
	var names []string
	for i, g := range rungs {
		lo50, hi50 := bench.Spread(r50[i])
		r.printf("| %s | %s | %s | %s [%s–%s] | %s | %d |\n", g.name, fmtF(bench.Median(p50[i])), fmtF(bench.Median(p99[i])),
			fmtF(bench.Median(r50[i])), fmtF(lo50), fmtF(hi50), fmtF(bench.Median(r99[i])), lost[i])
		names = append(names, g.name)
	}
	ls := len(rungs) - 1
	m50, m99 := bench.Median(r50[ls]), bench.Median(r99[ls])
	r.printf("\nThe fixed cost of DTLS + SCTP + pion is raw pion / raw UDP = %s× at p50. SDK overhead above raw pion at p50: netcode Channel %+.1f µs, lockstep frame %+.1f µs.\n\n",
		fmtF(bench.Median(p50[base])/bench.Median(p50[0])), bench.Median(p50[3])-bench.Median(p50[base]), bench.Median(p50[ls])-bench.Median(p50[base]))
	r.printf("![round-trip CDF](rtt.png)\n\n")
	over := bench.Median(p50[ls]) - bench.Median(p50[base])
	overNC := bench.Median(p50[3]) - bench.Median(p50[base])
	lo50, hi50 := bench.Spread(r50[ls])
	r.target("Lockstep frame RTT, median", "≤ 1.10× raw pion", fmt.Sprintf("%s× [%s–%s over repeats]", fmtF(m50), fmtF(lo50), fmtF(hi50)), m50 <= 1.10,
		fmt.Sprintf("the SDK adds %s µs at p50 over a %s µs raw loopback round trip: %s µs in the netcode channel (the per-peer inbox and waking the receiver, on each side) and the rest in the lockstep layer, two Advance calls per round trip (receive, decode, frame step, encode; section 3 gives the cost of one); "+
			"an absolute cost of a few µs that is a large fraction only because loopback is so short: on a 1 ms network path it would be %s%%",
			fmtF(over), fmtF(bench.Median(p50[base])), fmtF(overNC), fmtF(over/10)))
	r.target("Lockstep frame RTT, p99", "≤ 1.25× raw pion", fmtF(m99)+"×", m99 <= 1.25,
		"the p99 of every pion rung comes from scheduling on a 2-core machine shared by both peers' goroutines (and other processes), and swings between repeats; see the CDF")
	return cdfPlot(filepath.Join(r.out, "rtt.png"), fmt.Sprintf("Loopback round trip, %d B, %d pings per rung", pingSize, n*r.repeats), names, pooled)
}

func (r *report) throughput(ctx context.Context) error {
	big, small, lines := 20000, 20000, 5000
	if r.quick {
		big, small, lines = 2000, 2000, 500
	}
	pp, err := bench.NewPionPair(ctx, bench.PionConfig{Reliable: true})
	if err != nil {
		return err
	}
	defer pp.Close()
	ms, err := bench.JoinMeshes(ctx, 2)
	if err != nil {
		return err
	}
	defer ms.Close()
	nc := func(size, count int) (bench.Throughput, error) {
		return bench.ConnThroughput(ctx, ms.M[0].Channel(bench.LabelBulk), ms.M[1].Channel(bench.LabelBulk), size, count, 50*time.Microsecond)
	}
	type job struct {
		name string
		run  func() (bench.Throughput, error)
	}
	jobs := []job{
		{"raw pion reliable, 1 KiB", func() (bench.Throughput, error) { return bench.PionThroughput(ctx, pp.ChA, pp.ChB, 1024, big) }},
		{"netcode Reliable, 1 KiB", func() (bench.Throughput, error) { return nc(1024, big) }},
		{"raw pion reliable, 64 B", func() (bench.Throughput, error) { return bench.PionThroughput(ctx, pp.ChA, pp.ChB, 64, small) }},
		{"netcode Reliable, 64 B", func() (bench.Throughput, error) { return nc(64, small) }},
		{"chat lines, 64 B", func() (bench.Throughput, error) {
			return bench.ChatThroughput(ctx, ms.M[0].Channel(bench.LabelChat), ms.M[1].Channel(bench.LabelChat), 64, lines)
		}},
	}
	mbps := make([][]float64, len(jobs))
	mps := make([][]float64, len(jobs))
	ratio := map[string][]float64{}
	for rep := 0; rep < r.repeats; rep++ {
		res := make([]bench.Throughput, len(jobs))
		for k := range jobs {
			i := (k + rep) % len(jobs)
			t, err := jobs[i].run()
			if err != nil {
				return fmt.Errorf("%s: %w", jobs[i].name, err)
			}
			res[i] = t
		}
		for i, t := range res {
			mbps[i] = append(mbps[i], t.MBps())
			mps[i] = append(mps[i], t.MsgsPerSec())
		}
		ratio["nc1k"] = append(ratio["nc1k"], res[1].MBps()/res[0].MBps())
		ratio["nc64"] = append(ratio["nc64"], res[3].MBps()/res[2].MBps())
		ratio["chat"] = append(ratio["chat"], res[4].MsgsPerSec()/res[2].MsgsPerSec())
	}
	r.printf("## 2. Reliable throughput\n\n")
	r.printf("Bulk one-way transfer on loopback, from the first send to the last byte read: %d × 1 KiB and %d × 64 B messages per repeat; chat: %d lines of 64 characters. "+
		"Raw pion: detached reliable ordered channel with pion's flow-control pattern (pause above 1 MiB buffered, resume below 512 KiB). "+
		"netcode: `Send` on a Reliable channel, which never blocks; on `ErrSlowConsumer` (16 MiB queued) the sender waits 50 µs and retries. "+
		"Chat: `chat.Say` on one peer, `Poll` on both in a loop (rate limit lifted, at most %d lines in flight); each line is delivered once its place in the total order is known (a round trip).\n\n", big, small, lines, 256)
	r.printf("| Path | MB/s | messages/s | ratio to raw pion (same size) |\n|---|---|---|---|\n")
	rt := []string{"1", fmtF(bench.Median(ratio["nc1k"])) + "×", "1", fmtF(bench.Median(ratio["nc64"])) + "×", fmtF(bench.Median(ratio["chat"])) + "× (messages/s)"}
	vals := map[string][]float64{"MB/s": nil}
	for i, j := range jobs {
		r.printf("| %s | %s | %s | %s |\n", j.name, fmtF(bench.Median(mbps[i])), fmtF(bench.Median(mps[i])), rt[i])
		vals["MB/s"] = append(vals["MB/s"], bench.Median(mbps[i]))
	}
	r.printf("\n![throughput](throughput.png)\n\n")
	n1, n64 := bench.Median(ratio["nc1k"]), bench.Median(ratio["nc64"])
	spread := func(k string) string {
		lo, hi := bench.Spread(ratio[k])
		return fmt.Sprintf(" [%s–%s over repeats]", fmtF(lo), fmtF(hi))
	}
	tpWhy := func(k string) string {
		lo, hi := bench.Spread(ratio[k])
		return fmt.Sprintf("the per-repeat ratio ranged %s–%s in this run: bulk transfer on this shared 2-core machine swings with whatever else runs, and the median sits close to the goal. "+
			"What netcode adds per message: Send copies the message into the peer's queue and frames it (1 kind byte); flow control is a retry after ErrSlowConsumer (50 µs back-off in this harness) instead of pion's buffered-amount callback", fmtF(lo), fmtF(hi))
	}
	r.target("Reliable channel throughput (1 KiB)", "≥ 0.9× raw pion", fmtF(n1)+"×"+spread("nc1k"), n1 >= 0.9, tpWhy("nc1k"))
	r.target("Reliable channel throughput (64 B)", "≥ 0.9× raw pion", fmtF(n64)+"×"+spread("nc64"), n64 >= 0.9, tpWhy("nc64"))
	nch := bench.Median(ratio["chat"])
	r.target("Chat throughput (64-character lines)", "≥ 0.9× raw pion (anchors B3)", fmtF(nch)+"× (messages/s)", nch >= 0.9,
		"each chat line is a publication of the ordered bus: text cleaned and checked, FlatBuffers-encoded with a Lamport stamp and sequence number, decoded and checked again on receipt, and delivered only once every peer has promised (by a later stamp or a Clock message) that nothing earlier can come; the per-line cost was not profiled here. For chat rates (a few lines per second) the absolute figure is far beyond need")
	return barPlot(filepath.Join(r.out, "throughput.png"), "Reliable throughput on loopback (median MB/s)", "MB/s",
		[]string{"pion 1K", "netcode 1K", "pion 64B", "netcode 64B", "chat 64B"}, []string{"MB/s"}, vals)
}

func (r *report) mesh(ctx context.Context) error {
	reps := r.repeats
	r.printf("## 5. Mesh formation on loopback\n\n")
	r.printf("All peers call `netcode.Join` at once (in-process signaling server, host candidates only on 127.0.0.1); the time runs until the last peer has every other peer connected (ICE, DTLS, SCTP, handshake, every channel open). %d repeats.\n\n", reps)
	var raw []float64
	for range reps {
		t0 := time.Now()
		pp, err := bench.NewPionPair(ctx, bench.PionConfig{})
		if err != nil {
			return err
		}
		raw = append(raw, float64(time.Since(t0))/1e6)
		pp.Close()
	}
	r.printf("Baseline: two raw pion PeerConnections in one process (create, one negotiated channel, non-trickle offer/answer, until the channel is open on both sides): median %s ms.\n\n", fmtF(bench.Median(raw)))
	r.printf("| Peers | PeerConnections | median ms | max ms | ratio to the raw pion pair |\n|---|---|---|---|---|\n")
	var pts []float64
	var eight float64
	for _, n := range []int{2, 4, 8} {
		var ds []float64
		for range reps {
			ms, err := bench.JoinMeshes(ctx, n)
			if err != nil {
				return err
			}
			ds = append(ds, float64(ms.Formation)/1e6)
			ms.Close()
		}
		_, hi := bench.Spread(ds)
		r.printf("| %d | %d | %s | %s | %s× |\n", n, n*(n-1)/2, fmtF(bench.Median(ds)), fmtF(hi), fmtF(bench.Median(ds)/bench.Median(raw)))
		pts = append(pts, bench.Median(ds))
		if n == 8 {
			eight = bench.Median(ds)
		}
	}
	r.printf("\n![mesh formation](mesh.png)\n\n")
	r.target("8-peer mesh formation", "≤ 1 s", fmtF(eight)+" ms", eight <= 1000, "")
	return barPlot(filepath.Join(r.out, "mesh.png"), "Mesh formation on loopback (median ms)", "ms",
		[]string{"raw pion pair", "2 peers", "4 peers", "8 peers"}, []string{"formation"}, map[string][]float64{"formation": append([]float64{bench.Median(raw)}, pts...)})
}
