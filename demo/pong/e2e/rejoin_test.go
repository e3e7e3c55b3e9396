package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// matchStartedRE: the notice a player's pong logs when its match starts.
var matchStartedRE = regexp.MustCompile(`room: the match started`)

// waitStderr polls p's stderr (where pong logs its "room: ..." notices)
// until re matches, for up to d.
func waitStderr(t *testing.T, p *proc, re *regexp.Regexp, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if re.MatchString(p.stderr.String()) {
			return
		}
		select {
		case err := <-p.done:
			p.done <- err
			if re.MatchString(p.stderr.String()) {
				return
			}
			t.Fatalf("%s exited (%v) before logging %v\nstdout:\n%s\nstderr:\n%s", p.name, err, re, p.stdout.String(), p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s logged no %v within %v\nstderr:\n%s", p.name, re, d, p.stderr.String())
}

// progressRE: the line a headless pong prints every -progress frames.
var progressRE = regexp.MustCompile(`(?m)^progress frame=(\d+) score=\d+:\d+$`)

// waitFrame polls p's stdout until a progress line (-progress) reports
// frame from or later, for up to d: the event "the match is under way".
func waitFrame(t *testing.T, p *proc, from int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, m := range progressRE.FindAllStringSubmatch(p.stdout.String(), -1) {
			if n, _ := strconv.Atoi(m[1]); n >= from {
				return
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited (%v) before frame %d\nstdout:\n%s\nstderr:\n%s", p.name, err, from, p.stdout.String(), p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s reported no frame %d within %v\nstdout:\n%s\nstderr:\n%s", p.name, from, d, p.stdout.String(), p.stderr.String())
}

// startPairArgs hosts ann's headless match on loopback (with the flags
// both and more) and joins bob to it (with both); it returns both
// processes, their command lines and the join target, once bob's match
// started.
func startPairArgs(t *testing.T, bin string, env []string, score string, both []string, more ...string) (host, join *proc, hostArgs, joinArgs []string, target string) {
	t.Helper()
	common := append([]string{"-headless", "-bot", "-loopback", "-lan=false", "-tps", "120", "-timeout", "150", "-score", score, "-progress", "60"}, both...)
	hostArgs = append(append([]string{"-host", "-name", "ann", "-listen", "127.0.0.1:0"}, common...), more...)
	host = start(t, "ann", bin, env, hostArgs...)
	target = waitOutput(t, host, addrRE, 30*time.Second)[1]
	joinArgs = append([]string{"-join", target, "-name", "bob"}, common...)
	join = start(t, "bob", bin, env, joinArgs...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ann's stderr:\n%s", host.stderr.String())
		}
	})
	waitStderr(t, join, matchStartedRE, 30*time.Second)
	return host, join, hostArgs, joinArgs, target
}

// TestRejoinAfterKill: bob's pong is SIGKILLed mid-match and started
// again with the same command (and the same config directory, where its
// identity file is): ann's game waits for bob ("waiting for bob..."),
// bob's rejoins its seat, and both print the same result line.
func TestRejoinAfterKill(t *testing.T) { testRejoinAfterKill(t, nil) }

// TestRejoinRollbackAfterKill: the same with both players on -rollback.
func TestRejoinRollbackAfterKill(t *testing.T) { testRejoinAfterKill(t, []string{"-rollback"}) }

func testRejoinAfterKill(t *testing.T, both []string) {
	bin := build(t, true)
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir()}
	host, join, _, joinArgs, _ := startPairArgs(t, bin, env, "2", both)
	waitFrame(t, join, 240, 60*time.Second) // mid-match
	if err := join.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-join.done
	join.done <- nil
	killed := time.Now()
	again := start(t, "bob again", bin, env, joinArgs...)
	waitStderr(t, again, regexp.MustCompile(`room: back in the match`), 30*time.Second)
	t.Logf("bob back in the match %v after the kill", time.Since(killed).Round(10*time.Millisecond))
	waitStderr(t, host, regexp.MustCompile(`room: waiting for bob\.\.\.`), time.Second)
	waitStderr(t, host, regexp.MustCompile(`room: bob is back`), 30*time.Second)

	hostOut := host.wait(t, 160*time.Second)
	joinOut := again.wait(t, 160*time.Second)
	hs, hf, hc := parseResult(t, "ann", hostOut)
	js, jf, jc := parseResult(t, "bob", joinOut)
	if hs != js || hf != jf || hc != jc {
		t.Fatalf("ann and the restarted bob disagree:\nann: %s\nbob: %s", hostOut, joinOut)
	}
	t.Logf("both: score %s frames %s checksum %s", hs, hf, hc)
}

// TestHostRejoinAfterKill: ann hosts (`pong -host`: the signaling server
// runs in her game) and is SIGKILLed mid-match, server and all; started
// again with the same command (the same config directory: her identity
// file, and the room file next to it that names the room she hosted and
// its port), her game reopens the room, bob's mesh finds the signaling
// server again, bob's game waits for ann ("waiting for ann..."), ann's
// rejoins her seat, and both print the same result line.
func TestHostRejoinAfterKill(t *testing.T) { testHostRejoinAfterKill(t, nil) }

// TestHostRejoinRollbackAfterKill: the same with both players on
// -rollback.
func TestHostRejoinRollbackAfterKill(t *testing.T) {
	testHostRejoinAfterKill(t, []string{"-rollback"})
}

func testHostRejoinAfterKill(t *testing.T, both []string) {
	bin := build(t, true)
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir()}
	host, join, hostArgs, _, target := startPairArgs(t, bin, env, "2", both)
	waitFrame(t, host, 240, 60*time.Second) // mid-match
	if err := host.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-host.done
	host.done <- nil
	killed := time.Now()
	again := start(t, "ann again", bin, env, hostArgs...)
	waitStderr(t, again, regexp.MustCompile(`room: back in the match`), 30*time.Second)
	t.Logf("ann back in the match %v after the kill", time.Since(killed).Round(10*time.Millisecond))
	if got := waitOutput(t, again, addrRE, time.Second)[1]; got != target {
		t.Errorf("the restarted host opened %s, not its room %s", got, target)
	}
	waitStderr(t, join, regexp.MustCompile(`room: waiting for ann\.\.\.`), time.Second)
	waitStderr(t, join, regexp.MustCompile(`room: ann is back`), 30*time.Second)

	hostOut := again.wait(t, 160*time.Second)
	joinOut := join.wait(t, 160*time.Second)
	hs, hf, hc := parseResult(t, "ann", hostOut)
	js, jf, jc := parseResult(t, "bob", joinOut)
	if hs != js || hf != jf || hc != jc {
		t.Fatalf("the restarted ann and bob disagree:\nann: %s\nbob: %s", hostOut, joinOut)
	}
	t.Logf("both: score %s frames %s checksum %s", hs, hf, hc)
}
