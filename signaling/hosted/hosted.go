package hosted

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// DefaultAddr is where Listen listens when Config.Addr is "".
const DefaultAddr = ":7700"

// DefaultMaxHosts bounds the distinct dialed addresses served with their
// own ICE servers when Config.MaxHosts is 0.
const DefaultMaxHosts = 16

// Config configures Listen. The zero value listens on DefaultAddr.
type Config struct {
	// Addr is the TCP address of signaling; STUN and TURN listen on the
	// same port number over UDP. "" = DefaultAddr; port 0 picks a port
	// free for both.
	Addr string
	// PublicAddr is how players outside the LAN reach this host: "IP" or
	// "name", optionally with ":port" (default: the listening port). ""
	// = unknown: PublicAddr then reports the first public address a
	// client dialed. It is only reported, never dialed.
	PublicAddr string
	// RelayIP is the address of the relay candidates the embedded TURN
	// server hands out; they are used by this machine (the hosting game)
	// and its LAN. Invalid (zero) = LANAddr, else 127.0.0.1.
	RelayIP netip.Addr
	// AllowPeers are address prefixes the embedded TURN server relays to
	// besides this machine's own addresses, which it always allows (see
	// the package doc); nil = none. The caller keeps the slice.
	AllowPeers []string
	// MaxHosts bounds the distinct dialed addresses that get ICE servers
	// of their own; past it, clients get the default (RelayIP) ones.
	// 0 = DefaultMaxHosts.
	MaxHosts int
	// Wrap, if set, wraps the signaling handler: the HTTP server serves
	// Wrap(signaling), so a game can serve a page on the same port. nil
	// = signaling alone.
	Wrap func(signaling http.Handler) http.Handler
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// Server is a running embedded host: signaling over TCP and STUN + TURN
// over UDP on one port number. Its methods are safe for concurrent use.
type Server struct {
	log    *slog.Logger
	port   int
	relay  netip.Addr
	secret string
	max    int
	public string // Config.PublicAddr as host:port, or ""
	own    string // a public address of this machine's interfaces, or ""
	bp     *signaling.MemoryBackplane
	turn   *signaling.Server
	ln     net.Listener
	udp    net.PacketConn
	http   *http.Server
	wg     sync.WaitGroup
	once   sync.Once

	mu      sync.Mutex // guards all following fields
	byHost  map[string]*signaling.Server
	learned string // first public address a client dialed
	closed  bool
}

// Listen starts an embedded host (see the package doc) and returns once it
// listens; Close stops it.
func Listen(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.MaxHosts < 0 {
		return nil, fmt.Errorf("%w: MaxHosts %d", ErrInvalidConfig, cfg.MaxHosts)
	}
	if cfg.MaxHosts == 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	ln, udp, err := listenBoth(cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log: log, port: ln.Addr().(*net.TCPAddr).Port, relay: cfg.RelayIP, max: cfg.MaxHosts,
		bp: signaling.NewMemoryBackplane(), ln: ln, udp: udp, byHost: make(map[string]*signaling.Server),
	}
	if cfg.PublicAddr != "" {
		d := parseHost(cfg.PublicAddr, s.port)
		if d.host == "" {
			ln.Close()
			udp.Close()
			return nil, fmt.Errorf("%w: PublicAddr %q", ErrInvalidConfig, cfg.PublicAddr)
		}
		s.public = d.hostPort()
	}
	for _, ip := range ownAddrs() {
		if ip.IsGlobalUnicast() && !ip.IsPrivate() && !isCGNAT(ip) {
			s.own = netip.AddrPortFrom(ip, uint16(s.port)).String()
			break
		}
	}
	if !s.relay.IsValid() {
		if ip, ok := LANAddr(); ok {
			s.relay = ip
		} else {
			s.relay = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	s.secret = hex.EncodeToString(key[:])

	// TURN peers: this machine's own addresses (the hosting game's host
	// candidates), which signaling's TURN refuses by default.
	allow := append([]string(nil), cfg.AllowPeers...)
	for _, a := range append(ownAddrs(), s.relay) {
		allow = append(allow, a.String())
	}
	s.turn = &signaling.Server{
		Logger: log.With("part", "turn"), Backplane: s.bp, TURNSecret: s.secret,
		// Seats live on the per-address servers below, which share the
		// backplane and the secret: the credential's HMAC is the check.
		TURNAnyUser:    true,
		TURNAllowPeers: allow,
	}
	if err := s.turn.Validate(); err != nil {
		ln.Close()
		udp.Close()
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	var h http.Handler = http.HandlerFunc(s.serveSignaling)
	if cfg.Wrap != nil {
		h = cfg.Wrap(h)
	}
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("hosted: signaling", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		// pion/turn answers STUN binding requests too: one UDP socket
		// serves both.
		err := s.turn.ServeTURN(udp, signaling.TURNRelay{IP: net.IP(s.relay.AsSlice())})
		if err != nil && !errors.Is(err, signaling.ErrServerClosed) {
			log.Error("hosted: STUN/TURN", "err", err)
		}
	}()
	log.Info("hosted: listening", "port", s.port, "relay", s.relay, "turn_peers", allow)
	return s, nil
}

// listenBoth listens on addr over TCP and on the same port over UDP.
func listenBoth(addr string) (net.Listener, net.PacketConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: Addr %q: %v", ErrInvalidConfig, addr, err)
	}
	var lastErr error
	for range 8 { // port 0: the TCP port may be taken for UDP; try another
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: tcp %s: %w", ErrListen, addr, err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return ln, udp, nil
		}
		ln.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("%w: udp: %w", ErrListen, lastErr)
}

// serveSignaling hands the request to the signaling server for the address
// the client dialed.
func (s *Server) serveSignaling(w http.ResponseWriter, r *http.Request) {
	sig := s.serverFor(parseHost(r.Host, s.port))
	if sig == nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	sig.ServeHTTP(w, r)
}

// serverFor returns the signaling server whose welcome advertises STUN and
// TURN at d, made on first use; nil once closed.
func (s *Server) serverFor(d dialed) *signaling.Server {
	key := ""
	switch {
	case d.local:
		key = "local"
	case d.host != "":
		key = d.hostPort()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if d.public && s.learned == "" {
		s.learned = d.hostPort()
		s.log.Info("hosted: a client dialed a public address", "addr", s.learned)
	}
	if sig, ok := s.byHost[key]; ok {
		return sig
	}
	if len(s.byHost) >= s.max {
		key = "" // overflow rule: further addresses share the default server
		if sig, ok := s.byHost[key]; ok {
			return sig
		}
	}
	var ice []signaling.ICEServer
	switch key {
	case "local":
		// The hosting game itself: it needs no STUN or TURN of its own
		// (peers reach it by its host candidates or their relay here).
	case "":
		ice = iceAt(netip.AddrPortFrom(s.relay, uint16(s.port)).String())
	default:
		ice = iceAt(key)
	}
	sig := &signaling.Server{Logger: s.log.With("dialed", key), Backplane: s.bp, ICEServers: ice, TURNSecret: s.secret}
	s.byHost[key] = sig
	return sig
}

// iceAt is STUN and TURN (UDP) at hostPort; the welcome fills in TURN
// credentials.
func iceAt(hostPort string) []signaling.ICEServer {
	return []signaling.ICEServer{{URLs: []string{"stun:" + hostPort, "turn:" + hostPort + "?transport=udp"}}}
}

// Port is the TCP and UDP port the server listens on.
func (s *Server) Port() int { return s.port }

// LocalURL is the signaling URL the hosting game's own client dials.
func (s *Server) LocalURL() string {
	return "ws://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) + "/ws"
}

// RelayIP is the address of the relay candidates the server hands out.
func (s *Server) RelayIP() netip.Addr { return s.relay }

// PublicAddr is "host:port" for players outside the LAN: Config.PublicAddr
// if set, else the first public address (or DNS name) a client dialed,
// else a public address of this machine's own interfaces (as listed at
// Listen); false if none is known. Cheap: a game may call it every frame. A Host header is the client's word: the learned address is
// for display, never dialed by the server.
func (s *Server) PublicAddr() (string, bool) {
	if s.public != "" {
		return s.public, true
	}
	s.mu.Lock()
	learned := s.learned
	s.mu.Unlock()
	if learned != "" {
		return learned, true
	}
	return s.own, s.own != ""
}

// Stats sums the signaling servers' counters (rooms, joins, TURN
// allocations and refusals).
func (s *Server) Stats() signaling.Stats {
	s.mu.Lock()
	servers := []*signaling.Server{s.turn}
	for _, sig := range s.byHost {
		servers = append(servers, sig)
	}
	s.mu.Unlock()
	var sum signaling.Stats
	for _, sig := range servers {
		sum = addStats(sum, sig.Stats())
	}
	return sum
}

// Close stops serving, closes every connection and socket, and waits for
// the server's goroutines; it is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		servers := make([]*signaling.Server, 0, len(s.byHost))
		for _, sig := range s.byHost {
			servers = append(servers, sig)
		}
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, sig := range servers {
			_ = sig.Shutdown(ctx)
		}
		_ = s.http.Shutdown(ctx)
		_ = s.http.Close()
		for _, sig := range servers {
			_ = sig.Close()
		}
		_ = s.turn.Close()
		_ = s.udp.Close()
		_ = s.bp.Close()
	})
	s.wg.Wait()
	return nil
}
