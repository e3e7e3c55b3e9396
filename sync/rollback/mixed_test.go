package rollback_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// TestMixedWithLockstep: a rollback seat and a lockstep seat (adaptive
// delay) play together (the wire and the confirmed inputs are the same):
// every frame the lockstep seat steps has the state the rollback seat
// confirmed, and checksums compare without a desync.
func TestMixedWithLockstep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := memnet.New(memnet.Config{Seed: 9, Link: memnet.Link{Latency: 40 * time.Millisecond, Loss: 0.1, Reorder: 0.05}})
		defer net.Close()
		ids := []transport.PeerID{"r", "l"}
		rs, err := rollback.NewSession[input](net.Join("r").Channel("lockstep", transport.Unreliable),
			rollback.Config{Lockstep: lockstep.Config{Seats: ids}})
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		ls, err := lockstep.NewSession[input](net.Join("l").Channel("lockstep", transport.Unreliable),
			lockstep.Config{Seats: ids, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		defer ls.Close()
		rp := &player{sess: rs, slots: make([]game, rs.Slots()), saveBug: lockstep.NoFrame}
		var lg game
		var lsums []uint64
		for tick := 0; len(lsums) < 1200 || rs.Confirmed() < 1200; tick++ {
			if tick > 5000 {
				t.Fatalf("no end: lockstep %d frames, rollback confirmed %d", len(lsums), rs.Confirmed())
			}
			reqs, err := rs.Advance(input{X: int8(tick / 7 % 3), Buttons: uint8(tick / 5)})
			if err != nil {
				t.Fatal(err)
			}
			if err := rp.apply(reqs); err != nil {
				t.Fatal(err)
			}
			steps, err := ls.Advance(input{Y: int8(tick / 9 % 3), Buttons: uint8(tick / 3)})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				lg.step(st.Inputs, st.Status)
				lsums = append(lsums, lg.checksum())
				ls.ReportChecksum(st.Frame, lg.checksum())
			}
			for _, s := range [][]lockstep.Event{rs.PollEvents(), ls.PollEvents()} {
				for _, e := range s {
					if e.Kind == lockstep.EventDesync {
						t.Fatal(e.Err)
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		for f := range 1200 {
			if rp.sums[f] != lsums[f] {
				t.Fatalf("frame %d: rollback %#x, lockstep %#x", f, rp.sums[f], lsums[f])
			}
		}
		if rs.Stats().Rollbacks == 0 {
			t.Error("no rollback: the test proves nothing")
		}
	})
}
