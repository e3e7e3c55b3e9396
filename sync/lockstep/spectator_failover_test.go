package lockstep_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// Source failover (see "Source failover" in the package doc): a
// spectator whose source dies, leaves or stops streaming while the match
// goes on switches to a witness and resumes from the frame it reached.

// followToEnd runs the match for ticks ticks (the last 100 without play:
// every live streamer finishes), with the watcher joining at join and
// at(tick) called before each tick; it checks that the watcher reached
// the final frame with the players' checksum at every frame it ran.
func (m *specMatch) followToEnd(ticks, join int, cfg lockstep.SpectatorConfig, at func(tick int, w *watcher)) *watcher {
	m.t.Helper()
	var w *watcher
	for tick := range ticks {
		if tick == join {
			w = m.watch("spectator", cfg)
		}
		if at != nil {
			at(tick, w)
		}
		if tick == ticks-100 {
			for i, st := range m.str {
				if !m.crashed[i] || m.restarted[i] >= 0 {
					st.Finish() // the match is over
				}
			}
		}
		m.tick(tick, tick < ticks-100)
		if w != nil {
			w.tick()
		}
		time.Sleep(time.Second / 60)
	}
	if w.err != nil {
		m.t.Fatalf("spectator: %v (at frame %d, source %s)", w.err, w.last, w.sp.Source())
	}
	// The frame the source finished at (the players finish a frame or
	// two apart).
	final := lockstep.NoFrame
	for i, st := range m.str {
		if m.ids[i] == w.sp.Source() {
			final = st.End() - 1
		}
	}
	if w.last != final || !w.sp.Ended() {
		m.t.Fatalf("spectator at frame %d (ended %v, source %s, %d failovers), its source finished at %d",
			w.last, w.sp.Ended(), w.sp.Source(), w.sp.Stats().Failovers, final)
	}
	for f, sum := range w.sums {
		if m.sums[f] != sum {
			m.t.Fatalf("frame %d: spectator %x, players %x", f, sum, m.sums[f])
		}
	}
	return w
}

// switches returns the spectator's source switches as "from>to".
func (w *watcher) switches() []string {
	var s []string
	for _, e := range w.events {
		if e.Kind == lockstep.EventSourceSwitched {
			s = append(s, fmt.Sprintf("%s>%s", e.From, e.Peer))
		}
	}
	return s
}

// TestSpectatorFailoverSourceCrash: the spectator's source (seat 0 of 3)
// crashes mid-match; seats 1 and 2 drop it and play on. The spectator
// switches to seat 1 (EventSourceSwitched p0>p1, Stats.Failovers 1) and
// reaches the final frame with the players' checksum at every frame.
// Witnesses that keep their log resume it with the inputs since the frame
// the spectator reached; witnesses with snapshots (their log trimmed)
// with a snapshot. Before failover the spectator froze at frame ~900.
func TestSpectatorFailoverSourceCrash(t *testing.T) {
	for _, snapshots := range []bool{false, true} {
		t.Run(fmt.Sprint("witness-snapshots=", snapshots), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newSpecMatchWith(t, 3, func(i int) bool { return i == 0 || snapshots })
				defer m.close()
				w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}, Delay: 30},
					func(tick int, _ *watcher) {
						if tick == 900 {
							m.crash(0)
						}
					})
				if got := w.switches(); len(got) != 1 || got[0] != "p0>p1" || w.sp.Stats().Failovers != 1 || w.sp.Source() != "p1" {
					t.Fatalf("switches %v, %d failovers, source %s; want p0>p1 once", got, w.sp.Stats().Failovers, w.sp.Source())
				}
				if want := 1 + btoi(snapshots); w.restores != want {
					t.Errorf("%d snapshots restored, want %d", w.restores, want)
				}
				if v := w.sp.Stats().Verified; v < w.last-2*specInterval {
					t.Errorf("verified up to %d, ran to %d", v, w.last)
				}
				t.Logf("switch %v at frame %d (%s); longest wait %d ticks; reached %d",
					w.switches(), w.events[0].Frame, w.events[0].Reason, w.longest, w.last)
			})
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSpectatorFailoverSourceStalls is the hostile source: seat 0 keeps
// playing (its link stays up) but stops streaming at tick 900. The
// witnesses' checksums show the match going on; after Failover the
// spectator follows seat 1.
func TestSpectatorFailoverSourceStalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatch(t, 3, true)
		defer m.close()
		m.noFlush = func(seat, tick int) bool { return seat == 0 && tick >= 900 }
		w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}}, nil)
		if got := w.switches(); len(got) != 1 || got[0] != "p0>p1" {
			t.Fatalf("switches %v, want p0>p1", got)
		}
		if limit := 4 * 60; w.longest > limit {
			t.Errorf("spectator waited %d ticks, want at most Failover (3 s) and a bit: %d", w.longest, limit)
		}
		t.Logf("%s; longest wait %d ticks", w.events[0].Reason, w.longest)
	})
}

// claim makes seat i send the spectator the checksum of a frame it does
// not have (a lying witness that claims to be ahead).
func (m *specMatch) claim(i int, frame lockstep.Frame) {
	b := append([]byte("PPS1"), 4) // smChecksum
	b = binary.LittleEndian.AppendUint32(b, wire.GameTag(9))
	b = binary.LittleEndian.AppendUint32(b, uint32(frame))
	b = binary.LittleEndian.AppendUint64(b, 0xbad)
	_ = m.conns[i].Send("spectator", b)
}

// TestSpectatorFailoverLiarClaimsAhead: a witness lies that it is far
// ahead (checksums of frames the match has not reached) to make the
// spectator leave an honest source for it.
//   - With two witnesses, one liar is no majority: no switch at all.
//   - With one (a 2-seat match), the spectator does switch to the liar,
//     which then streams nothing: the spectator goes back to the honest
//     seat, and from then on the liar's claims count for nothing (it did
//     not deliver what it claimed): two switches in all, however long it
//     keeps lying.
func TestSpectatorFailoverLiarClaimsAhead(t *testing.T) {
	t.Run("one-of-two-witnesses", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newSpecMatch(t, 3, true)
			defer m.close()
			w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
				func(tick int, _ *watcher) {
					if tick >= 600 && tick%60 == 0 {
						m.claim(2, lockstep.Frame(1_000_000+tick))
					}
				})
			if got := w.switches(); len(got) != 0 {
				t.Fatalf("switches %v on one liar's claims", got)
			}
		})
	})
	t.Run("only-witness", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newSpecMatch(t, 2, true)
			defer m.close()
			m.noFlush = func(seat, tick int) bool { return seat == 1 && tick >= 600 }
			w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1"}},
				func(tick int, _ *watcher) {
					if tick >= 600 && tick%60 == 0 {
						m.claim(1, lockstep.Frame(1_000_000+tick))
					}
				})
			if got := w.switches(); len(got) != 2 || got[0] != "p0>p1" || got[1] != "p1>p0" {
				t.Fatalf("switches %v, want p0>p1, p1>p0", got)
			}
			t.Logf("switches %v; longest wait %d ticks", w.switches(), w.longest)
		})
	})
}

// TestSpectatorFailoverStallsAfterSwitch: a source that streams a little
// after each switch to it, then stalls (5 seats: seat 0 crashes at tick
// 900, the spectator's next source, seat 1, is the liar; seat 2 crashes
// at tick 1800). The spectator leaves the liar once, then follows honest
// seats: the liar is the source once, and each switch costs at most
// Failover.
func TestSpectatorFailoverStallsAfterSwitch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatch(t, 5, true)
		defer m.close()
		var sw *watcher
		since := -1 // tick at which the liar became the source
		m.noFlush = func(seat, tick int) bool {
			if seat != 1 || sw == nil {
				return false
			}
			if sw.sp.Source() != "p1" {
				since = -1
				return false
			}
			if since < 0 {
				since = tick
			}
			return tick > since+60 // a second of stream, then nothing
		}
		w := m.followToEnd(3000, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2", "p3", "p4"}},
			func(tick int, w *watcher) {
				sw = w
				switch tick {
				case 900:
					m.crash(0)
				case 1800:
					m.crash(2)
				}
			})
		got := w.switches()
		toLiar := 0
		for _, s := range got {
			if s[len(s)-2:] == "p1" {
				toLiar++
			}
		}
		if toLiar != 1 || len(got) != 3 {
			t.Fatalf("switches %v: want 3, the liar p1 the source once", got)
		}
		t.Logf("switches %v; longest wait %d ticks", got, w.longest)
	})
}

// TestSpectatorFailoverDrip is the source that streams, but slower than
// the match: from tick 900 seat 0 flushes once every 4 s (a frame drip
// would do the same). Each lag period must end with the frames the
// witnesses had at its start within Failover: it does not, and the
// spectator leaves it. A source that flushes every 2 s keeps up within
// the bound and is kept.
func TestSpectatorFailoverDrip(t *testing.T) {
	for _, tt := range []struct {
		every    int
		switches int
	}{{240, 1}, {120, 0}} {
		t.Run(fmt.Sprint("every-", tt.every), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newSpecMatch(t, 3, true)
				defer m.close()
				m.noFlush = func(seat, tick int) bool { return seat == 0 && tick >= 900 && tick%tt.every != 0 }
				w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}}, nil)
				if got := w.switches(); len(got) != tt.switches {
					t.Fatalf("switches %v, want %d", got, tt.switches)
				}
				t.Logf("switches %v; longest wait %d ticks", w.switches(), w.longest)
			})
		})
	}
}

// TestRedteamResubscribeSnapshots: a subscription can now be replaced (a
// spectator's resume, its demotion to checksums), and a resume from a
// frame the log no longer holds costs the game a snapshot. A peer that
// alternates the two every tick would get the game's state sent every
// tick; a subscriber has 16 replacements, then it is refused (and keeps
// its old subscription, so a fresh one does not reset the count).
func TestRedteamResubscribeSnapshots(t *testing.T) {
	conns := locksteptest.Loopback("a", "x") // a streams, x lies
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conns[0], Seats: 1, Snapshots: true})
	if err != nil {
		t.Fatal(err)
	}
	sub := func(want byte) []byte {
		b := append([]byte("PPS1\x01"), binary.LittleEndian.AppendUint32(nil, wire.GameTag(0))...)
		b = append(b, want)
		if want == 3 {
			b = binary.LittleEndian.AppendUint32(b, 0) // resume from frame 0: long gone
		}
		return b
	}
	snapshots := 0
	for f := range 400 {
		_ = conns[1].Send("a", sub(byte(2+f%2)))
		st.Step(lockstep.Step[input]{Frame: lockstep.Frame(f), Inputs: []input{{}}, Status: []lockstep.InputStatus{lockstep.InputConfirmed}})
		st.Flush()
		if st.Wanted() {
			snapshots++
			if err := st.Snapshot(make([]byte, 64<<10)); err != nil {
				t.Fatal(err)
			}
		}
		for {
			if _, ok := conns[1].TryRecv(); !ok {
				break
			}
		}
	}
	if snapshots > 9 || st.Stats().Refused == 0 {
		t.Fatalf("%d snapshots for one peer's alternating subscriptions (%d refused), want at most 9", snapshots, st.Stats().Refused)
	}
	t.Logf("%d snapshots, %d refused, %d bytes sent", snapshots, st.Stats().Refused, st.Stats().BytesSent)
}

// TestSpectatorFailoverSlowCatchUp: the false alarm. A spectator joins at
// tick 2400 without snapshots (it replays the log from frame 0, ~26 kB)
// over a 40 kbit/s link from its source: the catch-up takes ~6 s, longer
// than Failover, while the witnesses report the live frame from the
// start. The source closes the gap all along, so it is kept: no switch
// (a rule that only asks "did it deliver the witnesses' frame within
// Failover" switched here).
func TestSpectatorFailoverSlowCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatch(t, 3, false)
		defer m.close()
		var caughtUp int
		w := m.followToEnd(3600, 2400, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
			func(tick int, w *watcher) {
				if tick == 2399 {
					m.net.SetLink("p0", "spectator", memnet.Link{Latency: 30 * time.Millisecond, Bandwidth: 40_000})
				}
				if w != nil && caughtUp == 0 && w.last >= lockstep.Frame(tick-10) {
					caughtUp = tick
				}
			})
		if got := w.switches(); len(got) != 0 {
			t.Fatalf("switches %v during a slow catch-up", got)
		}
		if caughtUp-2400 < 4*60 {
			t.Errorf("caught up in %d ticks: the link is not slow enough to test the rule", caughtUp-2400)
		}
		t.Logf("caught up from frame 0 in %d ticks, no switch", caughtUp-2400)
	})
}

// TestSpectatorFailoverDeadWitness: a witness whose link is down (the
// crashed first source) is no witness. Seat 0, the source, crashes at
// tick 900 and the spectator follows seat 1; seat 1 then stops
// streaming at tick 1500 with its link up. Seat 2, the only live
// witness, shows the match going on: the spectator leaves seat 1. Before,
// the dead seat 0's last checksum stayed in the majority for good (one
// of two witnesses), so no lag ever showed and the spectator froze at
// frame ~1500 while the match went on.
func TestSpectatorFailoverDeadWitness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatch(t, 3, true)
		defer m.close()
		m.noFlush = func(seat, tick int) bool { return seat == 1 && tick >= 1500 }
		w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
			func(tick int, _ *watcher) {
				if tick == 900 {
					m.crash(0)
				}
			})
		if got := w.switches(); len(got) != 2 || got[0] != "p0>p1" || got[1] != "p1>p2" {
			t.Fatalf("switches %v, want p0>p1, p1>p2", got)
		}
		if limit := 4 * 60; w.longest > limit {
			t.Errorf("spectator waited %d ticks, want at most Failover (3 s) and a bit: %d", w.longest, limit)
		}
		t.Logf("switches %v; longest wait %d ticks", w.switches(), w.longest)
	})
}

// TestRedteamResubscribeRefusedResume: the bound of 16 replacements must
// hold when a replacement is refused too. A streamer without snapshots
// whose log was trimmed (MaxLog) refuses a resume from before its log;
// that refusal deleted the old subscription, and with it the count, so a
// peer cycling checksums, resume from the log's start (the whole log
// sent again), checksums, resume from 0 (refused: the count gone) had
// the log replayed without end: 99 replays in 400 ticks. Now the refused
// subscriber keeps its old subscription and its count.
func TestRedteamResubscribeRefusedResume(t *testing.T) {
	conns := locksteptest.Loopback("a", "x") // a streams, x lies
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conns[0], Seats: 1, MaxLog: 64})
	if err != nil {
		t.Fatal(err)
	}
	sub := func(want byte, from int) []byte {
		b := append([]byte("PPS1\x01"), binary.LittleEndian.AppendUint32(nil, wire.GameTag(0))...)
		b = append(b, want)
		if want == 3 {
			b = binary.LittleEndian.AppendUint32(b, uint32(from))
		}
		return b
	}
	replays := 0
	for f := range 600 {
		st.Step(lockstep.Step[input]{Frame: lockstep.Frame(f), Inputs: []input{{}}, Status: []lockstep.InputStatus{lockstep.InputConfirmed}})
		if f >= 200 {
			switch f % 4 {
			case 0, 2:
				_ = conns[1].Send("a", sub(2, 0))
			case 1:
				_ = conns[1].Send("a", sub(3, f-60)) // in the log: replayed
			case 3:
				_ = conns[1].Send("a", sub(3, 0)) // long gone: refused
			}
		}
		st.Flush()
		for {
			m, ok := conns[1].TryRecv()
			if !ok {
				break
			}
			if len(m.Data) > 4 && m.Data[4] == 3 && len(m.Data) > 200 { // inputs: a replay of the log
				replays++
			}
		}
	}
	if replays > 17 {
		t.Fatalf("the log was replayed %d times for one peer's subscriptions (%d refused), want at most 17", replays, st.Stats().Refused)
	}
	t.Logf("%d replays, %d refused, %d bytes sent", replays, st.Stats().Refused, st.Stats().BytesSent)
}

// TestSpectatorFailoverSlowSnapshot: the false alarm with snapshots. A
// spectator joins mid-match over 40 kbit/s links; the game's state is
// 48 kB, so every source's snapshot takes ~10 s, longer than Failover,
// while the witnesses report the live frame. A snapshot whose chunks keep
// coming closes in on the match as a slow log replay does: the source is
// kept, and the spectator restores it and follows to the end.
func TestSpectatorFailoverSlowSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatchWith(t, 3, func(int) bool { return true })
		defer m.close()
		m.snapshot = func(_ int, sim *hashSim) []byte { return append(sim.snapshot(), make([]byte, 96<<10)...) }
		for _, id := range m.ids {
			m.net.SetLink(id, "spectator", memnet.Link{Latency: 30 * time.Millisecond, Bandwidth: 100_000})
		}
		w := m.followToEnd(3600, 600, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}}, nil)
		if got := w.switches(); len(got) != 0 {
			t.Fatalf("switches %v during a slow snapshot (%+v), restores %d, longest wait %d ticks", got, w.events, w.restores, w.longest)
		}
		t.Logf("restores %d, longest wait %d ticks", w.restores, w.longest)
	})
}

// TestSpectatorFailoverSnapshotDrip bounds what that costs against a
// liar: a source whose 1 MB snapshot drips in, one 16 kB chunk every
// ~2.5 s (a 52 kbit/s link), each chunk within Failover of the last. Its
// snapshot counts as closing in for snapshotWait (8) Failovers from the
// first chunk (which came within Failover), then for one more Failover,
// and the spectator leaves it: the switch comes at most 10 Failovers
// (30 s; 28.4 s measured) after the spectator joined, not after the
// ~160 s the whole snapshot takes.
func TestSpectatorFailoverSnapshotDrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatchWith(t, 3, func(int) bool { return true })
		defer m.close()
		m.snapshot = func(seat int, sim *hashSim) []byte {
			if seat == 0 {
				return append(sim.snapshot(), make([]byte, 1<<20)...)
			}
			return sim.snapshot()
		}
		m.net.SetLink("p0", "spectator", memnet.Link{Latency: 30 * time.Millisecond, Bandwidth: 52_000})
		const join = 600
		// Then it stops flushing: only its snapshot is in flight (memnet
		// counts in-flight messages against the receiver's inbox).
		m.noFlush = func(seat, tick int) bool { return seat == 0 && tick > join+10 }
		switchedAt := -1
		w := m.followToEnd(3600, join, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
			func(tick int, w *watcher) {
				if w != nil && switchedAt < 0 && w.sp.Source() != "p0" {
					switchedAt = tick
				}
			})
		if got := w.switches(); len(got) != 1 || got[0] != "p0>p1" {
			t.Fatalf("switches %v, want p0>p1", got)
		}
		if limit := 10 * 3 * 60; switchedAt-join > limit {
			t.Errorf("switched %d ticks after joining, want at most %d", switchedAt-join, limit)
		}
		t.Logf("switched %d ticks after joining (%s)", switchedAt-join, w.events[0].Reason)
	})
}

// TestSpectatorFailoverSlowSnapshotCrash: the slow snapshot's source
// crashes half way through it; the next source's snapshot, as slow,
// gets its own budget (switchSource starts it afresh), so it is kept: one
// switch. (A scenario check: the first chunk of a slow snapshot comes
// after a check that already saw no snapshot in flight, which resets the
// budget too.)
func TestSpectatorFailoverSlowSnapshotCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatchWith(t, 3, func(int) bool { return true })
		defer m.close()
		m.snapshot = func(_ int, sim *hashSim) []byte { return append(sim.snapshot(), make([]byte, 96<<10)...) }
		for _, id := range m.ids {
			m.net.SetLink(id, "spectator", memnet.Link{Latency: 30 * time.Millisecond, Bandwidth: 100_000})
		}
		w := m.followToEnd(3600, 600, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
			func(tick int, _ *watcher) {
				if tick == 600+300 {
					m.crash(0)
				}
			})
		if got := w.switches(); len(got) != 1 || got[0] != "p0>p1" {
			t.Fatalf("switches %v (%+v), want p0>p1", got, w.events)
		}
	})
}

// TestStreamerResubscribeRegain (review1 item 8): the bound of 16
// replacements was a lifetime count, so an honest spectator that went
// back and forth between two sources 8 times in a long match (each
// switch: a resume at the new one, a demotion at the old) was refused
// for good by both. A subscriber now regains one replacement per 3600
// frames logged.
//   - honest: one replacement every 2400 frames (40 s at 60 Hz), 40 in
//     all: none refused (before: refused from the 17th on).
//   - liar: a replacement every frame for 18000 frames (5 minutes), every
//     other one a resume from frame 0 (a snapshot): at most 9 snapshots
//     in the first 400 frames as before, and one more per regained
//     replacement pair after.
func TestStreamerResubscribeRegain(t *testing.T) {
	sub := func(want byte) []byte {
		b := append([]byte("PPS1\x01"), binary.LittleEndian.AppendUint32(nil, wire.GameTag(0))...)
		b = append(b, want)
		if want == 3 {
			b = binary.LittleEndian.AppendUint32(b, 0)
		}
		return b
	}
	run := func(t *testing.T, frames, every int) (refused uint64, snapshots int) {
		conns := locksteptest.Loopback("a", "x")
		st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conns[0], Seats: 1, Snapshots: true})
		if err != nil {
			t.Fatal(err)
		}
		for f := range frames {
			if f%every == 0 {
				_ = conns[1].Send("a", sub(byte(2+(f/every)%2)))
			}
			st.Step(lockstep.Step[input]{Frame: lockstep.Frame(f), Inputs: []input{{}}, Status: []lockstep.InputStatus{lockstep.InputConfirmed}})
			st.Flush()
			if st.Wanted() {
				snapshots++
				if err := st.Snapshot(make([]byte, 64)); err != nil {
					t.Fatal(err)
				}
			}
			for {
				if _, ok := conns[1].TryRecv(); !ok {
					break
				}
			}
		}
		return st.Stats().Refused, snapshots
	}
	t.Run("honest", func(t *testing.T) {
		if refused, _ := run(t, 40*2400, 2400); refused != 0 {
			t.Fatalf("%d of 40 replacements refused, one every 2400 frames", refused)
		}
	})
	t.Run("liar", func(t *testing.T) {
		refused, snapshots := run(t, 18000, 1)
		if limit := 9 + 18000/3600; snapshots > limit || refused == 0 {
			t.Fatalf("%d snapshots (%d refused) in 18000 frames, want at most %d", snapshots, refused, limit)
		}
		t.Logf("%d snapshots, %d refused", snapshots, refused)
	})
}

// TestSpectatorFailoverSourceRestarts (review1 item 10): the source's
// process (seat 0) crashes at tick 900 and comes back 0.5 s later (a
// restarted pong host), before Failover: its new Streamer knows nothing
// of the spectator and has no log before its restart (the seats drop the
// crashed seat after a 1 s DisconnectTimeout and play on; its streamer
// gets their steps from then). The spectator sees the link come back and
// resubscribes it with a resume from the frame it reached; the restarted
// streamer answers with a snapshot, which replaces the state: no switch.
// Before, the resubscription asked for the stream from the start, the
// snapshot was dropped as malformed (the spectator had frames) and the
// spectator switched to seat 1 after Failover.
func TestSpectatorFailoverSourceRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatchWith(t, 3, func(i int) bool { return i == 0 },
			func(c *lockstep.Config) { c.DisconnectTimeout = time.Second })
		defer m.close()
		w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}},
			func(tick int, _ *watcher) {
				switch tick {
				case 900:
					m.crash(0)
				case 930:
					m.restart(0, 1)
				}
			})
		if got := w.switches(); len(got) != 0 || w.sp.Source() != "p0" {
			t.Fatalf("switches %v (%+v), source %s; want none, p0 resumed", got, w.events, w.sp.Source())
		}
		if w.restores != 2 {
			t.Errorf("%d snapshots restored, want 2 (the join's, the restarted source's)", w.restores)
		}
		t.Logf("longest wait %d ticks, %d restores", w.longest, w.restores)
	})
}

// TestRedteamResumeBeforeFirstStep: a resume subscription reaches a
// streamer before its first step (a restarted process, a relay that
// starts from a snapshot), from a frame before the one it then starts
// at. The streamer's log then begins after the subscriber's frame: it
// sliced the log at a negative offset (a panic any peer could trigger
// with a resume from frame 0). Now, with snapshots, the subscriber waits
// for the next snapshot; without, it is refused.
func TestRedteamResumeBeforeFirstStep(t *testing.T) {
	for _, snapshots := range []bool{true, false} {
		t.Run(fmt.Sprint("snapshots=", snapshots), func(t *testing.T) {
			conns := locksteptest.Loopback("a", "x")
			st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conns[0], Seats: 1, Snapshots: snapshots})
			if err != nil {
				t.Fatal(err)
			}
			b := append([]byte("PPS1\x01"), binary.LittleEndian.AppendUint32(nil, wire.GameTag(0))...)
			b = binary.LittleEndian.AppendUint32(append(b, 3), 0) // resume from frame 0
			_ = conns[1].Send("a", b)
			st.Flush()
			for f := 500; f < 510; f++ {
				st.Step(lockstep.Step[input]{Frame: lockstep.Frame(f), Inputs: []input{{}}, Status: []lockstep.InputStatus{lockstep.InputConfirmed}})
				st.Flush()
			}
			if snapshots != st.Wanted() || st.Stats().Refused != uint64(btoi(!snapshots)) {
				t.Fatalf("wanted %v, %d refused", st.Wanted(), st.Stats().Refused)
			}
		})
	}
}

// TestSpectatorFailoverSourceFull (review1 item 9): the configured
// Source refuses the first subscription (its MaxSubscribers, 8, are
// taken: a 9th watcher). Before, the spectator ended with
// ErrStreamRefused although its witnesses could serve it; now it
// switches to the next source as after any refused resume, and follows
// seat 1 to the end (from its snapshot).
func TestSpectatorFailoverSourceFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatchWith(t, 3, func(int) bool { return true })
		defer m.close()
		for i := range 8 {
			c := m.net.Join(transport.PeerID(fmt.Sprint("w", i))).Channel("spec", transport.Reliable)
			b := append([]byte("PPS1\x01"), binary.LittleEndian.AppendUint32(nil, wire.GameTag(9))...)
			_ = c.Send("p0", append(b, 2)) // checksums: a watcher's witness subscription
		}
		w := m.followToEnd(2400, 300, lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}}, nil)
		if got := w.switches(); len(got) != 1 || got[0] != "p0>p1" {
			t.Fatalf("switches %v (%+v), want p0>p1", got, w.events)
		}
		if m.str[0].Stats().Refused == 0 {
			t.Errorf("seat 0 refused no subscription")
		}
		t.Logf("%s; longest wait %d ticks", w.events[0].Reason, w.longest)
	})
}
