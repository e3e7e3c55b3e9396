package replay

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// pongSim adapts sim.State to locksteptest.Sim.
type pongSim struct{ s sim.State }

func (p *pongSim) Step(_ lockstep.Frame, in []sim.Input) { p.s.Step([2]sim.Input{in[0], in[1]}) }
func (p *pongSim) Checksum() uint64                      { return p.s.Checksum() }

func pongConfig(link memnet.Link, frames int, rec func(int) *bytes.Buffer) locksteptest.Config[sim.Input] {
	cfg := sim.Config{Seed: 11, WinScore: 99} // no end within the run: the state moves all along
	c := locksteptest.Config[sim.Input]{
		Seats:  2,
		Frames: frames,
		Link:   link,
		Seed:   5,
		NewSim: func(int) locksteptest.Sim[sim.Input] { return &pongSim{s: sim.New(cfg)} },
		// Players mash: hold a direction for a while, then change.
		Input: func(seat, tick int, rng *rand.Rand) sim.Input {
			return sim.Input{Buttons: uint8((tick/20 + seat + int(rng.IntN(2))) % 4)}
		},
		Session: lockstep.Config{Seed: cfg.Seed, GameID: LockstepGameID(cfg.WinScore), Adaptive: lockstep.AdaptiveDelay{Enabled: true}},
	}
	if rec != nil {
		c.Record = func(seat int) io.Writer { return rec(seat) }
	}
	return c
}

// TestPongDeterministic: two fresh simulations on the same inputs agree.
func TestPongDeterministic(t *testing.T) {
	locksteptest.CheckDeterminism(t, pongConfig(memnet.Link{}, 20000, nil))
}

// TestPongUnderImpairment plays pong in lockstep over a bad network (RTT
// 160 ms ± 40, 20 % loss, duplicates, reordering): the seats never diverge
// (locksteptest fails on the first divergence), and each seat's lockstep
// replay log plays back to the same end with every recorded checksum.
func TestPongUnderImpairment(t *testing.T) {
	tests := []struct {
		name string
		link memnet.Link
	}{
		{"clean", memnet.Link{Latency: 5 * time.Millisecond}},
		{"heavy", memnet.Link{Latency: 80 * time.Millisecond, Jitter: 40 * time.Millisecond, Loss: 0.2, Duplicate: 0.05, Reorder: 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bufs := [2]*bytes.Buffer{{}, {}}
			res := locksteptest.Run(t, pongConfig(tt.link, 3000, func(seat int) *bytes.Buffer { return bufs[seat] }))
			total, longest := res.Stalls()
			t.Logf("%s: frames %v, stalls %d (longest %d ticks), input delay %d/%d",
				tt.name, res.Frames, total, longest, res.Stats[0].InputDelay, res.Stats[1].InputDelay)
			var ends [2]sim.State
			for seat, b := range bufs {
				r, err := FromLockstep(bytes.NewReader(b.Bytes()))
				if err != nil {
					t.Fatalf("seat %d log: %v", seat, err)
				}
				if r.Config != (sim.Config{Seed: 11, WinScore: 99}) {
					t.Errorf("seat %d log: config %+v", seat, r.Config)
				}
				if len(r.Inputs) < 3000 || len(r.Sums) == 0 {
					t.Fatalf("seat %d log: %d frames, %d checksums; want ≥ 3000 frames and some checksums", seat, len(r.Inputs), len(r.Sums))
				}
				// Compare the seats at a frame both ran.
				r.Inputs = r.Inputs[:3000]
				for len(r.Sums) > 0 && r.Sums[len(r.Sums)-1].Frame >= 3000 {
					r.Sums = r.Sums[:len(r.Sums)-1]
				}
				if ends[seat], err = r.Play(); err != nil {
					t.Fatalf("seat %d log: %v", seat, err)
				}
			}
			if ends[0] != ends[1] {
				t.Errorf("the two logs give different states after 3000 frames:\n%+v\n%+v", ends[0], ends[1])
			}
			t.Logf("score %v after %d frames (over: %v)", ends[0].Score, ends[0].Frame, ends[0].Over())
		})
	}
}

func TestFromLockstepRejects(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"local format", []byte("PPRP\x01\x00")},
		{"garbage", []byte("PPLR\xff\xff\xff\xff\xff\xff\xff\xff")},
	}
	for _, tt := range tests {
		if _, err := FromLockstep(bytes.NewReader(tt.b)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", tt.name, err)
		}
	}
}
