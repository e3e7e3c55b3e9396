//go:build netlab

package netlab_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netlab"
)

// bins builds the helper programs once per test process.
var bins *netlab.Builds

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(childMain(mode))
	}
	b, err := netlab.NewBuilds()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins = b
	code := m.Run()
	b.Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// childEnv makes the test binary act as a child program for the cleanup
// tests (see childMain).
const childEnv = "NETLAB_TEST_CHILD"

// childPrefix keeps the children's namespaces away from the sweeps that
// every New does for the default prefix, so only the cleanup tests sweep
// them.
const childPrefix = "pplabchild"

// childMain runs a lab outside of testing.T, in a process the parent test
// can fail or kill:
//
//	fail: build a lab, start a process in it, then fail fatally: the
//	      cleanup must still remove everything.
//	hang: build a lab, start a process in it, print its id, and wait to be
//	      SIGKILLed: the next Sweep must remove what it left.
func childMain(mode string) int {
	tb := &childTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer tb.runCleanups()
		lab := netlab.New(tb, netlab.Config{Prefix: childPrefix})
		home := lab.AddRouter("home", netlab.NATRestricted)
		h := home.AddHost("alice")
		p := h.Start(tb, "sleeper", "sleep", "300")
		fmt.Printf("lab %s pid %d\n", lab.ID(), p.Pid())
		switch mode {
		case "fail":
			tb.Fatalf("deliberate failure")
		case "hang":
			select {}
		}
	}()
	<-done
	if tb.Failed() {
		return 1
	}
	return 0
}

// childTB is the part of testing.TB a Lab uses, for childMain. The embedded
// interface is nil: any other method would panic, which is a test bug.
type childTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

func (c *childTB) Helper()                   {}
func (c *childTB) Name() string              { return "child" }
func (c *childTB) Log(a ...any)              { fmt.Println(a...) }
func (c *childTB) Logf(f string, a ...any)   { fmt.Printf(f+"\n", a...) }
func (c *childTB) Error(a ...any)            { c.fail(); fmt.Println(a...) }
func (c *childTB) Errorf(f string, a ...any) { c.fail(); fmt.Printf(f+"\n", a...) }
func (c *childTB) Fatal(a ...any)            { c.Error(a...); runtime.Goexit() }
func (c *childTB) Fatalf(f string, a ...any) { c.Errorf(f, a...); runtime.Goexit() }
func (c *childTB) fail()                     { c.mu.Lock(); c.failed = true; c.mu.Unlock() }
func (c *childTB) Failed() bool              { c.mu.Lock(); defer c.mu.Unlock(); return c.failed }
func (c *childTB) Cleanup(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cleanups = append(c.cleanups, f)
}

func (c *childTB) runCleanups() {
	for {
		c.mu.Lock()
		if len(c.cleanups) == 0 {
			c.mu.Unlock()
			return
		}
		f := c.cleanups[len(c.cleanups)-1]
		c.cleanups = c.cleanups[:len(c.cleanups)-1]
		c.mu.Unlock()
		f()
	}
}

// waitCtx is the bound for one wait in a test.
func waitCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitLine waits for a line matching expr in p's output and returns its
// submatches; it fails the test after d.
func waitLine(t *testing.T, p *netlab.Proc, d time.Duration, expr string) []string {
	t.Helper()
	_, m, err := p.WaitLine(waitCtx(t, d), 0, regexp.MustCompile(expr))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lineWriter sends each complete line written to it on ch (dropping lines
// when ch is full).
type lineWriter struct {
	ch  chan string
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.ch <- string(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
