package netlab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds one go build (a cold pion or ebiten build on two cores
// takes well under a minute).
const buildTimeout = 4 * time.Minute

// Builds compiles helper binaries once per test process into a temporary
// directory. Its methods are safe for concurrent use.
type Builds struct {
	dir string

	mu   sync.Mutex // serialises builds: two cores, one compiler at a time
	bins map[string]string
	errs map[string]error
}

// NewBuilds creates the directory binaries go to. Call Close (from
// TestMain) to remove it.
func NewBuilds() (*Builds, error) {
	dir, err := os.MkdirTemp("", "netlab-bin-")
	if err != nil {
		return nil, err
	}
	// ip netns exec runs binaries as root from here; keep it private.
	return &Builds{dir: dir, bins: map[string]string{}, errs: map[string]error{}}, nil
}

// Close removes the binaries.
func (b *Builds) Close() error { return os.RemoveAll(b.dir) }

// Build runs `go build -o BIN [flags] .` in dir (absolute, or relative to
// the test's working directory, which is the package directory) the first
// time it is asked for that dir and flags, and returns the binary's path.
// A build failure fails the test (and every later test asking for it).
func (b *Builds) Build(tb testing.TB, dir string, flags ...string) string {
	tb.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	key := abs + "\x00" + strings.Join(flags, "\x00")
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.bins[key]; ok {
		return p
	}
	if err, ok := b.errs[key]; ok {
		tb.Fatal(err)
	}
	h := sha256.Sum256([]byte(key))
	bin := filepath.Join(b.dir, filepath.Base(abs)+"-"+hex.EncodeToString(h[:4]))
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool(), append(append([]string{"build", "-o", bin}, flags...), ".")...)
	cmd.Dir = abs
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("netlab: go build %s in %s: %w\n%s", strings.Join(flags, " "), abs, err, out)
		b.errs[key] = err
		tb.Fatal(err)
	}
	tb.Logf("netlab: built %s in %v", filepath.Base(abs), time.Since(start).Round(time.Millisecond))
	b.bins[key] = bin
	return bin
}

// goTool finds the go command: go test puts GOROOT/bin first in PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "/usr/local/go/bin/go"
}
