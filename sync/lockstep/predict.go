package lockstep

import (
	"time"

	"github.com/peerplay/peerplay/sync/internal/predict"
)

// Predicting mode, for sync/rollback (see package predict): the same
// engine, with the local input stamped at the rollback session's head.

// InputPredicted: the seat's input for this frame has not arrived; the
// value is a prediction (sync/rollback only; lockstep never predicts).
const InputPredicted InputStatus = InputDropped + 1

func init() {
	predict.Attach = func(sess any, delay, maxPrediction int) *predict.Hook {
		a, ok := sess.(interface {
			attachPredict(delay, maxPrediction int) *predict.Hook
		})
		if !ok {
			return nil
		}
		return a.attachPredict(delay, maxPrediction)
	}
}

func (s *Session[I]) attachPredict(delay, maxPrediction int) *predict.Hook {
	if s.pred != nil || s.stats.Ticks != 0 || delay < 0 || delay > s.cfg.MaxInputDelay || maxPrediction < 1 {
		return nil
	}
	s.cfg.Adaptive.Enabled = false
	s.delay = delay
	s.seats[s.me].hold = Frame(delay) - 1
	h := &predict.Hook{MaxPrediction: int32(maxPrediction)}
	h.Next = func() int32 { return int32(s.next) }
	h.Held = func(t int) int32 { return int32(s.seats[t].hold) }
	h.Raw = func(t int, f int32) []byte { return s.slot(t, Frame(f)) }
	h.Status = func(t int, f int32) uint8 { return uint8(s.predictedStatus(t, Frame(f))) }
	s.pred = h
	return h
}

// predictedStatus is seat t's status for frame f, held or not.
func (s *Session[I]) predictedStatus(t int, f Frame) InputStatus {
	switch {
	case s.dropped&(1<<t) != 0 && f > s.dropFrame[t], s.inGap(t, f):
		return InputDropped
	case s.seats[t].hold < f:
		return InputPredicted
	case (s.lost|s.suspect)&(1<<t) != 0:
		return InputDisconnecting
	}
	return InputConfirmed
}

// predictRun decides, after the confirmed frames are emitted, whether the
// rollback session may simulate its head this tick.
func (s *Session[I]) predictRun() bool {
	// While coordinating an admission (rejoin.go), the head stops where
	// the gate stops the local input, as a lockstep session stalls at R.
	s.pred.Run = Frame(s.pred.Head) < s.next+Frame(s.pred.MaxPrediction) &&
		Frame(s.pred.Head)+Frame(s.delay) <= s.gateFrame()
	return s.pred.Run
}

// timeSyncPredict is timeSync for predicting mode: where each seat's
// simulation is, read from its own newest input frame (its head plus its
// delay), since confirmed frames trail every head alike.
func (s *Session[I]) timeSyncPredict(now time.Time) {
	worst, any := 0.0, false
	mine := float64(s.seats[s.me].hold)
	for v := range s.seats {
		sd := &s.seats[v]
		if !s.survivor(v) || !sd.hasFrame {
			continue
		}
		elapsed := now.Sub(sd.frameAt) + sd.rtt.srtt/2
		est := float64(sd.own) + float64(elapsed)/float64(s.cfg.tick)
		if ahead := mine - est; !any || ahead > worst {
			worst, any = ahead, true
		}
	}
	if any {
		s.ahead += (worst - s.ahead) / 16
	}
}
