package lockstep_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// TestPlayerLoss makes seats leave at random ticks, politely or silently,
// under impairment, and checks (through locksteptest) that the survivors
// drop each at one agreed frame, keep identical checksums, and finish,
// as long as they outnumber the silent leavers (who may be a partition's
// other side); otherwise they all stop, cut off, and none plays on.
func TestPlayerLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	trials := 24
	if reduced() {
		trials = 12
	}
	for trial := range trials {
		seats := []int{2, 3, 4, 8}[trial%4]
		leaving := 1 + rng.IntN(seats-1)
		if seats == 2 {
			leaving = 1
		}
		cfg := simConfig(seats, 1500)
		cfg.Seed = uint64(trial + 1)
		cfg.Link = memnet.Link{
			Latency: time.Duration(rng.IntN(80)) * time.Millisecond, Jitter: 10 * time.Millisecond,
			Loss: []float64{0, 0.05, 0.2}[trial%3], Duplicate: 0.02, Reorder: 0.02,
		}
		// Adaptive delay: a fixed 2-frame delay over an 80 ms link would
		// run at half speed (every frame waits for the link).
		cfg.Session.Adaptive.Enabled = true
		perm := rng.Perm(seats)
		for _, s := range perm[:leaving] {
			cfg.Leave = append(cfg.Leave, locksteptest.Leave{Seat: s, Tick: rng.IntN(1200), Silent: rng.IntN(2) == 0})
		}
		name := fmt.Sprintf("%d-seats-%d-leave-%v", seats, leaving, cfg.Link.Loss)
		t.Run(name, func(t *testing.T) {
			res := locksteptest.Run(t, cfg)
			if cutOff(t, res, seats, cfg.Leave) {
				return
			}
			survivor := -1
			for i := range seats {
				if len(res.Drops[i]) == leaving && res.Stats[i].Frame >= 1500 {
					survivor = i
				}
			}
			if survivor < 0 {
				t.Fatalf("no survivor ran every frame and dropped every leaver: %+v", res.Drops)
			}
			tot, long := res.Stalls()
			var relayed uint64
			for _, st := range res.Stats {
				relayed += st.Relayed
			}
			t.Logf("ticks %d, stalls %d, longest %d, relay datagrams %d", res.Ticks, tot, long, relayed)
			for _, l := range cfg.Leave {
				t.Logf("seat %d left at tick %d (silent %v), dropped at frame %d", l.Seat, l.Tick, l.Silent, res.Drops[survivor][l.Seat])
			}
		})
	}
}

// TestCascadingLoss: seats fall silent one after another, each while the
// survivors are still agreeing on the previous one, and two at once.
func TestCascadingLoss(t *testing.T) {
	tests := []struct {
		name  string
		leave []locksteptest.Leave
	}{
		{"during agreement", []locksteptest.Leave{{Seat: 3, Tick: 300, Silent: true}, {Seat: 5, Tick: 360, Silent: true}, {Seat: 6, Tick: 420, Silent: true}}},
		{"simultaneous", []locksteptest.Leave{{Seat: 1, Tick: 500, Silent: true}, {Seat: 2, Tick: 500, Silent: true}}},
		{"goodbye then silence", []locksteptest.Leave{{Seat: 0, Tick: 200}, {Seat: 7, Tick: 205, Silent: true}}},
		{"all but one", []locksteptest.Leave{{Seat: 0, Tick: 100}, {Seat: 1, Tick: 150, Silent: true}, {Seat: 2, Tick: 200}, {Seat: 3, Tick: 250, Silent: true}, {Seat: 5, Tick: 300}, {Seat: 6, Tick: 350, Silent: true}, {Seat: 7, Tick: 400}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := simConfig(8, 1200)
			cfg.Link = memnet.Link{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.1}
			cfg.Session.Adaptive.Enabled = true
			cfg.Leave = tt.leave
			res := locksteptest.Run(t, cfg)
			if cutOff(t, res, 8, tt.leave) {
				return
			}
			for i := range 8 {
				if res.Stats[i].Frame >= 1200 && len(res.Drops[i]) != len(tt.leave) {
					t.Errorf("seat %d dropped %v, want %d seats", i, res.Drops[i], len(tt.leave))
				}
			}
		})
	}
}

// TestPartitionBetweenTwo: seats 0 and 1 stop hearing each other while
// both still talk to seats 2 and 3. Each of 0 and 1 suspects the other,
// one vote each: not a majority. Both stall; seats 2 and 3, blocked by
// them for the disconnect timeout, vote out one blocker (the one further
// behind, ties: the higher seat), which makes a majority with the other's
// vote. That seat is dropped and told so; the other three play on. Seats
// playing together agree on every drop frame and every checksum, 0 and 1
// never end up in the same game, and no seat deadlocks.
func TestPartitionBetweenTwo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 4, Link: memnet.Link{Latency: 20 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1", "p2", "p3"}
		var ss []*lockstep.Session[input]
		for _, id := range ids {
			s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable), lockstep.Config{Seats: ids, InputDelay: 4})
			if err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		sims := make([]*hashSim, 4)
		sums := make([]map[lockstep.Frame]uint64, 4)
		drops := make([]map[int]lockstep.Frame, 4)
		ended := make([]error, 4)
		for i := range sims {
			sims[i], sums[i], drops[i] = newHashSim(4), map[lockstep.Frame]uint64{}, map[int]lockstep.Frame{}
		}
		for tick := range 1200 {
			if tick == 200 {
				n.Partition("p0", "p1")
			}
			for i, s := range ss {
				if ended[i] != nil {
					continue
				}
				steps, err := s.Advance(input{Buttons: uint8(i), Dx: int16(tick % 7)})
				if errors.Is(err, lockstep.ErrDropped) {
					ended[i] = err
					continue
				}
				if err != nil {
					t.Fatalf("seat %d: %v", i, err)
				}
				for _, st := range steps {
					sims[i].Step(st.Frame, st.Inputs)
					sums[i][st.Frame] = sims[i].Checksum()
					s.ReportChecksum(st.Frame, sums[i][st.Frame])
				}
				for _, e := range s.PollEvents() {
					if e.Kind == lockstep.EventPlayerDropped {
						drops[i][e.Seat] = e.Frame
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		together := func(i, j int) bool {
			_, di := drops[i][j]
			_, dj := drops[j][i]
			return !di && !dj
		}
		if !together(2, 3) {
			t.Fatalf("seats 2 and 3 dropped each other: %v, %v", drops[2], drops[3])
		}
		if together(0, 1) {
			t.Errorf("seats 0 and 1 still play together across the partition")
		}
		for i := range 4 {
			for j := i + 1; j < 4; j++ {
				if !together(i, j) {
					continue
				}
				if fmt.Sprint(drops[i]) != fmt.Sprint(drops[j]) {
					t.Errorf("seats %d and %d play together but dropped %v vs %v", i, j, drops[i], drops[j])
				}
				fi, fj := ss[i].Stats().Frame, ss[j].Stats().Frame
				for f := lockstep.Frame(0); f < min(fi, fj); f++ {
					if sums[i][f] != sums[j][f] {
						t.Fatalf("seats %d and %d diverge at frame %d", i, j, f)
					}
				}
			}
		}
		out := -1
		for i := range 2 {
			if ended[i] != nil {
				out = i
			}
		}
		if out < 0 || ended[1-out] != nil {
			t.Fatalf("ended %v: want exactly one of seats 0 and 1 dropped and told", ended)
		}
		for i, s := range ss {
			if i == out {
				continue
			}
			if st := s.Stats(); st.Frame < 850 {
				t.Errorf("seat %d reached only frame %d (deadlock?)", i, st.Frame)
			}
			if _, ok := drops[i][out]; !ok {
				t.Errorf("seat %d did not drop seat %d", i, out)
			}
		}
		t.Logf("drops: %v; seat %d: %v", drops, out, ended[out])
	})
}

// maskTap decodes the Frame datagrams its session sends and remembers the
// last tick whose datagram carried a lost mask.
type maskTap struct {
	transport.Conn
	dec          wire.Decoder
	tick         int
	first, last  int // ticks of the first and last datagram with a mask
	masks, total int
}

func (m *maskTap) Send(to transport.PeerID, b []byte) error {
	var p wire.Packet
	if err := m.dec.Decode(b, &p); err == nil && p.Kind == wire.KindFrame {
		m.total++
		if p.Lost != 0 {
			if m.masks == 0 {
				m.first = m.tick
			}
			m.masks++
			m.last = m.tick
		}
	}
	return m.Conn.Send(to, b)
}

// TestLostMaskSettles: the lost mask rides in Frame datagrams while the
// survivors agree on a drop, and stops once every survivor has run past
// the drop frame: a settled loss costs no bytes.
func TestLostMaskSettles(t *testing.T) {
	for _, silent := range []bool{false, true} {
		t.Run(map[bool]string{false: "goodbye", true: "silent"}[silent], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { lostMaskSettles(t, silent) })
		})
	}
}

func lostMaskSettles(t *testing.T, silent bool) {
	n := memnet.New(memnet.Config{Seed: 6, Link: memnet.Link{Latency: 30 * time.Millisecond, Loss: 0.1}})
	defer n.Close()
	ids := []transport.PeerID{"a", "b", "c"}
	tap := &maskTap{Conn: n.Join("a").Channel("ls", transport.Unreliable)}
	conns := []transport.Conn{tap, n.Join("b").Channel("ls", transport.Unreliable), n.Join("c").Channel("ls", transport.Unreliable)}
	var ss []*lockstep.Session[input]
	for _, c := range conns {
		s, err := lockstep.NewSession[input](c, lockstep.Config{Seats: ids, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	const leave, ticks = 200, 600
	dropped := map[int]lockstep.Frame{}
	for tick := range ticks {
		tap.tick = tick
		for i, s := range ss {
			if i == 2 && tick >= leave {
				if tick == leave && !silent {
					_ = s.Close()
				}
				continue
			}
			if _, err := s.Advance(input{}); err != nil {
				t.Fatal(err)
			}
			for _, e := range s.PollEvents() {
				if e.Kind == lockstep.EventPlayerDropped && e.Seat == 2 {
					dropped[i] = e.Frame
				}
			}
		}
		time.Sleep(time.Second / 60)
	}
	if len(dropped) != 2 || dropped[0] != dropped[1] {
		t.Fatalf("drop frames %v, want seats 0 and 1 to agree", dropped)
	}
	if tap.masks == 0 || tap.first < leave || tap.last-tap.first > 60 || tap.last > ticks-60 {
		t.Errorf("lost mask in %d of %d datagrams, ticks %d..%d; want some after tick %d, for at most a second",
			tap.masks, tap.total, tap.first, tap.last, leave)
	}
	for _, s := range ss[:2] {
		_ = s.Close()
	}
}

// outnumber reports whether the seats that stay outnumber the silent
// leavers: then they always hold a majority of the seats still in the
// match, whatever the order (a polite leaver leaves the vote).
func outnumber(seats int, leave []locksteptest.Leave) bool {
	silent := 0
	for _, l := range leave {
		if l.Silent {
			silent++
		}
	}
	return seats-len(leave) > silent
}

// cutOff reports whether the seats that stay ended early, and then checks
// that the rule allowed it (the silent leavers were at least as many, so a
// majority could be missing, depending on the order of the leaves) and
// that they all stopped cut off: with no majority, nobody plays on alone.
func cutOff(t *testing.T, res locksteptest.Result, seats int, leave []locksteptest.Leave) bool {
	t.Helper()
	left := map[int]bool{}
	for _, l := range leave {
		left[l.Seat] = true
	}
	any := false
	for i, err := range res.Ended {
		any = any || (!left[i] && err != nil)
	}
	if !any {
		return false
	}
	if outnumber(seats, leave) {
		t.Errorf("seats that stay ended early (%v) although they outnumber the silent leavers", res.Ended)
	}
	for i, err := range res.Ended {
		if left[i] {
			continue
		}
		if !errors.Is(err, lockstep.ErrCutOff) {
			t.Errorf("seat %d: ended %v, want cut off like the others", i, err)
		} else {
			t.Logf("seat %d: %v", i, err)
		}
	}
	return true
}
