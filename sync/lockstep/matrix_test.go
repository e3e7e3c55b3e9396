package lockstep_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// reduced reports whether the heavy tests run their reduced workload:
// under -race (about 30× slower) or -short.
func reduced() bool { return raceEnabled || testing.Short() }

type cell struct {
	seats      int
	rtt        time.Duration
	jitter     time.Duration
	loss       float64
	dupReorder bool
	frames     int
}

func (c cell) String() string {
	dr := "clean"
	if c.dupReorder {
		dr = "dup+reorder"
	}
	return fmt.Sprintf("%dseats/rtt%v/jitter%v/loss%v/%s", c.seats, c.rtt, c.jitter, c.loss, dr)
}

// matrix returns the impairment matrix of issue 5: 2, 4, 8 seats × RTT 0,
// 50, 150, 300 ms × jitter 0, 20 ms × loss 0, 5, 20 % × duplication and
// reordering off/on (5 % each), 10,000 frames per cell: 144 cells, about
// a minute of CPU without -race.
//
// The reduced matrix (under -race or -short, see reduced) keeps every
// seat count and the extremes of each axis, with fewer frames for more
// seats: the race detector makes the full one take over an hour of CPU.
// CI runs the full matrix in a separate step without -race (.ci/run).
func matrix(full bool) []cell {
	var cells []cell
	if full {
		for _, seats := range []int{2, 4, 8} {
			for _, rtt := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
				for _, jitter := range []time.Duration{0, 20 * time.Millisecond} {
					for _, loss := range []float64{0, 0.05, 0.2} {
						for _, dr := range []bool{false, true} {
							cells = append(cells, cell{seats, rtt, jitter, loss, dr, 10_000})
						}
					}
				}
			}
		}
		return cells
	}
	frames := map[int]int{2: 10_000, 4: 2_500, 8: 1_000}
	for _, seats := range []int{2, 4, 8} {
		for _, rtt := range []time.Duration{0, 300 * time.Millisecond} {
			for _, loss := range []float64{0, 0.2} {
				cells = append(cells, cell{seats, rtt, 20 * time.Millisecond, loss, true, frames[seats]})
			}
		}
	}
	return cells
}

type cellResult struct {
	cell
	ticks, longest int
	stalls         uint64
	delay          int
	avgBytes       int
	maxBytes       int
}

// TestMatrix plays every cell of the impairment matrix under synctest
// with the adaptive delay: the seats never diverge (locksteptest compares
// every frame's checksum), never deadlock, finish within 5 % of the frame
// count plus 2 s of start-up, and nothing honest is dropped as hostile.
// The stall counts are logged as a table (go test -v).
func TestMatrix(t *testing.T) {
	cells := matrix(!reduced())
	var mu sync.Mutex
	var results []cellResult
	t.Run("cells", func(t *testing.T) {
		for i, c := range cells {
			t.Run(c.String(), func(t *testing.T) {
				t.Parallel()
				cfg := simConfig(c.seats, c.frames)
				cfg.Seed = uint64(i + 1)
				cfg.Link = memnet.Link{Latency: c.rtt / 2, Jitter: c.jitter, Loss: c.loss}
				if c.dupReorder {
					cfg.Link.Duplicate, cfg.Link.Reorder = 0.05, 0.05
				}
				cfg.Session.Adaptive.Enabled = true
				res := locksteptest.Run(t, cfg)
				if limit := c.frames + c.frames/20 + 120; res.Ticks > limit {
					t.Errorf("%d ticks for %d frames, want <= %d", res.Ticks, c.frames, limit)
				}
				r := cellResult{cell: c, ticks: res.Ticks}
				r.stalls, r.longest = res.Stalls()
				var sent, bytes uint64
				for seat, st := range res.Stats {
					d := st.Dropped
					if d.Spoofed+d.Malformed+d.Oversize+d.Foreign+d.FarFuture+d.Conflicts != 0 {
						t.Errorf("seat %d dropped honest datagrams: %+v", seat, d)
					}
					sent += st.DatagramsSent
					bytes += st.BytesSent
					r.maxBytes = max(r.maxBytes, st.LargestSent)
					r.delay = max(r.delay, st.InputDelay)
				}
				r.avgBytes = int(bytes / max(sent, 1))
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			})
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-50s %7s %7s %8s %6s %9s\n", "cell", "ticks", "stalls", "longest", "delay", "B/dgram")
	for _, c := range cells {
		for _, r := range results {
			if r.cell == c {
				fmt.Fprintf(&b, "%-50s %7d %7d %8d %6d %5d/%d\n", c, r.ticks, r.stalls, r.longest, r.delay, r.avgBytes, r.maxBytes)
			}
		}
	}
	t.Logf("stalls are summed over the seats; delay is the largest final input delay; B/dgram is mean/max\n%s", b.String())
}
