package netplay

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/peerplay/peerplay/signaling/hosted"
)

// codeAlphabet leaves out look-alikes (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// NewCode returns a random 4-character room code.
func NewCode() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b[:])
}

// Target is a parsed -join argument.
type Target struct {
	Addr string // HOST:PORT of an embedded signaling server, or "" for a bare code
	Room string
}

// ParseTarget accepts "CODE", "HOST:PORT/CODE" and "ws://HOST:PORT/ws#CODE".
// Codes are case-insensitive: they come back in upper case, as NewCode
// makes them.
func ParseTarget(s string) (Target, error) {
	t, err := parseTarget(s)
	t.Room = strings.ToUpper(t.Room)
	return t, err
}

func parseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '#'); i >= 0 && (strings.HasPrefix(s, "ws://") || strings.HasPrefix(s, "wss://")) {
		return Target{Addr: s[:i], Room: s[i+1:]}, checkRoom(s[i+1:])
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		host, room := s[:i], s[i+1:]
		if _, _, err := net.SplitHostPort(host); err != nil {
			return Target{}, fmt.Errorf("netplay: join target %q: want CODE or HOST:PORT/CODE", s)
		}
		return Target{Addr: host, Room: room}, checkRoom(room)
	}
	return Target{Room: s}, checkRoom(s)
}

func checkRoom(r string) error {
	if r == "" || len(r) > 64 {
		return fmt.Errorf("netplay: bad room code %q", r)
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("netplay: bad room code %q", r)
		}
	}
	return nil
}

// SignalURL turns an Addr of a Target into the WebSocket URL to dial.
func (t Target) SignalURL() string {
	if strings.HasPrefix(t.Addr, "ws://") || strings.HasPrefix(t.Addr, "wss://") {
		return t.Addr
	}
	return "ws://" + t.Addr + "/ws"
}

// Server is the embedded host a hosting game runs (package
// signaling/hosted): signaling on TCP, STUN + TURN on UDP, one port
// number, so one port forward makes the game reachable from the internet.
type Server struct {
	h   *hosted.Server
	web *webMux // signaling, plus the browser build once ServeWeb set one
}

// StartServer listens on addr (e.g. ":7700"; port 0 picks one) for
// WebSocket signaling (TCP) and STUN + TURN (UDP, same port). publicAddr
// ("" = unknown) is how players outside the LAN reach it (-public-addr).
func StartServer(addr, publicAddr string, log *slog.Logger) (*Server, error) {
	s := &Server{web: &webMux{}}
	cfg := hosted.Config{
		Addr: addr, PublicAddr: publicAddr, Logger: log,
		Wrap: func(sig http.Handler) http.Handler { s.web.sig = sig; return s.web },
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
			cfg.RelayIP = ip // listening on one address only: relay there
		}
	}
	h, err := hosted.Listen(cfg)
	if err != nil {
		return nil, fmt.Errorf("netplay: %w", err)
	}
	s.h = h
	return s, nil
}

// Port is the TCP (and UDP) port the server listens on.
func (s *Server) Port() int { return s.h.Port() }

// PublicAddr is "host:port" for players outside the LAN, if known (see
// hosted.Server.PublicAddr).
func (s *Server) PublicAddr() (string, bool) { return s.h.PublicAddr() }

// Close stops the server and waits for its goroutines; it is idempotent.
func (s *Server) Close() error { return s.h.Close() }

// LANAddr returns this machine's first private IPv4 address (the one a
// friend on the LAN dials), from the interface list; it sends nothing.
func LANAddr() (netip.Addr, bool) { return hosted.LANAddr() }
