package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var binDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "pong-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binDir = d
	// Every pong these tests start keeps its identity file (main's
	// identity.go) in a directory of its test (configHome); runOK's
	// here, never in the user's config directory.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(d, "config"))
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// build compiles the pong program (with the window, or with -tags headless)
// once per test binary and returns its path.
func build(t *testing.T, headless bool) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	name := "pong"
	args := []string{"build", "-o"}
	env := os.Environ()
	if headless {
		name = "pong-headless"
		env = append(env, "CGO_ENABLED=0")
	}
	if p, ok := built[name]; ok {
		return p
	}
	out := filepath.Join(binDir, name)
	args = append(args, out)
	if headless {
		args = append(args, "-tags", "headless")
	}
	args = append(args, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = ".." // the demo/pong module root
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	built[name] = out
	return out
}

// proc is a running pong process whose output is captured.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// configHomes holds each test's configHome.
var configHomes sync.Map // *testing.T -> []string

// configHome is the environment that gives the pong processes t starts a
// config directory of t's own (an empty temporary one), the same for all
// of them: their identity files (and a host's room file) neither land in
// the runner's config directory nor meet another test's, where a host
// would reopen a room another test's host left. (HOME stays: play.sh runs
// go, whose module cache lives there.)
func configHome(t *testing.T) []string {
	t.Helper()
	if env, ok := configHomes.Load(t); ok {
		return env.([]string)
	}
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir()}
	configHomes.Store(t, env)
	t.Cleanup(func() { configHomes.Delete(t) })
	return env
}

// start runs bin with args; the process is killed at cleanup if it still runs.
func start(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", name, bin, env, args...)
}

// startIn is start in directory dir ("" = this one).
func startIn(t *testing.T, dir, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), configHome(t)...)
	p.cmd.Env = append(p.cmd.Env, env...) // a test's own XDG_CONFIG_HOME comes last: it wins
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for p to exit within d and fails the test with its output if it
// does not exit 0.
func (p *proc) wait(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // keep it for Cleanup
		if err != nil {
			t.Fatalf("%s exited: %v\nstdout:\n%s\nstderr:\n%s", p.name, err, p.stdout.String(), p.stderr.String())
		}
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		t.Fatalf("%s still running after %v\nstderr:\n%s", p.name, d, p.stderr.String())
	}
	return p.stdout.String()
}

var resultRE = regexp.MustCompile(`(?m)^result score=(\d+):(\d+) winner=(-?\d) frames=(\d+) checksum=([0-9a-f]{16})$`)

// parseResult returns the "result ..." line's fields: score, frames, checksum.
func parseResult(t *testing.T, who, out string) (score, frames, checksum string) {
	t.Helper()
	m := resultRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s printed no result line:\n%s", who, out)
	}
	return m[1] + ":" + m[2], m[4], m[5]
}

func runOK(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
