package bench

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// SweepCell is one point of the impairment sweep: two lockstep sessions
// at 60 Hz over memnet with a symmetric link of RTT/2 one-way latency and
// the given loss in each direction, adaptive input delay on.
type SweepCell struct {
	RTTms int     `json:"rtt_ms"`
	Loss  float64 `json:"loss"`
	// Theory is the least input delay that can avoid stalls:
	// ceil((RTT/2)/tick) frames.
	Theory int `json:"theory_frames"`
	// DelayMedian and DelayMax are the input delay the session chose,
	// sampled every tick after warm-up.
	DelayMedian float64 `json:"delay_median"`
	DelayMax    int     `json:"delay_max"`
	// Ticks, Stalls and LongestStall count Advance calls after warm-up on
	// the worse of the two peers; StallRate is Stalls/Ticks.
	Ticks        uint64  `json:"ticks"`
	Stalls       uint64  `json:"stalls"`
	StallRate    float64 `json:"stall_rate"`
	StallsPerMin float64 `json:"stalls_per_min"`
	LongestStall int     `json:"longest_stall"`
	// Frames is how many frames both peers ran, with identical inputs.
	Frames int `json:"frames"`
}

// SweepTick is the tick of the sweep: 60 Hz.
const SweepTick = time.Second / 60

// RunSweepCell plays two sessions for warmup+measure of (memnet) time,
// peer b ticking half a tick after peer a. It uses time.Now and
// time.Sleep, so inside testing/synctest a minute of play runs in a
// fraction of a second. It fails if the peers ever step different inputs
// for a frame or a session reports an error.
func RunSweepCell(rtt time.Duration, loss float64, seed uint64, warmup, measure time.Duration) (SweepCell, error) {
	n := memnet.New(memnet.Config{Seed: seed, Link: memnet.Link{Latency: rtt / 2, Loss: loss}})
	defer n.Close()
	ids := []transport.PeerID{"a", "b"}
	conns := []transport.Conn{
		n.Join("a").Channel(LabelInput, transport.Unreliable),
		n.Join("b").Channel(LabelInput, transport.Unreliable),
	}
	sess := make([]*lockstep.Session[Input], 2)
	for i, c := range conns {
		s, err := lockstep.NewSession[Input](c, lockstep.Config{Seats: ids, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
		if err != nil {
			return SweepCell{}, err
		}
		defer s.Close()
		sess[i] = s
	}
	// inputs[p][f] is a hash of the inputs peer p stepped for frame f.
	var inputs [2][]uint64
	var delays []int
	var base [2]lockstep.Stats
	warm := int(warmup / SweepTick)
	total := warm + int(measure/SweepTick)
	for tick := 0; tick < total; tick++ {
		if tick == warm {
			base[0], base[1] = sess[0].Stats(), sess[1].Stats()
		}
		for p, s := range sess {
			if p == 1 {
				time.Sleep(SweepTick / 2)
			}
			in := Input{Buttons: uint8(tick*7 + p), Axis: int16(tick - p)}
			steps, err := s.Advance(in)
			if err != nil {
				return SweepCell{}, fmt.Errorf("peer %d tick %d: %w", p, tick, err)
			}
			for _, st := range steps {
				h := uint64(14695981039346656037)
				for _, v := range st.Inputs {
					h = (h ^ uint64(v.Buttons) ^ uint64(uint16(v.Axis))<<8) * 1099511628211
				}
				if int(st.Frame) != len(inputs[p]) {
					return SweepCell{}, fmt.Errorf("peer %d stepped frame %d after %d frames", p, st.Frame, len(inputs[p]))
				}
				inputs[p] = append(inputs[p], h)
				s.ReportChecksum(st.Frame, h)
			}
			if tick >= warm && p == 0 {
				delays = append(delays, s.Stats().InputDelay)
			}
		}
		time.Sleep(SweepTick / 2)
	}
	frames := min(len(inputs[0]), len(inputs[1]))
	for f := 0; f < frames; f++ {
		if inputs[0][f] != inputs[1][f] {
			return SweepCell{}, fmt.Errorf("frame %d: the peers stepped different inputs", f)
		}
	}
	for _, s := range sess {
		for _, e := range s.PollEvents() {
			if e.Kind == lockstep.EventDesync {
				return SweepCell{}, errors.Join(errors.New("desync"), e.Err)
			}
		}
	}
	c := SweepCell{RTTms: int(rtt / time.Millisecond), Loss: loss, Frames: frames,
		Theory: TheoryDelay(rtt)}
	for p, s := range sess {
		st := s.Stats()
		ticks, stalls := st.Ticks-base[p].Ticks, st.Stalls-base[p].Stalls
		if p == 0 || stalls > c.Stalls {
			c.Ticks, c.Stalls = ticks, stalls
		}
		c.LongestStall = max(c.LongestStall, st.LongestStall)
	}
	if c.Ticks > 0 {
		c.StallRate = float64(c.Stalls) / float64(c.Ticks)
		c.StallsPerMin = float64(c.Stalls) / measure.Minutes()
	}
	fd := make([]float64, len(delays))
	for i, d := range delays {
		fd[i] = float64(d)
	}
	c.DelayMedian = Median(fd)
	if len(delays) > 0 {
		c.DelayMax = slices.Max(delays)
	}
	return c, nil
}

// MaxRTTWithoutStalls returns, for each loss rate in cells, the highest
// RTT (ms) whose cell had no stall after warm-up, and whether every lower
// RTT of that loss rate had none either; -1 if even the lowest stalled.
func MaxRTTWithoutStalls(cells []SweepCell) map[float64]int {
	out := map[float64]int{}
	byLoss := map[float64][]SweepCell{}
	for _, c := range cells {
		byLoss[c.Loss] = append(byLoss[c.Loss], c)
	}
	for loss, cs := range byLoss {
		slices.SortFunc(cs, func(a, b SweepCell) int { return a.RTTms - b.RTTms })
		best := -1
		for _, c := range cs {
			if c.Stalls > 0 {
				break
			}
			best = c.RTTms
		}
		out[loss] = best
	}
	return out
}

// TheoryDelay is ceil((RTT/2)/tick) at 60 Hz, in frames: the least input
// delay with which an input reaches the other peer before its frame runs.
func TheoryDelay(rtt time.Duration) int {
	return int(math.Ceil(rtt.Seconds()/2*60 - 1e-9))
}
