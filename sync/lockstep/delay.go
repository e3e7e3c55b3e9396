package lockstep

import (
	"math"
	"slices"
	"time"
)

// rttWindow is the number of recent RTT variations kept per seat (about
// 4 s at 60 Hz, with a sample per ping, every 4th datagram).
const rttWindow = 64

// rttStats estimates a seat's round-trip time and jitter, with no
// allocation:
//
//   - the level is the RFC 6298 smoothed RTT (srtt += (r - srtt)/8), which
//     moves from one level to the next without overshooting;
//   - the jitter is the 95th percentile of |r - previous r| over the last
//     rttWindow samples, halved (the variation of one direction). A step
//     change of the RTT (a route change) is one outlier among 64, so it
//     does not read as jitter, unlike RFC 6298's rttvar, which would
//     inflate a delay derived from it for seconds.
type rttStats struct {
	srtt    time.Duration
	last    int32 // previous sample, microseconds
	samples int
	ring    [rttWindow]int32 // |variation|, microseconds, in arrival order
	sorted  [rttWindow]int32
	n       int // variations held
	next    int // ring slot of the next variation
}

func (w *rttStats) add(r time.Duration) {
	us := int32(min(r/time.Microsecond, 1<<30))
	w.samples++
	if w.samples == 1 {
		w.srtt, w.last = r, us
		return
	}
	w.srtt += (r - w.srtt) / 8
	d := us - w.last
	w.last = us
	if d < 0 {
		d = -d
	}
	if w.n == rttWindow {
		i, _ := slices.BinarySearch(w.sorted[:w.n], w.ring[w.next])
		copy(w.sorted[i:w.n-1], w.sorted[i+1:w.n])
		w.n--
	}
	w.ring[w.next] = d
	w.next = (w.next + 1) % rttWindow
	j, _ := slices.BinarySearch(w.sorted[:w.n], d)
	copy(w.sorted[j+1:w.n+1], w.sorted[j:w.n])
	w.sorted[j] = d
	w.n++
}

// jitter returns half the 95th percentile of the RTT variations.
func (w *rttStats) jitter() time.Duration {
	if w.n == 0 {
		return 0
	}
	return time.Duration(w.sorted[(w.n-1)*95/100]) * time.Microsecond / 2
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
		if sd.rtt.samples < minSamples {
			return // keep the starting delay until every link is measured
		}
		budget := float64(sd.rtt.srtt)/2 + a.Margin*float64(sd.rtt.jitter())
		frames := int(math.Ceil(budget/float64(s.cfg.tick))) + lossFrames(sd.loss, a.LossTarget)
		need = max(need, frames)
	}
	need = max(a.Min, min(a.Max, need+s.sendClk.every-1))
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
		elapsed := now.Sub(sd.frameAt) + sd.rtt.srtt/2
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
// another stalls anyway when its inputs run out; skipping a tick early
// spreads that wait instead of stalling in bursts. The hint is half the
// smoothed FramesAhead, rounded, between 1 and 8, only when this peer is
// at least one frame ahead, and at most once per second of ticks.
func (s *Session[I]) SlowDown() int {
	if s.ahead < 1 || s.stats.Ticks < s.slowAfter {
		return 0
	}
	n := max(1, min(int(s.ahead/2+0.5), 8))
	s.ahead -= float64(n)
	s.slowAfter = s.stats.Ticks + uint64(s.cfg.TickRate)
	return n
}
