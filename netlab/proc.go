package netlab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// maxLines bounds the output a Proc keeps; older lines are dropped (and
// counted) so a chatty process cannot exhaust memory.
const maxLines = 20000

// Proc is a process running inside a host's namespace, with its stdout and
// stderr collected line by line. Its methods are safe for concurrent use.
type Proc struct {
	tb   testing.TB
	name string
	cmd  interface{ Wait() error }
	pid  int

	mu      sync.Mutex
	cond    chan struct{} // closed and replaced on every new line or exit
	lines   []string
	dropped int
	exited  bool
	err     error

	done chan struct{}
}

// Start runs bin with args inside the host's namespace. Its output is kept
// for WaitLine and logged when the test fails (or always with
// NETLAB_VERBOSE=1). tb.Cleanup kills it (SIGKILL) if it still runs.
// label names it in logs ("alice/peer").
func (h *Host) Start(tb testing.TB, label, bin string, args ...string) *Proc {
	tb.Helper()
	cmd := h.Command(context.Background(), bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		tb.Fatalf("netlab: start %s on %s: %v", label, h.name, err)
	}
	p := &Proc{tb: tb, name: label, cmd: cmd, pid: cmd.Process.Pid, cond: make(chan struct{}), done: make(chan struct{})}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			p.add(sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-readDone
		p.mu.Lock()
		p.exited, p.err = true, err
		close(p.cond)
		p.cond = make(chan struct{})
		p.mu.Unlock()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			tb.Errorf("netlab: %s did not exit 10s after SIGKILL", label)
		}
		if tb.Failed() || os.Getenv("NETLAB_VERBOSE") != "" {
			tb.Logf("--- output of %s on %s:\n%s", label, h.name, p.Output())
		}
	})
	return p
}

func (p *Proc) add(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) >= maxLines {
		n := maxLines / 10
		p.lines = append(p.lines[:0], p.lines[n:]...)
		p.dropped += n
	}
	p.lines = append(p.lines, line)
	close(p.cond)
	p.cond = make(chan struct{})
}

// Name is the label given to Start.
func (p *Proc) Name() string { return p.name }

// Pid is the process id (of ip netns exec, which execs the program in
// place, so it is the program's pid).
func (p *Proc) Pid() int { return p.pid }

// Lines returns a copy of the output so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Output is the output so far as one string.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := strings.Join(p.lines, "\n")
	if p.dropped > 0 {
		s = fmt.Sprintf("[%d earlier lines dropped]\n%s", p.dropped, s)
	}
	return s
}

// WaitLine waits until a line at index from or later (counting from the
// first line the process printed) matches re, and returns its index and
// submatches. It fails when ctx ends or the process
// exits first. Pass from = 0 to search the whole output.
func (p *Proc) WaitLine(ctx context.Context, from int, re *regexp.Regexp) (int, []string, error) {
	for {
		p.mu.Lock()
		for i := max(from-p.dropped, 0); i < len(p.lines); i++ {
			if m := re.FindStringSubmatch(p.lines[i]); m != nil {
				p.mu.Unlock()
				return i + p.dropped, m, nil
			}
		}
		from = max(from, len(p.lines)+p.dropped)
		exited, err, ch := p.exited, p.err, p.cond
		p.mu.Unlock()
		if exited {
			return -1, nil, fmt.Errorf("%s exited (%v) before printing a line matching %q", p.name, err, re)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return -1, nil, fmt.Errorf("%s: no line matching %q: %w", p.name, re, ctx.Err())
		}
	}
}

// Len is the number of lines seen so far (a cursor for WaitLine).
func (p *Proc) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines) + p.dropped
}

// Wait waits for the process to exit and returns its exit error (nil for
// status 0), or ctx's error.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("%s still running: %w", p.name, ctx.Err())
	}
}

// Done is closed when the process has exited and its output is collected.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return fmt.Errorf("%s already exited", p.name)
	default:
	}
	return syscall.Kill(p.pid, sig)
}

// Kill sends SIGKILL (ignored if the process has exited).
func (p *Proc) Kill() { _ = p.Signal(syscall.SIGKILL) }
