package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// RollbackCell is one point of the rollback sweep: two rollback sessions
// (input delay InputDelay, MaxPrediction 8) at 60 Hz over memnet with a
// symmetric link of RTT/2 one-way latency and the given loss.
type RollbackCell struct {
	RTTms      int     `json:"rtt_ms"`
	Loss       float64 `json:"loss"`
	InputDelay int     `json:"input_delay"`
	// Ticks, Stalls, LongestStall: Advance calls after warm-up on the
	// worse peer, those that simulated no new frame, the longest run.
	Ticks        uint64  `json:"ticks"`
	Stalls       uint64  `json:"stalls"`
	StallRate    float64 `json:"stall_rate"`
	LongestStall int     `json:"longest_stall"`
	// RollbacksPerSec and ResimPerTick: per peer, the mean of both.
	RollbacksPerSec float64 `json:"rollbacks_per_sec"`
	ResimPerTick    float64 `json:"resim_per_tick"`
	LongestRollback int     `json:"longest_rollback"`
	// Frames is how many confirmed frames both peers agree on.
	Frames int `json:"frames"`
}

// RunRollbackCell plays two rollback sessions for warmup+measure (memnet
// time; run it in testing/synctest), peer b ticking half a tick after
// peer a. Inputs change every 8 ticks, as a held stick does. It fails if
// a confirmed frame's state differs between the peers.
func RunRollbackCell(rtt time.Duration, loss float64, delay int, seed uint64, warmup, measure time.Duration) (RollbackCell, error) {
	n := memnet.New(memnet.Config{Seed: seed, Link: memnet.Link{Latency: rtt / 2, Loss: loss}})
	defer n.Close()
	ids := []transport.PeerID{"a", "b"}
	sess := make([]*rollback.Session[Input], 2)
	games := make([]*PongSim, 2)
	slots := make([][]PongSim, 2)
	sums := make([][]uint64, 2)
	for i, id := range ids {
		s, err := rollback.NewSession[Input](n.Join(id).Channel(LabelInput, transport.Unreliable),
			rollback.Config{InputDelay: delay, Lockstep: lockstep.Config{Seats: ids}})
		if err != nil {
			return RollbackCell{}, err
		}
		defer s.Close()
		sess[i], games[i], slots[i] = s, NewPongSim(), make([]PongSim, s.Slots())
	}
	var base [2]rollback.Stats
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
			in := Input{Buttons: uint8(tick/8%3 + p), Axis: int16(tick/8%5 - 2)}
			reqs, err := s.Advance(in)
			if err != nil {
				return RollbackCell{}, fmt.Errorf("peer %d tick %d: %w", p, tick, err)
			}
			for _, r := range reqs {
				switch r.Kind {
				case rollback.Save:
					slots[p][r.Slot] = *games[p]
				case rollback.Load:
					*games[p] = slots[p][r.Slot]
				case rollback.Advance:
					games[p].Step(r.Inputs)
					sum := games[p].Checksum()
					s.ReportChecksum(r.Frame, sum)
					for int(r.Frame) >= len(sums[p]) {
						sums[p] = append(sums[p], 0)
					}
					sums[p][r.Frame] = sum
				}
			}
		}
		time.Sleep(SweepTick / 2)
	}
	// A frame may be confirmed before it is simulated (input delay).
	frames := min(int(min(sess[0].Confirmed(), sess[1].Confirmed())), len(sums[0]), len(sums[1]))
	for f := 0; f < frames; f++ {
		if sums[0][f] != sums[1][f] {
			return RollbackCell{}, fmt.Errorf("confirmed frame %d: the peers' states differ", f)
		}
	}
	for _, s := range sess {
		for _, e := range s.PollEvents() {
			if e.Kind == lockstep.EventDesync {
				return RollbackCell{}, errors.Join(errors.New("desync"), e.Err)
			}
		}
	}
	c := RollbackCell{RTTms: int(rtt / time.Millisecond), Loss: loss, InputDelay: delay, Frames: frames}
	for p, s := range sess {
		st := s.Stats()
		ticks, stalls := st.Ticks-base[p].Ticks, st.Stalls-base[p].Stalls
		if p == 0 || stalls > c.Stalls {
			c.Ticks, c.Stalls = ticks, stalls
		}
		c.LongestStall = max(c.LongestStall, st.LongestStall)
		c.LongestRollback = max(c.LongestRollback, st.LongestRollback)
		c.RollbacksPerSec += float64(st.Rollbacks-base[p].Rollbacks) / measure.Seconds() / 2
		c.ResimPerTick += float64(st.Resimulated-base[p].Resimulated) / float64(ticks) / 2
	}
	if c.Ticks > 0 {
		c.StallRate = float64(c.Stalls) / float64(c.Ticks)
	}
	return c, nil
}

// PongSim is a Pong-sized deterministic simulation in fixed point (ball,
// two paddles, score) with a value-copy Save/Load, for the rollback
// figures: its state is 48 bytes, as demo/pong's sim is a few dozen.
type PongSim struct {
	BallX, BallY, VX, VY int32
	Pad                  [2]int32
	Score                [2]int32
	Frame                int32
	Hash                 uint64
}

// NewPongSim returns the serve position.
func NewPongSim() *PongSim { return &PongSim{BallX: 320 << 8, BallY: 240 << 8, VX: 3 << 8, VY: 2 << 8} }

// Step advances one frame with each seat's input (Axis moves its paddle).
func (g *PongSim) Step(in []Input) {
	for t := range min(len(in), 2) {
		g.Pad[t] = max(0, min(480<<8, g.Pad[t]+int32(in[t].Axis)<<9))
		g.Hash = (g.Hash ^ uint64(in[t].Buttons)) * 1099511628211
	}
	g.BallX += g.VX
	g.BallY += g.VY
	if g.BallY < 0 || g.BallY > 480<<8 {
		g.VY = -g.VY
	}
	for t, x := range [2]int32{16 << 8, 624 << 8} {
		if (t == 0 && g.BallX < x || t == 1 && g.BallX > x) && g.BallY >= g.Pad[t] && g.BallY <= g.Pad[t]+64<<8 {
			g.VX = -g.VX
		}
	}
	if g.BallX < 0 || g.BallX > 640<<8 {
		if g.BallX < 0 {
			g.Score[1]++
		} else {
			g.Score[0]++
		}
		g.BallX, g.BallY = 320<<8, 240<<8
	}
	g.Frame++
}

// Checksum summarizes the state.
func (g *PongSim) Checksum() uint64 {
	h := g.Hash
	for _, v := range [...]int32{g.BallX, g.BallY, g.VX, g.VY, g.Pad[0], g.Pad[1], g.Score[0], g.Score[1], g.Frame} {
		h = (h ^ uint64(uint32(v))) * 1099511628211
	}
	return h
}
