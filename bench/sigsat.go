package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// SatConfig is one saturation measurement: Procs generator processes
// load one server with one workload, closed loop, and the server's and
// the generators' CPU are read over the same window.
type SatConfig struct {
	Proto    string // "peerplay" or "peerjs"
	Server   *Proc  // the server under load (its CPU is read from /proc)
	Workload string // "relay" (candidate-sized signals), "offer" (relay of offer-sized signals) or "churn"
	Procs    int    // generator processes
	Pairs    int    // relay: client pairs in all, split over the processes
	Window   int    // relay: signals in flight per pair
	Workers  int    // churn: join-and-leave loops in all, split over the processes
	Warmup   time.Duration
	Measure  time.Duration
	// Command starts one generator process: a command whose main calls
	// SigGenMain. GenCPU ≥ 0 pins every generator to that CPU (taskset).
	Command   func() *exec.Cmd
	GenCPU    int
	ServerCPU int // the CPU the server is pinned to (-1: not pinned)
}

// SatResult is what a saturation measurement found.
type SatResult struct {
	Rate      float64 // relay: signals delivered per second; churn: join-and-leave cycles per second
	ServerCPU float64 // the server's CPU time / window (1 = one core busy)
	GenCPU    float64 // all generator processes' CPU time / window
	Procs     int
	// ServerIdle and GenIdle are the idle share of the server's and the
	// generators' CPU over the window (/proc/stat; -1 when not pinned).
	// A server below one core with its CPU idle waits for the
	// generators; with its CPU not idle, other processes took the rest.
	ServerIdle, GenIdle float64
	// AtServer is where the work in flight waited, sampled every 50 ms
	// from /proc/net/tcp over the window: the share of the unread bytes
	// (relay) or of the waiting cycles (churn: connections in the accept
	// backlog and sockets with unread bytes) in TCP receive queues that
	// sat on the server's side (the rest sat in the generators' sockets).
	// Near 1 the server is behind on its input: it, not the generators, is
	// the bottleneck. -1 when nothing was queued.
	AtServer float64
}

// SigSaturate runs one saturation measurement (see SatConfig).
func SigSaturate(ctx context.Context, cfg SatConfig) (SatResult, error) {
	addr := strings.TrimPrefix(cfg.Server.Base, "http://")
	nonce := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	type gen struct {
		cmd *exec.Cmd
		in  io.WriteCloser
		out *bufio.Reader
		err bytes.Buffer
	}
	gens := make([]*gen, cfg.Procs)
	defer func() {
		for _, g := range gens {
			if g != nil && g.cmd.Process != nil {
				_ = g.cmd.Process.Kill()
				_ = g.cmd.Wait()
			}
		}
	}()
	for i := range gens {
		c := cfg.Command()
		if argv, ok := pinned(cfg.GenCPU, c.Args); ok {
			path, err := exec.LookPath(argv[0])
			if err != nil {
				return SatResult{}, err
			}
			c.Path, c.Args = path, argv
		}
		g := &gen{cmd: c}
		in, err := c.StdinPipe()
		if err != nil {
			return SatResult{}, err
		}
		out, err := c.StdoutPipe()
		if err != nil {
			return SatResult{}, err
		}
		c.Stderr = &g.err
		g.in, g.out = in, bufio.NewReader(out)
		if err := c.Start(); err != nil {
			return SatResult{}, fmt.Errorf("bench: start generator: %w", err)
		}
		gens[i] = g
		gc := SigGenConfig{Proto: cfg.Proto, Addr: addr, Workload: cfg.Workload,
			Prefix: nonce + "g" + strconv.Itoa(i),
			Pairs:  share(cfg.Pairs, cfg.Procs, i), Window: cfg.Window, Workers: share(cfg.Workers, cfg.Procs, i),
			Warmup: cfg.Warmup, Measure: cfg.Measure}
		if cfg.Workload == "offer" {
			gc.Workload, gc.Message = "relay", "offer"
		}
		b, _ := json.Marshal(gc)
		if _, err := fmt.Fprintf(in, "%s\n", b); err != nil {
			return SatResult{}, err
		}
	}
	readLine := func(g *gen) (string, error) {
		type r struct {
			s   string
			err error
		}
		ch := make(chan r, 1)
		go func() { s, err := g.out.ReadString('\n'); ch <- r{s, err} }()
		select {
		case x := <-ch:
			if x.err != nil {
				return "", fmt.Errorf("bench: generator: %v: %s", x.err, lastLines(g.err.String(), 3))
			}
			return x.s, nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(cfg.Warmup + cfg.Measure + time.Minute):
			return "", errors.New("bench: generator silent for a minute")
		}
	}
	for _, g := range gens {
		s, err := readLine(g)
		if err != nil {
			return SatResult{}, err
		}
		if s != "ready\n" {
			return SatResult{}, fmt.Errorf("bench: generator: %s", strings.TrimSpace(s))
		}
	}
	for _, g := range gens {
		if _, err := io.WriteString(g.in, "go\n"); err != nil {
			return SatResult{}, err
		}
	}
	time.Sleep(cfg.Warmup)
	s0, err0 := procRunTime(cfg.Server.Pid())
	st0 := cpuTimes()
	t0 := time.Now()
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	var qSrv, qGen int64
	qdone := make(chan struct{})
	tick := time.NewTicker(50 * time.Millisecond)
	go func() {
		defer close(qdone)
		defer tick.Stop()
		end := time.After(cfg.Measure)
		for {
			select {
			case <-tick.C:
				a, b := tcpQueues(port, cfg.Workload == "churn")
				qSrv += a
				qGen += b
			case <-end:
				return
			}
		}
	}()
	<-qdone
	s1, err1 := procRunTime(cfg.Server.Pid())
	st1 := cpuTimes()
	window := time.Since(t0)
	if err := errors.Join(err0, err1); err != nil {
		return SatResult{}, err
	}
	res := SatResult{Procs: cfg.Procs, ServerCPU: float64(s1-s0) / float64(window),
		ServerIdle: idleShare(st0, st1, cfg.ServerCPU), GenIdle: idleShare(st0, st1, cfg.GenCPU)}
	res.AtServer = -1
	if qSrv+qGen > 0 {
		res.AtServer = float64(qSrv) / float64(qSrv+qGen)
	}
	var ops int64
	var gcpu time.Duration
	for _, g := range gens {
		s, err := readLine(g)
		if err != nil {
			return SatResult{}, err
		}
		var r SigGenResult
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return SatResult{}, fmt.Errorf("bench: generator said %q", s)
		}
		if r.Err != "" {
			return SatResult{}, fmt.Errorf("bench: generator: %s", r.Err)
		}
		if r.Errors > 0 {
			return SatResult{}, fmt.Errorf("bench: generator: %d failed %s cycles against %s", r.Errors, cfg.Workload, cfg.Proto)
		}
		ops += r.Ops
		gcpu += r.CPU
	}
	res.Rate = float64(ops) / cfg.Measure.Seconds()
	res.GenCPU = float64(gcpu) / float64(cfg.Measure)
	return res, nil
}

// share is process i's part of n split over procs.
func share(n, procs, i int) int {
	s := n / procs
	if i < n%procs {
		s++
	}
	return s
}

// cpuTimes reads the per-CPU lines of /proc/stat: for each CPU, its idle
// (idle + iowait) and total ticks.
func cpuTimes() map[int][2]int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	m := map[int][2]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var idle, total int64
		for k, v := range f[1:] {
			x, _ := strconv.ParseInt(v, 10, 64)
			if k < 8 { // user nice system idle iowait irq softirq steal (guest is in user)
				total += x
			}
			if k == 3 || k == 4 {
				idle += x
			}
		}
		m[n] = [2]int64{idle, total}
	}
	return m
}

// idleShare is CPU cpu's idle share between two cpuTimes (-1: unknown).
func idleShare(a, b map[int][2]int64, cpu int) float64 {
	x, ok1 := a[cpu]
	y, ok2 := b[cpu]
	if cpu < 0 || !ok1 || !ok2 || y[1] <= x[1] {
		return -1
	}
	return float64(y[0]-x[0]) / float64(y[1]-x[1])
}

// tcpQueues sums what waits in the receive queues of the IPv4 TCP
// sockets in /proc/net/tcp whose local port is port (the server's side,
// its listening socket included) and whose remote port is port (the
// clients' side). In bytes; with cycles, in cycles: a connection waiting
// to be accepted or a socket with unread bytes counts one (for churn a
// cycle waits either for the server to take the connection or read its
// join, or for the client to read the welcome).
func tcpQueues(port string, cycles bool) (server, clients int64) {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, 0
	}
	hex := fmt.Sprintf(":%04X", p)
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		_, rxs, _ := strings.Cut(f[4], ":")
		rx, err := strconv.ParseInt(rxs, 16, 64)
		if err != nil || rx == 0 {
			continue
		}
		listen := f[3] == "0A" // rx_queue is then the accept backlog, in connections
		if cycles && !listen {
			rx = 1
		}
		switch {
		case strings.HasSuffix(f[1], hex):
			if listen && !cycles {
				continue
			}
			server += rx
		case strings.HasSuffix(f[2], hex):
			clients += rx
		}
	}
	return server, clients
}

// procRunTime is the CPU time of process pid's threads, summed from
// /proc/PID/task/TID/schedstat (nanoseconds the scheduler ran each
// thread; /proc/PID/stat counts in 10 ms ticks, coarse over a few
// seconds at a fraction of a core). A thread that exits takes its time
// with it: servers and generators keep theirs.
func procRunTime(pid int) (time.Duration, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}
