package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerplay/peerplay/bench"
	"github.com/peerplay/peerplay/signaling"
)

const (
	peerWarm = 2 * time.Second
	peerTail = 2 * time.Second
)

// runPeerProcess is the body of a child started by cpuProcesses: one
// peer, its result as JSON on stdout.
func runPeerProcess(url, name string, n int, measure, send time.Duration, commands bool, checksum int) int {
	ctx, cancel := context.WithTimeout(context.Background(), measure+peerWarm+peerTail+time.Minute)
	defer cancel()
	opt := bench.GameOptions{Commands: commands, ChecksumInterval: checksum}
	if send > 0 { // the RTS profile
		opt.SendInterval, opt.Netcode = send, bench.RTSNetcode
	}
	res, err := bench.RunPeerWith(ctx, url, "cpu", name, n, opt, peerWarm, measure, peerTail)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// cpuProcesses runs an n-peer game with every peer in its own process
// (this command started again with -peer-url), around an in-process
// signaling server, and returns each peer's own figures. send > 0 plays
// the RTS profile's send interval and netcode tuning; commands plays
// bench.RTSInput instead of an input that changes every tick; checksum is
// the lockstep ChecksumInterval (0: the default).
func cpuProcesses(ctx context.Context, n int, measure, send time.Duration, commands bool, checksum int) ([]bench.PeerResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	srv := &signaling.Server{MaxRoomSize: n}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	res := make([]bench.PeerResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, exe, "-peer-url", url, "-peer-name", "p"+strconv.Itoa(i),
				"-peer-n", strconv.Itoa(n), "-peer-measure", measure.String(), "-peer-send", send.String(), "-peer-commands="+strconv.FormatBool(commands), "-peer-checksum", strconv.Itoa(checksum))
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

func (r *report) cpu(ctx context.Context) error {
	dur, small := 30*time.Second, 10*time.Second
	if r.quick {
		dur, small = 2*time.Second, time.Second
	}
	r.printf("## 8. CPU and upload of peers in a mesh at 60 Hz\n\n")
	procs, err := cpuProcesses(ctx, 8, dur, 0, false, 0)
	if err != nil {
		return err
	}
	var cpu, up []float64
	minFrames, maxStalls := -1, uint64(0)
	for _, p := range procs {
		cpu = append(cpu, p.CPUPercent)
		up = append(up, p.UploadKbps)
		if minFrames < 0 || p.Frames < minFrames {
			minFrames = p.Frames
		}
		maxStalls = max(maxStalls, p.Stalls)
	}
	lo, hi := bench.Spread(cpu)
	r.printf("**8 peer processes.** Each peer runs in its own process (this command started 8 more times), joins an 8-peer mesh through a signaling server on loopback, "+
		"and plays a `lockstep.Session` (adaptive delay, 3-byte inputs) at 60 Hz for %s after %s of warm-up; each process measures its own user+system CPU (`getrusage`) and the UDP bytes its sockets sent (IP/UDP headers added: SACKs, the mesh's RTT pings and ICE keepalives included).\n\n", dur, peerWarm)
	r.printf("| Peer processes | CPU per peer, median [min–max] | upload per peer kbit/s, median | frames run (fewest) | stalled ticks (most) |\n|---|---|---|---|---|\n")
	r.printf("| 8 | %s%% of one core [%s–%s] | %s | %d | %d |\n\n", fmtF(bench.Median(cpu)), fmtF(lo), fmtF(hi), fmtF(bench.Median(up)), minFrames, maxStalls)

	r.printf("**N peers in one process** (each its own mesh and session and 60 Hz goroutine, %s each): the whole process's CPU as a share of one core, and that / N.\n\n", small)
	r.printf("| Peers | CPU %% of one core (all peers) | CPU %% per peer | upload per peer kbit/s | mean datagram on the wire B | frames run (fewest) | stalled ticks (most) |\n|---|---|---|---|---|---|---|\n")
	for _, n := range []int{2, 4, 8} {
		g, err := bench.RunMeshGame(ctx, n, small)
		if err != nil {
			return err
		}
		r.printf("| %d | %s | %s | %s | %s | %d | %d |\n", n, fmtF(g.CPUPercent), fmtF(g.PerPeerPercent),
			fmtF(g.UploadKbps), fmtF(g.DatagramWire), g.Frames, g.Stalls)
	}
	r.printf("\nIn an 8-peer game one peer process costs about %s%% of one core of this machine and uploads %s kbit/s (7 remote peers, 60 datagrams/s to each).\n\n", fmtF(bench.Median(cpu)), fmtF(bench.Median(up)))
	return nil
}
