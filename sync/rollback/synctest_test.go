package rollback_test

import (
	"errors"
	"testing"

	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// syncTest plays frames frames of the test game through a SyncTest with
// the given check distance; bug, unless NoFrame, corrupts the state Save
// keeps for that frame (a planted nondeterminism).
func syncTest(t *testing.T, seats, dist, frames int, bug lockstep.Frame) (*rollback.SyncTest[input], error) {
	t.Helper()
	st, err := rollback.NewSyncTest[input](seats, dist)
	if err != nil {
		t.Fatal(err)
	}
	var g game
	slots := make([]game, st.Slots())
	in := make([]input, seats)
	for f := range frames {
		for s := range in {
			in[s] = input{X: int8(f%5 - 2), Y: int8((f/3+s)%3 - 1), Buttons: uint8(f * (s + 1))}
		}
		reqs, err := st.Advance(in)
		if err != nil {
			return st, err
		}
		for _, r := range reqs {
			switch r.Kind {
			case rollback.Save:
				slots[r.Slot] = g
				if r.Frame == bug {
					slots[r.Slot].Pos[1][1]-- // forgets a field, once
				}
			case rollback.Load:
				g = slots[r.Slot]
			case rollback.Advance:
				if lockstep.Frame(g.N) != r.Frame {
					t.Fatalf("advance %d on the state of frame %d", r.Frame, g.N)
				}
				g.step(r.Inputs, r.Status)
				st.ReportChecksum(r.Frame, g.checksum())
			}
		}
	}
	return st, nil
}

// TestSyncTestDeterministic: a deterministic game passes, and the check
// really compared checksums (every frame re-simulated dist times).
func TestSyncTestDeterministic(t *testing.T) {
	for _, dist := range []int{1, 2, 7} {
		st, err := syncTest(t, 2, dist, 300, lockstep.NoFrame)
		if err != nil {
			t.Fatalf("distance %d: %v", dist, err)
		}
		if want := uint64((300 - dist) * dist); st.Checked() < want {
			t.Errorf("distance %d: %d checksums compared, want >= %d", dist, st.Checked(), want)
		}
	}
}

// TestSyncTestCatchesSaveBug: a Save that corrupts the state of frame 37
// is caught at frame 37, the first frame whose re-simulation starts from
// the bad state, whatever the check distance.
func TestSyncTestCatchesSaveBug(t *testing.T) {
	for _, dist := range []int{1, 3, 8} {
		_, err := syncTest(t, 3, dist, 300, 37)
		var de *lockstep.DesyncError
		if !errors.As(err, &de) {
			t.Fatalf("distance %d: err %v, want a *lockstep.DesyncError", dist, err)
		}
		if de.Frame != 37 {
			t.Errorf("distance %d: caught at frame %d, want 37", dist, de.Frame)
		}
		if !errors.Is(err, lockstep.ErrDesync) {
			t.Errorf("distance %d: %v is not ErrDesync", dist, err)
		}
	}
}

func TestSyncTestConfig(t *testing.T) {
	for _, c := range [][2]int{{0, 1}, {1, 0}, {lockstep.MaxSeats + 1, 2}, {2, rollback.MaxMaxPrediction + 1}} {
		if _, err := rollback.NewSyncTest[input](c[0], c[1]); !errors.Is(err, rollback.ErrInvalidConfig) {
			t.Errorf("NewSyncTest(%d, %d): %v, want ErrInvalidConfig", c[0], c[1], err)
		}
	}
	st, _ := rollback.NewSyncTest[input](2, 2)
	if _, err := st.Advance(make([]input, 3)); !errors.Is(err, rollback.ErrInputs) {
		t.Errorf("3 inputs for 2 seats: %v", err)
	}
}
