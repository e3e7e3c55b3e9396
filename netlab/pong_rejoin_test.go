//go:build netlab

package netlab_test

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

// TestPongRejoinAfterKill: two headless pongs behind two port-restricted
// NATs play through signald; mid-match the joiner is SIGKILLed and started
// again with the same command (its identity file, -identity, survives
// the kill). ann's game says it waits for bob, bob's says it rejoins the
// running match and is back, and both print the same result line (score,
// frames, checksum).
func TestPongRejoinAfterKill(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	ann := lab.AddRouter("ra", netlab.NATRestricted).AddHost("ann")
	bob := lab.AddRouter("rb", netlab.NATRestricted).AddHost("bob")
	startSignald(t, lab)
	common := []string{"-headless", "-bot", "-score", "3", "-tps", pongTPS, "-timeout", "150", "-signal", signalURL, "-lan=false"}
	host := ann.Start(t, "ann/pong", pong(t), append(append([]string{}, common...), "-host", "-name", "ann")...)
	code := waitLine(t, host, 30*time.Second, `^host room=(\S+)$`)[1]
	bobCmd := append(append([]string{}, common...), "-join", code, "-name", "bob", "-identity", filepath.Join(t.TempDir(), "bob.identity"))
	first := bob.Start(t, "bob/pong", pong(t), bobCmd...)
	waitLine(t, first, 30*time.Second, `room: the match started`)
	// Mid-match: about 2 s in (at 120 ticks a second), well before the
	// three points end it.
	select {
	case <-first.Done():
		t.Fatalf("bob's pong ended before the kill:\n%s", first.Output())
	case <-time.After(2 * time.Second):
	}
	first.Kill()
	<-first.Done()
	killed := time.Now()
	second := bob.Start(t, "bob/pong again", pong(t), bobCmd...)

	waitLine(t, host, 30*time.Second, `room: waiting for bob\.\.\.`)
	waitLine(t, second, 30*time.Second, `room: rejoining the running match`)
	waitLine(t, second, 30*time.Second, `room: back in the match`)
	t.Logf("bob back in the match %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	waitLine(t, host, 30*time.Second, `room: bob is back`)

	m := match{name: "rejoin", host: host, join: second}
	m.check(t)
	_, r, err := second.WaitLine(waitCtx(t, time.Second), 0, resultRE)
	if err == nil && r[3] == "0" {
		t.Errorf("bob's result %q has no frames", r[0])
	}
	if _, _, err := host.WaitLine(waitCtx(t, time.Second), 0, regexp.MustCompile(`left the game|nothing heard`)); err == nil {
		t.Errorf("ann's game ended the match for bob's kill:\n%s", host.Output())
	}
}
