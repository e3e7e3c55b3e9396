package game

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Start says which screen the game opens on.
type Start int

// Start screens.
const (
	StartMenu   Start = iota // the menu (Host is preselected)
	StartLocal               // a match against the bot
	StartReplay              // watch Options.Replay
	StartHost                // host a networked game right away
	StartJoin                // join Options.JoinTarget right away
)

// Options configure New.
type Options struct {
	Name       string // the local player's name; "" = "player"
	Bot        bool   // the bot plays the local paddle
	Sim        sim.Config
	Start      Start
	JoinTarget string         // for StartJoin: room code or address
	Replay     *replay.Replay // for StartReplay
	Net        play.Network   // nil: only local play and replays
	// Record, if set, is where a finished local match's replay is saved.
	Record string
	// Shot, if set, is a PNG path: the frame drawn at ShotFrame is saved
	// there (with a JSON sidecar Shot+".json" giving where the sim put the
	// paddles and the ball) and the game exits.
	Shot      string
	ShotFrame int
	// ShotInMatch counts ShotFrame from the first frame of a match
	// instead of from the start.
	ShotInMatch bool
	// NetOverlay shows the network overlay from the start (Tab toggles).
	NetOverlay bool
	// Out, if set, receives the room code and join command when hosting
	// (the terminal, so they can be copied) and the result of each match.
	Out io.Writer
	// ShotDir, if set, makes F12 save the current frame there as
	// pong-N.png with its JSON sidecar (GUI tests); "" = F12 does nothing.
	ShotDir string
	// For, if set, quits a networked match after this long in it and
	// prints the lockstep figures on Out (benchmarks); 0 = play on.
	For time.Duration
	// Sound plays beeps for hits and points; nil = silent.
	Sound  Sound
	Logger *slog.Logger // nil = discard
}

// Sound plays the game's effects. Implementations must not block.
type Sound interface {
	Hit()
	Point()
}

type screen int

const (
	scMenu screen = iota
	scConnecting
	scLobby
	scMatch
	scError
)

// Game is the ebiten.Game of demo/pong. Only ebiten's loop may call it.
type Game struct {
	opt Options
	log *slog.Logger
	sc  screen

	// menu
	sel      int
	code     string
	hosted   string    // cutOff's last answers
	joinedTo string    //
	hostedAt time.Time // when cutOff asked
	rejoin   int       // 1 when the menu starts with a joiner's "Rejoin" item

	// connecting
	cancel context.CancelFunc
	joined chan joinResult

	// lobby and match
	room    play.Room
	match   play.Match
	names   [2]string
	chat    []chatLine
	typing  bool
	line    []rune
	netOver bool
	ready   bool
	rematch bool // R pressed on a networked result screen

	errTitle    string
	errMsg      string
	errDetail   string
	showDetail  bool
	endSaid     bool
	summarySaid bool // printSummary printed this match's figures
	lastScore   [2]int32
	lastVX      int32

	shots      int
	menuLen    int
	wantShot   bool
	in         sim.Input  // the latest local input, for the driver
	mu         sync.Mutex // held by Update, Draw and the driver goroutine
	matchStart time.Time

	draws      int
	matchDraws int
	shot       *shotState
	quit       bool
}

// chatLine is a chat line or a notice (From == "") with when it came.
type chatLine struct {
	play.ChatLine
	at time.Time
}

type joinResult struct {
	room play.Room
	err  error
}

// New returns a game opening on opt.Start.
func New(opt Options) *Game {
	if opt.Name == "" {
		opt.Name = "player"
	}
	g := &Game{opt: opt, log: opt.Logger, netOver: opt.NetOverlay}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	switch opt.Start {
	case StartLocal:
		g.startLocal()
	case StartReplay:
		if opt.Replay != nil {
			g.match = play.NewPlayback(opt.Replay)
			g.names = [2]string{"replay", "replay"}
			g.setScreen(scMatch)
		}
	case StartHost:
		g.connect("", true)
	case StartJoin:
		g.connect(opt.JoinTarget, false)
	}
	return g
}

// Run opens the window and runs g until the player quits.
func Run(g *Game) error {
	ebiten.SetWindowTitle("Peerplay Pong — " + g.opt.Name)
	ebiten.SetWindowSize(ScreenW*2, ScreenH*2)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetTPS(ebiten.DefaultTPS)
	err := ebiten.RunGame(g)
	g.mu.Lock()
	g.close()
	g.room, g.match = nil, nil // the driver goroutine sees it and ends
	g.mu.Unlock()
	return err
}

func (g *Game) close() {
	if g.cancel != nil {
		g.cancel()
	}
	if g.match != nil {
		_ = g.match.Close()
	}
	if g.room != nil {
		_ = g.room.Close()
	}
}

func (g *Game) startLocal() {
	g.match = play.NewLocal(play.LocalConfig{Sim: g.opt.Sim, Seat: 0, Bot: g.opt.Bot, Record: g.opt.Record != ""})
	g.names = [2]string{g.opt.Name, "bot"}
	g.setScreen(scMatch)
	g.endSaid = false
	g.lastScore, g.lastVX = [2]int32{}, 0
}

func (g *Game) connect(target string, host bool) {
	if g.opt.Net == nil {
		g.fail("Cannot play online", errors.New("networking is not available in this build"))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.joined = make(chan joinResult, 1)
	g.setScreen(scConnecting)
	name := g.opt.Name
	go func() {
		var r play.Room
		var err error
		if host {
			r, err = g.opt.Net.Host(ctx, name)
		} else {
			r, err = g.opt.Net.Join(ctx, target, name)
		}
		g.joined <- joinResult{r, err}
	}()
}

// fail shows the error screen: a title, err in a player's words, and the
// detail behind it on D.
func (g *Game) fail(title string, err error) {
	g.errTitle = title
	g.errMsg, g.errDetail = play.Explain(err)
	g.showDetail = false
	g.log.Debug("pong: error", "title", title, "err", err)
	if g.opt.For > 0 && g.match != nil { // a benchmark: the peer quit first
		g.printSummary()
		g.quit = true
	}
	g.setScreen(scError)
	if g.match != nil {
		_ = g.match.Close()
		g.match = nil
	}
	if g.room != nil {
		_ = g.room.Close()
		g.room = nil
	}
}

func (g *Game) toMenu() {
	g.close()
	g.match, g.room, g.cancel = nil, nil, nil
	g.chat, g.typing, g.ready, g.rematch = nil, false, false, false
	g.hostedAt = time.Time{} // the closed room's file is gone: ask again
	g.setScreen(scMenu)
}

var screenNames = [...]string{scMenu: "menu", scConnecting: "connecting", scLobby: "lobby", scMatch: "match", scError: "error"}

// setScreen switches screens and logs it (tests follow the log with -v).
func (g *Game) setScreen(sc screen) {
	if g.sc != sc {
		g.log.Debug("pong: screen " + screenNames[sc])
	}
	g.sc = sc
}

// Layout fixes the logical screen size; ebiten scales it to the window.
func (g *Game) Layout(int, int) (int, int) { return ScreenW, ScreenH }

// Update runs one tick.
func (g *Game) Update() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opt.ShotDir != "" && inpututil.IsKeyJustPressed(ebiten.KeyF12) {
		g.wantShot = true // Draw saves the frame
	}
	if g.quit || (g.shot != nil && g.shot.done) {
		return ebiten.Termination
	}
	switch g.sc {
	case scMenu:
		g.updateMenu()
	case scConnecting:
		select {
		case res := <-g.joined:
			g.cancel()
			if res.err != nil {
				g.fail("Could not join", res.err)
				break
			}
			g.room = res.room
			go g.drive(res.room)
			g.setScreen(scLobby)
			g.announce()
			if g.opt.Bot { // the bot is always ready
				g.ready = true
				if err := g.room.SetReady(true); err != nil {
					g.fail("Game over", err)
				}
			}
		default:
			if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
				g.cancel()
				g.setScreen(scMenu)
			}
		}
	case scLobby:
		g.updateLobby()
	case scMatch:
		return g.updateMatch()
	case scError:
		if inpututil.IsKeyJustPressed(ebiten.KeyD) {
			g.showDetail = !g.showDetail
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyEnter) || inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
			g.toMenu()
		}
	}
	return nil
}

// announce prints the room code and the join command on Out (the
// terminal), where they can be copied.
func (g *Game) announce() {
	if g.opt.Out == nil || g.room.JoinHint() == "" {
		return
	}
	fmt.Fprintf(g.opt.Out, "Room code: %s\nA friend joins with:\n  %s\n", g.room.Code(),
		strings.ReplaceAll(g.room.JoinHint(), "\n", "\n  "))
}

// pollRoom drains chat and notices and notices a room that ended.
func (g *Game) pollRoom() {
	if g.room == nil {
		return
	}
	chat, notices := g.room.Poll()
	now := time.Now()
	for _, c := range chat {
		g.chat = append(g.chat, chatLine{c, now})
	}
	for _, n := range notices {
		g.chat = append(g.chat, chatLine{play.ChatLine{Text: n}, now})
		g.log.Info("room: " + n)
	}
	if len(g.chat) > 50 {
		g.chat = g.chat[len(g.chat)-50:]
	}
	if err := g.room.Err(); err != nil {
		g.fail("Game over", err)
		return
	}
	m := g.room.Match()
	switch {
	case m != nil && m != g.match:
		if g.match != nil && g.sc == scMatch && g.match.Final() == nil {
			break // cannot happen: a new match starts only after the last
		}
		g.match = m
		g.names = [2]string{"left", "right"}
		if n, ok := m.(interface{ Names() [2]string }); ok {
			g.names = n.Names()
		}
		g.endSaid, g.rematch, g.ready, g.summarySaid = false, false, false, false
		g.lastScore, g.lastVX = [2]int32{}, 0
		g.setScreen(scMatch)
	case m == nil && g.match != nil && g.sc == scMatch && g.rematch:
		// Back in the lobby for the rematch.
		g.match = nil
		g.ready = true
		g.setScreen(scLobby)
	}
}

// lanStatus says whether LAN discovery runs, if the network can tell.
func (g *Game) lanStatus() string {
	if s, ok := g.opt.Net.(interface{ LANStatus() string }); ok {
		return s.LANStatus()
	}
	return "looking for games on the LAN..."
}

// cutOff returns the room this player hosted when its game died, which
// Host reopens (netplay's room file), else the target of the room it had
// joined (its join file); "" = none. Checked once a second.
func (g *Game) cutOff() (hosted, joined string) {
	if time.Since(g.hostedAt) >= time.Second {
		g.hostedAt = time.Now()
		g.hosted, g.joinedTo = "", ""
		if h, ok := g.opt.Net.(interface{ HostedRoom() string }); ok {
			g.hosted = h.HostedRoom()
		}
		if j, ok := g.opt.Net.(interface{ JoinedRoom() string }); ok && g.hosted == "" {
			g.joinedTo = j.JoinedRoom()
		}
	}
	return g.hosted, g.joinedTo
}

// menuItems lists the menu. After a game that died (crash, kill, sleep)
// the first item gets the player back: a host's "Host a game" becomes
// "Rejoin your room CODE" (Host reopens it), a joiner gets a "Rejoin
// TARGET" item before it; then g.rejoin is 1 and every other item is one
// further down.
func (g *Game) menuItems() []string {
	host := "Host a game"
	hosted, joined := g.cutOff()
	var items []string
	g.rejoin = 0
	switch {
	case hosted != "":
		host = "Rejoin your room " + hosted + " (your game was cut off)"
	case joined != "":
		items = append(items, "Rejoin "+joined+" (your game was cut off)")
		g.rejoin = 1
	}
	items = append(items, host, "Join by code: "+g.code+"_", "Play against the bot")
	if g.opt.Net != nil {
		for _, lg := range g.opt.Net.LAN() {
			items = append(items, "Join "+lg.Name+"'s game on the LAN ("+lg.Target+")")
		}
	}
	return append(items, "Quit")
}

func (g *Game) updateMenu() {
	items := g.menuItems()
	if len(items) != g.menuLen {
		g.menuLen = len(items)
		g.log.Debug("pong: menu", "items", strings.Join(items, " | "))
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyArrowDown) {
		g.sel = (g.sel + 1) % len(items)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyArrowUp) {
		g.sel = (g.sel + len(items) - 1) % len(items)
	}
	g.sel = min(g.sel, len(items)-1)
	sel := g.sel - g.rejoin // the item without a "Rejoin" one first
	if sel == 1 {
		for _, r := range ebiten.AppendInputChars(nil) {
			if len(g.code) < 200 && r > ' ' && r < 127 {
				g.code += strings.ToUpper(string(r))
			}
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyBackspace) && g.code != "" {
			g.code = g.code[:len(g.code)-1]
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		g.quit = true
	}
	if !inpututil.IsKeyJustPressed(ebiten.KeyEnter) {
		return
	}
	switch {
	case sel < 0:
		g.connect(g.joinedTo, false)
	case sel == 0:
		g.connect("", true)
	case sel == 1:
		if g.code != "" {
			g.connect(g.code, false)
		}
	case sel == 2:
		g.startLocal()
	case g.sel == len(items)-1:
		g.quit = true
	default:
		lan := g.opt.Net.LAN()
		if i := sel - 3; i < len(lan) {
			g.connect(lan[i].Target, false)
		}
	}
}

// typeLine edits the chat line; it returns true while the player types.
func (g *Game) typeLine() bool {
	if !g.typing {
		if inpututil.IsKeyJustPressed(ebiten.KeyEnter) && g.room != nil {
			g.typing = true
			g.line = g.line[:0]
			return true
		}
		return false
	}
	for _, r := range ebiten.AppendInputChars(nil) {
		if len(g.line) < 200 {
			g.line = append(g.line, r)
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyBackspace) && len(g.line) > 0 {
		g.line = g.line[:len(g.line)-1]
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		g.typing = false
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEnter) {
		g.typing = false
		if s := strings.TrimSpace(string(g.line)); s != "" {
			if err := g.room.Say(s); err != nil {
				say, _ := play.Explain(err)
				g.chat = append(g.chat, chatLine{play.ChatLine{Text: "chat: " + say}, time.Now()})
			}
		}
	}
	return true
}

func (g *Game) updateLobby() {
	if g.typeLine() {
		return
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyR) {
		g.ready = !g.ready
		if err := g.room.SetReady(g.ready); err != nil {
			say, _ := play.Explain(err)
			g.chat = append(g.chat, chatLine{play.ChatLine{Text: say}, time.Now()})
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		g.toMenu()
	}
}

func (g *Game) localInput() sim.Input {
	var in sim.Input
	if g.typing {
		return in
	}
	if ebiten.IsKeyPressed(ebiten.KeyArrowUp) || ebiten.IsKeyPressed(ebiten.KeyW) {
		in.Buttons |= sim.Up
	}
	if ebiten.IsKeyPressed(ebiten.KeyArrowDown) || ebiten.IsKeyPressed(ebiten.KeyS) {
		in.Buttons |= sim.Down
	}
	return in
}

func (g *Game) updateMatch() error {
	if g.match == nil {
		g.setScreen(scMenu)
		return nil
	}
	typing := g.typeLine()
	if !typing {
		if inpututil.IsKeyJustPressed(ebiten.KeyTab) || inpututil.IsKeyJustPressed(ebiten.KeyF3) {
			g.netOver = !g.netOver
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
			g.toMenu()
			return nil
		}
	}
	if g.forOver() {
		return nil
	}
	if g.match.Final() != nil {
		g.matchOver()
		if !typing && g.room == nil {
			switch {
			case inpututil.IsKeyJustPressed(ebiten.KeyEnter):
				g.toMenu()
				return nil // g.match is nil now
			case inpututil.IsKeyJustPressed(ebiten.KeyR) && g.opt.Replay == nil:
				g.opt.Sim.Seed++ // another serve order
				g.startLocal()
				return nil
			}
		}
		if !typing && g.room != nil && !g.rematch && inpututil.IsKeyJustPressed(ebiten.KeyR) {
			g.rematch = true
			if err := g.room.SetReady(true); err != nil {
				g.fail("Game over", err)
				return nil
			}
		}
	}
	g.in = g.localInput()
	if g.room != nil && !tickInUpdate {
		return nil // the driver goroutine ticks networked matches
	}
	g.tick()
	return nil
}

// shown is the state the match screen shows: the game-over frame's once
// the match has ended (in a rollback match a predicted end is shown only
// once confirmed), else the current one.
func (g *Game) shown() *sim.State {
	if f := g.match.Final(); f != nil {
		return f
	}
	return g.match.State()
}

// tick advances the match by one tick with the latest local input (or
// the bot's).
func (g *Game) tick() {
	in := g.in
	if g.opt.Bot {
		if seat := g.match.Seat(); seat >= 0 {
			in = sim.Bot(g.match.State(), seat)
		}
	}
	if err := g.match.Tick(in); err != nil {
		var de interface{ Desync() bool }
		if errors.As(err, &de) {
			g.fail("Out of sync", &play.Problem{Say: "the two games disagree (a bug, or different versions of Pong)", Err: err})
		} else {
			g.fail("Game over", err)
		}
		return
	}
	g.sounds()
}

// tickInUpdate ticks networked matches in ebiten's Update, as the game
// did before drive existed: PONG_TICK_IN_UPDATE=1, for the benchmarks'
// before/after comparison only.
var tickInUpdate = os.Getenv("PONG_TICK_IN_UPDATE") == "1"

// drive is the goroutine that runs a networked room at a steady 60 Hz,
// apart from ebiten's loop: it polls the room and ticks the match. A
// window that draws slowly (a loaded machine, software GL) makes ebiten
// call Update in bursts to catch up; lockstep inputs sent in bursts
// arrive in bursts, and the peer's adaptive delay then rises and its
// loop stalls. Ticking on a clock of its own keeps the input stream
// even. It holds g.mu while it works (Update and Draw hold it too, and
// only queue GPU work), and ends when the room is no longer g.room.
func (g *Game) drive(room play.Room) {
	t := time.NewTicker(time.Second / time.Duration(ebiten.DefaultTPS))
	defer t.Stop()
	for range t.C {
		if !g.driveTick(room) {
			return
		}
	}
}

// driveTick is one tick of drive: it polls the room and ticks its match.
// It returns false once room is no longer g.room.
func (g *Game) driveTick(room play.Room) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.room != room {
		return false
	}
	g.pollRoom()
	if !tickInUpdate && g.room == room && g.sc == scMatch && g.match != nil && g.match == room.Match() {
		g.tick()
		g.forOver()
	}
	return true
}

// forOver reports whether a networked match has run Options.For; the
// first time, it prints the lockstep figures and makes the next Update
// quit. drive checks it right after its tick, so the figures end at a
// tick on the match's own clock, not at a later Update (ebiten's loop
// runs late on a busy machine, and the ticks in between, once the peer
// has quit at its own deadline, would count as stalls). The driver
// keeps ticking until the window closes, so the peer gets our inputs
// until its deadline too.
func (g *Game) forOver() bool {
	if g.opt.For <= 0 || g.room == nil || g.match == nil {
		return false
	}
	if g.matchStart.IsZero() {
		g.matchStart = time.Now()
	}
	if time.Since(g.matchStart) < g.opt.For {
		return false
	}
	g.printSummary()
	g.quit = true
	return true
}

// sounds beeps for a paddle hit (the ball turned) and a point.
func (g *Game) sounds() {
	s := g.match.State()
	if g.opt.Sound == nil {
		g.lastScore, g.lastVX = s.Score, s.BallVX
		return
	}
	switch {
	case s.Score != g.lastScore:
		g.opt.Sound.Point()
	case g.lastVX != 0 && s.BallVX != 0 && (g.lastVX < 0) != (s.BallVX < 0):
		g.opt.Sound.Hit()
	}
	g.lastScore, g.lastVX = s.Score, s.BallVX
}

// matchOver runs once when the match ends: it reports the result and
// saves the recording. The result is the game-over frame's (Final), not
// State's: drive may have ticked the match past its end before this
// Update, and one tick may run several frames.
func (g *Game) matchOver() {
	if g.endSaid {
		return
	}
	g.endSaid = true
	s := g.match.Final()
	g.log.Info("pong: match over", "score0", s.Score[0], "score1", s.Score[1], "frames", s.Frame, "checksum", fmt.Sprintf("%016x", s.Checksum()))
	if g.opt.Out != nil {
		fmt.Fprintf(g.opt.Out, "%s wins %d:%d\n", g.names[s.Winner], s.Score[0], s.Score[1])
	}
	g.printSummary()
	if g.opt.Record == "" {
		return
	}
	if r, ok := g.match.(interface{ Replay() *replay.Replay }); ok && r.Replay() != nil {
		if err := r.Replay().Save(g.opt.Record); err != nil {
			g.log.Error("pong: saving the replay", "err", err)
		}
	}
}

// printSummary prints a networked match's lockstep figures on Out, once
// per match (a -for benchmark's deadline and the peer quitting may both
// ask for them).
func (g *Game) printSummary() {
	if g.summarySaid {
		return
	}
	if m, ok := g.match.(interface{ Summary() string }); ok && g.opt.Out != nil {
		g.summarySaid = true
		fmt.Fprintf(g.opt.Out, "%s fps=%.0f tps=%.0f\n", m.Summary(), ebiten.ActualFPS(), ebiten.ActualTPS())
	}
}
