package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/peerplay/peerplay/bench"
)

// rts is section 9: the RTS profile (8 players, 60 Hz, 200 ms send
// interval) against every-tick sending and the Age of Empires budget,
// with 8 peer processes, then the memnet sweep at RTT 50/150/300 ms.
func (r *report) rts(ctx context.Context) error {
	dur := 30 * time.Second
	if r.quick {
		dur = 3 * time.Second
	}
	r.printf("## 9. RTS profile: 8 players, 60 Hz, one datagram every 200 ms\n\n")
	type row struct {
		name string
		p    []bench.PeerResult
	}
	var rows []row
	for _, c := range []struct {
		name     string
		send     time.Duration
		commands bool
		checksum int
	}{
		{"every tick (default)", 0, true, 0},
		{"RTS profile: `SendInterval: 200 ms`, `bench.RTSNetcode`", bench.RTSSendInterval, true, 0},
		{"RTS profile with `ChecksumInterval: 60` (a checksum a second)", bench.RTSSendInterval, true, 60},
		{"RTS profile, input changing every tick (worst case)", bench.RTSSendInterval, false, 0},
	} {
		p, err := cpuProcesses(ctx, bench.RTSSeats, dur, c.send, c.commands, c.checksum)
		if err != nil {
			return err
		}
		rows = append(rows, row{c.name, p})
	}
	r.printf("**8 peer processes** (as section 8), each measuring its own UDP sends for %s after %s of warm-up: every datagram counted with its IP/UDP header (28 B), so DTLS, SCTP, SACKs, STUN keepalives and the mesh's RTT probes are included. "+
		"Each player gives a command every %d ticks (`bench.RTSInput`: 3 a second, a non-zero input for one tick, the zero input between) except in the worst-case row, whose input changes every tick. "+
		"Lone SACKs are the %d-byte DTLS records: an SCTP packet holding one SACK without gap blocks or one I-FORWARD-TSN for one stream, which have the same size (no DATA packet has it on a loss-free link; a counting build of pion/sctp found 1752 SACKs and 561 I-FORWARD-TSNs per 2619 DATA packets in the RTS row: pion abandons a maxRetransmits-0 chunk when it sends it, so a SACK that arrives while one is in flight makes it skip it with an I-FORWARD-TSN). STUN is the datagrams whose first byte is 0-3. Figures are medians over the 8 peers; one peer talks to 7.\n\n", dur, peerWarm, bench.RTSCommandEvery, bench.SACKWire)
	r.printf("| Sending | upload per peer kbit/s | UDP datagrams/s | lockstep datagrams/s (payload B) | lone SACKs/s (per link) | STUN/s | input delay frames | stalled ticks (most) |\n|---|---|---|---|---|---|---|---|\n")
	med := func(p []bench.PeerResult, f func(bench.PeerResult) float64) float64 {
		var xs []float64
		for _, x := range p {
			xs = append(xs, f(x))
		}
		return bench.Median(xs)
	}
	for _, rw := range rows {
		var stalls uint64
		for _, p := range rw.p {
			stalls = max(stalls, p.Stalls)
		}
		sacks := med(rw.p, func(p bench.PeerResult) float64 { return p.SACKs })
		r.printf("| %s | %s | %s | %s (%s) | %s (%s) | %s | %s | %d |\n", rw.name,
			fmtF(med(rw.p, func(p bench.PeerResult) float64 { return p.UploadKbps })),
			fmtF(med(rw.p, func(p bench.PeerResult) float64 { return p.Packets })),
			fmtF(med(rw.p, func(p bench.PeerResult) float64 { return p.LockstepDatagrams })),
			fmtF(med(rw.p, func(p bench.PeerResult) float64 { return p.LockstepBytes })),
			fmtF(sacks), fmtF(sacks/float64(bench.RTSSeats-1)),
			fmtF(med(rw.p, func(p bench.PeerResult) float64 { return p.STUN })),
			fmtF(med(rw.p, func(p bench.PeerResult) float64 { return p.DelayMedian })), stalls)
	}
	r.printf("| Age of Empires (1500 Archers on a 28.8, GDC 2001): 8 players, 200 ms turns | %s (the modem) | | | | | | |\n\n", fmtF(bench.AoEBudgetKbps))
	if len(rows) > 1 {
		a := med(rows[0].p, func(p bench.PeerResult) float64 { return p.UploadKbps })
		b := med(rows[1].p, func(p bench.PeerResult) float64 { return p.UploadKbps })
		r.printf("Ratios in this run: RTS profile / every tick %s; RTS profile / AoE budget %s; RTS profile / the 64 kbit/s target %s.\n\n", fmtF(b/a), fmtF(b/bench.AoEBudgetKbps), fmtF(b/64))
	}
	r.printf("**Where the upload goes** (per peer per second, medians over the peers; kbit/s on the wire). DATA packets carry one data-channel message each: the lockstep datagrams, and the mesh's own control and RTT-ping messages (netcode's channel counters), each paying %d B of IPv4/UDP, DTLS (AES-128-GCM) and SCTP DATA headers; \"other DATA\" is what the DATA-sized packets cost beyond those (padding to 4 bytes, anything uncounted). Payload is the messages' own bytes, headers everything else.\n\n", bench.DataOverhead)
	r.printf("| Sending | lockstep DATA /s, payload B, kbit/s | control+ping DATA /s, kbit/s | other DATA kbit/s | lone SACKs and I-FORWARD-TSNs /s, kbit/s | smaller SCTP packets /s, kbit/s | STUN /s, kbit/s | other (DTLS) kbit/s | payload kbit/s | headers+SACKs+STUN kbit/s |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, rw := range rows {
		m := func(f func(bench.WireBreakdown) float64) string {
			return fmtF(med(rw.p, func(p bench.PeerResult) float64 { return f(p.Wire) }))
		}
		k := func(kind bench.WireKind) (string, string) {
			return m(func(w bench.WireBreakdown) float64 { return w.Kinds[kind].PerSec }), m(func(w bench.WireBreakdown) float64 { return w.Kinds[kind].Kbps })
		}
		sackN, sackK := k(bench.WireSACK)
		smallN, smallK := k(bench.WireSmall)
		stunN, stunK := k(bench.WireSTUN)
		_, otherK := k(bench.WireOther)
		r.printf("| %s | %s, %s B, %s | %s, %s | %s | %s, %s | %s, %s | %s, %s | %s | %s | %s |\n", rw.name,
			m(func(w bench.WireBreakdown) float64 { return w.Lockstep.PerSec }), m(func(w bench.WireBreakdown) float64 { return w.Lockstep.Bytes }),
			m(func(w bench.WireBreakdown) float64 { return w.Lockstep.Kbps }),
			m(func(w bench.WireBreakdown) float64 { return w.Control.PerSec }), m(func(w bench.WireBreakdown) float64 { return w.Control.Kbps }),
			m(func(w bench.WireBreakdown) float64 {
				return w.Kinds[bench.WireData].Kbps - w.Lockstep.Kbps - w.Control.Kbps
			}),
			sackN, sackK, smallN, smallK, stunN, stunK, otherK,
			m(func(w bench.WireBreakdown) float64 { return w.PayloadKbps() }),
			m(func(w bench.WireBreakdown) float64 { return w.TotalKbps() - w.PayloadKbps() }))
	}
	r.printf("\n")
	if r.noRTSSweep {
		return nil
	}

	tmp, err := os.CreateTemp("", "rts-*.json")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^TestRTSProfileSweep$", "-count=1", "./bench/", "-args", "-rts.out="+tmp.Name())
	cmd.Dir = r.module
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("rts sweep: %v: %s", err, out)
	}
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		return err
	}
	var sweep []bench.RTSSweep
	if err := json.Unmarshal(b, &sweep); err != nil {
		return err
	}
	r.printf("**Input delay and stalls vs RTT** (memnet under `testing/synctest`, `TestRTSProfileSweep -rts.out`): 8 `lockstep.Session`s, adaptive delay, each peer ticking 1/8 tick after the previous, one command every 20 ticks per player, 10 s warm-up then 1 minute measured; identical inputs on every peer asserted. The 200 ms interval adds its 11 ticks of wait to the delay (an input given just after a send leaves 11 ticks later).\n\n")
	r.printf("| RTT ms | theory frames | every tick: delay median (max) | stalls | 200 ms: delay median (max) | stalls | 200 ms delay in ms |\n|---|---|---|---|---|---|---|\n")
	for _, s := range sweep {
		r.printf("| %d | %d | %s (%d) | %d | %s (%d) | %d | %s |\n", s.RTTms, s.RTS.Theory,
			fmtF(s.EveryTick.DelayMedian), s.EveryTick.DelayMax, s.EveryTick.Stalls,
			fmtF(s.RTS.DelayMedian), s.RTS.DelayMax, s.RTS.Stalls, fmtF(s.RTS.DelayMedian*1000/60))
	}
	r.printf("\n")
	return nil
}
