package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// matchOverRE: what a windowed pong logs when its match ends (-v).
var matchOverRE = regexp.MustCompile(`pong: match over" score0=(\d+) score1=(\d+) frames=(\d+) checksum=([0-9a-f]{16})`)

// TestWindowMenuRejoinAfterKill plays as a newcomer does: plain `pong`,
// then the menu. ann hosts from her menu, bob joins from his by typing
// the address her game shows into "Join by code"; the bots (-bot: always ready) play. Mid-match
// ann's pong is SIGKILLed (the signaling server with it) and started again
// the same way: her menu's first item now offers her room back ("Rejoin
// your room CODE (your game was cut off)"), Enter reopens it (the same
// code, on the same port) and she is back in the match. Then bob's pong is
// killed and started again: his menu's first item is now "Rejoin
// HOST:PORT/CODE (your game was cut off)" (the join file), Enter and he is
// back in the match too. Both windows report the same final frame,
// score and checksum. Meanwhile a second pong named ann takes
// identity-ann-2 (the lock holds) and offers no room back.
//
// (Not the LAN list: ann's menu browses the LAN as a newcomer's does, and
// the test's unicast discovery address has room for one browser only.)
func TestWindowMenuRejoinAfterKill(t *testing.T) {
	bin := build(t, false)
	disp := display(t)
	dir := shotDir(t)
	annDir, bobDir := filepath.Join(dir, "ann"), filepath.Join(dir, "bob")
	for _, d := range []string{annDir, bobDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Plain pong (the menu); -bot so the match plays itself, -listen on
	// loopback with a system port, no LAN discovery.
	annArgs := []string{"-listen", "127.0.0.1:0", "-lan=false", "-name", "ann", "-score", "4", "-bot", "-v"}
	bobArgs := []string{"-lan=false", "-name", "bob", "-score", "4", "-bot", "-v"}
	annEnv := []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + annDir}
	bobEnv := []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + bobDir}
	menuRE := regexp.MustCompile(`pong: menu`)

	ann := start(t, "ann", bin, annEnv, annArgs...)
	waitIn(t, ann, &ann.stderr, menuRE, 60*time.Second)
	aw := window(t, disp, "ann")
	press(t, disp, aw, "Return") // Host a game (preselected)
	code := waitIn(t, ann, &ann.stdout, regexp.MustCompile(`(?m)^Room code: ([A-Z0-9]+)$`), 60*time.Second)[1]
	target := waitIn(t, ann, &ann.stdout, regexp.MustCompile(`-join (127\.0\.0\.1:\d+/`+code+`)`), 10*time.Second)[1]
	t.Logf("room %s", target)

	joinFromMenu := func(p *proc) string {
		waitIn(t, p, &p.stderr, menuRE, 60*time.Second)
		w := window(t, disp, "bob")
		press(t, disp, w, "Down") // Join by code
		typeText(t, disp, w, target)
		press(t, disp, w, "Return")
		return w
	}
	bob := start(t, "bob", bin, bobEnv, bobArgs...)
	bw := joinFromMenu(bob)
	waitIn(t, bob, &bob.stderr, regexp.MustCompile(`pong: screen lobby`), 30*time.Second)
	waitIn(t, ann, &ann.stderr, regexp.MustCompile(`room: bob joined`), 30*time.Second)
	// -bot: both are ready as soon as they are in the lobby.
	waitIn(t, ann, &ann.stderr, regexp.MustCompile(`pong: screen match`), 60*time.Second)
	waitIn(t, bob, &bob.stderr, regexp.MustCompile(`pong: screen match`), 60*time.Second)
	annShots, bobShots := 0, 0
	midMatch := func(w, d string, n *int) {
		for {
			*n++
			_, info, _ := shot(t, disp, w, d, *n)
			if info.Screen != "match" {
				t.Fatalf("screen %q before the kill, want the match", info.Screen)
			}
			if info.SimFrame >= 120 {
				return
			}
			if *n > 40 {
				t.Fatalf("the match is at frame %d after %d screenshots", info.SimFrame, *n)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	kill := func(p *proc) time.Time {
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-p.done
		p.done <- nil
		return time.Now()
	}

	// ann (the host) dies mid-match and comes back through her menu.
	midMatch(aw, annDir, &annShots)
	killed := kill(ann)
	ann = start(t, "ann again", bin, annEnv, annArgs...)
	waitIn(t, ann, &ann.stderr, regexp.MustCompile(`pong: menu" items="Rejoin your room `+code+` \(your game was cut off\) \|`), 30*time.Second)
	aw = window(t, disp, "ann")
	press(t, disp, aw, "Return")
	waitIn(t, ann, &ann.stderr, regexp.MustCompile(`room: back in the match`), 30*time.Second)
	t.Logf("ann back in the match %v after the kill (through the menu)", time.Since(killed).Round(10*time.Millisecond))
	if got := waitIn(t, ann, &ann.stdout, regexp.MustCompile(`-join (127\.0\.0\.1:\d+/[A-Z0-9]+)`), time.Second)[1]; got != target {
		t.Errorf("the restarted host opened %s, not its room %s", got, target)
	}
	waitIn(t, bob, &bob.stderr, regexp.MustCompile(`room: ann is back`), 30*time.Second)

	// A second pong named ann meanwhile: the running one holds the lock
	// on identity-ann, so this one takes identity-ann-2 and its menu
	// offers no room of the running one's (a crashed identity-ann-2 host
	// would have its own room file).
	twin := start(t, "ann's twin", bin, annEnv, annArgs...)
	waitIn(t, twin, &twin.stderr, regexp.MustCompile(`pong: identity" path=\S+/identity-ann-2 `), 30*time.Second)
	waitIn(t, twin, &twin.stderr, regexp.MustCompile(`pong: menu" items="Host a game \|`), 30*time.Second)
	if err := twin.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-twin.done
	twin.done <- nil

	// bob (the joiner) dies and comes back through his menu.
	midMatch(bw, bobDir, &bobShots)
	killed = kill(bob)
	bob = start(t, "bob again", bin, bobEnv, bobArgs...)
	waitIn(t, bob, &bob.stderr, regexp.MustCompile(`pong: menu" items="Rejoin `+regexp.QuoteMeta(target)+` \(your game was cut off\) \| Host a game \|`), 30*time.Second)
	press(t, disp, window(t, disp, "bob"), "Return")
	waitIn(t, bob, &bob.stderr, regexp.MustCompile(`room: back in the match`), 30*time.Second)
	t.Logf("bob back in the match %v after the kill (through the menu)", time.Since(killed).Round(10*time.Millisecond))
	waitIn(t, ann, &ann.stderr, regexp.MustCompile(`room: bob is back`), 30*time.Second)

	a := waitIn(t, ann, &ann.stderr, matchOverRE, 4*time.Minute)
	b := waitIn(t, bob, &bob.stderr, matchOverRE, 4*time.Minute)
	if fmt.Sprint(a[1:]) != fmt.Sprint(b[1:]) {
		t.Fatalf("ann and bob disagree on the match's end:\nann: %s\nbob: %s", a[0], b[0])
	}
	t.Logf("both: score %s:%s frames %s checksum %s", a[1], a[2], a[3], a[4])
}
