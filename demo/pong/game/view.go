package game

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Draw draws the current screen.
func (g *Game) Draw(dst *ebiten.Image) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.draws++
	switch g.sc {
	case scMenu:
		g.drawMenu(dst)
	case scConnecting:
		dst.Fill(Background)
		centred(dst, "Connecting...", 150, 2)
		centred(dst, "Esc: back to the menu", 200, 1)
	case scLobby:
		g.drawLobby(dst)
	case scMatch:
		g.drawMatch(dst)
	case scError:
		g.drawError(dst)
	}
	if g.sc == scMatch {
		g.matchDraws++
	}
	n := g.draws
	if g.opt.ShotInMatch {
		n = g.matchDraws
	}
	if g.opt.Shot != "" && g.shot == nil && n >= g.opt.ShotFrame {
		g.takeShot(dst)
	}
	if g.wantShot {
		g.wantShot = false
		g.shots++
		g.saveShot(dst, filepath.Join(g.opt.ShotDir, fmt.Sprintf("pong-%d.png", g.shots)))
	}
}

func (g *Game) drawError(dst *ebiten.Image) {
	dst.Fill(Background)
	centred(dst, g.errTitle, 110, 3)
	y := 180
	for _, l := range wrap(g.errMsg, 100) {
		centred(dst, l, y, 1)
		y += 16
	}
	y += 16
	if d := g.shownDetail(); d != "" {
		for _, l := range wrap(d, 100) {
			text(dst, l, 10, y, 1)
			y += 16
		}
		y += 8
	}
	centred(dst, g.errorHint(), y+8, 1)
}

// shownDetail is the error's technical detail while D shows it, else "".
func (g *Game) shownDetail() string {
	if g.showDetail {
		return g.errDetail
	}
	return ""
}

// errorHint is the error screen's key line.
func (g *Game) errorHint() string {
	switch {
	case g.errDetail != "" && g.showDetail:
		return "Enter: back to the menu   D: hide the details"
	case g.errDetail != "":
		return "Enter: back to the menu   D: details"
	}
	return "Enter: back to the menu"
}

func (g *Game) drawMenu(dst *ebiten.Image) {
	dst.Fill(Background)
	centred(dst, "PEERPLAY PONG", 40, 3)
	centred(dst, "player: "+g.opt.Name, 100, 1)
	items := g.menuItems()
	y := 140
	for i, it := range items {
		prefix := "   "
		if i == g.sel {
			prefix = ">  "
			fill(dst, 60, y-2, ScreenW-120, 20, HUDColour)
		}
		text(dst, prefix+it, 80, y, 1)
		y += 22
	}
	if g.opt.Net != nil && len(items) == 4+g.rejoin {
		text(dst, "   ("+g.lanStatus()+")", 80, y, 1)
	}
	centred(dst, "Up/Down: choose   Enter: go   Esc: quit", ScreenH-24, 1)
}

func (g *Game) drawLobby(dst *ebiten.Image) {
	dst.Fill(Background)
	text(dst, "LOBBY", 20, 12, 2)
	lines := []string{"Room code: " + g.room.Code()}
	if h := g.room.JoinHint(); h != "" {
		lines = append(lines, "A friend joins with:")
		lines = append(lines, wrap(h, 100)...)
	}
	y := 50
	for _, l := range lines {
		text(dst, l, 20, y, 1)
		y += 16
	}
	y += 8
	text(dst, "Players:", 20, y, 1)
	y += 18
	for _, p := range g.room.Players() {
		mark := "[ ]"
		if p.Ready {
			mark = "[x]"
		}
		extra := ""
		if p.Host {
			extra += " (host)"
		}
		if p.Local {
			extra += " (you)"
		}
		text(dst, fmt.Sprintf("  %s %-16s%s", mark, p.Name, extra), 20, y, 1)
		y += 16
	}
	g.drawChat(dst, 12, false)
	hint := "R: ready   Enter: chat   Esc: leave   (the match starts when both players are ready)"
	text(dst, hint, 10, ScreenH-18, 1)
}

// chatFade is how long a chat line stays during play; it fades out over
// the last second.
const chatFade = 8 * time.Second

// drawChat draws the last n chat lines above the bottom hint line: in
// the lobby on a panel, during a match in the band below the court,
// fading out after chatFade.
func (g *Game) drawChat(dst *ebiten.Image, n int, match bool) {
	lines := g.chat
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	type row struct {
		s     string
		alpha float32
	}
	var out []row
	now := time.Now()
	for _, c := range lines {
		a := float32(1)
		if match {
			age := now.Sub(c.at)
			if age >= chatFade {
				continue
			}
			if left := chatFade - age; left < time.Second {
				a = float32(left) / float32(time.Second)
			}
		}
		s := c.Text
		if c.From != "" {
			s = c.From + ": " + c.Text
		}
		out = append(out, row{s, a})
	}
	if g.typing {
		out = append(out, row{"> " + string(g.line) + "_", 1})
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	if len(out) == 0 {
		return
	}
	if match {
		y := ChatY + 4
		for _, r := range out {
			textAlpha(dst, r.s, 10, y, r.alpha)
			y += 16
		}
		return
	}
	var ss []string
	for _, r := range out {
		ss = append(ss, r.s)
	}
	y := ScreenH - 26 - 16*len(ss) - 8
	panel(dst, 8, y, ScreenW-16, ss)
}

func (g *Game) drawMatch(dst *ebiten.Image) {
	s := g.shown()
	over := g.match.Final() != nil
	drawField(dst, s, g.names)
	var hint string
	switch {
	case over && g.room == nil && g.opt.Replay != nil:
		hint = "Enter: back to the menu"
	case over && g.room == nil:
		hint = "R: rematch   Enter: back to the menu"
	case g.match.Seat() < 0 && g.room != nil: // pong -watch
		hint = "watching   Enter: chat   Tab: network   Esc: leave"
	case over && g.rematch:
		hint = "Enter: chat   Esc: leave the room"
	case over:
		hint = "R: rematch   Enter: chat   Esc: leave the room"
	case g.room == nil && g.match.Seat() < 0:
		hint = "Esc: back to the menu"
	case g.room == nil:
		hint = "W/S or Up/Down: move   Esc: back to the menu"
	default:
		hint = "W/S or Up/Down: move   Enter: chat   Tab: network   Esc: leave"
	}
	if over {
		w := g.names[s.Winner]
		fill(dst, 0, FieldY+120, ScreenW, 110, shade)
		centred(dst, w+" wins "+itoa(int(s.Score[0]))+":"+itoa(int(s.Score[1])), FieldY+135, 3)
		centred(dst, g.rematchLine(), FieldY+195, 1)
	}
	if g.room != nil {
		if w, ok := g.room.(interface{ Waiting() string }); ok && !over {
			if who := w.Waiting(); who != "" {
				msg := "waiting for " + who + "..."
				fill(dst, ScreenW/2-len(msg)*3-12, FieldY+sim.FieldH/2-14, len(msg)*6+24, 28, shade)
				centred(dst, msg, FieldY+sim.FieldH/2-8, 1)
			}
		}
		g.drawChat(dst, 4, true)
		if g.netOver {
			g.drawNet(dst)
		}
	}
	text(dst, hint, 10, ScreenH-18, 1)
}

// rematchLine says who is ready for the next match.
func (g *Game) rematchLine() string {
	if g.room == nil {
		return ""
	}
	var ready []string
	for _, p := range g.room.Players() {
		if p.Ready && !p.Local {
			ready = append(ready, p.Name)
		}
	}
	switch {
	case g.rematch && len(ready) > 0:
		return "starting the rematch..."
	case g.rematch:
		return "you are ready for a rematch; waiting for the other player"
	case len(ready) > 0:
		return strings.Join(ready, ", ") + " wants a rematch: press R"
	}
	return ""
}

func (g *Game) drawNet(dst *ebiten.Image) {
	lines := []string{"peer            RTT   jitter  loss  link     delay stalls  kbps in/out"}
	stats := g.room.Stats()
	for _, p := range stats {
		link := "direct"
		if p.Relayed {
			link = "relayed"
		}
		loss := " n/a "
		if p.Loss >= 0 {
			loss = fmt.Sprintf("%4.1f%%", p.Loss*100)
		}
		lines = append(lines, fmt.Sprintf("%-10.10s %6.1fms %6.1fms %s %-8s %4df %6d %5.0f/%-5.0f",
			p.Name, ms(p.RTT), ms(p.Jitter), loss, link, p.InputDelay, p.Stalls, p.KbpsIn, p.KbpsOut))
	}
	if len(lines) == 1 {
		lines = append(lines, "(no peers)")
	} else if p := stats[0]; p.Rollback {
		lines = append(lines, fmt.Sprintf("rollback: %.1f rollbacks/s, %.2f frames re-simulated per tick", p.RollbacksPerSec, p.ResimPerTick))
	}
	panel(dst, 8, FieldY+8, ScreenW-16, lines)
}

func wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		for len(para) > width {
			cut := strings.LastIndexByte(para[:width], ' ')
			if cut <= 0 {
				cut = width
			}
			out = append(out, para[:cut])
			para = strings.TrimLeft(para[cut:], " ")
		}
		out = append(out, para)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
