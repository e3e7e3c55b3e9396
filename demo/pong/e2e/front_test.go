package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
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
