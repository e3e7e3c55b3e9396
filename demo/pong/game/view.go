package game

import (
	"fmt"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
)

// Draw draws the current screen.
func (g *Game) Draw(dst *ebiten.Image) {
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
		dst.Fill(Background)
		title := "Game over"
		if strings.HasPrefix(g.errMsg, "desync") {
			title = "Out of sync"
		}
		centred(dst, title, 110, 3)
		y := 180
		for _, l := range wrap(g.errMsg, 90) {
			centred(dst, l, y, 1)
			y += 16
		}
		centred(dst, "Enter: back to the menu", y+24, 1)
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
	if g.opt.Net != nil && len(items) == 4 {
		text(dst, "   (looking for games on the LAN...)", 80, y, 1)
	}
	centred(dst, "Up/Down: choose   Enter: go   Esc: quit", ScreenH-24, 1)
}

func (g *Game) drawLobby(dst *ebiten.Image) {
	dst.Fill(Background)
	text(dst, "LOBBY", 20, 12, 2)
	lines := []string{"Room code: " + g.room.Code(), "A friend joins with:"}
	lines = append(lines, wrap(g.room.JoinHint(), 100)...)
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
		role := ""
		switch p.Seat {
		case 0:
			role = "left paddle"
		case 1:
			role = "right paddle"
		}
		extra := ""
		if p.Host {
			extra += " (host)"
		}
		if p.Local {
			extra += " (you)"
		}
		text(dst, fmt.Sprintf("  %s %-16s %-12s%s", mark, p.Name, role, extra), 20, y, 1)
		y += 16
	}
	g.drawChat(dst, 12)
	hint := "R: ready   Enter: chat   Esc: leave   (the match starts when both players are ready)"
	text(dst, hint, 10, ScreenH-18, 1)
}

func (g *Game) drawChat(dst *ebiten.Image, n int) {
	lines := g.chat
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var out []string
	for _, c := range lines {
		out = append(out, c.From+": "+c.Text)
	}
	if g.typing {
		out = append(out, "> "+string(g.line)+"_")
	}
	if len(out) == 0 {
		return
	}
	y := ScreenH - 26 - 16*len(out) - 8
	panel(dst, 8, y, ScreenW-16, out)
}

func (g *Game) drawMatch(dst *ebiten.Image) {
	s := g.match.State()
	drawField(dst, s, g.names)
	if s.Over() {
		w := g.names[s.Winner]
		fill(dst, 0, FieldY+120, ScreenW, 110, shade)
		centred(dst, w+" wins "+itoa(int(s.Score[0]))+":"+itoa(int(s.Score[1])), FieldY+135, 3)
		hint := "Enter: back to the menu"
		if g.room != nil {
			hint = "Esc: leave the room"
		}
		centred(dst, hint, FieldY+195, 1)
	}
	if g.room != nil {
		g.drawChat(dst, 4)
		if g.netOver {
			g.drawNet(dst)
		}
	}
}

func (g *Game) drawNet(dst *ebiten.Image) {
	lines := []string{"peer            RTT   jitter  loss  link     delay stalls  kbps in/out"}
	for _, p := range g.room.Stats() {
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
