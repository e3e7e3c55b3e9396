package lan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// AnnouncerConfig configures Announce. The zero value (plus a Beacon)
// announces to DefaultGroup and DefaultBroadcast every second.
type AnnouncerConfig struct {
	Beacon Beacon
	// Targets are the UDP addresses beacons go to; nil means DefaultGroup
	// and DefaultBroadcast. The caller keeps the slice.
	Targets []string
	// Interval between beacons; 0 means 1 s.
	Interval time.Duration
	Logger   *slog.Logger // nil = discard
}

// Announcer sends a beacon periodically. Safe for concurrent use.
type Announcer struct {
	conn    *net.UDPConn
	targets []*net.UDPAddr
	log     *slog.Logger

	mu     sync.Mutex // guards beacon
	beacon Beacon

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Announce starts sending cfg.Beacon (at once, then every Interval).
func Announce(cfg AnnouncerConfig) (*Announcer, error) {
	if _, err := cfg.Beacon.Encode(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	targets := cfg.Targets
	if targets == nil {
		targets = []string{DefaultGroup, DefaultBroadcast}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	a := &Announcer{beacon: cfg.Beacon, log: cfg.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, t := range targets {
		ua, err := net.ResolveUDPAddr("udp4", t)
		if err != nil {
			return nil, fmt.Errorf("%w: target %q: %v", ErrInvalidConfig, t, err)
		}
		a.targets = append(a.targets, ua)
	}
	lc := net.ListenConfig{Control: broadcastControl}
	pc, err := lc.ListenPacket(context.Background(), "udp4", ":0")
	if err != nil {
		return nil, err
	}
	a.conn = pc.(*net.UDPConn)
	go a.loop(cfg.Interval)
	return a, nil
}

// Update replaces the beacon (e.g. when players join).
func (a *Announcer) Update(b Beacon) error {
	if _, err := b.Encode(); err != nil {
		return err
	}
	a.mu.Lock()
	a.beacon = b
	a.mu.Unlock()
	return nil
}

func (a *Announcer) loop(every time.Duration) {
	defer close(a.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		a.mu.Lock()
		p, err := a.beacon.Encode()
		a.mu.Unlock()
		if err == nil {
			for _, to := range a.targets {
				if _, err := a.conn.WriteToUDP(p, to); err != nil {
					// A network without broadcast or multicast is normal (e.g. a
					// laptop offline): log and go on with the other targets.
					a.log.Debug("lan: beacon not sent", "to", to, "err", err)
				}
			}
		}
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
	}
}

// Close stops announcing and waits for its goroutine; it is idempotent.
func (a *Announcer) Close() error {
	a.once.Do(func() {
		close(a.stop)
		a.conn.Close()
	})
	<-a.done
	return nil
}

// BrowserConfig configures Listen. The zero value listens on the default
// port for the multicast group and broadcasts.
type BrowserConfig struct {
	// Addr is a unicast UDP address to listen on instead of the multicast
	// group (tests use "127.0.0.1:0"). "" means: join DefaultGroup on the
	// default interface, on port DefaultPort (broadcasts arrive there too).
	Addr string
	// TTL is how long a game stays listed after its last beacon; 0 = 4 s.
	TTL time.Duration
	// MaxGames bounds the list; beacons of further games are dropped. 0 = 32.
	MaxGames int
	Logger   *slog.Logger // nil = discard
	// now is the clock (tests).
	now func() time.Time
}

// Game is a game heard on the LAN.
type Game struct {
	Beacon
	// Addr is the host's signaling server: the beacon's source IP and Port.
	Addr netip.AddrPort
	// Seen is when the last beacon came.
	Seen time.Time
}

// Browser listens for beacons. Safe for concurrent use.
type Browser struct {
	conn *net.UDPConn
	cfg  BrowserConfig
	done chan struct{}
	once sync.Once

	mu    sync.Mutex // guards games
	games []Game
}

// Listen starts a Browser.
func Listen(cfg BrowserConfig) (*Browser, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = 4 * time.Second
	}
	if cfg.MaxGames <= 0 {
		cfg.MaxGames = 32
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	var conn *net.UDPConn
	var err error
	if cfg.Addr == "" {
		g, _ := net.ResolveUDPAddr("udp4", DefaultGroup)
		// ListenMulticastUDP sets SO_REUSEADDR, so several games on one
		// machine can browse at once.
		conn, err = net.ListenMulticastUDP("udp4", nil, g)
	} else {
		var ua *net.UDPAddr
		if ua, err = net.ResolveUDPAddr("udp4", cfg.Addr); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		conn, err = net.ListenUDP("udp4", ua)
	}
	if err != nil {
		return nil, err
	}
	b := &Browser{conn: conn, cfg: cfg, done: make(chan struct{})}
	go b.loop()
	return b, nil
}

// Addr is the local address the Browser listens on.
func (b *Browser) Addr() net.Addr { return b.conn.LocalAddr() }

func (b *Browser) loop() {
	defer close(b.done)
	buf := make([]byte, MaxBeaconSize+1)
	for {
		n, from, err := b.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			b.cfg.Logger.Debug("lan: read", "err", err)
			continue
		}
		bc, err := Decode(buf[:n])
		if err != nil || bc.Game != GameID {
			continue
		}
		b.heard(bc, netip.AddrPortFrom(from.Addr().Unmap(), uint16(bc.Port)))
	}
}

func (b *Browser) heard(bc Beacon, addr netip.AddrPort) {
	now := b.cfg.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.games {
		if b.games[i].Addr == addr && b.games[i].Room == bc.Room {
			b.games[i].Beacon, b.games[i].Seen = bc, now
			return
		}
	}
	b.expireLocked(now)
	if len(b.games) >= b.cfg.MaxGames {
		return // overflow rule: a full list drops new games until old ones expire
	}
	b.games = append(b.games, Game{Beacon: bc, Addr: addr, Seen: now})
}

func (b *Browser) expireLocked(now time.Time) {
	b.games = slices.DeleteFunc(b.games, func(g Game) bool { return now.Sub(g.Seen) > b.cfg.TTL })
}

// Games returns the games heard within TTL, newest first.
func (b *Browser) Games() []Game {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked(b.cfg.now())
	out := slices.Clone(b.games)
	slices.SortStableFunc(out, func(x, y Game) int { return y.Seen.Compare(x.Seen) })
	return out
}

// Find returns the game with room code room, if heard.
func (b *Browser) Find(room string) (Game, bool) {
	for _, g := range b.Games() {
		if g.Room == room {
			return g, true
		}
	}
	return Game{}, false
}

// Close stops listening and waits for its goroutine; it is idempotent.
func (b *Browser) Close() error {
	b.once.Do(func() { b.conn.Close() })
	<-b.done
	return nil
}
