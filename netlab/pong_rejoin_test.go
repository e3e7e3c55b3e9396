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
func TestPongRejoinAfterKill(t *testing.T) { testPongRejoin(t, false) }

// TestPongHostRejoinAfterKill: the same with the host SIGKILLed: ann's
// game, started again with the same command, reopens the room it hosted
// (the room file next to its identity file) and rejoins its seat.
func TestPongHostRejoinAfterKill(t *testing.T) { testPongRejoin(t, true) }

func testPongRejoin(t *testing.T, killHost bool) {
	lab := netlab.New(t, netlab.Config{})
	ann := lab.AddRouter("ra", netlab.NATRestricted).AddHost("ann")
	bob := lab.AddRouter("rb", netlab.NATRestricted).AddHost("bob")
	startSignald(t, lab)
	common := []string{"-headless", "-bot", "-score", "3", "-tps", pongTPS, "-timeout", "150", "-signal", signalURL, "-lan=false", "-progress", "60"}
	annCmd := append(append([]string{}, common...), "-host", "-name", "ann", "-identity", filepath.Join(t.TempDir(), "ann.identity"))
	host := startPong(t, ann, "ann/pong", annCmd...)
	code := waitLine(t, host, 30*time.Second, `^host room=(\S+)$`)[1]
	bobCmd := append(append([]string{}, common...), "-join", code, "-name", "bob", "-identity", filepath.Join(t.TempDir(), "bob.identity"))
	join := startPong(t, bob, "bob/pong", bobCmd...)
	waitLine(t, join, 30*time.Second, `room: the match started`)

	// The one to kill, and the one who stays.
	victim, survivor, who, stays, h, cmd := join, host, "bob", "ann", bob, bobCmd
	if killHost {
		victim, survivor, who, stays, h, cmd = host, join, "ann", "bob", ann, annCmd
	}
	// Mid-match: the victim's game reports frame 240 (-progress), well
	// before the three points end it.
	waitLine(t, victim, 60*time.Second, `^progress frame=(2[4-9]\d|[3-9]\d\d|\d{4,}) `)
	victim.Kill()
	<-victim.Done()
	killed := time.Now()
	again := startPong(t, h, who+"/pong again", cmd...)

	waitLine(t, survivor, 30*time.Second, `room: waiting for `+who+`\.\.\.`)
	waitLine(t, again, 30*time.Second, `room: rejoining the running match`)
	waitLine(t, again, 30*time.Second, `room: back in the match`)
	t.Logf("%s back in the match %v after the kill", who, time.Since(killed).Round(100*time.Millisecond))
	waitLine(t, survivor, 30*time.Second, `room: `+who+` is back`)
	if killHost {
		if got := waitLine(t, again, time.Second, `^host room=(\S+)$`)[1]; got != code {
			t.Errorf("the restarted host opened room %s, not %s", got, code)
		}
	}

	m := match{name: "rejoin", host: host, join: again}
	if killHost {
		m = match{name: "host rejoin", host: again, join: join}
	}
	m.check(t)
	_, r, err := again.WaitLine(waitCtx(t, time.Second), 0, resultRE)
	if err == nil && r[3] == "0" {
		t.Errorf("%s's result %q has no frames", who, r[0])
	}
	if _, _, err := survivor.WaitLine(waitCtx(t, time.Second), 0, regexp.MustCompile(`left the game|nothing heard|closes the room`)); err == nil {
		t.Errorf("%s's game ended the match for %s's kill:\n%s", stays, who, survivor.Output())
	}
}
