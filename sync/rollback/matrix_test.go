package rollback_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
)

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

// matrix returns lockstep's impairment matrix (2, 4, 8 seats × RTT 0, 50,
// 150, 300 ms × jitter 0, 20 ms × loss 0, 5, 20 % × duplication and
// reordering off/on, 5 % each), 2,000 frames per cell; reduced (under
// -race or -short): 2 and 4 seats × RTT 0, 150, 300 ms × loss 0, 20 %,
// with 20 ms jitter, duplication and reordering. CI runs the full one
// without -race beside lockstep's (.ci/run).
func matrix(full bool) []cell {
	var cells []cell
	if full {
		for _, seats := range []int{2, 4, 8} {
			for _, rtt := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
				for _, jitter := range []time.Duration{0, 20 * time.Millisecond} {
					for _, loss := range []float64{0, 0.05, 0.2} {
						for _, dr := range []bool{false, true} {
							cells = append(cells, cell{seats, rtt, jitter, loss, dr, 2_000})
						}
					}
				}
			}
		}
		return cells
	}
	frames := map[int]int{2: 1_200, 4: 600}
	for _, seats := range []int{2, 4} {
		for _, rtt := range []time.Duration{0, 150 * time.Millisecond, 300 * time.Millisecond} {
			for _, loss := range []float64{0, 0.2} {
				cells = append(cells, cell{seats, rtt, 20 * time.Millisecond, loss, true, frames[seats]})
			}
		}
	}
	return cells
}

// TestMatrix plays rollback sessions over every cell of the matrix under
// synctest: every confirmed frame has the same state on every peer (the
// harness compares each peer's checksum of every confirmed frame), the
// match finishes, and nothing honest is dropped as hostile. The figures
// are logged as a table (go test -v).
func TestMatrix(t *testing.T) {
	cells := matrix(!(raceEnabled || testing.Short()))
	var mu sync.Mutex
	lines := map[cell]string{}
	t.Run("cells", func(t *testing.T) {
		for i, c := range cells {
			t.Run(c.String(), func(t *testing.T) {
				t.Parallel()
				link := memnet.Link{Latency: c.rtt / 2, Jitter: c.jitter, Loss: c.loss}
				if c.dupReorder {
					link.Duplicate, link.Reorder = 0.05, 0.05
				}
				res := run(t, runConfig{seats: c.seats, frames: c.frames, seed: uint64(i + 1), link: link})
				var stalls, rollbacks, resim, ticks uint64
				longest := 0
				for seat, st := range res.stats {
					d := st.Dropped
					if d.Spoofed+d.Malformed+d.Oversize+d.Foreign+d.FarFuture+d.Conflicts != 0 {
						t.Errorf("seat %d dropped honest datagrams: %+v", seat, d)
					}
					if len(res.desyncs[seat]) != 0 {
						t.Errorf("seat %d: %v", seat, res.desyncs[seat][0])
					}
					stalls += st.Stalls
					rollbacks += st.Rollbacks
					resim += st.Resimulated
					ticks += st.Ticks
					longest = max(longest, st.LongestRollback)
				}
				if limit := 2*c.frames + 300; res.ticks > limit {
					t.Errorf("%d ticks for %d frames, want <= %d", res.ticks, c.frames, limit)
				}
				mu.Lock()
				lines[c] = fmt.Sprintf("%-50s %6d %7.1f %7.1f %6.2f %8d", c, res.ticks,
					100*float64(stalls)/float64(ticks), 60*float64(rollbacks)/float64(ticks),
					float64(resim)/float64(ticks), longest)
				mu.Unlock()
			})
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-50s %6s %7s %7s %6s %8s\n", "cell", "ticks", "stall%", "rb/s", "resim", "longest")
	for _, c := range cells {
		b.WriteString(lines[c] + "\n")
	}
	t.Logf("per seat: stall%% of ticks, rollbacks per second at 60 Hz, frames re-simulated per tick, longest rollback\n%s", b.String())
}
