package game

import (
	"image/color"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Screen layout, in logical pixels: a HUD band above the field and a
// band below it for chat and hints, so that text never covers the court.
const (
	ScreenW = sim.FieldW
	HUDH    = 40
	ChatH   = 4*16 + 24
	ScreenH = HUDH + sim.FieldH + ChatH
	FieldX  = 0
	FieldY  = HUDH
	ChatY   = FieldY + sim.FieldH
)

// Colours. The screenshot test looks for them, so they are exported.
var (
	Background = color.RGBA{16, 18, 28, 255}
	HUDColour  = color.RGBA{30, 34, 52, 255}
	LineColour = color.RGBA{60, 66, 90, 255}
	PaddleCol  = [2]color.RGBA{{80, 200, 255, 255}, {255, 160, 60, 255}}
	BallColour = color.RGBA{255, 255, 255, 255}
	shade      = color.RGBA{0, 0, 0, 200}
)

func fill(dst *ebiten.Image, x, y, w, h int, c color.Color) {
	vector.DrawFilledRect(dst, float32(x), float32(y), float32(w), float32(h), c, false)
}

// textImages caches the big texts (score, titles): a new image per frame
// costs the GPU (and software GL the CPU) more than the drawing. Only
// Draw uses it.
var textImages = map[string]*ebiten.Image{}

// text draws s at (x, y) with ebiten's debug font (6×16 per glyph) scaled
// by an integer factor.
func text(dst *ebiten.Image, s string, x, y, scale int) {
	if scale <= 1 {
		ebitenutil.DebugPrintAt(dst, s, x, y)
		return
	}
	tmp := textImages[s]
	if tmp == nil {
		lines := strings.Split(s, "\n")
		w := 0
		for _, l := range lines {
			w = max(w, len(l))
		}
		if len(textImages) >= 32 {
			for k, img := range textImages {
				img.Deallocate()
				delete(textImages, k)
			}
		}
		tmp = ebiten.NewImage(max(w*6+2, 1), len(lines)*16+2)
		ebitenutil.DebugPrintAt(tmp, s, 0, 0)
		textImages[s] = tmp
	}
	var op ebiten.DrawImageOptions
	op.GeoM.Scale(float64(scale), float64(scale))
	op.GeoM.Translate(float64(x), float64(y))
	dst.DrawImage(tmp, &op)
}

// textWidth is the width of s in pixels at scale.
func textWidth(s string, scale int) int { return len(s) * 6 * max(scale, 1) }

// textAlpha draws s at (x, y) at scale 1 with opacity alpha (0..1).
func textAlpha(dst *ebiten.Image, s string, x, y int, alpha float32) {
	if alpha >= 1 {
		text(dst, s, x, y, 1)
		return
	}
	tmp := ebiten.NewImage(max(len(s)*6+2, 1), 18)
	defer tmp.Deallocate()
	ebitenutil.DebugPrintAt(tmp, s, 0, 0)
	var op ebiten.DrawImageOptions
	op.ColorScale.ScaleAlpha(alpha)
	op.GeoM.Translate(float64(x), float64(y))
	dst.DrawImage(tmp, &op)
}

func centred(dst *ebiten.Image, s string, y, scale int) {
	text(dst, s, (ScreenW-textWidth(s, scale))/2, y, scale)
}

// drawField draws the field, paddles, ball and the score HUD.
func drawField(dst *ebiten.Image, s *sim.State, names [2]string) {
	dst.Fill(Background)
	fill(dst, 0, 0, ScreenW, HUDH, HUDColour)
	for y := 0; y < sim.FieldH; y += 20 {
		fill(dst, FieldX+sim.FieldW/2-1, FieldY+y+4, 2, 12, LineColour)
	}
	for seat := range 2 {
		x, y := s.Paddle(seat)
		fill(dst, FieldX+x, FieldY+y, sim.PaddleW, sim.PaddleH, PaddleCol[seat])
	}
	if !s.Over() {
		bx, by := s.Ball()
		fill(dst, FieldX+bx, FieldY+by, sim.BallSize, sim.BallSize, BallColour)
	}
	score := itoa(int(s.Score[0])) + "   " + itoa(int(s.Score[1]))
	centred(dst, score, 4, 2)
	text(dst, names[0], 8, 12, 1)
	text(dst, names[1], ScreenW-8-textWidth(names[1], 1), 12, 1)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// panel draws a darkened box with lines of text.
func panel(dst *ebiten.Image, x, y, w int, lines []string) {
	h := len(lines)*16 + 8
	fill(dst, x, y, w, h, shade)
	for i, l := range lines {
		text(dst, l, x+6, y+4+16*i, 1)
	}
}
