//go:build netlab

package netlab_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

// TestPongLoopbackOnly: a machine with no network but loopback (a
// namespace with only lo up). As the README says, the windows need no
// flag there: `pong -host` prints a 127.0.0.1 join command, the friend
// runs every command it prints verbatim (each joins the room), both
// press R, and the match runs (its frame advances between two F12
// screenshots of the host's window). Xvfb and xdotool run in the
// namespace too.
func TestPongLoopbackOnly(t *testing.T) {
	pongWin := bins.Build(t, "../demo/pong") // the window build (cgo, X11)
	lab := netlab.New(t, netlab.Config{})
	h := lab.AddLoopbackHost("solo")
	if out, err := h.Run(waitCtx(t, 10*time.Second), "ip", "-o", "addr"); err != nil || strings.Contains(string(out), "eth") {
		t.Fatalf("the host has more than lo: %v\n%s", err, out)
	}

	xvfb := h.Start(t, "Xvfb", "Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	disp := ":" + waitLine(t, xvfb, 30*time.Second, `^(\d+)$`)[1]
	shots := t.TempDir()
	env := func(user string) []string {
		return append([]string{"env", "DISPLAY=" + disp, "USER=" + user, "PONG_SHOT_DIR=" + shots}, pongHome(t)...)
	}

	// README: `pong -host`. No flags.
	host := h.Start(t, "ann: pong -host", "env", append(env("ann"), pongWin, "-host")...)
	waitLine(t, host, 60*time.Second, `^A friend joins with:$`)
	// The hint is one write; its loopback command is the last -join line.
	waitLine(t, host, 30*time.Second, `^  .* -join 127\.0\.0\.1:7700/`)
	var cmds []string
	after := false
	for _, l := range host.Lines() {
		switch {
		case l == "A friend joins with:":
			after = true
		case after && strings.HasPrefix(l, "  "):
			c := strings.TrimPrefix(strings.TrimSpace(l), "or: ")
			if i := strings.Index(c, "   ("); i >= 0 {
				c = c[:i] // the explanation after the command
			}
			if strings.Contains(c, " -join ") {
				cmds = append(cmds, c)
			}
		case after:
			after = false
		}
	}
	t.Logf("the host prints: %q", cmds)
	if len(cmds) == 0 || !strings.Contains(strings.Join(cmds, "\n"), " -join 127.0.0.1:7700/") {
		t.Fatalf("no 127.0.0.1 join command among %q\n%s", cmds, host.Output())
	}

	// The friend runs each printed command verbatim; each must join.
	var last string
	for i, c := range cmds {
		who := fmt.Sprintf("friend%d", i+1)
		from := host.Len()
		f := h.Start(t, who+": "+c, "env", append(env(who), "bash", "-c", c)...)
		if _, _, err := host.WaitLine(waitCtx(t, 30*time.Second), from, regexp.MustCompile(`room: `+who+` joined`)); err != nil {
			t.Fatalf("%q (printed by the host) did not join within 30 s: %v\nhost:\n%s\n%s:\n%s", c, err, host.Output(), who, f.Output())
		}
		if i < len(cmds)-1 {
			f.Kill()
			if _, _, err := host.WaitLine(waitCtx(t, 30*time.Second), from, regexp.MustCompile(`room: `+who+` left`)); err != nil {
				t.Fatalf("%s left but the host did not notice: %v", who, err)
			}
		}
		last = who
	}

	// Both ready up with R; the match starts and runs.
	xdo := func(args ...string) string {
		t.Helper()
		out, err := h.Run(waitCtx(t, 60*time.Second), "env", append([]string{"DISPLAY=" + disp, "xdotool"}, args...)...)
		if err != nil {
			t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	press := func(name, key string) {
		ids := strings.Fields(xdo("search", "--sync", "--name", "Peerplay Pong — "+name+"$"))
		xdo("windowfocus", "--sync", ids[len(ids)-1])
		xdo("keydown", key, "sleep", "0.1", "keyup", key, "sleep", "0.1")
	}
	from := host.Len()
	press("ann", "r")
	press(last, "r")
	if _, _, err := host.WaitLine(waitCtx(t, 30*time.Second), from, regexp.MustCompile(`room: starting in`)); err != nil {
		t.Fatalf("the match did not start after R in both windows: %v\n%s", err, host.Output())
	}
	frame := func(n int) (string, uint32) {
		t.Helper()
		press("ann", "F12")
		path := filepath.Join(shots, fmt.Sprintf("pong-%d.png.json", n))
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, err := os.ReadFile(path)
			if err == nil {
				var info struct {
					Screen   string
					SimFrame uint32
				}
				if err := json.Unmarshal(b, &info); err != nil {
					t.Fatal(err)
				}
				return info.Screen, info.SimFrame
			}
			if time.Now().After(deadline) {
				t.Fatalf("F12 saved no %s", path)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	n := 0
	for {
		n++
		sc, f1 := frame(n)
		if sc == "match" && f1 > 0 {
			// The match runs: a later screenshot shows a later frame.
			runs := time.Now().Add(30 * time.Second)
			for {
				n++
				sc2, f2 := frame(n)
				if sc2 == "match" && f2 > f1 {
					t.Logf("the match runs over loopback: frame %d, then %d", f1, f2)
					return
				}
				if sc2 != "match" || time.Now().After(runs) {
					t.Fatalf("the match does not run: frame %d (%s), then %d (%s)\n%s", f1, sc, f2, sc2, host.Output())
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host's window shows %q at frame %d, 30 s after the countdown began\n%s", sc, f1, host.Output())
		}
		time.Sleep(500 * time.Millisecond)
	}
}
