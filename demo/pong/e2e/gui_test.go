package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests drive real windows under Xvfb with xdotool (XTEST key
// events, as a keyboard would send them), read what the game logs with
// -v ("pong: screen lobby", "room: bob joined"), and save screenshots
// with F12 (PONG_SHOT_DIR) to check what a player sees.

func xdotool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xdotool")
	if err != nil {
		t.Fatal("xdotool is not installed (apt-get install -y xdotool; .ci/packages.sh lists it)")
	}
	return p
}

// xdo runs xdotool on display disp.
func xdo(t *testing.T, disp string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, xdotool(t), args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+disp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// window waits for the window titled "Peerplay Pong — name".
func window(t *testing.T, disp, name string) string {
	t.Helper()
	ids := strings.Fields(xdo(t, disp, "search", "--sync", "--name", "Peerplay Pong — "+name+"$"))
	if len(ids) == 0 {
		t.Fatalf("no window for %s", name)
	}
	return ids[len(ids)-1]
}

// press focuses win and presses each key for 100 ms (ebiten reads the
// key state once per tick; a shorter press could fall between ticks).
func press(t *testing.T, disp, win string, keys ...string) {
	t.Helper()
	xdo(t, disp, "windowfocus", "--sync", win)
	for _, k := range keys {
		xdo(t, disp, "keydown", k, "sleep", "0.1", "keyup", k, "sleep", "0.1")
	}
}

// typeText focuses win and types s.
func typeText(t *testing.T, disp, win, s string) {
	t.Helper()
	xdo(t, disp, "windowfocus", "--sync", win)
	xdo(t, disp, "type", "--delay", "120", s)
}

// waitIn polls buf until re matches, for up to d.
func waitIn(t *testing.T, p *proc, buf *lockedBuffer, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m
		}
		select {
		case err := <-p.done:
			p.done <- err
			if m := re.FindStringSubmatch(buf.String()); m != nil {
				return m
			}
			t.Fatalf("%s exited (%v) before %v\nstdout:\n%s\nstderr:\n%s", p.name, err, re, p.stdout.String(), p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s: no %v within %v\nstdout:\n%s\nstderr:\n%s", p.name, re, d, p.stdout.String(), p.stderr.String())
	return nil
}

// shot presses F12 in win and returns the screenshot and its sidecar.
func shot(t *testing.T, disp, win, dir string, n int) (image.Image, shotInfo, string) {
	t.Helper()
	press(t, disp, win, "F12")
	path := filepath.Join(dir, fmt.Sprintf("pong-%d.png", n))
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(path + ".json")
		if err == nil {
			var info shotInfo
			if err := json.Unmarshal(b, &info); err != nil {
				t.Fatal(err)
			}
			return readPNG(t, path), info, path
		}
		if time.Now().After(deadline) {
			t.Fatalf("F12 saved no %s", path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shotDir is an empty directory for t's screenshots, kept after the
// test (under $PONG_ARTIFACTS if set).
func shotDir(t *testing.T) string {
	t.Helper()
	dir := artifact(t, "shots-"+t.Name())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	paddleCols = [2]color.RGBA{{80, 200, 255, 255}, {255, 160, 60, 255}}
)

// TestWindowLocalMatchToMenu plays `pong -local` to the end (the bot
// against an idle player, to 2 points) and presses Enter on "Enter: back
// to the menu": the game must show the menu (it used to panic there),
// then quit cleanly on Esc.
func TestWindowLocalMatchToMenu(t *testing.T) {
	bin := build(t, false)
	disp := display(t)
	dir := shotDir(t)
	p := start(t, "pong -local", bin, []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + dir},
		"-local", "-score", "2", "-name", "e2e", "-v")
	waitIn(t, p, &p.stderr, regexp.MustCompile(`pong: screen match`), 60*time.Second)
	win := window(t, disp, "e2e")
	waitIn(t, p, &p.stdout, regexp.MustCompile(`(?m)^(bot|e2e) wins \d:\d$`), 3*time.Minute)
	_, info, path := shot(t, disp, win, dir, 1)
	t.Logf("result screen: %s", path)
	if info.Screen != "match" || info.Ball != nil {
		t.Fatalf("after the match: screen %q, ball %v; want the result over the court", info.Screen, info.Ball)
	}
	press(t, disp, win, "Return")
	waitIn(t, p, &p.stderr, regexp.MustCompile(`pong: screen menu`), 10*time.Second)
	_, info, path = shot(t, disp, win, dir, 2)
	t.Logf("menu: %s", path)
	if info.Screen != "menu" {
		t.Fatalf("after Enter: screen %q, want the menu", info.Screen)
	}
	if strings.Contains(p.stderr.String(), "panic") {
		t.Fatalf("the game panicked:\n%s", p.stderr.String())
	}
	press(t, disp, win, "Escape")
	p.wait(t, 30*time.Second)
}

// TestWindowLANJoinAndChat hosts in one window, joins from a second
// window's menu by picking the game the LAN lists (no typing), readies
// both with R, chats during play, and checks the joiner's screenshot:
// the chat line is drawn in the band below the court and both paddles
// are fully visible at the same time.
func TestWindowLANJoinAndChat(t *testing.T) {
	bin := build(t, false)
	disp := display(t)
	dir := shotDir(t)
	lanAddr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	hostDir, joinDir := filepath.Join(dir, "ann"), filepath.Join(dir, "bob")
	for _, d := range []string{hostDir, joinDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	host := start(t, "host", bin, []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + hostDir}, "-host", "-listen", "127.0.0.1:0", "-lan-addr", lanAddr,
		"-name", "ann", "-score", "9", "-v")
	code := waitIn(t, host, &host.stdout, regexp.MustCompile(`(?m)^Room code: ([A-Z0-9]+)$`), 60*time.Second)[1]
	t.Logf("room %s", code)
	join := start(t, "joiner", bin, []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + joinDir}, "-lan-addr", lanAddr, "-name", "bob", "-v")
	waitIn(t, join, &join.stderr, regexp.MustCompile(`Join ann's game on the LAN \(127\.0\.0\.1:\d+/`+code+`\)`), 60*time.Second)
	jw := window(t, disp, "bob")
	hw := window(t, disp, "ann")
	// Host, Join by code, Play against the bot, then the LAN game.
	press(t, disp, jw, "Down", "Down", "Down", "Return")
	waitIn(t, join, &join.stderr, regexp.MustCompile(`pong: screen lobby`), 30*time.Second)
	waitIn(t, host, &host.stderr, regexp.MustCompile(`room: bob joined`), 30*time.Second)
	press(t, disp, hw, "r")
	press(t, disp, jw, "r")
	waitIn(t, host, &host.stderr, regexp.MustCompile(`pong: screen match`), 60*time.Second)
	waitIn(t, join, &join.stderr, regexp.MustCompile(`pong: screen match`), 60*time.Second)

	press(t, disp, hw, "Return")
	typeText(t, disp, hw, "hello bob")
	press(t, disp, hw, "Return")
	for n := 1; ; n++ {
		img, info, path := shot(t, disp, jw, joinDir, n)
		if info.Screen != "match" {
			t.Fatalf("joiner's screen is %q, want the match", info.Screen)
		}
		if !slicesContains(info.Chat, "hello bob") {
			if n == 20 {
				t.Fatalf("the joiner never showed ann's chat line; it shows %q", info.Chat)
			}
			time.Sleep(250 * time.Millisecond)
			continue
		}
		t.Logf("joiner's screen with the chat line: %s", path)
		for seat := range 2 {
			expectRect(t, img, fmt.Sprintf("paddle %d while chat is shown", seat), info.Paddles[seat], paddleCols[seat])
		}
		band := info.ChatBand
		if band.Y < info.Field.Y+info.Field.H {
			t.Errorf("chat band %+v overlaps the court %+v", band, info.Field)
		}
		if n := brightPixels(img, band); n < 40 {
			t.Errorf("the chat band %+v has %d bright pixels: no chat text drawn", band, n)
		}
		break
	}
	// bob's game freezes: ann's window says whom it waits for, then (after
	// lockstep's 2 s) that bob left.
	if err := freeze(join.cmd.Process); err != nil {
		t.Fatal(err)
	}
	defer thaw(join.cmd.Process)
	nShots := 0
	for n := 1; ; n++ {
		_, info, path := shot(t, disp, hw, hostDir, n)
		nShots = n
		if info.Waiting == "bob" {
			t.Logf("ann's screen while bob is frozen: %s", path)
			break
		}
		if n == 6 || info.Screen != "match" {
			t.Fatalf("ann's window never said it waits for bob (screen %q, message %q)", info.Screen, info.Message)
		}
	}
	waitIn(t, host, &host.stderr, regexp.MustCompile(`pong: screen error`), 30*time.Second)
	_, info, _ := shot(t, disp, hw, hostDir, nShots+1)
	if want := "lost bob: nothing heard for 10s"; info.Message != want {
		t.Errorf("ann's error screen says %q, want %q", info.Message, want)
	}
	press(t, disp, hw, "Return", "Escape")
	host.wait(t, 30*time.Second)
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func brightPixels(img image.Image, r rect) int {
	n := 0
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if c.R > 150 && c.G > 150 && c.B > 150 {
				n++
			}
		}
	}
	return n
}

// TestJoinCommandVerbatim starts a host with play.sh from another
// directory, takes the join command its terminal prints, and runs it
// verbatim (through bash, from yet another directory): the friend joins.
func TestJoinCommandVerbatim(t *testing.T) {
	build(t, false) // warms the build cache play.sh uses
	disp := display(t)
	playSh, err := filepath.Abs("../play.sh")
	if err != nil {
		t.Fatal(err)
	}
	// play.sh's binary goes to a fresh cache directory; Go's build cache
	// stays where it is (it defaults to $XDG_CACHE_HOME/go-build).
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"DISPLAY=" + disp, "XDG_CACHE_HOME=" + t.TempDir(), "GOCACHE=" + strings.TrimSpace(string(gocache))}
	host := startIn(t, t.TempDir(), "play.sh host", "bash", append(env, "USER=ann"), playSh, "-listen", "127.0.0.1:0", "-lan=false")
	m := waitIn(t, host, &host.stdout, regexp.MustCompile(`A friend joins with:\n  (.+)\n`), 5*time.Minute)
	cmdline := m[1]
	t.Logf("the host's terminal says: %s", cmdline)
	if !strings.HasPrefix(cmdline, playSh+" -join 127.0.0.1:") {
		t.Errorf("join command %q does not start with %s -join 127.0.0.1:", cmdline, playSh)
	}
	startIn(t, t.TempDir(), "friend", "bash", append(env, "USER=bob"), "-c", cmdline)
	waitIn(t, host, &host.stderr, regexp.MustCompile(`room: bob joined`), 3*time.Minute)
}

// TestWindowRematch: two windows with bots on the paddles play a match
// to 1 point; both press R on the result screen, and a second match
// starts (with a new seed) without leaving the room.
func TestWindowRematch(t *testing.T) {
	bin := build(t, false)
	disp := display(t)
	env := []string{"DISPLAY=" + disp}
	host := start(t, "host", bin, env, "-host", "-bot", "-listen", "127.0.0.1:0", "-lan=false", "-name", "ann", "-score", "1", "-v")
	m := waitIn(t, host, &host.stdout, regexp.MustCompile(`(?m)^  \S+ -join (127\.0\.0\.1:\d+/[A-Z0-9]+)`), 60*time.Second)
	join := start(t, "joiner", bin, env, "-join", m[1], "-bot", "-name", "bob", "-v")
	for _, p := range []*proc{host, join} {
		waitIn(t, p, &p.stdout, regexp.MustCompile(`(?m)^(ann|bob) wins (1:0|0:1)$`), 3*time.Minute)
	}
	hw, jw := window(t, disp, "ann"), window(t, disp, "bob")
	press(t, disp, hw, "r")
	press(t, disp, jw, "r")
	second := regexp.MustCompile(`(?s)pong: screen match.*pong: screen lobby.*pong: screen match`)
	waitIn(t, host, &host.stderr, second, 2*time.Minute)
	waitIn(t, join, &join.stderr, second, 2*time.Minute)
	if n := strings.Count(host.stdout.String(), "lockstep ticks="); n != 1 {
		t.Errorf("the host printed %d match summaries before the rematch ends, want 1", n)
	}
}

// TestWindowSound plays a local bot match with sound on a machine that
// has an audio device: the game must open it and keep running through
// hits and points. Where there is no device the game plays silent and
// there is nothing to test.
func TestWindowSound(t *testing.T) {
	if _, err := os.Stat("/dev/snd"); err != nil {
		t.Skip("no audio device (/dev/snd is missing): the game plays silent here, so its sound is not tested on this machine")
	}
	bin := build(t, false)
	disp := display(t)
	p := start(t, "pong -local", bin, []string{"DISPLAY=" + disp, "PONG_SHOT=" + artifact(t, "pong-sound.png"), "PONG_SHOT_FRAME=600"},
		"-local", "-bot", "-name", "e2e", "-v")
	p.wait(t, 2*time.Minute)
	if !strings.Contains(p.stderr.String(), "pong: sound on") {
		t.Errorf("the game did not turn sound on:\n%s", p.stderr.String())
	}
}

// TestWindowReenterFinishedRoom: a player plays a match in ann's room
// and leaves when it ends; ann presses R on the result screen; another
// player entering the finished room gets a new match with her instead
// of a dead lobby.
func TestWindowReenterFinishedRoom(t *testing.T) {
	bin := build(t, false)
	headless := build(t, true)
	disp := display(t)
	host := start(t, "host", bin, []string{"DISPLAY=" + disp}, "-host", "-bot", "-listen", "127.0.0.1:0", "-lan=false", "-name", "ann", "-score", "1", "-v")
	target := waitIn(t, host, &host.stdout, regexp.MustCompile(`(?m)^  \S+ -join (127\.0\.0\.1:\d+/[A-Z0-9]+)`), 60*time.Second)[1]
	first := start(t, "first joiner", headless, nil, "-headless", "-bot", "-join", target, "-name", "bob")
	out := first.wait(t, 3*time.Minute) // plays to the end, then leaves
	if !strings.Contains(out, "result score=") {
		t.Fatalf("bob did not finish the match:\n%s", out)
	}
	waitIn(t, host, &host.stderr, regexp.MustCompile(`room: bob left`), time.Minute)
	press(t, disp, window(t, disp, "ann"), "r")
	again := start(t, "second joiner", headless, nil, "-headless", "-bot", "-join", strings.ToLower(target), "-name", "cat", "-for", "3s")
	if out := again.wait(t, 2*time.Minute); !strings.Contains(out, "lockstep ticks=") {
		t.Fatalf("cat did not get a match in the finished room:\n%s", out)
	}
}

// TestHostLeaves: when the host quits, the player left in the room is
// told in words and the game ends, instead of waiting in a room nobody
// can join any more.
func TestHostLeaves(t *testing.T) {
	bin := build(t, true)
	host := start(t, "host", bin, nil, "-headless", "-bot", "-host", "-listen", "127.0.0.1:0", "-lan=false", "-name", "ann", "-for", "3s")
	target := waitOutput(t, host, regexp.MustCompile(`-join (127\.0\.0\.1:\d+/[A-Z0-9]+)`), 30*time.Second)[1]
	join := start(t, "joiner", bin, nil, "-headless", "-bot", "-join", target, "-name", "bob")
	select {
	case <-join.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("bob still waits 60 s after ann quit\nstderr:\n%s", join.stderr.String())
	}
	join.done <- nil
	if want := "pong: ann (the host) left, which closes the room"; !strings.Contains(join.stderr.String(), want) {
		t.Errorf("bob's stderr:\n%s\nwant %q", join.stderr.String(), want)
	}
}

// TestWindowWrongCode: the window shows a wrong code's message, in the
// same words as the terminal, within 10 s.
func TestWindowWrongCode(t *testing.T) {
	bin := build(t, false)
	headless := build(t, true)
	disp := display(t)
	host := start(t, "host", headless, nil, "-headless", "-bot", "-host", "-listen", "127.0.0.1:0", "-lan=false", "-name", "ann", "-for", "5s")
	m := waitOutput(t, host, regexp.MustCompile(`-join (127\.0\.0\.1:\d+)/([A-Z0-9]+)`), 30*time.Second)
	wrong := "ZZZZ"
	if m[2] == wrong {
		wrong = "YYYY"
	}
	dir := shotDir(t)
	begin := time.Now()
	p := start(t, "joiner", bin, []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + dir}, "-join", m[1]+"/"+strings.ToLower(wrong), "-name", "bob", "-v")
	waitIn(t, p, &p.stderr, regexp.MustCompile(`pong: screen error`), 10*time.Second)
	t.Logf("error screen after %v", time.Since(begin).Round(time.Millisecond))
	_, info, path := shot(t, disp, window(t, disp, "bob"), dir, 1)
	t.Logf("error screen: %s", path)
	if want := "no room " + wrong + " on " + m[1] + " (check the code; the host's lobby shows it)"; info.Message != want {
		t.Errorf("the window says %q, want %q", info.Message, want)
	}
}
