package lockstep_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// rejoinPlayer is one seat's game loop: a session, a streamer (seat 0
// gives snapshots, the others witness), a sim and its checksums.
type rejoinPlayer struct {
	id        transport.PeerID
	ls, ctl   transport.Conn
	spec      transport.Conn
	sess      *lockstep.Session[input]
	str       *lockstep.Streamer[input]
	sp        *lockstep.Spectator[input] // while rejoining
	sim       *hashSim
	simFrame  lockstep.Frame
	sums      map[lockstep.Frame]uint64
	ended     error
	events    []lockstep.Event
	firstStep int // tick of the first step after rejoining (-1: none)
	restored  lockstep.Frame
}

func (p *rejoinPlayer) apply(t *testing.T, st lockstep.Step[input], stream bool) {
	if st.Frame != p.simFrame+1 {
		t.Fatalf("%s: frame %d after %d", p.id, st.Frame, p.simFrame)
	}
	p.sim.Step(st.Frame, st.Inputs)
	p.simFrame = st.Frame
	sum := p.sim.Checksum()
	p.sums[st.Frame] = sum
	if stream {
		p.sess.ReportChecksum(st.Frame, sum)
		p.str.Step(st)
		if st.Frame%specInterval == 0 {
			p.str.ReportChecksum(st.Frame, sum)
		}
	} else if st.Frame%specInterval == 0 {
		p.sp.ReportChecksum(st.Frame, sum)
	}
}

// TestRejoinAfterLongPause: seat 3 of 4 pauses its loop for 10 s, is
// dropped by the majority and told so (DroppedError), then rejoins with
// the same identity: a new session (Config.Join) is admitted at a frame R
// the survivors agree on, its game restores seat 0's snapshot, catches
// up to R-1 through a Spectator verified by the witnesses, and plays on.
// Every seat has the same checksum on every frame it ran, seat 3's
// frames after R included, and it is back within 5 s of its restart.
func TestRejoinAfterLongPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p3, restartAt := runRejoin(t, 4, nil, 300, -1)
		if d := time.Duration(p3.firstStep-restartAt) * time.Second / 60; d > 5*time.Second {
			t.Errorf("seat 3 back %v after its restart, want within 5 s", d)
		}
	})
}

// TestJoinInProgress: a newcomer takes the reserved third seat of a
// running 2-seat match at tick 600 (frame ~600) and plays on with the
// same checksums.
func TestJoinInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p2, restartAt := runRejoin(t, 3, []transport.PeerID{"p2"}, -1, 600)
		if p2.sess.JoinFrame() < 590 {
			t.Errorf("newcomer joined at frame %d", p2.sess.JoinFrame())
		}
		if d := time.Duration(p2.firstStep-restartAt) * time.Second / 60; d > 5*time.Second {
			t.Errorf("newcomer playing %v after it started, want within 5 s", d)
		}
	})
}

// runRejoin plays a match of seats seats over memnet for 1800 ticks; the
// last seat either pauses for 10 s at tick pauseAt (>= 0), is dropped and
// restarts with Config.Join, or (reserved) starts with Config.Join at
// tick joinAt. It checks that every seat agrees on every checksum, and
// returns the last seat and the tick it (re)started at.
func runRejoin(t *testing.T, seats int, reserved []transport.PeerID, pauseAt, joinAt int) (*rejoinPlayer, int) {
	return runRejoinAs(t, seats, reserved, pauseAt, joinAt, rejoinOpts{})
}

// rejoinOpts are runRejoinAs's options.
type rejoinOpts struct {
	// newcomer, if set, is the peer that takes the last (reserved) seat,
	// whose placeholder ID is reserved[0]: the others Rebind the seat to
	// it when it starts.
	newcomer transport.PeerID
	// record, if set, receives the restarted seat's replay; with
	// recordState its game gives RecordStart the state it caught up to.
	record      *bytes.Buffer
	recordState bool
}

// TestJoinInProgressRebind: the reserved third seat of a running 2-seat
// match holds a placeholder ID (what a lobby gives an empty seat); a
// newcomer with another ID takes it, the two seats Rebind the seat to it
// at the tick the newcomer starts (lobby.EventSeated), and it plays on
// with the same checksums. Without Rebind the seats never hear its join
// request (it is not a seat's peer) and it never plays.
func TestJoinInProgressRebind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p2, restartAt := runRejoinAs(t, 3, []transport.PeerID{"open-2"}, -1, 600, rejoinOpts{newcomer: "p9"})
		if p2.sess.JoinFrame() < 590 {
			t.Errorf("newcomer joined at frame %d", p2.sess.JoinFrame())
		}
		if d := time.Duration(p2.firstStep-restartAt) * time.Second / 60; d > 5*time.Second {
			t.Errorf("newcomer playing %v after it started, want within 5 s", d)
		}
	})
}

// runRejoinAs is runRejoin with options.
func runRejoinAs(t *testing.T, seats int, reserved []transport.PeerID, pauseAt, joinAt int, o rejoinOpts) (*rejoinPlayer, int) {
	newcomer := o.newcomer
	{
		n := memnet.New(memnet.Config{Seed: 11, Link: memnet.Link{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}})
		defer n.Close()
		var ids []transport.PeerID
		for i := range seats {
			ids = append(ids, transport.PeerID(fmt.Sprintf("p%d", i)))
		}
		last := seats - 1
		if newcomer != "" {
			ids[last] = reserved[0]
		}
		cfg := func(ctl transport.Conn, join bool) lockstep.Config {
			c := lockstep.Config{Seats: ids, InputDelay: 3, GameID: 9, Control: ctl, Join: join, Reserved: reserved}
			if join && newcomer != "" {
				own := slices.Clone(ids)
				own[last] = newcomer
				c.Seats, c.Reserved = own, own[last:]
			}
			if join && o.record != nil {
				c.Record = o.record
			}
			return c
		}
		players := make([]*rejoinPlayer, seats)
		for i, id := range ids {
			if i == last && newcomer != "" {
				id = newcomer
			}
			peer := n.Join(id)
			p := &rejoinPlayer{id: id, ls: peer.Channel("ls", transport.Unreliable), ctl: peer.Channel("ctl", transport.Reliable),
				spec: peer.Channel("spec", transport.Reliable), sim: newHashSim(seats), simFrame: lockstep.NoFrame,
				sums: map[lockstep.Frame]uint64{}, firstStep: -1}
			var err error
			if p.sess, err = lockstep.NewSession[input](p.ls, cfg(p.ctl, i == last && joinAt >= 0)); err != nil {
				t.Fatal(err)
			}
			if p.str, err = lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: p.spec, Seats: seats, GameID: 9, Snapshots: i == 0}); err != nil {
				t.Fatal(err)
			}
			if i == last && joinAt >= 0 {
				p.ended = lockstep.ErrDropped // not started yet
			}
			players[i] = p
		}
		const pauseTicks = 600 // 10 s
		restartAt := -1
		for tick := range 1800 {
			if tick == joinAt && newcomer != "" {
				for _, p := range players[:last] {
					if err := p.sess.Rebind(last, newcomer); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, p := range players {
				in := input{Buttons: uint8(tick + i), Dx: int16(tick%5 - i)}
				switch {
				case i == last && pauseAt >= 0 && tick >= pauseAt && tick < pauseAt+pauseTicks:
					continue // the paused loop
				case i == last && joinAt >= 0 && tick < joinAt:
					continue // the newcomer has not started
				case p.ended != nil && restartAt < 0:
					// Told it was dropped: restart with the same identity.
					restartAt = tick
					_ = p.sess.Close()
					var err error
					if p.sess, err = lockstep.NewSession[input](p.ls, cfg(p.ctl, true)); err != nil {
						t.Fatal(err)
					}
					// Its old streamer goes; a spectator on the same channel
					// catches its game up, witnessed by seats 1 and 2.
					if p.sp, err = lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: p.spec, Source: "p0",
						Witnesses: ids[1:last], GameID: 9}); err != nil {
						t.Fatal(err)
					}
					p.sim, p.simFrame = newHashSim(seats), lockstep.NoFrame
				}
				if p.sp != nil {
					if c, ok := p.sp.Restore(); ok {
						if err := p.sim.restore(c.State); err != nil {
							t.Fatal(err)
						}
						p.simFrame, p.restored = c.Frame, c.Frame
						p.sums[c.Frame] = p.sim.Checksum()
					}
					steps, err := p.sp.Advance()
					if err != nil {
						t.Fatalf("%s spectating: %v", p.id, err)
					}
					r := p.sess.JoinFrame()
					for _, st := range steps {
						if r == lockstep.NoFrame || st.Frame < r {
							p.apply(t, st, false)
						}
					}
					if r == lockstep.NoFrame || p.simFrame < r-1 {
						if r == lockstep.NoFrame {
							if _, err := p.sess.Advance(in); err != nil {
								t.Fatalf("%s joining: %v", p.id, err)
							}
						}
						continue // not caught up yet
					}
					p.sp = nil
					p.str, _ = lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: p.spec, Seats: seats, GameID: 9})
					if o.recordState {
						if err := p.sess.RecordStart(p.sim.snapshot()); err != nil {
							t.Fatal(err)
						}
					}
				}
				if p.ended != nil && p.sess.JoinFrame() == lockstep.NoFrame {
					continue
				}
				steps, err := p.sess.Advance(in)
				if errors.Is(err, lockstep.ErrDropped) {
					p.ended = err
					continue
				}
				if err != nil {
					t.Fatalf("%s tick %d: %v", p.id, tick, err)
				}
				for _, st := range steps {
					if i == last && restartAt >= 0 && p.firstStep < 0 {
						p.firstStep = tick
					}
					p.apply(t, st, true)
				}
				if p.str.Wanted() {
					_ = p.str.Snapshot(p.sim.snapshot())
				}
				p.str.Flush()
				p.events = append(p.events, p.sess.PollEvents()...)
			}
			time.Sleep(time.Second / 60)
		}
		p3 := players[last]
		if restartAt < 0 {
			t.Fatalf("seat %d was never told it was dropped", last)
		}
		r := p3.sess.JoinFrame()
		if r == lockstep.NoFrame || p3.firstStep < 0 {
			t.Fatalf("seat 3 never rejoined (restart at tick %d)", restartAt)
		}
		if p3.restored <= 0 || p3.restored >= r {
			t.Errorf("seat 3 restored a snapshot of frame %d, want one before R = %d", p3.restored, r)
		}
		for i, p := range players[:last] {
			found := false
			for _, e := range p.events {
				found = found || (e.Kind == lockstep.EventRejoined && e.Seat == last && e.Frame == r)
			}
			if !found {
				t.Errorf("seat %d: no rejoined event for seat 3 at %d", i, r)
			}
		}
		checked := 0
		for f, sum := range p3.sums {
			for i, p := range players[:last] {
				if other, ok := p.sums[f]; ok && other != sum {
					t.Fatalf("frame %d: seat 3 %x, seat %d %x", f, sum, i, other)
				}
				if f > r {
					checked++
				}
			}
		}
		if p3.simFrame < r+300 || checked == 0 {
			t.Fatalf("seat 3 at frame %d after rejoining at %d", p3.simFrame, r)
		}
		t.Logf("dropped at %v, restarted at tick %d, snapshot of frame %d, admitted at frame %d, playing %v later; frames after R compared: %d",
			p3.ended, restartAt, p3.restored, r, time.Duration(p3.firstStep-restartAt)*time.Second/60, checked)
		return p3, restartAt
	}
}

// TestRejoinLyingAdmission: seat 1 is not the coordinator (seat 0 is) but
// sends seat 0 an admission of the empty reserved seat 2 at a frame not
// run yet, and another of the live seat 1 itself. Accepted, the first
// would make seat 0 wait for inputs nobody sends (a stall, and a split
// from seat 1's view). Seat 0 refuses both, reports seat 1, and the match
// runs on.
func TestRejoinLyingAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1", "p2"}
		var ss []*lockstep.Session[input]
		var ctls []transport.Conn
		for _, id := range ids[:2] {
			peer := n.Join(id)
			ctl := peer.Channel("ctl", transport.Reliable)
			s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable),
				lockstep.Config{Seats: ids, Reserved: ids[2:], GameID: 9, Control: ctl})
			if err != nil {
				t.Fatal(err)
			}
			ss, ctls = append(ss, s), append(ctls, ctl)
		}
		admit := func(seat uint8, r int32) []byte {
			b := append([]byte("PPR5"), 2)
			b = binary.LittleEndian.AppendUint32(b, 9) // GameTag(9)
			b = append(b, seat)
			b = binary.LittleEndian.AppendUint32(b, uint32(r))
			b = append(b, 0, 0, 0, 0) // no dropped, no departed seats
			b = append(b, idPrint(ids[seat])...)
			return append(b, 0, 0, 0, 0, 0) // drop frame, no signature
		}
		var frames [2]lockstep.Frame
		var refused int
		for tick := range 600 {
			if tick == 100 {
				_ = ctls[1].Send("p0", admit(2, 200))
				_ = ctls[1].Send("p0", admit(1, 200))
			}
			for i, s := range ss {
				steps, err := s.Advance(input{Buttons: uint8(i)})
				if err != nil {
					t.Fatalf("seat %d: %v", i, err)
				}
				for _, st := range steps {
					frames[i] = st.Frame
					if st.Status[2] != lockstep.InputDropped {
						t.Fatalf("seat %d frame %d: the empty seat's status is %v", i, st.Frame, st.Status[2])
					}
				}
				for _, e := range s.PollEvents() {
					if i == 0 && e.Kind == lockstep.EventRefused && e.Seat == 1 {
						refused++
					}
					if e.Kind == lockstep.EventRejoined {
						t.Fatalf("seat %d accepted a forged admission: %+v", i, e)
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		if refused == 0 || ss[0].Stats().Dropped.Refused < 2 {
			t.Errorf("forged admissions: %d events, %d refused", refused, ss[0].Stats().Dropped.Refused)
		}
		if frames[0] < 550 || frames[1] < 550 {
			t.Errorf("match stalled at frames %v", frames)
		}
	})
}

// TestJoinerReplay (#15): the replay of a seat that rejoined starts at its
// JoinFrame R. With the state its game caught up to (RecordStart), the
// log says so (StartFrame R, StartState) and replays verified from R:
// every recorded checksum compared, none different. Without it, Verify
// cannot compare anything and Next says ErrReplayNoStart instead of a
// silent "0 checked". Before version 3 the log of a joiner could not be
// read at all (its first step is R, not 0: ErrBadReplay).
func TestJoinerReplay(t *testing.T) {
	for _, withState := range []bool{true, false} {
		t.Run(fmt.Sprintf("state-%v", withState), func(t *testing.T) {
			var log bytes.Buffer
			var r lockstep.Frame
			synctest.Test(t, func(t *testing.T) {
				p3, _ := runRejoinAs(t, 4, nil, 300, -1, rejoinOpts{record: &log, recordState: withState})
				r = p3.sess.JoinFrame()
				if err := p3.sess.Close(); err != nil {
					t.Fatal(err)
				}
			})
			rp, err := lockstep.NewReplay[input](bytes.NewReader(log.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			h := rp.Header()
			if h.Version != 3 || h.StartFrame != r || (h.StartState != nil) != withState {
				t.Fatalf("header: version %d, start %d (R %d), %d bytes of state", h.Version, h.StartFrame, r, len(h.StartState))
			}
			sim := newHashSim(4)
			if withState {
				if err := sim.restore(h.StartState); err != nil {
					t.Fatal(err)
				}
			}
			steps := 0
			for {
				st, err := rp.Next()
				if err == io.EOF {
					break
				}
				if !withState && errors.Is(err, lockstep.ErrReplayNoStart) {
					break
				}
				if err != nil {
					t.Fatalf("after %d steps: %v", steps, err)
				}
				if steps == 0 && st.Frame != r {
					t.Fatalf("first step %d, want R = %d", st.Frame, r)
				}
				sim.Step(st.Frame, st.Inputs)
				rp.Verify(st.Frame, sim.Checksum())
				steps++
			}
			switch {
			case withState && (rp.Checked() == 0 || steps < 300):
				t.Errorf("%d steps, %d checksums compared", steps, rp.Checked())
			case !withState && (rp.Checked() != 0 || steps > 1):
				t.Errorf("without a start state: %d steps, %d compared; want ErrReplayNoStart at once", steps, rp.Checked())
			}
			t.Logf("joiner's replay: starts at %d, %d bytes of state, %d steps read, %d checksums compared", h.StartFrame, len(h.StartState), steps, rp.Checked())
		})
	}
}

// TestRejoinRequestFromLiveSeat: what a lying seat can do with the rule
// that a join request is its old session's goodbye. Seat 2 of 3 plays on
// and sends join requests: a request counts only from a seat silent for
// WaitNotify (4eeada4), so a live seat's requests change nothing: nobody
// drops or readmits it and all three play on. (Review: the first version
// of this test expected the seat dropped, written before that rule
// landed; it failed on main.)
func TestRejoinRequestFromLiveSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1", "p2"}
		var ss []*lockstep.Session[input]
		var ctls []transport.Conn
		for _, id := range ids {
			peer := n.Join(id)
			ctl := peer.Channel("ctl", transport.Reliable)
			s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable),
				lockstep.Config{Seats: ids, GameID: 9, Control: ctl})
			if err != nil {
				t.Fatal(err)
			}
			ss, ctls = append(ss, s), append(ctls, ctl)
		}
		join := binary.LittleEndian.AppendUint32(append([]byte("PPR2"), 1), 9)
		var frames [3]lockstep.Frame
		for tick := range 600 {
			if tick >= 100 && tick < 200 {
				_ = ctls[2].Send("p0", join)
				_ = ctls[2].Send("p1", join)
			}
			for i, s := range ss {
				steps, err := s.Advance(input{Buttons: uint8(i + tick)})
				if err != nil {
					t.Fatalf("seat %d: %v", i, err)
				}
				for _, st := range steps {
					frames[i] = st.Frame
				}
				for _, e := range s.PollEvents() {
					switch e.Kind {
					case lockstep.EventPlayerLost, lockstep.EventPlayerDropped, lockstep.EventDropped, lockstep.EventRejoined:
						t.Errorf("seat %d: %+v", i, e)
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		if frames[0] < 550 || frames[1] < 550 || frames[2] < 550 {
			t.Errorf("seats at frames %v, want all three past 550", frames)
		}
	})
}
