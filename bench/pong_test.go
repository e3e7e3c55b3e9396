package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The Pong benchmarks run two demo/pong processes over loopback (a host
// with its embedded signaling server and a joiner, bots on both paddles)
// for PONG_BENCH_SECONDS (default 60) of match and report what each
// prints at the end ("lockstep ticks=... stalls_after_warmup=...
// max_input_delay=..."): stalled ticks after the first 120 frames and the
// largest input delay, in frames, of the joiner (stalls, max-delay-frames)
// and of the host (host-stalls, host-max-delay-frames). Issue #18 asks for ≤ 2 frames and 0
// stalls over 60 s between two GUI pongs on an idle machine.
//
//	go test ./bench -run '^$' -bench 'Pong' -benchtime 1x
//
// BenchmarkPongHeadless runs the windowless build with a CPU hog (a busy
// goroutine per core) beside it; BenchmarkPongGUI runs two windows under a
// private Xvfb (skipped when Xvfb or the X11 headers are missing).

var pongLine = regexp.MustCompile(`lockstep ticks=(\d+) frames=(\d+) stalls=(\d+) stalls_after_warmup=(\d+) longest_stall=(\d+) input_delay=(\d+) max_input_delay=(\d+) rtt=([0-9.]+)ms`)

func pongSeconds() int {
	if n, err := strconv.Atoi(os.Getenv("PONG_BENCH_SECONDS")); err == nil && n > 0 {
		return n
	}
	return 60
}

// buildPong builds demo/pong (with the window unless headless).
func buildPong(b *testing.B, headless bool) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "pong")
	args := []string{"build", "-o", out}
	env := os.Environ()
	if headless {
		args = append(args, "-tags", "headless")
		env = append(env, "CGO_ENABLED=0")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = filepath.Join("..", "demo", "pong")
	cmd.Env = env
	if o, err := cmd.CombinedOutput(); err != nil {
		if !headless {
			b.Skipf("cannot build the window (cgo, X11 headers): %v\n%s", err, o)
		}
		b.Fatalf("go build demo/pong: %v\n%s", err, o)
	}
	return out
}

type pongProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	err  bytes.Buffer
	done chan error
}

func (p *pongProc) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func startPong(ctx context.Context, b *testing.B, bin string, env []string, args ...string) *pongProc {
	b.Helper()
	p := &pongProc{cmd: exec.CommandContext(ctx, bin, args...), done: make(chan error, 1)}
	// Identity (and room) files in the benchmark's own config
	// directory, never the runner's (demo/pong/identity).
	p.cmd.Env = append(append(os.Environ(), "XDG_CONFIG_HOME="+b.TempDir()), env...)
	p.cmd.Stdout = lockedWriter{&p.mu, &p.out}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.err}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	b.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// pongPair runs host and joiner for the benchmark's seconds of match and
// reports the joiner's and the host's figures.
func pongPair(b *testing.B, bin string, env []string, hostCode *regexp.Regexp, extra ...string) {
	secs := pongSeconds()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+240)*time.Second)
	defer cancel()
	common := append([]string{"-bot", "-lan=false", "-score", "99", "-for", fmt.Sprintf("%ds", secs)}, extra...)
	host := startPong(ctx, b, bin, env, append([]string{"-host", "-listen", "127.0.0.1:0", "-name", "ann"}, common...)...)
	var target string
	for target == "" {
		if m := hostCode.FindStringSubmatch(host.stdout()); m != nil {
			target = m[1]
			break
		}
		select {
		case <-ctx.Done():
			b.Fatalf("the host printed no join address:\n%s", host.stdout())
		case <-time.After(50 * time.Millisecond):
		}
	}
	join := startPong(ctx, b, bin, env, append([]string{"-join", target, "-name", "bob"}, common...)...)
	for _, p := range []struct {
		who string
		p   *pongProc
	}{{"joiner", join}, {"host", host}} {
		select {
		case err := <-p.p.done:
			p.p.done <- err // for Cleanup
		case <-ctx.Done():
			b.Fatalf("%s did not finish", p.who)
		}
		m := pongLine.FindStringSubmatch(p.p.stdout())
		if m == nil {
			b.Fatalf("%s printed no lockstep figures:\n%s", p.who, p.p.stdout())
		}
		b.Logf("%s: %s", p.who, m[0])
		n := func(i int) float64 { f, _ := strconv.ParseFloat(m[i], 64); return f }
		if p.who == "joiner" {
			b.ReportMetric(n(4), "stalls")
			b.ReportMetric(n(7), "max-delay-frames")
			b.ReportMetric(n(6), "delay-frames")
			b.ReportMetric(n(8), "rtt-ms")
		} else { // the host's too: a stall is the other side's late input
			b.ReportMetric(n(4), "host-stalls")
			b.ReportMetric(n(7), "host-max-delay-frames")
		}
	}
}

func BenchmarkPongHeadless(b *testing.B) {
	bin := buildPong(b, true)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range runtime.NumCPU() { // the CPU hog
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !stop.Load() {
				x++
			}
			_ = x
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for range b.N {
		pongPair(b, bin, nil, regexp.MustCompile(`join with: .* -join (127\.0\.0\.1:\d+/[A-Z0-9]+)`), "-headless")
	}
}

func BenchmarkPongGUI(b *testing.B) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		b.Skip("no Xvfb")
	}
	bin := buildPong(b, false)
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	x := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1600x1200x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	defer func() { _ = x.Process.Kill(); _ = x.Wait() }()
	line, _ := bufio.NewReader(r).ReadString('\n')
	disp := ":" + strings.TrimSpace(line)
	for range b.N {
		pongPair(b, bin, []string{"DISPLAY=" + disp}, regexp.MustCompile(`(?m)^  \S+ -join (127\.0\.0\.1:\d+/[A-Z0-9]+)`))
	}
}
