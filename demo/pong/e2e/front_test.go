package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGameUnderXvfb runs package game's own tests (build tag display:
// ebiten opens the X display when the package loads, so they cannot run
// in a plain `go test ./...`) on the display the window tests use.
func TestGameUnderXvfb(t *testing.T) {
	disp := display(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-tags", "display", "-race", "-count=1", "-v", "./game/")
	cmd.Dir = ".." // the demo/pong module root
	cmd.Env = append(os.Environ(), "DISPLAY="+disp)
	out, err := cmd.CombinedOutput()
	t.Logf("go test -tags display ./game/:\n%s", out)
	if err != nil {
		t.Fatalf("package game's tests under Xvfb: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestFrontReportsGameOverFrame")) {
		t.Fatal("package game's tests ran without TestFrontReportsGameOverFrame")
	}
}

// TestWindowErrorDetails: an error screen says what went wrong in words
// and keeps the technical detail behind D: hidden at first ("D:
// details"), drawn under the message after D ("D: hide the details"),
// hidden again after a second D. The host is not running: nothing
// listens on the port, so the detail is the refused connection.
func TestWindowErrorDetails(t *testing.T) {
	bin := build(t, false)
	disp := display(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	dir := shotDir(t)
	p := start(t, "joiner", bin, []string{"DISPLAY=" + disp, "PONG_SHOT_DIR=" + dir}, "-join", closed+"/K7Q2", "-name", "bob", "-lan=false", "-v")
	waitIn(t, p, &p.stderr, regexp.MustCompile(`pong: screen error`), 30*time.Second)
	win := window(t, disp, "bob")
	// Where the detail's first line goes: left-aligned at x=10, one line
	// below the message (the centred key line never reaches x < 100).
	detailArea := rect{10, 212, 90, 16}

	img, info, path := shot(t, disp, win, dir, 1)
	t.Logf("before D: %s", path)
	if want := "no game is hosted at " + closed + " (nothing listens there; is the host's game still open?)"; info.Message != want {
		t.Errorf("the window says %q, want %q", info.Message, want)
	}
	if info.Detail != "" || info.Hint != "Enter: back to the menu   D: details" {
		t.Errorf("before D: detail %q, key line %q; want no detail and %q", info.Detail, info.Hint, "Enter: back to the menu   D: details")
	}
	if n := brightPixels(img, detailArea); n != 0 {
		t.Errorf("before D: %d bright pixels where the detail goes, want 0", n)
	}

	press(t, disp, win, "d")
	img, info, path = shot(t, disp, win, dir, 2)
	t.Logf("after D: %s", path)
	if !strings.Contains(info.Detail, "refused") || info.Hint != "Enter: back to the menu   D: hide the details" {
		t.Errorf("after D: detail %q, key line %q; want the refused connection and %q", info.Detail, info.Hint, "Enter: back to the menu   D: hide the details")
	}
	if n := brightPixels(img, detailArea); n < 20 {
		t.Errorf("after D: %d bright pixels where the detail goes, want its text drawn", n)
	}

	press(t, disp, win, "d")
	img, info, _ = shot(t, disp, win, dir, 3)
	if info.Detail != "" || brightPixels(img, detailArea) != 0 {
		t.Errorf("after a second D: detail %q still shown", info.Detail)
	}
}
