package game

import (
	"encoding/json"
	"image"
	"image/png"
	"os"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Rect is a rectangle in screen pixels.
type Rect struct{ X, Y, W, H int }

// ShotInfo is the JSON sidecar written next to a screenshot: where the
// simulation says the objects were in the frame that was captured.
type ShotInfo struct {
	Draw     int     // how many frames had been drawn
	SimFrame uint32  // sim.State.Frame drawn
	Width    int     // screenshot size
	Height   int     //
	Field    Rect    // the playing field
	Paddles  [2]Rect // seat 0, seat 1
	Ball     *Rect   // nil when no ball is drawn (match over)
	Checksum uint64  // of the state drawn
	Screen   string  // menu, connecting, lobby, match or error
	Message  string  // the error screen's message
	Detail   string  // the error's technical detail, while D shows it
	Hint     string  // the error screen's key line
	Waiting  string  // the "waiting for NAME..." shown, if any
	Chat     []string
	ChatBand Rect // where chat lines go during a match
}

type shotState struct{ done bool }

// takeShot saves dst as a PNG (and its sidecar) and lets the next Update
// end the game. ReadPixels is only valid inside the main loop, so this runs
// in Draw.
func (g *Game) takeShot(dst *ebiten.Image) {
	g.shot = &shotState{done: true}
	g.saveShot(dst, g.opt.Shot)
}

// saveShot writes dst to path as a PNG with its JSON sidecar.
func (g *Game) saveShot(dst *ebiten.Image, path string) {
	b := dst.Bounds()
	img := image.NewRGBA(b)
	dst.ReadPixels(img.Pix) // premultiplied RGBA; every colour here is opaque
	info := ShotInfo{Draw: g.draws, Width: b.Dx(), Height: b.Dy(),
		Field: Rect{FieldX, FieldY, sim.FieldW, sim.FieldH}, ChatBand: Rect{0, ChatY, ScreenW, ChatH}}
	if g.sc == scMatch && g.match != nil {
		s := g.shown()
		info.SimFrame = s.Frame
		info.Checksum = s.Checksum()
		for seat := range 2 {
			x, y := s.Paddle(seat)
			info.Paddles[seat] = Rect{FieldX + x, FieldY + y, sim.PaddleW, sim.PaddleH}
		}
		if !s.Over() {
			x, y := s.Ball()
			info.Ball = &Rect{FieldX + x, FieldY + y, sim.BallSize, sim.BallSize}
		}
	}
	info.Screen = screenNames[g.sc]
	info.Message = g.errMsg
	if g.sc == scError {
		info.Detail, info.Hint = g.shownDetail(), g.errorHint()
	}
	if w, ok := g.room.(interface{ Waiting() string }); ok && g.sc == scMatch {
		info.Waiting = w.Waiting()
	}
	for _, c := range g.chat {
		info.Chat = append(info.Chat, c.Text)
	}
	if err := writeShot(path, img, info); err != nil {
		g.log.Error("pong: screenshot", "err", err)
		return
	}
	g.log.Info("pong: screenshot saved", "path", path, "draw", g.draws)
}

func writeShot(path string, img image.Image, info ShotInfo) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	j, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path+".json", j, 0o644)
}
