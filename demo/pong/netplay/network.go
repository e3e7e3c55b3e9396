package netplay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/peerplay/peerplay/demo/pong/lan"
	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/pubsub"
)

// Channel labels of a pong mesh.
const (
	chanLobby = "lobby"
	chanChat  = "chat"
	chanInput = "input"
	// chanStream carries lockstep.Streamer/Spectator messages: every
	// player streams the match to watchers and to a player catching up
	// after a restart (Reliable).
	chanStream = "stream"
	// chanControl is lockstep's Config.Control: the agreement that
	// readmits a restarted player (Reliable).
	chanControl = "control"
)

// GameID keeps pong peers apart from other games on a shared signald.
const GameID = "peerplay-pong"

// Build changes whenever the simulation does, so peers of incompatible
// builds refuse each other instead of desyncing.
const Build = "pong-sim-1"

// DialTimeout bounds how long Join waits for the signaling server before
// it tells the player nothing answers (the player hears within 10 s).
const DialTimeout = 7 * time.Second

// Config configures a Network. The zero value hosts on :7700 with LAN
// discovery off.
type Config struct {
	// Signal is a public signaling server's URL (internet play); "" means
	// a host embeds its own server and joiners find it on the LAN or by
	// HOST:PORT.
	Signal string
	// Listen is the embedded server's address when hosting; "" = ":7700".
	// A loopback address keeps the game on this machine (the join command
	// then names that address).
	Listen string
	// PublicAddr is how players outside the LAN reach the embedded server
	// ("IP" or "IP:port": the router's address, with the port forwarded);
	// "" = unknown (the join hint then says what is missing).
	PublicAddr string
	// LAN turns on announcing hosted games and browsing for others.
	LAN bool
	// LANAddr, if set, replaces the multicast group and broadcast address
	// with this unicast UDP address for both announcing and browsing
	// (tests use a loopback address).
	LANAddr string
	// Loopback restricts ICE to loopback addresses and turns mDNS off
	// (tests: no packet leaves the machine). Without it, a machine with no
	// network but loopback, a host listening on a loopback address and a
	// joiner dialling one use loopback all the same.
	Loopback bool
	// JoinCommand is the command the join hint tells a friend to run,
	// before " -join ..."; "" = "pong".
	JoinCommand string
	// WinScore is the match length a host sets; 0 = sim.DefaultWinScore.
	WinScore int
	// InputDelay is lockstep's starting input delay (0 = its default);
	// the delay adapts to the RTT.
	InputDelay int
	// Rollback plays matches with rollback (sync/rollback: predicted
	// inputs, no input delay) instead of lockstep; false = lockstep. The
	// two interoperate (same wire and confirmed inputs), so each peer
	// chooses for itself.
	Rollback bool
	// Record, if set, receives lockstep's replay log of the match (of
	// the first match of a room: a rematch is not recorded).
	Record io.Writer
	// Web, if set, is the browser build of pong (see ServeWeb) that a
	// host's embedded server serves, and the join hint then names the
	// link a friend opens in a browser; nil = no browser play.
	Web fs.FS
	// Logger receives netplay's, netcode's and pion's logs; nil = discard.
	Logger *slog.Logger
	// Identity is the player's netcode identity (its mesh ID). A player
	// that keeps it across runs (main keeps it in a file) and enters the
	// room of a running match it played in gets its seat back (see
	// "Rejoin" in the package doc). nil = a fresh identity per room.
	Identity *netcode.Identity
	// Watch makes Join enter the room as a watcher: never seated, it
	// shows the running match (and the next ones) WatchDelay frames
	// behind the players, and the chat. false = Join plays.
	Watch bool
	// RoomFile, if set, is where Host keeps the open room's code and
	// port, and where a restarted host finds the room it hosted when its
	// game died, to reopen it: with Identity kept too, it rejoins its
	// running match (roomfile.go). "" = every Host opens a new room.
	RoomFile string
	// JoinFile, if set, is where Join keeps the target of the room it
	// entered as a player while that room is open (Close removes it), so
	// that a restarted game can offer to join it again (JoinedRoom); it
	// expires as a room file does. "" = none.
	JoinFile string
}

// Network implements play.Network over netcode, lobby, chat and lockstep.
// Safe for concurrent use.
type Network struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards browser, tried, lanErr
	browser *lan.Browser
	tried   bool
	lanErr  error
}

// New returns a Network. With cfg.LAN it browses the LAN from the first
// call of LAN or of Join with a bare code (a host that never browses does
// not hold the discovery port).
func New(cfg Config) (*Network, error) {
	if cfg.Listen == "" {
		cfg.Listen = ":7700"
	}
	if cfg.JoinCommand == "" {
		cfg.JoinCommand = "pong"
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
		// Another program may hold the port without SO_REUSEADDR, or
		// the machine has no multicast route: play on, without LAN
		// discovery (LANStatus says so).
		n.log.Debug("netplay: LAN discovery off", "err", err)
		n.lanErr = err
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

// LANStatus says, in a player's words, whether LAN discovery works.
func (n *Network) LANStatus() string {
	b := n.lanBrowser()
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case !n.cfg.LAN:
		return "LAN discovery is off (-lan=false): join by HOST:PORT/CODE"
	case b == nil && n.lanErr != nil:
		return "cannot look for games on the LAN (" + shortNetErr(n.lanErr) + "): join by HOST:PORT/CODE"
	default:
		return "looking for games on the LAN..."
	}
}

func shortNetErr(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "its port is busy"
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no network for multicast"
	default:
		return "no multicast"
	}
}

// Host opens a room: with an embedded signaling+STUN server unless
// cfg.Signal is set, announced on the LAN if cfg.LAN.
func (n *Network) Host(ctx context.Context, name string) (play.Room, error) {
	code := NewCode()
	listen := n.cfg.Listen
	if prev, ok := readRoomFile(n.cfg.RoomFile, time.Now()); ok {
		// This host's game died with the room open: reopen it.
		n.log.Info("pong: reopening room "+prev.code+" (the last run hosted it)", "file", n.cfg.RoomFile)
		code = prev.code
		listen = reuseListen(listen, prev.port)
	}
	cmd := n.cfg.JoinCommand
	if n.cfg.Signal != "" {
		hint := fmt.Sprintf("%s -signal %s -join %s", cmd, n.cfg.Signal, code)
		r, err := n.open(ctx, n.cfg.Signal, code, name, hint, nil, nil, dialing{where: n.cfg.Signal})
		if err == nil {
			n.keepRoom(r, 0)
		}
		return r, err
	}
	srv, err := StartServer(listen, n.cfg.PublicAddr, n.log)
	if err != nil && listen != n.cfg.Listen {
		// The last run's port is taken: a new one, as asked.
		srv, err = StartServer(n.cfg.Listen, n.cfg.PublicAddr, n.log)
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &play.Problem{Say: fmt.Sprintf("cannot host: %s is in use (another game hosting? try -listen :7710)", n.cfg.Listen), Err: err}
		}
		return nil, &play.Problem{Say: "cannot host a game on " + n.cfg.Listen, Err: err}
	}
	port := srv.Port()
	lhost, _, _ := net.SplitHostPort(n.cfg.Listen)
	lip, lerr := netip.ParseAddr(lhost)
	lanIP, haveLAN := LANAddr()
	loop := n.cfg.Loopback || (lerr == nil && lip.IsLoopback()) || !haveLAN
	var hint string
	if n.cfg.LAN && haveLAN { // no LAN address: no LAN to find the code on
		hint = fmt.Sprintf("%s -join %s   (on the same LAN the game is also listed in the menu)\nor: ", cmd, code)
	}
	switch {
	case lerr == nil && !lip.IsUnspecified():
		hint += fmt.Sprintf("%s -join %s/%s", cmd, netip.AddrPortFrom(lip, uint16(port)), code)
	case loop:
		hint += fmt.Sprintf("%s -join 127.0.0.1:%d/%s   (this machine has no network: same machine only)", cmd, port, code)
	default:
		hint += fmt.Sprintf("%s -join %s/%s   (LAN)", cmd, netip.AddrPortFrom(lanIP, uint16(port)), code)
	}
	if n.cfg.Web != nil {
		hostPort := fmt.Sprintf("127.0.0.1:%d", port)
		switch {
		case lerr == nil && !lip.IsUnspecified():
			hostPort = netip.AddrPortFrom(lip, uint16(port)).String()
		case !loop:
			hostPort = netip.AddrPortFrom(lanIP, uint16(port)).String()
		}
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
			n.log.Debug("netplay: not announcing on the LAN", "err", err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if lerr == nil && !lip.IsUnspecified() {
		addr = netip.AddrPortFrom(lip, uint16(port)).String()
	}
	r, err := n.open(ctx, "ws://"+addr+"/ws", code, name, hint, srv, ann, dialing{where: addr, loopback: loop})
	if err == nil && !loop && (lerr != nil || lip.IsUnspecified()) {
		r.internet = internetHint(srv, cmd, code)
	}
	if err != nil {
		if ann != nil {
			ann.Close()
		}
		srv.Close()
		return nil, err
	}
	n.keepRoom(r, port)
	return r, nil
}

// keepRoom writes r's room file (Config.RoomFile), which r.Close removes.
func (n *Network) keepRoom(r *Room, port int) {
	if n.cfg.RoomFile == "" {
		return
	}
	if err := writeRoomFile(n.cfg.RoomFile, hostedRoom{code: r.code, port: port}); err != nil {
		n.log.Debug("pong: no room file: a restarted host cannot reopen its room", "err", err)
		return
	}
	r.roomFile = n.cfg.RoomFile
	r.roomTouched = time.Now()
}

// HostedRoom returns the code of the room the last run hosted with this
// Config.RoomFile and did not close (its game died), while the file has
// not expired (RoomFileMaxAge): the room Host reopens. The menu offers to
// rejoin it. "" = none: Host opens a new room.
func (n *Network) HostedRoom() string {
	prev, ok := readRoomFile(n.cfg.RoomFile, time.Now())
	if !ok {
		return ""
	}
	return prev.code
}

// dialing says how open reaches the signaling server: where (for
// messages), whether the room must exist already (a joiner), and whether
// ICE keeps to loopback.
type dialing struct {
	where    string
	joinOnly bool
	loopback bool
}

// Join enters the room target names; a bare code is looked up on the LAN
// (waiting up to 5 s for its beacon) unless cfg.Signal is set. Codes are
// case-insensitive. A room that does not exist is not created: Join says
// "no room CODE on HOST:PORT".
func (n *Network) Join(ctx context.Context, target, name string) (play.Room, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return nil, &play.Problem{Say: fmt.Sprintf("%q is not a room code (like K7Q2) nor HOST:PORT/CODE", strings.TrimSpace(target)), Err: err}
	}
	d := dialing{joinOnly: true, loopback: n.cfg.Loopback}
	if _, ok := LANAddr(); !ok {
		d.loopback = true
	}
	url := ""
	switch {
	case t.Addr != "":
		url = t.SignalURL()
		d.where = t.Addr
		if host, _, err := net.SplitHostPort(t.Addr); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
				d.loopback = true
			}
		}
	case n.cfg.Signal != "":
		url = n.cfg.Signal
		d.where = n.cfg.Signal
	case n.lanBrowser() == nil:
		return nil, &play.Problem{Say: fmt.Sprintf("cannot find %s: %s", t.Room, strings.TrimSuffix(n.LANStatus(), ": join by HOST:PORT/CODE")+"; join with HOST:PORT/"+t.Room)}
	default:
		g, err := n.findLAN(ctx, t.Room)
		if err != nil {
			return nil, err
		}
		url = "ws://" + g.Addr.String() + "/ws"
		d.where = g.Addr.String()
	}
	r, err := n.open(ctx, url, t.Room, name, "", nil, nil, d)
	if err != nil {
		return nil, err
	}
	if !n.cfg.Watch && n.cfg.JoinFile != "" {
		if err := writeJoinFile(n.cfg.JoinFile, strings.TrimSpace(target)); err != nil {
			n.log.Debug("pong: no join file: a restarted game cannot offer to rejoin", "err", err)
		} else {
			r.roomFile = n.cfg.JoinFile // refreshed by Poll, removed by Close
			r.roomTouched = time.Now()
		}
	}
	return r, nil
}

// JoinedRoom returns the target (as given to Join) of the room the last
// run joined with this Config.JoinFile and did not leave (its game died),
// while the file has not expired (RoomFileMaxAge). The menu offers to
// rejoin it. "" = none.
func (n *Network) JoinedRoom() string {
	target, ok := readJoinFile(n.cfg.JoinFile, time.Now())
	if !ok {
		return ""
	}
	return target
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
			return lan.Game{}, &play.Problem{Say: fmt.Sprintf("no game %s heard on the LAN (is the host on the same network? or join with HOST:PORT/%s)", room, room)}
		case <-tick.C:
		}
	}
}

// dialProblem words a failure to reach the signaling server at where.
func dialProblem(err error, where string) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &play.Problem{Say: fmt.Sprintf("no game is hosted at %s (nothing listens there; is the host's game still open?)", where), Err: err}
	case errors.As(err, &dnsErr):
		return &play.Problem{Say: fmt.Sprintf("cannot find the address %s (a typo?)", where), Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &play.Problem{Say: fmt.Sprintf("nothing answers at %s (a wrong address, or a firewall?)", where), Err: err}
	case errors.Is(err, context.Canceled):
		return err
	default:
		return &play.Problem{Say: fmt.Sprintf("could not reach the game at %s", where), Err: err}
	}
}

func (n *Network) open(ctx context.Context, url, code, name, hint string, srv *Server, ann *lan.Announcer, d dialing) (*Room, error) {
	cfg := netcode.Config{
		SignalURL: url, Room: code, GameID: GameID, Build: Build, Name: name,
		Channels: []netcode.ChannelSpec{
			{Label: chanLobby, Reliability: transport.Reliable, MaxMessageBytes: lobby.MaxMessageSize},
			{Label: chanChat, Reliability: transport.Reliable, MaxMessageBytes: pubsub.MaxMessageSize},
			{Label: chanInput, Reliability: transport.Unreliable},
			{Label: chanStream, Reliability: transport.Reliable, MaxMessageBytes: streamMaxMessage},
			{Label: chanControl, Reliability: transport.Reliable, MaxMessageBytes: controlMaxMessage},
		},
		Identity: n.cfg.Identity,
		Logger:   n.log,
	}
	switch {
	case n.cfg.Loopback:
		cfg.ICEServers = []netcode.ICEServer{}
		cfg.SettingEngine = loopbackOnly
	case d.loopback:
		cfg.SettingEngine = loopbackOnly
	default:
		// A friend on the same machine (joining 127.0.0.1) pairs with
		// the loopback candidate.
		cfg.SettingEngine = withLoopback
	}
	dctx, cancel := context.WithTimeout(ctx, DialTimeout)
	mesh, err := netcode.Join(dctx, cfg)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, dialProblem(err, d.where)
	}
	if d.joinOnly && mesh.RoomInfo().Players <= 1 && len(mesh.Peers()) == 0 {
		// The server made the room for us: nobody hosts it.
		mesh.Close()
		return nil, &play.Problem{Say: fmt.Sprintf("no room %s on %s (check the code; the host's lobby shows it)", code, d.where)}
	}
	win := n.cfg.WinScore
	if win <= 0 {
		win = sim.DefaultWinScore
	}
	var data [2]byte
	binary.LittleEndian.PutUint16(data[:], uint16(min(win, 99)))
	lcfg := lobby.Config{
		Name:     name,
		Settings: lobby.Settings{MaxPlayers: 2, Data: data[:]},
		Logger:   n.log,
		// A watcher says so from its first Hello: never seated, it comes
		// on top of MaxPlayers (asked later, the host of a full room has
		// turned it away already).
		Watch: n.cfg.Watch && d.joinOnly,
	}
	lb, err := lobby.New(mesh.Channel(chanLobby), lcfg)
	if err != nil {
		mesh.Close()
		return nil, err
	}
	r := &Room{
		net: n, mesh: mesh, lobby: lb, code: code, hint: hint, srv: srv, ann: ann,
		names: map[transport.PeerID]string{}, joined: d.joinOnly, embedded: n.cfg.Signal == "",
		record: n.cfg.Record, watching: n.cfg.Watch && d.joinOnly,
	}
	for _, p := range mesh.Stats().Peers {
		if p.Name != "" {
			r.names[p.Peer] = p.Name
		}
	}
	if r.chat, err = newChat(mesh.Channel(chanChat), name, lb); err != nil {
		lb.Close()
		mesh.Close()
		return nil, err
	}
	return r, nil
}
