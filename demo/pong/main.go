// Command pong is the Peerplay demo: Pong for two players over a LAN or the
// internet, in deterministic lockstep over a WebRTC mesh, or against a bot.
//
//	pong                      menu (Enter hosts; LAN games are listed)
//	pong -host                host a game: embedded signaling + STUN server
//	pong -join CODE           join a game announced on the LAN
//	pong -join HOST:PORT/CODE join a game by address
//	pong -watch CODE          watch a running match (same forms as -join)
//	pong -signal URL -host    host through a public signald (internet)
//	pong -signal URL -join CODE
//	pong -headless -bot ...   no window: bots play, the result is printed
//	                          (-progress N: a "progress frame=F score=A:B"
//	                          line every N frames too)
//	pong -record F / -replay F
//
// The window needs cgo and X11 headers to build (ebiten), and ebiten opens
// the X display while the program starts, before flags are read. For
// servers and CI, build without the window: `go build -tags headless`
// (CGO_ENABLED=0 works too); that binary runs -headless only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode"
)

type flags struct {
	host       bool
	join       string
	signal     string
	name       string
	bot        bool
	headless   bool
	record     string
	replay     string
	local      bool
	seed       uint64
	score      int
	tps        int
	timeout    int
	verbose    bool
	lanDisc    bool
	lanAddr    string
	listen     string
	publicAddr string
	loopback   bool
	rollback   bool
	netstats   bool
	forDur     time.Duration
	sound      bool
	watch      string
	identity   string
	say        string
	progress   int

	// ident is the player's netcode identity (identity.go), loaded by
	// run; nil = a fresh one.
	ident *netcode.Identity
	// roomFile keeps a hosted room's code and port next to the identity
	// file (netplay.Config.RoomFile), so a restarted host reopens it;
	// "" without an identity file.
	roomFile string
	// joinFile keeps a joined room's target next to the identity file
	// (netplay.Config.JoinFile), so a restarted game's menu offers to
	// rejoin it; "" without an identity file.
	joinFile string
}

func main() {
	var f flags
	flag.BoolVar(&f.host, "host", false, "host a game (starts an embedded signaling + STUN server unless -signal is set)")
	flag.StringVar(&f.join, "join", "", "join a game: a room CODE found on the LAN, HOST:PORT/CODE, or CODE with -signal")
	flag.StringVar(&f.watch, "watch", "", "watch a running match without playing: CODE, HOST:PORT/CODE, or CODE with -signal (as -join)")
	flag.StringVar(&f.say, "say", "", "headless network matches: say TEXT in the chat when the match starts and every 3 s of it (tests: chat reaches late joiners and watchers)")
	flag.IntVar(&f.progress, "progress", 0, "headless network matches: print a \"progress frame=F score=A:B\" line every N frames of the match (0 = none; tests wait for it to know a match is under way)")
	flag.StringVar(&f.identity, "identity", "", "keep your player identity in `FILE` (default: one per -name in your config directory), so a restarted pong rejoins its match; a host also keeps its room in FILE+room, so the same pong -host run again reopens the room and rejoins")
	flag.StringVar(&f.signal, "signal", "", "signaling server URL for internet play, e.g. wss://signal.example.org/ws")
	flag.StringVar(&f.name, "name", defaultName(), "your player name")
	flag.BoolVar(&f.bot, "bot", false, "the AI plays your paddle")
	flag.BoolVar(&f.headless, "headless", false, "no window: play (with -bot), print score and final checksum, exit")
	flag.StringVar(&f.record, "record", "", "save the match's inputs to FILE (replay format v1)")
	flag.StringVar(&f.replay, "replay", "", "play back a recorded match from FILE")
	flag.BoolVar(&f.local, "local", false, "start a local match against the bot right away")
	flag.Uint64Var(&f.seed, "seed", 0, "match seed for local matches (network matches take the host's)")
	flag.IntVar(&f.score, "score", sim.DefaultWinScore, "points that win the match")
	flag.StringVar(&f.publicAddr, "public-addr", "", "when hosting: your public IP (or name), with TCP+UDP port 7700 (-listen's) forwarded to this machine; shown in the join command")
	flag.StringVar(&f.listen, "listen", ":7700", "address of the embedded signaling (TCP) and STUN (UDP) server when hosting")
	flag.IntVar(&f.tps, "tps", 60, "headless network matches: ticks per second")
	flag.IntVar(&f.timeout, "timeout", 600, "headless: give up after this many seconds")
	flag.DurationVar(&f.forDur, "for", 0, "network matches: quit after this long in the match and print the lockstep figures (benchmarks)")
	flag.BoolVar(&f.sound, "sound", true, "beep for hits and points (silent where there is no audio device)")
	flag.BoolVar(&f.netstats, "netstats", false, "show the network overlay from the start (Tab toggles it)")
	flag.BoolVar(&f.verbose, "v", false, "log details to stderr (the game's, the network's and pion's); without it only errors")
	flag.BoolVar(&f.lanDisc, "lan", true, "announce hosted games and look for games on the LAN")
	flag.StringVar(&f.lanAddr, "lan-addr", "", "LAN discovery on this unicast UDP address instead of multicast/broadcast (tests)")
	flag.BoolVar(&f.rollback, "rollback", false, "network matches: rollback (predicted inputs, no input delay) instead of lockstep; rollback players can be watched (-watch) and rejoin after a restart, as lockstep ones")
	flag.BoolVar(&f.loopback, "loopback", false, "WebRTC over loopback addresses only, no mDNS and no STUN (tests; a machine without network and a join to 127.0.0.1 need no flag)")
	flag.Parse()

	log := slog.New(quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}), f.verbose})
	if err := run(f, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "pong:", err)
		os.Exit(1)
	}
}

// quietHandler passes everything with -v; without it, errors and the
// game's own "pong: ..." and "room: ..." lines at Info and above, and
// nothing of the network's or pion's chatter.
type quietHandler struct {
	slog.Handler
	verbose bool
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.verbose {
		return h.Handler.Enabled(ctx, l)
	}
	return l >= slog.LevelInfo
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.verbose && r.Level < slog.LevelError && !strings.HasPrefix(r.Message, "pong:") && !strings.HasPrefix(r.Message, "room:") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(as), h.verbose}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name), h.verbose}
}

// joinCommand is how a friend starts this game, for the join hint:
// $PONG_JOIN_COMMAND (play.sh sets it to its absolute path); the bare
// name when this executable is the one on PATH (go install); "cd DIR &&
// go run ." under go run in the demo's directory; else the absolute path
// of the executable.
func joinCommand() string {
	if c := os.Getenv("PONG_JOIN_COMMAND"); c != "" {
		return c
	}
	exe, err := os.Executable()
	if err != nil {
		return "pong"
	}
	exe, _ = filepath.EvalSymlinks(exe)
	base := filepath.Base(exe)
	if p, err := exec.LookPath(base); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && p == exe {
			return base
		}
	}
	if strings.Contains(exe, "go-build") {
		if wd, err := os.Getwd(); err == nil {
			if b, err := os.ReadFile(filepath.Join(wd, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/peerplay/peerplay/demo/pong\n") {
				return "cd " + shellQuote(wd) + " && go run ."
			}
		}
	}
	return shellQuote(exe)
}

func shellQuote(s string) string {
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func defaultName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "player"
}

func run(f flags, out io.Writer, log *slog.Logger) error {
	cfg := sim.Config{Seed: f.seed, WinScore: f.score}
	var rep *replay.Replay
	if f.replay != "" {
		r, err := replay.LoadAny(f.replay)
		if err != nil {
			return err
		}
		rep = r
	}
	switch {
	case f.watch != "" && (f.join != "" || f.host):
		return errors.New("-watch takes the place of -host and -join: use one of them")
	case f.watch != "":
		// The front joins as usual; the network makes it a watcher
		// (netConfig: Watch).
		f.join = f.watch
	case f.host || f.join != "" || (!f.headless && !f.local && rep == nil):
		// A network game, or the menu (which hosts and joins too): the
		// player's identity (and a host's room file), so that the same
		// command run again after a crash, and the same choice in the
		// menu, gets back into the match (README "Pong").
		id, err := loadIdentity(f, log)
		if err != nil {
			return err
		}
		if id != nil {
			defer id.Close()
			f.ident = id.ID
			if id.Path != "" {
				f.roomFile = id.Path + "+room" // fileSafe names have no "+": no identity file is called that
				f.joinFile = id.Path + "+join"
			}
		}
	}
	if f.headless {
		return runHeadless(f, cfg, rep, out, log)
	}
	return runGUI(f, cfg, rep, log)
}

// result prints the line the headless runner and its tests read.
func result(out io.Writer, s *sim.State) {
	fmt.Fprintf(out, "result score=%d:%d winner=%d frames=%d checksum=%016x\n",
		s.Score[0], s.Score[1], s.Winner, s.Frame, s.Checksum())
}

var errTimeout = errors.New("timed out")
