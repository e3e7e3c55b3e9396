package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

// display returns an X display for the window: $DISPLAY if set, else a
// fresh Xvfb the test starts (and stops at cleanup). It fails the test with
// instructions when there is neither.
func display(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("DISPLAY"); d != "" {
		t.Logf("using DISPLAY=%s", d)
		return d
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Fatalf("no DISPLAY and no Xvfb in PATH: install it (apt-get install -y xvfb libgl1-mesa-dri libglx-mesa0) or set DISPLAY")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// -displayfd: Xvfb picks a free display and writes its number to fd 3.
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb did not report a display (%q):\n%s", n, stderr.String())
		}
		t.Logf("started Xvfb on :%s", n)
		return ":" + n
	case err := <-done:
		t.Fatalf("Xvfb exited: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb reported no display within 30s:\n%s", stderr.String())
	}
	return ""
}

// artifact returns where a file the CI should keep is written.
func artifact(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("PONG_ARTIFACTS")
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

type rect struct{ X, Y, W, H int }

type shotInfo struct {
	Draw     int
	SimFrame uint32
	Width    int
	Height   int
	Field    rect
	Paddles  [2]rect
	Ball     *rect
	Checksum uint64
	Screen   string
	Message  string
	Detail   string
	Hint     string
	Waiting  string
	Chat     []string
	ChatBand rect
}

// TestWindowScreenshot runs the real window under Xvfb, a local bot match
// with a fixed seed, and checks the screenshot it saves: not blank, both
// paddles and the ball drawn exactly where an independent run of the
// simulation puts them at the captured frame.
func TestWindowScreenshot(t *testing.T) {
	bin := build(t, false)
	disp := display(t)
	shot := artifact(t, "pong-screenshot.png")
	const seed = 42
	p := start(t, "pong window", bin, []string{"DISPLAY=" + disp, "PONG_SHOT=" + shot, "PONG_SHOT_FRAME=150"},
		"-local", "-bot", "-seed", strconv.Itoa(seed), "-name", "e2e")
	p.wait(t, 90*time.Second)
	t.Logf("screenshot: %s (sidecar %s.json)", shot, shot)

	img := readPNG(t, shot)
	var info shotInfo
	b, err := os.ReadFile(shot + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != info.Width || got.Y != info.Height || got.X < sim.FieldW || got.Y < sim.FieldH {
		t.Fatalf("screenshot is %v, sidecar says %dx%d, field is %dx%d", got, info.Width, info.Height, sim.FieldW, sim.FieldH)
	}

	// Where does the simulation put things at that frame? Replay it here.
	s := sim.New(sim.Config{Seed: seed})
	for s.Frame < info.SimFrame {
		s.Step([2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)})
	}
	if s.Checksum() != info.Checksum {
		t.Fatalf("the window drew frame %d with checksum %x; the simulation gives %x", info.SimFrame, info.Checksum, s.Checksum())
	}
	if info.SimFrame < 60 || s.Serve != 0 {
		t.Fatalf("captured frame %d is not in play (serve countdown %d); pick a later PONG_SHOT_FRAME", info.SimFrame, s.Serve)
	}
	fx, fy := info.Field.X, info.Field.Y
	var want [2]rect
	for seat := range 2 {
		x, y := s.Paddle(seat)
		want[seat] = rect{fx + x, fy + y, sim.PaddleW, sim.PaddleH}
		if info.Paddles[seat] != want[seat] {
			t.Errorf("sidecar paddle %d at %+v, simulation says %+v", seat, info.Paddles[seat], want[seat])
		}
	}
	bx, by := s.Ball()
	ball := rect{fx + bx, fy + by, sim.BallSize, sim.BallSize}

	// Not blank: the field shows several colours.
	if n := distinctColours(img); n < 4 {
		t.Errorf("screenshot has %d distinct colours; looks blank", n)
	}
	paddle := [2]color.RGBA{{80, 200, 255, 255}, {255, 160, 60, 255}}
	bg := color.RGBA{16, 18, 28, 255}
	for seat := range 2 {
		expectRect(t, img, fmt.Sprintf("paddle %d", seat), want[seat], paddle[seat])
		// Just above and below the paddle: background (the ball is elsewhere).
		r := want[seat]
		for _, y := range []int{r.Y - 3, r.Y + r.H + 2} {
			if y > fy && y < fy+sim.FieldH && !inside(ball, r.X+r.W/2, y) {
				expectPixel(t, img, fmt.Sprintf("beside paddle %d", seat), r.X+r.W/2, y, bg)
			}
		}
	}
	expectRect(t, img, "ball", ball, color.RGBA{255, 255, 255, 255})
	expectPixel(t, img, "left of the ball", ball.X-3, ball.Y+ball.H/2, bg)
	expectPixel(t, img, "right of the ball", ball.X+ball.W+2, ball.Y+ball.H/2, bg)
}

func inside(r rect, x, y int) bool { return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H }

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

func distinctColours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

// near compares colours with a tolerance: pixel values may differ slightly
// between GL drivers (ebiten's Image docs).
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) <= 24 && d(a.G, b.G) <= 24 && d(a.B, b.B) <= 24
}

func expectPixel(t *testing.T, img image.Image, what string, x, y int, want color.RGBA) {
	t.Helper()
	got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
	if !near(got, want) {
		t.Errorf("%s: pixel (%d,%d) = %v, want about %v", what, x, y, got, want)
	}
}

// expectRect checks the inside of r (1 px in from its edges, for scaling
// tolerance) has colour want.
func expectRect(t *testing.T, img image.Image, what string, r rect, want color.RGBA) {
	t.Helper()
	bad := 0
	var first string
	for y := r.Y + 1; y < r.Y+r.H-1; y++ {
		for x := r.X + 1; x < r.X+r.W-1; x++ {
			got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if !near(got, want) {
				if bad == 0 {
					first = fmt.Sprintf("(%d,%d) = %v", x, y, got)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s at %+v: %d pixels are not about %v, first %s", what, r, bad, want, first)
	}
}
