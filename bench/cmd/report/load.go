package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerplay/peerplay/bench"
	"github.com/peerplay/peerplay/signaling"
)

// hogThreads is how many threads the CPU hog spins on its one CPU.
const hogThreads = 2

// runHog is the body of the hog child: spin hogThreads goroutines until
// killed.
func runHog() int {
	runtime.GOMAXPROCS(hogThreads)
	for range hogThreads - 1 {
		go spin()
	}
	spin()
	return 0
}

func spin() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Println(x)
		}
	}
}

// loadPair plays a 2-peer game with each peer process pinned to its own
// CPU (peer 0 on CPU 0, peer 1 on CPU 1), with or without a CPU hog
// pinned to CPU 0 beside peer 0, and returns each peer's figures.
func loadPair(ctx context.Context, measure time.Duration, hog bool) ([]bench.PeerResult, error) {
	if runtime.NumCPU() < 2 {
		return nil, fmt.Errorf("load: needs 2 CPUs, have %d", runtime.NumCPU())
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil, fmt.Errorf("load: needs taskset: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if hog {
		h := exec.CommandContext(ctx, "taskset", "-c", "0", exe, "-hog")
		if err := h.Start(); err != nil {
			return nil, err
		}
		defer func() { _ = h.Process.Kill(); _ = h.Wait() }()
	}
	srv := &signaling.Server{MaxRoomSize: 2}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	res := make([]bench.PeerResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "taskset", "-c", strconv.Itoa(i), exe, "-peer-url", url, "-peer-name", "p"+strconv.Itoa(i),
				"-peer-n", "2", "-peer-measure", measure.String())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				errs[i] = fmt.Errorf("peer %d: %v: %s", i, err, stderr.String())
				return
			}
			errs[i] = json.Unmarshal(out, &res[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// load is section 10: adaptive input delay under local CPU load.
func (r *report) load(ctx context.Context) error {
	dur := 30 * time.Second
	if r.quick {
		dur = 3 * time.Second
	}
	r.printf("## 10. Adaptive delay under local load\n\n")
	r.printf("Two peer processes on loopback, each pinned to its own CPU (`taskset`), adaptive delay, 60 Hz, %s measured after %s of warm-up; "+
		"in the loaded run a CPU hog (%d spinning threads) is pinned to peer 0's CPU, so peer 0's loop gets about a third of it and runs late. "+
		"The runs alternate, %d of each; figures are medians over runs (delay: median over the ticks of a run).\n\n", dur, peerWarm, hogThreads, r.repeats)
	r.printf("| Run | peer 0 (loaded) delay frames | peer 1 delay frames | peer 0 RTT / jitter ms | peer 1 RTT / jitter ms | stalled ticks (most) |\n|---|---|---|---|---|---|\n")
	type agg struct{ d0, d1, r0, j0, r1, j1 []float64 }
	var runs [2]agg
	var stalls [2]uint64
	for range r.repeats {
		for k, hog := range []bool{false, true} {
			p, err := loadPair(ctx, dur, hog)
			if err != nil {
				return err
			}
			a := &runs[k]
			a.d0, a.d1 = append(a.d0, p[0].DelayMedian), append(a.d1, p[1].DelayMedian)
			a.r0, a.j0 = append(a.r0, p[0].RTTms), append(a.j0, p[0].JitterMs)
			a.r1, a.j1 = append(a.r1, p[1].RTTms), append(a.j1, p[1].JitterMs)
			stalls[k] = max(stalls[k], p[0].Stalls, p[1].Stalls)
		}
	}
	m := bench.Median
	for k, name := range []string{"unloaded", "CPU hog beside peer 0"} {
		a := runs[k]
		r.printf("| %s | %s | %s | %s / %s | %s / %s | %d |\n", name, fmtF(m(a.d0)), fmtF(m(a.d1)),
			fmtF(m(a.r0)), fmtF(m(a.j0)), fmtF(m(a.r1)), fmtF(m(a.j1)), stalls[k])
	}
	d := max(m(runs[1].d0)-m(runs[0].d0), m(runs[1].d1)-m(runs[0].d1))
	r.printf("\nUnder local load the delay rises by at most %s frame(s) (target: ≤ +1).\n\n", fmtF(d))
	r.target("Input delay with a CPU hog beside one of two peers, loopback", "≤ +1 frame over unloaded", fmtF(d)+" frames", d <= 1, "")
	return nil
}
