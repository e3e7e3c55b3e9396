package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestWatchMidMatch: a headless watcher (`pong -watch HOST:PORT/CODE`)
// enters ann and bob's room mid-match, catches up from a player's
// snapshot, sees the chat (ann says "gl hf" every 3 s: -say), and prints
// the players' result line: the same score, end frame and checksum.
func TestWatchMidMatch(t *testing.T) { testWatchMidMatch(t, nil) }

// TestWatchRollbackMidMatch: the same with both players on -rollback:
// they stream their confirmed frames (and a snapshot of a confirmed
// state), so the watcher sees what lockstep players would stream.
func TestWatchRollbackMidMatch(t *testing.T) { testWatchMidMatch(t, []string{"-rollback"}) }

func testWatchMidMatch(t *testing.T, both []string) {
	bin := build(t, true)
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir()}
	host, join, _, _, target := startPairArgs(t, bin, env, "2", both, "-say", "gl hf")
	waitFrame(t, join, 240, 60*time.Second) // mid-match
	watch := start(t, "wes", bin, env, "-headless", "-watch", target, "-name", "wes", "-loopback", "-lan=false", "-timeout", "150")

	hostOut := host.wait(t, 160*time.Second)
	joinOut := join.wait(t, 160*time.Second)
	watchOut := watch.wait(t, 160*time.Second)
	hs, hf, hc := parseResult(t, "ann", hostOut)
	js, jf, jc := parseResult(t, "bob", joinOut)
	ws, wf, wc := parseResult(t, "wes", watchOut)
	if hs != js || hf != jf || hc != jc {
		t.Fatalf("the players disagree:\nann: %s\nbob: %s", hostOut, joinOut)
	}
	if ws != hs || wf != hf || wc != hc {
		t.Fatalf("the watcher saw another end: score %s frames %s checksum %s; the players: %s %s %s\nwatcher:\n%s\n%s", ws, wf, wc, hs, hf, hc, watchOut, watch.stderr.String())
	}
	if !strings.Contains(watchOut, "chat: ann: gl hf") {
		t.Errorf("the watcher saw no chat:\n%s", watchOut)
	}
	if !strings.Contains(watch.stderr.String(), "room: watching ann and bob") {
		t.Errorf("the watcher did not say whom it watches:\n%s", watch.stderr.String())
	}
	t.Logf("all three: score %s frames %s checksum %s", hs, hf, hc)
}

// TestWatchSourceKilled: wes watches ann and bob (`pong -watch`), ann's
// game streaming the match to him (the lobby's source: the host's seat);
// ann's pong is SIGKILLed mid-match and started again with the same
// command (host rejoin). Her new game knows nothing of wes's
// subscription, so his stream stops: lockstep's source failover moves
// him to bob ("the stream from ann stopped: watching from bob"), and he
// prints the same result line as both players. Before failover the
// watcher stayed at the frame it had when ann died (241) and exited with
// an error when the players left after the end (3 runs of 3).
func TestWatchSourceKilled(t *testing.T) {
	bin := build(t, true)
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir()}
	host, join, hostArgs, _, target := startPairArgs(t, bin, env, "2", nil)
	watch := start(t, "wes", bin, env, "-headless", "-watch", target, "-name", "wes", "-loopback", "-lan=false",
		"-timeout", "150", "-progress", "60")
	waitStderr(t, watch, regexp.MustCompile(`room: watching ann and bob`), 30*time.Second)
	waitFrame(t, watch, 240, 60*time.Second) // the watcher follows the match
	if err := host.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-host.done
	host.done <- nil
	killed := time.Now()
	again := start(t, "ann again", bin, env, hostArgs...)
	waitStderr(t, watch, regexp.MustCompile(`room: the stream from ann stopped: watching from bob`), 60*time.Second)
	t.Logf("the watcher switched to bob %v after the kill", time.Since(killed).Round(10*time.Millisecond))

	hostOut := again.wait(t, 160*time.Second)
	joinOut := join.wait(t, 160*time.Second)
	watchOut := watch.wait(t, 160*time.Second)
	hs, hf, hc := parseResult(t, "ann", hostOut)
	js, jf, jc := parseResult(t, "bob", joinOut)
	ws, wf, wc := parseResult(t, "wes", watchOut)
	if hs != js || hf != jf || hc != jc {
		t.Fatalf("the players disagree:\nann: %s\nbob: %s", hostOut, joinOut)
	}
	if ws != hs || wf != hf || wc != hc {
		t.Fatalf("the watcher saw another end: score %s frames %s checksum %s; the players: %s %s %s\nwatcher:\n%s\n%s",
			ws, wf, wc, hs, hf, hc, watchOut, watch.stderr.String())
	}
	t.Logf("all three: score %s frames %s checksum %s", hs, hf, hc)
}
