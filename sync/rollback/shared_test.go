package rollback_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// TestPlayerLoss: a seat of four goes silent; the three survivors (a
// majority) drop it at the same frame, roll back what they predicted of it
// past that frame (its input is the zero value from there), and play on
// with every confirmed frame equal (the harness checks each).
func TestPlayerLoss(t *testing.T) {
	res := run(t, runConfig{seats: 4, frames: 900, seed: 3, leave: map[int]int{2: 200},
		link: memnet.Link{Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05}})
	agreed := lockstep.NoFrame
	for i, d := range res.drops {
		if i == 2 {
			continue
		}
		f, ok := d[2]
		if !ok {
			t.Fatalf("seat %d never dropped seat 2", i)
		}
		if agreed == lockstep.NoFrame {
			agreed = f
		} else if f != agreed {
			t.Errorf("seat %d dropped seat 2 at frame %d, another survivor at %d", i, f, agreed)
		}
	}
	if agreed < 190 || agreed > 230 {
		t.Errorf("drop frame %d, want about 200", agreed)
	}
	for i, st := range res.stats {
		if i != 2 && st.Frame < 900 {
			t.Errorf("survivor %d confirmed only %d frames", i, st.Frame)
		}
	}
}

// TestTwoSeatsCutOff: of two seats, neither can drop the other (lockstep's
// rule): when one goes silent, the other stops predicting after
// MaxPrediction frames and ends cut off.
func TestTwoSeatsCutOff(t *testing.T) {
	res := run(t, runConfig{seats: 2, frames: 150, seed: 4, leave: map[int]int{1: 100}})
	if !errors.Is(res.ended[0], lockstep.ErrCutOff) {
		t.Fatalf("seat 0 ended with %v, want ErrCutOff", res.ended[0])
	}
	if h, c := res.stats[0].Head, res.stats[0].Frame; h > c+rollback.DefaultMaxPrediction {
		t.Errorf("head %d ran more than MaxPrediction past confirmed frame %d", h, c)
	}
}

// TestReplay: a rollback session's replay is lockstep's, of confirmed
// inputs only: lockstep.NewReplay reads it back, and replaying the steps
// reproduces every recorded checksum and the final state.
func TestReplay(t *testing.T) {
	var logs [2]bytes.Buffer
	res := run(t, runConfig{seats: 2, frames: 600, seed: 5,
		cfg:    rollback.Config{InputDelay: 1, Lockstep: lockstep.Config{ChecksumInterval: 10}},
		link:   memnet.Link{Latency: 50 * time.Millisecond, Loss: 0.1, Reorder: 0.05},
		record: func(seat int) io.Writer { return &logs[seat] }})
	if res.stats[0].Rollbacks == 0 {
		t.Fatal("no rollback: the test proves nothing")
	}
	for seat := range logs {
		rp, err := lockstep.NewReplay[input](bytes.NewReader(logs[seat].Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var g game
		n := 0
		for {
			st, err := rp.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("seat %d replay: %v", seat, err)
			}
			g.step(st.Inputs, st.Status)
			rp.Verify(st.Frame, g.checksum())
			if g.checksum() != res.sums[seat][st.Frame] {
				t.Fatalf("seat %d replay frame %d: %#x, played %#x", seat, st.Frame, g.checksum(), res.sums[seat][st.Frame])
			}
			n++
		}
		if n < 600 || rp.Checked() < 59 {
			t.Errorf("seat %d: replayed %d steps, %d checksums compared", seat, n, rp.Checked())
		}
	}
}

// TestDesync: a seat whose checksum of confirmed frame 120 differs makes
// both peers report one EventDesync (a *lockstep.DesyncError) at frame 120
// naming the other seat, and no Advance error (the harness fails on one); predicted frames' checksums are never compared (the rollbacks
// here would otherwise report false desyncs: TestMatrix has none).
func TestDesync(t *testing.T) {
	res := run(t, runConfig{seats: 2, frames: 400, seed: 6,
		cfg:  rollback.Config{Lockstep: lockstep.Config{ChecksumInterval: 30}},
		link: memnet.Link{Latency: 60 * time.Millisecond, Loss: 0.1},
		lie: func(seat int, f lockstep.Frame, sum uint64) uint64 {
			if seat == 1 && f == 120 {
				return sum + 1
			}
			return sum
		}})
	for seat, ds := range res.desyncs {
		if len(ds) != 1 {
			t.Fatalf("seat %d: %d desyncs %v, want 1", seat, len(ds), ds)
		}
		if ds[0].Frame != 120 || ds[0].Seat != 1-seat {
			t.Errorf("seat %d: desync at frame %d naming seat %d, want 120 and %d", seat, ds[0].Frame, ds[0].Seat, 1-seat)
		}
	}
	if res.stats[0].Rollbacks == 0 {
		t.Fatal("no rollback: the test proves nothing")
	}
}

// TestErraticSeat: a seat whose input changes every tick, on a slow
// lossy link, makes the others roll back as far as a seat can: never more
// than MaxPrediction frames re-simulated in a tick (the harness checks
// every tick), and the match still agrees on every confirmed frame.
func TestErraticSeat(t *testing.T) {
	res := run(t, runConfig{seats: 3, frames: 900, seed: 7, erratic: map[int]bool{1: true},
		link: memnet.Link{Latency: 120 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.1, Reorder: 0.05}})
	for i, st := range res.stats {
		if i != 1 && (st.LongestRollback != rollback.DefaultMaxPrediction || st.Resimulated < 900) {
			t.Errorf("seat %d: longest rollback %d, %d frames re-simulated: the erratic seat should push it to MaxPrediction", i, st.LongestRollback, st.Resimulated)
		}
	}
}
