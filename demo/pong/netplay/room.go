package netplay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/peerplay/peerplay/chat"
	"github.com/peerplay/peerplay/demo/pong/lan"
	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Channel labels of a pong mesh.
const (
	chanLobby = "lobby"
	chanChat  = "chat"
	chanInput = "input"
)

// GameID keeps pong peers apart from other games on a shared signald.
const GameID = "peerplay-pong"

// Build changes whenever the simulation does, so peers of incompatible
// builds refuse each other instead of desyncing.
const Build = "pong-sim-1"

// Config configures a Network. The zero value hosts on :7700 with LAN
// discovery off.
type Config struct {
	// Signal is a public signaling server's URL (internet play); "" means
	// a host embeds its own server and joiners find it on the LAN or by
	// HOST:PORT.
	Signal string
	// Listen is the embedded server's address when hosting; "" = ":7700".
	Listen string
	// LAN turns on announcing hosted games and browsing for others.
	LAN bool
	// LANAddr, if set, replaces the multicast group and broadcast address
	// with this unicast UDP address for both announcing and browsing
	// (tests use a loopback address).
	LANAddr string
	// Loopback restricts ICE to loopback addresses and turns mDNS off
	// (tests: no packet leaves the machine).
	Loopback bool
	// WinScore is the match length a host sets; 0 = sim.DefaultWinScore.
	WinScore int
	// InputDelay is lockstep's starting input delay (0 = its default);
	// the delay adapts to the RTT.
	InputDelay int
	// Record, if set, receives lockstep's replay log of the match.
	Record io.Writer
	// Web, if set, is the browser build of pong (see ServeWeb) that a
	// host's embedded server serves, and the join hint then names the
	// link a friend opens in a browser; nil = no browser play.
	Web fs.FS
	// Headless marks the local player as a bot in the lobby (cosmetic).
	Logger *slog.Logger // nil = discard
}

// Network implements play.Network over netcode, lobby, chat and lockstep.
// Safe for concurrent use.
type Network struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards browser
	browser *lan.Browser
	tried   bool
}

// New returns a Network. With cfg.LAN it browses the LAN from the first
// call of LAN or of Join with a bare code (a host that never browses does
// not hold the discovery port).
func New(cfg Config) (*Network, error) {
	if cfg.Listen == "" {
		cfg.Listen = ":7700"
	}
	n := &Network{cfg: cfg, log: cfg.Logger}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	return n, nil
}

// lanBrowser starts browsing on first use; nil when LAN is off or the
// port is taken.
func (n *Network) lanBrowser() *lan.Browser {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.cfg.LAN || n.tried {
		return n.browser
	}
	n.tried = true
	b, err := lan.Listen(lan.BrowserConfig{Addr: n.cfg.LANAddr, Logger: n.log})
	if err != nil {
		// Another program may hold the port without SO_REUSEADDR: play
		// on, without LAN discovery.
		n.log.Warn("netplay: LAN discovery off", "err", err)
		return nil
	}
	n.browser = b
	return b
}

// Close stops LAN browsing.
func (n *Network) Close() error {
	n.mu.Lock()
	b := n.browser
	n.browser = nil
	n.mu.Unlock()
	if b != nil {
		return b.Close()
	}
	return nil
}

// LAN lists games heard on the LAN.
func (n *Network) LAN() []play.LANGame {
	b := n.lanBrowser()
	if b == nil {
		return nil
	}
	var out []play.LANGame
	for _, g := range b.Games() {
		out = append(out, play.LANGame{Name: g.Name, Target: g.Addr.String() + "/" + g.Room})
	}
	return out
}

// Host opens a room: with an embedded signaling+STUN server unless
// cfg.Signal is set, announced on the LAN if cfg.LAN.
func (n *Network) Host(ctx context.Context, name string) (play.Room, error) {
	code := NewCode()
	if n.cfg.Signal != "" {
		hint := fmt.Sprintf("pong -signal %s -join %s", n.cfg.Signal, code)
		return n.open(ctx, n.cfg.Signal, code, name, hint, nil, nil)
	}
	srv, err := StartServer(n.cfg.Listen, n.log)
	if err != nil {
		return nil, err
	}
	port := srv.Port()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var hint string
	if n.cfg.LAN {
		hint = fmt.Sprintf("pong -join %s  (same LAN: the game is found automatically)\nor: ", code)
	}
	hostPort := addr
	if ip, ok := LANAddr(); ok && !n.cfg.Loopback {
		hostPort = fmt.Sprintf("%s:%d", ip, port)
		hint += fmt.Sprintf("pong -join %s:%d/%s  (LAN, or the internet with TCP+UDP port %d forwarded here)", ip, port, code, port)
	} else {
		hint += fmt.Sprintf("pong -join %s/%s", addr, code)
	}
	if n.cfg.Web != nil {
		srv.ServeWeb(n.cfg.Web)
		hint += "\nor in a browser: " + BrowserLink(hostPort, code)
	}
	var ann *lan.Announcer
	if n.cfg.LAN {
		var targets []string
		if n.cfg.LANAddr != "" {
			targets = []string{n.cfg.LANAddr}
		}
		ann, err = lan.Announce(lan.AnnouncerConfig{Targets: targets, Logger: n.log,
			Beacon: lan.Beacon{Name: name, Room: code, Port: port, Players: 1, Max: 2}})
		if err != nil {
			n.log.Warn("netplay: not announcing on the LAN", "err", err)
		}
	}
	r, err := n.open(ctx, "ws://"+addr+"/ws", code, name, hint, srv, ann)
	if err != nil {
		if ann != nil {
			ann.Close()
		}
		srv.Close()
		return nil, err
	}
	return r, nil
}

// Join enters the room target names; a bare code is looked up on the LAN
// (waiting up to 5 s for its beacon) unless cfg.Signal is set.
func (n *Network) Join(ctx context.Context, target, name string) (play.Room, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	url := ""
	switch {
	case t.Addr != "":
		url = t.SignalURL()
	case n.cfg.Signal != "":
		url = n.cfg.Signal
	case n.lanBrowser() == nil:
		return nil, fmt.Errorf("netplay: room %s: no -signal server and LAN discovery is off; use HOST:PORT/%s", t.Room, t.Room)
	default:
		g, err := n.findLAN(ctx, t.Room)
		if err != nil {
			return nil, err
		}
		url = "ws://" + g.Addr.String() + "/ws"
	}
	return n.open(ctx, url, t.Room, name, "", nil, nil)
}

func (n *Network) findLAN(ctx context.Context, room string) (lan.Game, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if g, ok := n.lanBrowser().Find(room); ok {
			return g, nil
		}
		select {
		case <-ctx.Done():
			return lan.Game{}, fmt.Errorf("netplay: no game %s heard on the LAN (is the host on the same network? try HOST:PORT/%s)", room, room)
		case <-tick.C:
		}
	}
}

func (n *Network) open(ctx context.Context, url, code, name, hint string, srv *Server, ann *lan.Announcer) (*Room, error) {
	cfg := netcode.Config{
		SignalURL: url, Room: code, GameID: GameID, Build: Build, Name: name,
		Channels: []netcode.ChannelSpec{
			{Label: chanLobby, Reliability: transport.Reliable, MaxMessageBytes: lobby.MaxMessageSize},
			{Label: chanChat, Reliability: transport.Reliable, MaxMessageBytes: chat.MaxMessageSize},
			{Label: chanInput, Reliability: transport.Unreliable},
		},
		Logger: n.log,
	}
	if n.cfg.Loopback {
		cfg.ICEServers = []netcode.ICEServer{}
		cfg.SettingEngine = loopbackOnly
	}
	mesh, err := netcode.Join(ctx, cfg)
	if err != nil {
		return nil, err
	}
	win := n.cfg.WinScore
	if win <= 0 {
		win = sim.DefaultWinScore
	}
	var data [2]byte
	binary.LittleEndian.PutUint16(data[:], uint16(min(win, 99)))
	lb, err := lobby.New(mesh.Channel(chanLobby), lobby.Config{
		Name:     name,
		Settings: lobby.Settings{MaxPlayers: 2, Data: data[:]},
		Logger:   n.log,
	})
	if err != nil {
		mesh.Close()
		return nil, err
	}
	r := &Room{
		net: n, mesh: mesh, lobby: lb, code: code, hint: hint, srv: srv, ann: ann,
		names: map[transport.PeerID]string{},
	}
	if r.chat, err = newChat(mesh.Channel(chanChat), name); err != nil {
		lb.Close()
		mesh.Close()
		return nil, err
	}
	return r, nil
}

// Room is a pong room on a mesh. Only the game loop may call it (Poll,
// Match and Tick run there); Close may come from anywhere.
type Room struct {
	net   *Network
	mesh  *netcode.Mesh
	lobby *lobby.Lobby
	chat  *roomChat
	code  string
	hint  string
	srv   *Server
	ann   *lan.Announcer

	match *Match
	err   error
	names map[transport.PeerID]string
	notes []string
	rates map[transport.PeerID]*rateSample

	closeOnce sync.Once
}

var _ play.Room = (*Room)(nil)

// Code is the room code.
func (r *Room) Code() string { return r.code }

// JoinHint is the command a friend runs to join.
func (r *Room) JoinHint() string {
	if r.hint == "" {
		return "(ask the host for the room code)"
	}
	return r.hint
}

// Players lists the lobby's members.
func (r *Room) Players() []play.Player {
	st := r.lobby.State()
	var out []play.Player
	for _, m := range st.Members {
		seat := -1 // not seated yet: the lobby seats players at the start
		if r.match != nil {
			seat = slices.Index(r.match.seats, m.ID)
		}
		out = append(out, play.Player{
			ID: string(m.ID), Name: m.Name, Ready: m.Ready, Host: m.ID == st.Host,
			Seat: seat, Local: m.ID == st.Local,
		})
		r.names[m.ID] = m.Name
	}
	return out
}

func (r *Room) name(id transport.PeerID) string {
	if n, ok := r.names[id]; ok && n != "" {
		return n
	}
	return string(id)
}

// Poll drains the mesh, lobby and chat, and starts the match when the
// lobby launches it.
func (r *Room) Poll() (chatLines []play.ChatLine, notices []string) {
	if r.err != nil {
		return nil, nil
	}
	for _, ev := range r.mesh.PollEvents() {
		switch ev.Kind {
		case netcode.EventLeft, netcode.EventFailed:
			r.notes = append(r.notes, r.name(ev.Peer)+" left")
			if r.match != nil && !r.match.over() {
				r.err = fmt.Errorf("%s left the game", r.name(ev.Peer))
			}
		case netcode.EventRefused:
			r.notes = append(r.notes, fmt.Sprintf("refused a peer: %v", ev.Err))
		case netcode.EventSignalingLost:
			r.notes = append(r.notes, "lost the signaling server (the game goes on)")
		}
	}
	for _, ev := range r.lobby.Poll() {
		switch ev.Kind {
		case lobby.EventJoined, lobby.EventLateArrival:
			r.names[ev.Peer] = ev.Member.Name
			r.notes = append(r.notes, ev.Member.Name+" joined")
			r.updateBeacon()
		case lobby.EventLeft:
			r.notes = append(r.notes, r.name(ev.Peer)+" left the lobby")
			r.updateBeacon()
		case lobby.EventCountdown:
			r.notes = append(r.notes, fmt.Sprintf("starting in %v", ev.Countdown.Round(time.Second)))
		case lobby.EventCountdownCancelled:
			r.notes = append(r.notes, "start cancelled")
		case lobby.EventStartFailed:
			r.notes = append(r.notes, fmt.Sprintf("start failed: %v", ev.Err))
		case lobby.EventStarted:
			if r.match == nil {
				if err := r.startMatch(ev.Match); err != nil {
					r.err = err
				}
			}
		case lobby.EventKicked:
			r.err = errors.New("the host removed you from the room")
		}
	}
	if r.match == nil {
		if m, ok := r.lobby.Match(); ok {
			if err := r.startMatch(m); err != nil {
				r.err = err
			}
		}
	}
	chatLines = r.chat.poll()
	notices, r.notes = r.notes, nil
	return chatLines, notices
}

func (r *Room) updateBeacon() {
	if r.ann == nil {
		return
	}
	st := r.lobby.State()
	_ = r.ann.Update(lan.Beacon{Name: r.name(st.Host), Room: r.code, Port: r.srv.Port(), Players: len(st.Members), Max: 2})
}

func (r *Room) startMatch(m lobby.Match) error {
	if len(m.Seats) != 2 {
		return fmt.Errorf("netplay: the lobby started a match with %d seats; pong needs 2", len(m.Seats))
	}
	win := sim.DefaultWinScore
	if d := m.Settings.Data; len(d) >= 2 {
		win = int(binary.LittleEndian.Uint16(d))
	}
	cfg := lockstep.Config{
		Seats:      m.Seats,
		InputDelay: r.net.cfg.InputDelay,
		Seed:       m.Seed,
		GameID:     replay.LockstepGameID(win),
		Record:     r.net.cfg.Record,
		Logger:     r.net.log,
	}
	cfg.Adaptive.Enabled = true
	sess, err := lockstep.NewSession[sim.Input](r.mesh.Channel(chanInput), cfg)
	if err != nil {
		return fmt.Errorf("netplay: starting lockstep: %w", err)
	}
	r.match = newMatch(sess, sim.Config{Seed: m.Seed, WinScore: win}, r)
	r.match.seats = slices.Clone(m.Seats)
	return nil
}

// Match returns the running match, or nil.
func (r *Room) Match() play.Match {
	if r.match == nil {
		return nil
	}
	return r.match
}

// SetReady marks the local player ready.
func (r *Room) SetReady(ready bool) error { return r.lobby.SetReady(ready) }

// Say sends a chat line.
func (r *Room) Say(text string) error { return r.chat.say(text) }

// Err is why the room ended, or nil.
func (r *Room) Err() error { return r.err }

// Stats returns one line per remote peer for the network overlay.
func (r *Room) Stats() []play.PeerStat {
	ms := r.mesh.Stats()
	var ls lockstep.Stats
	if r.match != nil {
		ls = r.match.sess.Stats()
	}
	var out []play.PeerStat
	for _, p := range ms.Peers {
		ps := play.PeerStat{
			Name: p.Name, RTT: p.RTT, Jitter: p.RTTJitter, Relayed: p.Relayed(),
			InputDelay: ls.InputDelay, Stalls: int(ls.Stalls),
		}
		if ps.Name == "" {
			ps.Name = string(p.Peer)
		}
		ps.KbpsIn, ps.KbpsOut = r.rate(p)
		ps.Loss = r.loss(p.Peer, ls)
		out = append(out, ps)
	}
	return out
}

// Close leaves the room, stops the embedded server and announcer.
func (r *Room) Close() error {
	r.closeOnce.Do(func() {
		if r.match != nil {
			_ = r.match.sess.Close()
		}
		_ = r.chat.close()
		_ = r.lobby.Close()
		_ = r.mesh.Close()
		if r.ann != nil {
			_ = r.ann.Close()
		}
		if r.srv != nil {
			_ = r.srv.Close()
		}
	})
	return nil
}
