package locksteptest_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

type in struct{ B uint8 }

// sumSim folds every input into its state; skew makes one instance
// misbehave from a frame on.
type sumSim struct {
	state  uint64
	skewAt lockstep.Frame
	m      map[int]int
}

func (s *sumSim) Step(f lockstep.Frame, ins []in) {
	for _, x := range ins {
		s.state = s.state*31 + uint64(x.B) + 1
	}
	if s.skewAt > 0 && f >= s.skewAt {
		s.state++
	}
	// Order-dependent fold over a map: nondeterministic.
	for k, v := range s.m {
		s.state = s.state*17 + uint64(k*v)
	}
}

func (s *sumSim) Checksum() uint64 { return s.state }

func cfg(newSim func(seat int) locksteptest.Sim[in]) locksteptest.Config[in] {
	return locksteptest.Config[in]{
		Seats: 3, Frames: 300, Seed: 1, NewSim: newSim,
		Link:  memnet.Link{Latency: 20 * time.Millisecond, Loss: 0.05},
		Input: func(seat, tick int, rng *rand.Rand) in { return in{B: uint8(rng.IntN(8))} },
	}
}

func TestRunClean(t *testing.T) {
	res := locksteptest.Run(t, cfg(func(int) locksteptest.Sim[in] { return &sumSim{} }))
	for seat, f := range res.Frames {
		if f < 300 {
			t.Errorf("seat %d ran %d frames, want >= 300", seat, f)
		}
	}
	if res.Ticks < 300 {
		t.Errorf("%d ticks for 300 frames", res.Ticks)
	}
}

// TestSimulateDivergence: a seat whose simulation differs is caught at the
// first differing frame.
func TestSimulateDivergence(t *testing.T) {
	c := cfg(func(seat int) locksteptest.Sim[in] {
		if seat == 2 {
			return &sumSim{skewAt: 120}
		}
		return &sumSim{}
	})
	synctest.Test(t, func(t *testing.T) {
		_, err := locksteptest.Simulate(c)
		var de *locksteptest.DivergenceError
		if !errors.As(err, &de) || de.Frame != 120 {
			t.Fatalf("Simulate = %v, want a divergence at frame 120", err)
		}
	})
}

// TestSimulateStall: a seat that can never run (its peer is cut off and
// the disconnect timeout is far away) fails with a StallError.
func TestSimulateStall(t *testing.T) {
	c := cfg(func(int) locksteptest.Sim[in] { return &sumSim{} })
	c.Seats, c.MaxStall = 2, 100
	c.Session.DisconnectTimeout = time.Hour
	c.OnTick = func(tick int, n *memnet.Network) {
		if tick == 50 {
			n.Partition(locksteptest.PeerID(0), locksteptest.PeerID(1))
		}
	}
	synctest.Test(t, func(t *testing.T) {
		_, err := locksteptest.Simulate(c)
		var se *locksteptest.StallError
		if !errors.As(err, &se) || se.Ticks <= 100 {
			t.Fatalf("Simulate = %v, want a stall of more than 100 ticks", err)
		}
	})
}

func TestFirstDivergence(t *testing.T) {
	c := cfg(func(int) locksteptest.Sim[in] { return &sumSim{} })
	c.Frames = 2000
	if f, a, b, ok := locksteptest.FirstDivergence(c); ok {
		t.Errorf("deterministic sim diverged at frame %d (%#x vs %#x)", f, a, b)
	}
	locksteptest.CheckDeterminism(t, c)
	// A simulation that iterates over a map: the two runs disagree.
	c.NewSim = func(int) locksteptest.Sim[in] {
		m := map[int]int{}
		for i := range 16 {
			m[i] = i + 1
		}
		return &sumSim{m: m}
	}
	if _, _, _, ok := locksteptest.FirstDivergence(c); !ok {
		t.Errorf("map-iterating sim not caught in %d frames", c.Frames)
	}
}

func TestLoopback(t *testing.T) {
	conns := locksteptest.Loopback("b", "a")
	a, b := conns[0], conns[1]
	if a.Local() != "a" || len(a.Peers()) != 1 || a.Peers()[0] != "b" {
		t.Fatalf("a: local %q, peers %v", a.Local(), a.Peers())
	}
	if err := a.Send("b", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := a.Send("zed", []byte("x")); !errors.Is(err, transport.ErrUnknownPeer) {
		t.Errorf("Send to unknown = %v", err)
	}
	m, ok := b.TryRecv()
	if !ok || m.From != "a" || string(m.Data) != "hi" {
		t.Errorf("TryRecv = %+v, %v", m, ok)
	}
	if _, ok := b.TryRecv(); ok {
		t.Errorf("second TryRecv got a message")
	}
	for range 300 {
		_ = a.Broadcast([]byte("x"))
	}
	if b.Dropped != 300-256 {
		t.Errorf("Dropped = %d, want %d", b.Dropped, 300-256)
	}
}
