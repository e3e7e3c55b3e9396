package lockstep_test

import (
	"encoding/binary"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// A source that jumps ahead (see "Source failover" in the package doc):
// what the trusted witnesses do not vouch for is held back, and a source
// whose stream stays beyond it for Failover is left and distrusted.

// TestSpectatorFailoverLiarJumpsAhead (review1): the spectator's next
// source (seat 1, after seat 0 crashes) lies: it resumes the spectator
// with a snapshot of frame 1,000,000 and streams nothing more. The
// witnesses' frames are all behind the stream, so no lag shows, and the
// link is up: before, the spectator waited for good (at frame 897).
// Now the snapshot is held back (the game never restores it), and after
// Failover the spectator leaves seat 1 for seat 2, resuming from the
// frame it had before the lie.
func TestSpectatorFailoverLiarJumpsAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatchWith(t, 3, func(int) bool { return true })
		defer m.close()
		lied := false
		m.noFlush = func(seat, tick int) bool { return seat == 1 && lied }
		w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
			func(tick int, w *watcher) {
				if tick == 900 {
					m.crash(0)
				}
				if w != nil && !lied && w.sp.Source() == "p1" {
					lied = true
					b := append([]byte("PPS1"), 2) // smSnapshot
					b = binary.LittleEndian.AppendUint32(b, wire.GameTag(9))
					b = binary.LittleEndian.AppendUint32(b, 1_000_000)
					b = binary.LittleEndian.AppendUint64(b, 0)
					b = append(b, 0)
					b = binary.LittleEndian.AppendUint32(b, 32)
					b = binary.LittleEndian.AppendUint32(b, 0)
					b = append(b, make([]byte, 32)...)
					_ = m.conns[1].Send("spectator", b)
				}
			})
		if got := w.switches(); !slices.Equal(got, []string{"p0>p1", "p1>p2"}) {
			t.Fatalf("switches %v, want p0>p1, p1>p2", got)
		}
		if w.restores != 2 || w.last < 1000 {
			t.Fatalf("%d restores (want the first and seat 2's), reached %d", w.restores, w.last)
		}
		t.Logf("resumed from frame %d (%s); longest wait %d ticks", w.events[1].Frame, w.events[1].Reason, w.longest)
	})
}

// TestSpectatorFailoverLiarInputsAhead: the same with inputs. Seat 1
// becomes the source, streams honestly for 5 s, then stops and sends
// one message of 5000 frames (83 s of match) from the frame the
// spectator reached. The spectator runs only what the witnesses vouch
// for of them (forged: the witnesses' checksums say so, *DesyncError
// naming seat 2, which the game here ignores), leaves seat 1 after
// Failover, drops the rest and follows seat 2 to its final frame.
// Before, it ran all 5000 frames and then waited for good.
func TestSpectatorFailoverLiarInputsAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatch(t, 3, false)
		defer m.close()
		since, lied := -1, lockstep.NoFrame
		m.noFlush = func(seat, tick int) bool { return seat == 1 && since >= 0 && tick >= since+300 }
		var w *watcher
		const ticks = 2400
		for tick := range ticks {
			switch {
			case tick == 300:
				w = m.watch("spectator", lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}})
				w.keepOnDesync = true
			case tick == 900:
				m.crash(0)
			case tick == ticks-100:
				for i, st := range m.str {
					if !m.crashed[i] {
						st.Finish()
					}
				}
			}
			if w != nil && since < 0 && w.sp.Source() == "p1" {
				since = tick
			}
			if since >= 0 && tick == since+330 {
				lied = w.last + 1
				const count, rec = 5000, 2 + 3*3
				b := append([]byte("PPS1"), 3) // smInputs
				b = binary.LittleEndian.AppendUint32(b, wire.GameTag(9))
				b = binary.LittleEndian.AppendUint32(b, uint32(lied))
				b = append(b, 3, 3)
				b = binary.LittleEndian.AppendUint16(b, count)
				b = append(b, make([]byte, count*rec)...)
				if err := m.conns[1].Send("spectator", b); err != nil {
					t.Fatal(err)
				}
			}
			m.tick(tick, tick < ticks-100)
			if w != nil {
				w.tick()
			}
			time.Sleep(time.Second / 60)
		}
		if w.err != nil {
			t.Fatalf("spectator: %v", w.err)
		}
		if got := w.switches(); !slices.Equal(got, []string{"p0>p1", "p1>p2"}) {
			t.Fatalf("switches %v, want p0>p1, p1>p2 (lie at %d, stats %+v)", got, lied, w.sp.Stats())
		}
		if final := m.str[2].End() - 1; w.last != final || !w.sp.Ended() {
			t.Fatalf("spectator at frame %d (ended %v), seat 2 finished at %d", w.last, w.sp.Ended(), final)
		}
		if w.desyncs == 0 {
			t.Errorf("no desync reported: the forged frames ran unnoticed")
		}
		t.Logf("lie at frame %d; %s; %d desyncs; longest wait %d ticks", lied, w.events[1].Reason, w.desyncs, w.longest)
	})
}

// TestSpectatorFailoverAheadHonest: the false alarms of the ahead rule.
//   - slow-witnesses: the witnesses' links to the spectator take 1 s
//     (their checksums come late), the source's 30 ms: the stream is
//     always ahead of their newest reports, a little; after seat 0
//     crashes, seat 1 resumes the spectator with a snapshot ahead of
//     seat 2's reports.
//   - rare-checksums: the seats report a checksum every 300 frames (5 s,
//     more than Failover) to their streamers.
//
// One switch each (seat 0's crash), and the spectator reaches the end.
func TestSpectatorFailoverAheadHonest(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(m *specMatch)
	}{
		{"slow-witnesses", func(m *specMatch) {
			for _, id := range m.ids[1:] {
				m.net.SetLink(id, "spectator", memnet.Link{Latency: time.Second, Jitter: 100 * time.Millisecond})
			}
		}},
		{"rare-checksums", func(m *specMatch) { m.streamEvery = 300 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newSpecMatchWith(t, 3, func(int) bool { return true })
				defer m.close()
				tt.setup(m)
				w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
					func(tick int, _ *watcher) {
						if tick == 1200 {
							m.crash(0)
						}
					})
				if got := w.switches(); !slices.Equal(got, []string{"p0>p1"}) {
					t.Fatalf("switches %v (%+v), want p0>p1", got, w.events)
				}
				t.Logf("longest wait %d ticks", w.longest)
			})
		})
	}
}
