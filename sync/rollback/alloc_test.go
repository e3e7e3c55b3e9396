package rollback_test

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
	"github.com/peerplay/peerplay/sync/rollback"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// TestAdvanceZeroAllocs: once warm, a tick of every session (the engine's
// work, rollback detection, predictions, the requests) allocates nothing,
// with rollbacks happening (inputs change every few ticks), with the
// default predictor and with a custom one.
func TestAdvanceZeroAllocs(t *testing.T) {
	for _, custom := range []bool{false, true} {
		for _, seats := range []int{2, 4, 8} {
			ids := make([]transport.PeerID, seats)
			for i := range ids {
				ids[i] = locksteptest.PeerID(i)
			}
			conns := locksteptest.Loopback(ids...)
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			var ps []*player
			for _, c := range conns {
				s, err := rollback.NewSession[input](c, rollback.Config{
					Lockstep: lockstep.Config{Seats: ids, Now: clock.Now, ChecksumInterval: 1}})
				if err != nil {
					t.Fatal(err)
				}
				if custom {
					s.SetPredictor(func(_ int, last input, _ lockstep.Frame) input { last.Buttons = 0; return last })
				}
				ps = append(ps, &player{sess: s, slots: make([]game, s.Slots()), saveBug: lockstep.NoFrame,
					sums: make([]uint64, 0, 4096)})
			}
			n := 0
			tick := func() {
				clock.t = clock.t.Add(time.Second / 60)
				n++
				for i, p := range ps {
					reqs, err := p.sess.Advance(input{X: int8(n / 5 % 3), Buttons: uint8(i + n/7)})
					if err != nil {
						t.Fatal(err)
					}
					if err := p.apply(reqs); err != nil {
						t.Fatal(err)
					}
					p.sess.PollEvents()
				}
			}
			for range 300 {
				tick()
			}
			before := ps[0].sess.Stats()
			if allocs := testing.AllocsPerRun(500, tick); allocs != 0 {
				t.Errorf("%d seats, custom predictor %v: %v allocs per tick of every session, want 0", seats, custom, allocs)
			}
			after := ps[0].sess.Stats()
			if after.Rollbacks == before.Rollbacks || after.Frame-before.Frame < 490 {
				t.Errorf("%d seats: %d rollbacks, %d frames confirmed in 501 ticks: not the steady state wanted",
					seats, after.Rollbacks-before.Rollbacks, after.Frame-before.Frame)
			}
			for _, p := range ps {
				_ = p.sess.Close()
			}
		}
	}
}
