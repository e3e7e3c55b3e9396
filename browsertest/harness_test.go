//go:build browser && !js

package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/signaling"
)

// The harness: Go/wasm programs built once per test binary, served with
// the signaling server on one loopback HTTP server (one origin: the
// server's origin check passes without OriginPatterns), and Debian's
// chromium driven over the DevTools protocol (chromedp).
//
// Chromium without camera/microphone permission offers only an mDNS
// "<uuid>.local" host candidate, which nothing resolves on a machine
// without multicast; the harness grants the permissions over the DevTools
// protocol (Browser.grantPermissions) and starts chromium with
// --allow-loopback-in-peer-connection, so the page offers 127.0.0.1.
// Every packet stays on loopback: the native peers gather loopback
// candidates only, and no STUN or TURN server is configured.

// buildDir holds the wasm builds and wasm_exec.js; TestMain fills it.
var buildDir string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "browsertest")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		buildDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

var buildOnce sync.Map // output name → *onceErr

type onceErr struct {
	once sync.Once
	err  error
}

// buildWasm builds the js/wasm main package in pkgDir (a path relative to
// this package, run from its module) into buildDir/name once per process.
func buildWasm(t testing.TB, moduleDir, pkg, name string) string {
	t.Helper()
	v, _ := buildOnce.LoadOrStore(name, &onceErr{})
	o := v.(*onceErr)
	out := filepath.Join(buildDir, name)
	o.once.Do(func() {
		start := time.Now()
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Dir = moduleDir
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if b, err := cmd.CombinedOutput(); err != nil {
			o.err = fmt.Errorf("go build %s for js/wasm: %v\n%s", pkg, err, b)
			return
		}
		t.Logf("built %s in %v", name, time.Since(start).Round(time.Millisecond))
	})
	if o.err != nil {
		t.Fatal(o.err)
	}
	return out
}

// wasmExecJS returns the wasm_exec.js of the Go that builds the wasm.
func wasmExecJS(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	root := strings.TrimSpace(string(out))
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return filepath.Join(root, p)
		}
	}
	t.Fatalf("no wasm_exec.js under %s", root)
	return ""
}

// site is a loopback HTTP server with signaling at /ws and files at /.
type site struct {
	URL string // http://127.0.0.1:PORT
	sig *signaling.Server
}

// signalURL is the server's WebSocket signaling URL.
func (s *site) signalURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/ws" }

// startSiteWith serves files (name → path on disk) plus sig at /ws.
func startSiteWith(t testing.TB, files map[string]string, sig *signaling.Server) *site {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ws", sig)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = "index.html"
		}
		p, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFile(w, r, p)
	})
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(mux)
	ts.Listener = l
	ts.Start()
	t.Cleanup(func() {
		_ = sig.Close()
		ts.Close()
	})
	return &site{URL: ts.URL, sig: sig}
}

// peerSite serves the wasm test peer (package peer).
func peerSite(t testing.TB) *site {
	t.Helper()
	return peerSiteWith(t, &signaling.Server{})
}

func peerSiteWith(t testing.TB, sig *signaling.Server) *site {
	t.Helper()
	wasm := buildWasm(t, ".", "./peer", "peer.wasm")
	return startSiteWith(t, map[string]string{
		"index.html":   "web/index.html",
		"plain.html":   "web/plain.html",
		"peer.wasm":    wasm,
		"wasm_exec.js": wasmExecJS(t),
	}, sig)
}

// Chromium is one headless chromium process.
type Chromium struct {
	ctx context.Context // the browser's first tab
	t   testing.TB
}

// startChromium launches Debian's chromium headless. It fails the test if
// chromium is missing: .ci/packages.sh installs it.
func startChromium(t testing.TB) *Chromium {
	t.Helper()
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				exe = p
				break
			}
		}
	}
	if exe == "" {
		t.Fatal("no chromium on PATH (apt-get install chromium; .ci/packages.sh does)")
	}
	// The profile directory is removed after chromium exited (its helper
	// processes may still write there for a moment: t.TempDir's strict
	// cleanup would fail the test).
	profile, err := os.MkdirTemp("", "browsertest-profile")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // CI runs as root
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.WindowSize(1024, 768),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	// Start the browser now (the first Run's context must live as long as
	// the browser: no timeout here; chromedp bounds the start itself).
	var product string
	if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		_, product, _, _, _, err = browser.GetVersion().Do(ctx)
		return err
	})); err != nil {
		cancelB()
		cancelA()
		_ = os.RemoveAll(profile)
		t.Fatalf("starting chromium: %v", err)
	}
	t.Logf("%s (%s)", product, exe)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelB()
		cancelA()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s not removed", profile)
	})
	return &Chromium{ctx: ctx, t: t}
}

// Page is one tab, with its console lines.
type Page struct {
	ctx    context.Context
	cancel context.CancelFunc
	name   string
	lines  chan string
	t      testing.TB

	mu  sync.Mutex
	all []string
}

// Open opens a new tab on url, having granted url's origin camera and
// microphone (so WebRTC offers real host candidates, not mDNS names).
// Console lines go to the test log prefixed with name.
func (c *Chromium) Open(name, rawURL string) *Page {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx)
	p := &Page{ctx: ctx, cancel: cancel, name: name, lines: make(chan string, 4096), t: c.t}
	chromedp.ListenTarget(ctx, func(ev any) {
		var line string
		switch e := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				s := string(a.Value)
				if a.Type == cdpruntime.TypeString {
					s = strings.Trim(s, `"`)
					s = strings.ReplaceAll(s, `\"`, `"`)
				}
				parts = append(parts, s)
			}
			line = strings.Join(parts, " ")
		case *cdpruntime.EventExceptionThrown:
			line = "EXCEPTION " + e.ExceptionDetails.Error()
		default:
			return
		}
		p.mu.Lock()
		p.all = append(p.all, line)
		p.mu.Unlock()
		select {
		case p.lines <- line:
		default:
		}
	})
	origin := originOf(rawURL)
	err := chromedp.Run(ctx,
		browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeAudioCapture, browser.PermissionTypeVideoCapture}).WithOrigin(origin),
		chromedp.Navigate(rawURL),
	)
	if err != nil {
		cancel()
		c.t.Fatalf("%s: open %s: %v", name, rawURL, err)
	}
	c.t.Cleanup(func() {
		p.cancel()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, l := range p.all {
			if len(l) > 400 {
				l = l[:400] + "..."
			}
			c.t.Logf("%s console: %s", name, l)
		}
	})
	return p
}

func originOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexAny(u[i+3:], "/?#"); j >= 0 {
			return u[:i+3+j]
		}
	}
	return u
}

// Wait returns the first console line that starts with one of prefixes,
// or fails the test after timeout.
func (p *Page) Wait(timeout time.Duration, prefixes ...string) string {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case l := <-p.lines:
			for _, pre := range prefixes {
				if strings.HasPrefix(l, pre) {
					return l
				}
			}
		case <-timer.C:
			p.t.Fatalf("%s: no console line starting with %q within %v", p.name, prefixes, timeout)
			return ""
		}
	}
}

// loopbackOnly keeps a native peer on 127.0.0.1 without mDNS.
func loopbackOnly(se *webrtc.SettingEngine) {
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}
