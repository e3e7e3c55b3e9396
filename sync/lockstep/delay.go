package lockstep

import (
	"math"
	"time"
)

// sampleRTT folds one round-trip sample into the seat's RFC 6298
// estimators.
func (s *Session[I]) sampleRTT(sd *seat, r time.Duration) {
	if sd.samples == 0 {
		// RFC 6298 starts rttvar at r/2, a safe RTO; for a delay that
		// would mean many frames for seconds. Start at 0 and wait for
		// minSamples instead.
		sd.srtt, sd.rttvar = r, 0
	} else {
		dev := sd.srtt - r
		if dev < 0 {
			dev = -dev
		}
		sd.rttvar += (dev - sd.rttvar) / 4
		sd.srtt += (r - sd.srtt) / 8
	}
	sd.samples++
}

// adaptDelay recomputes the input delay (AdaptiveDelay). The delay is a
// local choice: stamp never skips nor repeats a frame number, so peers
// agree on every frame's input whatever delay each of them uses.
func (s *Session[I]) adaptDelay(now time.Time) {
	a := &s.cfg.Adaptive
	if !a.Enabled {
		return
	}
	need := 0
	for v := range s.seats {
		sd := &s.seats[v]
		if !s.survivor(v) {
			continue
		}
		if sd.samples < minSamples {
			return // keep the starting delay until every link is measured
		}
		budget := float64(sd.srtt)/2 + a.Margin*float64(sd.rttvar)
		frames := int(math.Ceil(budget/float64(s.cfg.tick))) + lossFrames(sd.loss, a.LossTarget)
		need = max(need, frames)
	}
	need = max(a.Min, min(a.Max, need))
	switch {
	case need > s.delay:
		s.setDelay(need)
		s.lowSince = time.Time{}
	case need < s.delay:
		if s.lowSince.IsZero() {
			s.lowSince = now
		} else if now.Sub(s.lowSince) >= a.Hold {
			s.setDelay(s.delay - 1)
			s.lowSince = now
		}
	default:
		s.lowSince = time.Time{}
	}
}

// minSamples is the number of RTT samples a link needs before the
// adaptive delay uses it.
const minSamples = 8

// lossFrames returns the smallest k <= 4 with loss^(k+1) <= target.
func lossFrames(loss, target float64) int {
	k := 0
	for p := loss; p > target && k < 4; p *= loss {
		k++
	}
	return k
}

func (s *Session[I]) setDelay(d int) {
	s.cfg.Logger.Debug("lockstep: input delay", "from", s.delay, "to", d)
	s.delay = d
	s.event(Event{Kind: EventInputDelay, Delay: d})
}

// timeSync updates FramesAhead: how far this peer's next frame is ahead
// of the slowest survivor's, estimated as the frame it last reported plus
// the time since (half an RTT in flight, plus the age of the report).
func (s *Session[I]) timeSync(now time.Time) {
	worst, any := 0.0, false
	for v := range s.seats {
		sd := &s.seats[v]
		if !s.survivor(v) || !sd.hasFrame {
			continue
		}
		elapsed := now.Sub(sd.frameAt) + sd.srtt/2
		est := float64(sd.frame) + float64(elapsed)/float64(s.cfg.tick)
		ahead := float64(s.next) - est
		if !any || ahead > worst {
			worst, any = ahead, true
		}
	}
	if any {
		s.ahead += (worst - s.ahead) / 16
	}
}

// SlowDown returns how many ticks the game should skip (not call Advance)
// now to let the slowest peer catch up, or 0. A peer that runs ahead of
// another stalls anyway when its inputs run out; skipping a tick or two
// early spreads that wait instead of stalling in bursts. The hint is half
// the smoothed FramesAhead (rounded down, at most 8), at most once per
// second of ticks, and only when this peer is at least 2 frames ahead.
func (s *Session[I]) SlowDown() int {
	if s.ahead < 2 || s.stats.Ticks < s.slowAfter {
		return 0
	}
	n := min(int(s.ahead/2), 8)
	s.ahead -= float64(n)
	s.slowAfter = s.stats.Ticks + uint64(s.cfg.TickRate)
	return n
}
