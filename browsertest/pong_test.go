//go:build browser && !js

package browsertest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pongDir is demo/pong, a module of its own.
const pongDir = "../demo/pong"

// buildPong builds the headless native pong and the browser build
// (demo/pong/web/build.sh: pong.wasm, pong.wasm.gz, wasm_exec.js).
func buildPong(t *testing.T) (exe, web string) {
	t.Helper()
	exe = filepath.Join(buildDir, "pong")
	web = filepath.Join(buildDir, "web") // next to the executable: pong -host finds it
	start := time.Now()
	cmd := exec.Command("go", "build", "-tags", "headless", "-o", exe, ".")
	cmd.Dir = pongDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build pong: %v\n%s", err, b)
	}
	abs, err := filepath.Abs(filepath.Join(pongDir, "web", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("bash", abs, web).CombinedOutput(); err != nil {
		t.Fatalf("web/build.sh: %v\n%s", err, b)
	}
	t.Logf("built pong and its browser build in %v", time.Since(start).Round(time.Millisecond))
	for _, name := range []string{"pong.wasm", "pong.wasm.gz"} {
		if fi, err := os.Stat(filepath.Join(web, name)); err == nil {
			t.Logf("%s: %.1f MB", name, float64(fi.Size())/1e6)
		}
	}
	return exe, web
}

// lines collects a process's output lines and lets a test wait for one.
type lines struct {
	mu   sync.Mutex
	all  []string
	cond chan struct{} // closed and replaced on every line
}

func newLines(r io.Reader, t *testing.T, prefix string) *lines {
	l := &lines{cond: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			close(l.cond)
			l.cond = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, s := range l.all {
			t.Logf("%s: %s", prefix, s)
		}
	})
	return l
}

// wait returns the first line (from index from on) matching re.
func (l *lines) wait(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := 0; ; {
		l.mu.Lock()
		for ; i < len(l.all); i++ {
			if m := re.FindStringSubmatch(l.all[i]); m != nil {
				l.mu.Unlock()
				return m
			}
		}
		c := l.cond
		l.mu.Unlock()
		select {
		case <-c:
		case <-deadline.C:
			t.Fatalf("no output line matching %q within %v", re, timeout)
		}
	}
}

var (
	reLink      = regexp.MustCompile(`or in a browser: (http://\S+)`)
	reResult    = regexp.MustCompile(`^result score=(\d+):(\d+) winner=(-?\d+) frames=(\d+) checksum=([0-9a-f]{16})`)
	reMatchOver = regexp.MustCompile(`pong: match over" score0=(\d+) score1=(\d+) frames=(\d+) checksum=([0-9a-f]{16})`)
	reFirst     = regexp.MustCompile(`pong: first frame after (\d+) ms \(wasm compiled after (\d+) ms\)`)
)

// TestBrowserPong: a native headless `pong -host` serves the browser
// build; Chromium opens exactly the link the host prints, the player
// readies up with the R key, and the match runs to the end against the
// host's bot. Both sides end with the same score, frame count and
// checksum; a screenshot of the page's canvas is saved.
func TestBrowserPong(t *testing.T) {
	exe, _ := buildPong(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	host := exec.CommandContext(ctx, exe, "-headless", "-bot", "-host", "-listen", "127.0.0.1:0",
		"-loopback", "-lan=false", "-score", "3", "-timeout", "420", "-name", "native")
	// Its identity (and room) file in a directory of the test's own,
	// never the runner's config directory (demo/pong/identity).
	host.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	stdout, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := host.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, errs := newLines(stdout, t, "host stdout"), newLines(stderr, t, "host stderr")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	hostDone := make(chan error, 1)
	go func() { hostDone <- host.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-hostDone
	})
	link := out.wait(t, reLink, time.Minute)[1]
	t.Logf("the host says: or in a browser: %s", link)

	// The host sends pong.wasm gzipped to a browser that accepts it.
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, strings.TrimSuffix(link[:strings.IndexByte(link, '#')], "/")+"/pong.wasm", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil {
		t.Fatalf("HEAD pong.wasm: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "application/wasm" {
			t.Errorf("HEAD pong.wasm: %s, Content-Encoding %q, Content-Type %q; want 200, gzip, application/wasm",
				resp.Status, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
		}
	}

	c := startChromium(t)
	page := c.Open("pong", link)
	first := page.waitRe(reFirst, 3*time.Minute)
	t.Logf("time to first frame: %s ms from navigation (wasm compiled after %s ms)", first[1], first[2])

	// The host hears the browser player join the lobby; then R readies it
	// (R toggles: press again only if no countdown follows).
	errs.wait(t, regexp.MustCompile(`room: browser joined`), 2*time.Minute)
	started := false
	for try := 0; try < 4 && !started; try++ {
		if err := chromedp.Run(page.ctx, chromedp.KeyEvent("r")); err != nil {
			t.Fatalf("pressing R: %v", err)
		}
		started = errs.waitFor(regexp.MustCompile(`room: starting in`), 20*time.Second)
	}
	if !started {
		t.Fatal("the lobby never started the match after R")
	}

	over := page.waitRe(reMatchOver, 6*time.Minute)
	// The final screen, before the host leaves.
	var png []byte
	if err := chromedp.Run(page.ctx, chromedp.Screenshot("canvas", &png, chromedp.ByQuery)); err != nil {
		t.Fatalf("canvas screenshot: %v", err)
	}
	dir := os.Getenv("PONG_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "pong-browser.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("canvas screenshot: %s (%d bytes)", path, len(png))
	res := out.wait(t, reResult, 2*time.Minute)
	t.Logf("host: %s", res[0])
	t.Logf("browser: score %s:%s frames %s checksum %s", over[1], over[2], over[3], over[4])
	if res[1] != over[1] || res[2] != over[2] || res[4] != over[3] || res[5] != over[4] {
		t.Errorf("the match ended differently: host %q, browser score %s:%s frames %s checksum %s", res[0], over[1], over[2], over[3], over[4])
	}

	if err := <-hostDone; err != nil {
		t.Errorf("host: %v", err)
	}
	hostDone <- nil // for the cleanup
}

// waitFor is wait without failing: it reports whether a line matched.
func (l *lines) waitFor(re *regexp.Regexp, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := 0; ; {
		l.mu.Lock()
		for ; i < len(l.all); i++ {
			if re.MatchString(l.all[i]) {
				l.mu.Unlock()
				return true
			}
		}
		c := l.cond
		l.mu.Unlock()
		select {
		case <-c:
		case <-deadline.C:
			return false
		}
	}
}

// waitRe waits for a console line matching re and returns its submatches.
func (p *Page) waitRe(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case l := <-p.lines:
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
			if strings.HasPrefix(l, "EXCEPTION") || strings.HasPrefix(l, "pong: ") && strings.Contains(l, "could not") {
				p.t.Logf("%s: %s", p.name, l)
			}
		case <-timer.C:
			p.t.Fatalf("%s: no console line matching %q within %v", p.name, re, timeout)
			return nil
		}
	}
}
