//go:build netlab

package netlab_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

var resultRE = regexp.MustCompile(`^result score=(\d+:\d+) winner=(\d+) frames=(\d+) checksum=([0-9a-f]{16})$`)

// pong builds the demo without its window (the nested module demo/pong,
// -tags headless: no cgo, no X11).
func pong(t *testing.T) string {
	t.Helper()
	return bins.Build(t, "../demo/pong", "-tags", "headless")
}

// pongHomes holds each test's pongHome.
var pongHomes sync.Map // *testing.T -> []string

// pongHome is the environment that gives t's pong processes a config and
// home directory of t's own (a temporary one), so their identity files
// (demo/pong/identity: os.UserConfigDir()/peerplay-pong) never land in
// the runner's home. The same for every call of one test: a restarted
// pong finds its identity again.
func pongHome(t *testing.T) []string {
	t.Helper()
	if env, ok := pongHomes.Load(t); ok {
		return slices.Clone(env.([]string))
	}
	d := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + filepath.Join(d, "config"), "HOME=" + d}
	pongHomes.Store(t, env)
	t.Cleanup(func() { pongHomes.Delete(t) })
	return slices.Clone(env)
}

// startPong runs the headless pong on h with args, in t's own config and
// home directory (pongHome).
func startPong(t *testing.T, h *netlab.Host, label string, args ...string) *netlab.Proc {
	t.Helper()
	return h.Start(t, label, "env", append(append(pongHome(t), pong(t)), args...)...)
}

// pongTPS speeds the matches up: both sides tick at this rate (the
// simulation is the same; only wall time shrinks).
const pongTPS = "120"

// match is a headless pong match between two processes.
type match struct {
	name       string
	host, join *netlab.Proc
}

// startMatch starts a one-point headless bot match: host on h1, join on h2
// once the host printed its room code, with extra flags for both (e.g.
// -signal URL).
func startMatch(t *testing.T, name string, h1, h2 *netlab.Host, extra ...string) match {
	t.Helper()
	common := append([]string{"-headless", "-bot", "-score", "1", "-tps", pongTPS, "-timeout", "90"}, extra...)
	host := startPong(t, h1, h1.Name()+"/pong", append(append([]string{}, common...), "-host", "-name", h1.Name())...)
	code := waitLine(t, host, 30*time.Second, `^host room=(\S+)$`)[1]
	join := startPong(t, h2, h2.Name()+"/pong", append(append([]string{}, common...), "-join", code, "-name", h2.Name())...)
	return match{name: name, host: host, join: join}
}

// check waits for both sides and fails unless both printed the same result
// line (score, winner, frames, checksum).
func (m match) check(t *testing.T) {
	t.Helper()
	var results []string
	for _, p := range []*netlab.Proc{m.host, m.join} {
		if err := p.Wait(waitCtx(t, 120*time.Second)); err != nil {
			t.Errorf("%s: %s: %v", m.name, p.Name(), err)
			return
		}
		_, r, err := p.WaitLine(waitCtx(t, time.Second), 0, resultRE)
		if err != nil {
			t.Errorf("%s: %s printed no result: %v", m.name, p.Name(), err)
			return
		}
		results = append(results, r[0])
	}
	if results[0] != results[1] {
		t.Errorf("%s: results differ:\nhost %s\njoin %s", m.name, results[0], results[1])
		return
	}
	t.Logf("%s: both %s", m.name, results[0])
}

// TestPongTopologies: headless pong bots play a match through signald in
// each topology (one LAN, two restricted NATs, two symmetric NATs, mixed),
// all four at once, and each pair prints equal results, checksum included.
func TestPongTopologies(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	home := lab.AddRouter("home", netlab.NATRestricted)
	pairs := []struct {
		name   string
		h1, h2 *netlab.Host
	}{
		{"lan", home.AddHost("l1"), home.AddHost("l2")},
		{"restricted", lab.AddRouter("r1", netlab.NATRestricted).AddHost("r1h"), lab.AddRouter("r2", netlab.NATRestricted).AddHost("r2h")},
		{"symmetric", lab.AddRouter("s1", netlab.NATSymmetric).AddHost("s1h"), lab.AddRouter("s2", netlab.NATSymmetric).AddHost("s2h")},
		{"mixed", lab.AddRouter("m1", netlab.NATRestricted).AddHost("m1h"), lab.AddRouter("m2", netlab.NATSymmetric).AddHost("m2h")},
	}
	startSignald(t, lab)
	var matches []match
	for _, p := range pairs {
		matches = append(matches, startMatch(t, p.name, p.h1, p.h2, "-signal", signalURL, "-lan=false"))
	}
	for _, m := range matches {
		m.check(t)
	}
}

// TestPongLANDiscovery: two hosts on an isolated segment, with no route to
// the internet namespace (nor any signald), find each other by LAN
// discovery (the host embeds signaling and announces the room) and play.
func TestPongLANDiscovery(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	startEcho(t, lab.Internet(), "203.0.113.1:7001")
	lan := lab.AddLAN("lan")
	h1, h2 := lan.AddHost("h1"), lan.AddHost("h2")
	if lines, err := runProbe(t, h1, "probe", "-to", "203.0.113.1:7001", "-timeout", "1s"); err == nil {
		t.Fatalf("the isolated LAN reaches the internet namespace: %v", lines)
	}
	m := startMatch(t, "lan discovery", h1, h2, "-lan=true")
	m.check(t)
}
