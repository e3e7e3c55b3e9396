package lockstep_test

import (
	"testing"
	"testing/synctest"

	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// TestRedteamByeToOne: seat d of a 4-seat match says goodbye to seat b
// only and plays on with a and c. A goodbye is the seat's own word, so b
// stops waiting for d at once; a and c still hear d well. Before, b
// stalled (it refused d's inputs while the others waited for b) and a and
// c voted the honest b out at frame 105. Now d's next Frame, newer than
// its goodbye, undoes the goodbye at b and is reported: nobody diverges,
// stalls or is dropped.
func TestRedteamByeToOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 4, lockstep.Config{InputDelay: 3})
		const from, ticks = 100, 1500
		for tick := range ticks {
			if tick == from {
				last := m.lastFrame(3)
				bye := wire.Packet{Kind: wire.KindBye, InputSize: last.InputSize, Seq: last.Seq, Frame: last.Frame}
				m.inject(3, 1, bye)
			}
			m.tick(tick)
		}
		m.agree(0, 1)
		m.agree(0, 2)
		m.agree(1, 2)
		for i := range 3 {
			if m.errs[i] != nil {
				t.Errorf("seat %d: %v", i, m.errs[i])
			}
			if e, ok := m.find(i, lockstep.EventPlayerDropped, 1); ok {
				t.Errorf("seat %d dropped honest seat 1: %+v", i, e)
			}
			t.Logf("seat %d: %d frames, stats %+v", i, m.frames(i), m.sess[i].Stats().Dropped)
		}
		m.wantRefused(1, 3)
		if want := lockstep.Frame(ticks - 7*60); m.frames(1) < want {
			t.Errorf("seat 1 ran %d frames, want >= %d", m.frames(1), want)
		}
	})
}
