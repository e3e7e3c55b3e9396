package netplay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerplay/peerplay/signaling"
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

// Server is the signaling server (with STUN on the same port number, UDP)
// that a hosting game embeds, so two players on a LAN need nothing else.
type Server struct {
	sig  *signaling.Server
	web  *webMux // signaling, plus the browser build once ServeWeb set one
	http *http.Server
	ln   net.Listener
	udp  net.PacketConn
	wg   sync.WaitGroup
	once sync.Once
	port int
}

// StartServer listens on addr (e.g. ":7700"; port 0 picks one) for
// WebSocket signaling (TCP) and STUN (UDP, same port).
func StartServer(addr string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netplay: signaling listener: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	host, _, _ := net.SplitHostPort(addr)
	udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("netplay: STUN listener: %w", err)
	}
	s := &Server{
		sig:  &signaling.Server{Logger: log},
		ln:   ln,
		udp:  udp,
		port: port,
	}
	// Peers learn STUN from the welcome; a LAN address reaches this
	// machine from the LAN (and port-forwarded, from the internet).
	if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
		// Listening on one address only: STUN answers there alone.
		s.sig.ICEServers = []signaling.ICEServer{{URLs: []string{"stun:" + netip.AddrPortFrom(ip, uint16(port)).String()}}}
	} else if ip, ok := LANAddr(); ok {
		s.sig.ICEServers = []signaling.ICEServer{{URLs: []string{"stun:" + netip.AddrPortFrom(ip, uint16(port)).String()}}}
	}
	s.web = &webMux{sig: s.sig}
	s.http = &http.Server{Handler: s.web, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("netplay: signaling server", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.sig.ServeSTUN(udp); err != nil && !errors.Is(err, signaling.ErrServerClosed) {
			log.Debug("netplay: STUN server", "err", err)
		}
	}()
	return s, nil
}

// Port is the TCP (and UDP) port the server listens on.
func (s *Server) Port() int { return s.port }

// Close stops the server and waits for its goroutines; it is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.sig.Shutdown(ctx)
		_ = s.http.Shutdown(ctx)
		_ = s.sig.Close()
		_ = s.http.Close()
		_ = s.udp.Close()
	})
	s.wg.Wait()
	return nil
}

// LANAddr returns this machine's first private IPv4 address (the one a
// friend on the LAN dials), from the interface list; it sends nothing.
func LANAddr() (netip.Addr, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, false
	}
	var fallback netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr().Unmap()
		if !ip.Is4() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		if ip.IsPrivate() {
			return ip, true
		}
		if !fallback.IsValid() {
			fallback = ip
		}
	}
	return fallback, fallback.IsValid()
}
