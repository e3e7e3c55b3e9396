package lockstep_test

import (
	"testing"
	"testing/synctest"

	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// TestRedteamRuns: seat 2 lies with run-length encoded inputs (wire
// version 4) and with an old wire version. Runs carry no frame numbers,
// so what a liar can claim with them is what it could claim with raw
// inputs: a long run beyond reach is dropped as far future (not stored),
// a run over frames already held is a conflict (the first input is kept),
// and a version-3 datagram is dropped and counted as such. The honest
// seats keep playing the same game.
func TestRedteamRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		for tick := range 120 {
			m.tick(tick)
		}
		send := func(b []byte) {
			for to := range 2 {
				if err := m.conns[2].Conn.Send(m.ids[to], b); err != nil {
					t.Fatal(err)
				}
			}
		}
		last := m.lastFrame(2)
		held := m.sess[0].Stats().Seats[2].Held

		// An old version: the steady datagram with identifier "PPL3".
		old := forge(t, last)
		old[7] = '3'
		send(old)

		// A run far ahead: 341 zero inputs (two runs, 8 bytes), 600
		// frames past the sender's next frame, beyond the receivers'
		// reach (their input rings). (Within reach, the liar would only
		// commit its own future inputs early: held and never replaced, so
		// it could desync itself, not the others.)
		far := last
		far.Seq++
		far.Start = last.Frame + 600
		far.Inputs = make([]byte, 341*3)
		far.Frame = far.Start + 341
		far.Game, far.Seat = wire.GameTag(redGame), 2
		b := forge(t, far)
		if len(b) > 120 {
			t.Fatalf("the forged run datagram is %d bytes: not run-length encoded", len(b))
		}
		send(b)

		// A run over the frames its last datagram carried, already held
		// with other inputs.
		over := last
		over.Seq += 2
		over.Inputs = make([]byte, len(last.Inputs))
		for i := range over.Inputs {
			over.Inputs[i] = 0xEE
		}
		over.Game, over.Seat = wire.GameTag(redGame), 2
		send(forge(t, over))

		for tick := 120; tick < 360; tick++ {
			m.tick(tick)
		}
		m.agree(0, 1)
		for i := range 2 {
			st := m.sess[i].Stats()
			d := st.Dropped
			if d.Version == 0 || d.FarFuture == 0 || d.Conflicts == 0 {
				t.Errorf("seat %d: Dropped.Version %d, FarFuture %d, Conflicts %d; want all > 0 (%+v)", i, d.Version, d.FarFuture, d.Conflicts, d)
			}
			if m.frames(i) < 300 {
				t.Errorf("seat %d ran %d frames, want >= 300", i, m.frames(i))
			}
			if m.errs[i] != nil {
				t.Errorf("seat %d: %v", i, m.errs[i])
			}
		}
		if h := m.sess[0].Stats().Seats[2].Held; h > held+240+10 {
			t.Errorf("seat 2's inputs held up to %d after 240 ticks from %d: the far run was stored", h, held)
		}
	})
}
