package rollback

import (
	"fmt"

	"github.com/peerplay/peerplay/sync/lockstep"
)

// SyncTest is GGRS's SyncTestSession: a local session, no network, that
// checks a game's Save, Load and Step for determinism before it ships.
// Every tick, once CheckDistance frames exist, it asks the game to Load
// the state of CheckDistance frames ago and simulate those frames again
// with the same inputs, then to simulate the new frame; the checksum the
// game reports for each re-simulated frame must equal the one of its
// first simulation. The first difference is returned by the next Advance
// as a *lockstep.DesyncError (Frame: the first frame whose re-simulation
// differs; Local: the first checksum, Remote: the re-simulation's; Seat
// -1), and by every later one.
//
// Its requests are the real Session's, so the game loop that serves one
// serves the other.
type SyncTest[I any] struct {
	n, check int
	ring     lockstep.Frame
	head     lockstep.Frame
	given    []I // ring of the inputs of each frame
	ref      []sumEntry
	reqs     []Request[I]
	status   []lockstep.InputStatus
	err      error
	checked  uint64
}

// NewSyncTest returns a SyncTest of seats seats (1..lockstep.MaxSeats)
// rolling back checkDistance frames (1..MaxMaxPrediction) every tick.
func NewSyncTest[I any](seats, checkDistance int) (*SyncTest[I], error) {
	if seats < 1 || seats > lockstep.MaxSeats || checkDistance < 1 || checkDistance > MaxMaxPrediction {
		return nil, fmt.Errorf("%w: sync test of %d seats, check distance %d", ErrInvalidConfig, seats, checkDistance)
	}
	ring := checkDistance + 2
	s := &SyncTest[I]{
		n: seats, check: checkDistance, ring: lockstep.Frame(ring),
		given:  make([]I, ring*seats),
		ref:    make([]sumEntry, ring),
		reqs:   make([]Request[I], 0, 2*ring+2),
		status: make([]lockstep.InputStatus, seats),
	}
	for i := range s.ref {
		s.ref[i].frame = lockstep.NoFrame
	}
	for t := range s.status {
		s.status[t] = lockstep.InputConfirmed
	}
	return s, nil
}

// Slots returns the number of state buffers the game keeps.
func (s *SyncTest[I]) Slots() int { return int(s.ring) }

// Checked returns how many re-simulated checksums matched their first
// simulation's, so that a test asserts the check compared something.
func (s *SyncTest[I]) Checked() uint64 { return s.checked }

// Advance takes every seat's input for the next frame and returns the
// requests: the rollback and re-simulation, then the new frame.
func (s *SyncTest[I]) Advance(inputs []I) ([]Request[I], error) {
	if s.err != nil {
		return nil, s.err
	}
	if len(inputs) != s.n {
		return nil, fmt.Errorf("%w: %d inputs for %d seats", ErrInputs, len(inputs), s.n)
	}
	h := s.head
	copy(s.given[s.slot(h)*s.n:], inputs)
	s.reqs = s.reqs[:0]
	if from := h - lockstep.Frame(s.check); from >= 0 {
		s.reqs = append(s.reqs, Request[I]{Kind: Load, Frame: from, Slot: s.slot(from)})
		for f := from; f < h; f++ {
			if f != from {
				s.reqs = append(s.reqs, Request[I]{Kind: Save, Frame: f, Slot: s.slot(f)})
			}
			s.reqs = append(s.reqs, s.advance(f))
		}
	}
	s.reqs = append(s.reqs, Request[I]{Kind: Save, Frame: h, Slot: s.slot(h)}, s.advance(h))
	s.head++
	return s.reqs, nil
}

func (s *SyncTest[I]) slot(f lockstep.Frame) int { return int(f % s.ring) }

func (s *SyncTest[I]) advance(f lockstep.Frame) Request[I] {
	k := s.slot(f) * s.n
	return Request[I]{Kind: Advance, Frame: f, Slot: s.slot(f), Inputs: s.given[k : k+s.n],
		Status: s.status, Confirmed: true}
}

// ReportChecksum gives the game's checksum after simulating frame.
func (s *SyncTest[I]) ReportChecksum(frame lockstep.Frame, sum uint64) {
	if frame < 0 || frame >= s.head || frame < s.head-s.ring {
		return
	}
	e := &s.ref[s.slot(frame)]
	if e.frame != frame {
		*e = sumEntry{frame: frame, sum: sum, ok: true}
		return
	}
	if e.sum != sum {
		if s.err == nil {
			s.err = &lockstep.DesyncError{Frame: frame, Seat: -1, Local: e.sum, Remote: sum}
		}
		return
	}
	s.checked++
}
