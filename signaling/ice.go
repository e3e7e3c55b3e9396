package signaling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// ServeSTUN answers STUN binding requests (RFC 8489) on pc with the
// sender's XOR-MAPPED-ADDRESS, until Close or Shutdown (then it returns
// ErrServerClosed) or a read error. The Server owns pc from then on.
// Anything that is not a well-formed binding request is ignored.
func (s *Server) ServeSTUN(pc net.PacketConn) error {
	if err := s.Validate(); err != nil {
		_ = pc.Close()
		return err
	}
	if !s.trackUDP(pc) {
		_ = pc.Close()
		return ErrServerClosed
	}
	defer s.untrackUDP(pc)
	buf := make([]byte, 1500)
	req, res := new(stun.Message), new(stun.Message)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("signaling: stun read: %w", err)
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok || !stun.IsMessage(buf[:n]) {
			continue
		}
		req.Raw = append(req.Raw[:0], buf[:n]...)
		if req.Decode() != nil || req.Type != stun.BindingRequest {
			continue
		}
		res.Reset()
		if res.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.NewSoftware("peerplay"),
			stun.Fingerprint) != nil {
			continue
		}
		// Count before answering: a client that got its answer sees the
		// count (a failed write is rare and counted anyway).
		s.stats.stun.Add(1)
		_, _ = pc.WriteTo(res.Raw, addr)
	}
}

// TURNRelay says where ServeTURN opens relay sockets.
type TURNRelay struct {
	// IP is the relay address told to clients: the server's public IP
	// (required).
	IP net.IP
	// Address is the local address relay sockets bind to ("" = "0.0.0.0").
	Address string
	// MinPort and MaxPort bound the relay ports (both 0 = any free port).
	MinPort, MaxPort uint16
}

// ServeTURN runs a TURN server (pion/turn) on pc until Close or Shutdown
// (then it returns ErrServerClosed). It accepts the time-limited
// credentials of coturn's use-auth-secret scheme made with the Server's
// TURNSecret (required), as the welcome hands them out, and refuses expired
// or forged ones. It refuses relaying to internal addresses, TCP
// allocations and allocations beyond the quotas (see turnguard.go and the
// TURN... fields of Server). The Server owns pc from then on.
func (s *Server) ServeTURN(pc net.PacketConn, relay TURNRelay) error {
	return s.serveTURN(pc, nil, relay)
}

// serveTURN is ServeTURN and ServeTURNStreams: one pion/turn server on pc
// (may be nil) and the stream listeners lns, whose allocations share one
// relay guard (so relay-to-relay works across transports).
func (s *Server) serveTURN(pc net.PacketConn, lns []net.Listener, relay TURNRelay) error {
	closeAll := func() {
		if pc != nil {
			_ = pc.Close()
		}
		for _, ln := range lns {
			_ = ln.Close()
		}
	}
	if err := s.Validate(); err != nil {
		closeAll()
		return err
	}
	if s.cfg.TURNSecret == "" || relay.IP == nil || (pc == nil && len(lns) == 0) {
		closeAll()
		return fmt.Errorf("%w: ServeTURN needs TURNSecret, a relay IP and a socket", ErrInvalidConfig)
	}
	addr := relay.Address
	if addr == "" {
		addr = "0.0.0.0"
	}
	var gen turn.RelayAddressGenerator = &turn.RelayAddressGeneratorStatic{RelayAddress: relay.IP, Address: addr}
	if relay.MinPort != 0 || relay.MaxPort != 0 {
		gen = &turn.RelayAddressGeneratorPortRange{RelayAddress: relay.IP, Address: addr, MinPort: relay.MinPort, MaxPort: relay.MaxPort}
	}
	perm, quota, events, gen := s.turnGuards(relay.IP, gen)
	if !s.cfg.TURNAllowTCP {
		gen = noTCPRelay{RelayAddressGenerator: gen, s: s}
	}
	lf := slogFactory{s.log}
	conf := turn.ServerConfig{
		Realm:         s.cfg.TURNRealm,
		AuthHandler:   s.turnAuth,
		QuotaHandler:  quota,
		EventHandler:  events,
		LoggerFactory: lf,
	}
	if pc != nil {
		conf.PacketConnConfigs = []turn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: gen, PermissionHandler: perm}}
	}
	for _, ln := range lns {
		conf.ListenerConfigs = append(conf.ListenerConfigs, turn.ListenerConfig{Listener: ln, RelayAddressGenerator: gen, PermissionHandler: perm})
	}
	ts, err := turn.NewServer(conf)
	if err != nil {
		closeAll()
		return fmt.Errorf("%w: turn: %v", ErrInvalidConfig, err)
	}
	done := make(chan struct{})
	cl := &turnCloser{ts: ts, done: done}
	if !s.trackUDP(cl) {
		_ = ts.Close()
		return ErrServerClosed
	}
	s.mu.Lock()
	s.turn = append(s.turn, ts)
	s.mu.Unlock()
	defer s.untrackUDP(cl)
	<-done
	return ErrServerClosed
}

type turnCloser struct {
	ts   *turn.Server
	done chan struct{}
}

func (t *turnCloser) Close() error {
	err := t.ts.Close()
	close(t.done)
	return err
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// trackUDP registers c to be closed by Close/Shutdown; false if closing.
func (s *Server) trackUDP(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.udp == nil {
		s.udp = make(map[io.Closer]struct{})
	}
	s.udp[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrackUDP(c io.Closer) {
	s.mu.Lock()
	delete(s.udp, c)
	if t, ok := c.(*turnCloser); ok {
		for i, ts := range s.turn {
			if ts == t.ts {
				s.turn = append(s.turn[:i], s.turn[i+1:]...)
				break
			}
		}
	}
	s.mu.Unlock()
	s.wg.Done()
}

// slogFactory adapts a *slog.Logger to pion's logging.LoggerFactory.
type slogFactory struct{ l *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLeveled{f.l.With("scope", scope)}
}

type slogLeveled struct{ l *slog.Logger }

func (p slogLeveled) log(lvl slog.Level, msg string) { p.l.Log(context.Background(), lvl, msg) }
func (p slogLeveled) Trace(msg string)               { p.log(slog.LevelDebug-4, msg) }
func (p slogLeveled) Tracef(f string, a ...any)      { p.log(slog.LevelDebug-4, fmt.Sprintf(f, a...)) }
func (p slogLeveled) Debug(msg string)               { p.log(slog.LevelDebug, msg) }
func (p slogLeveled) Debugf(f string, a ...any)      { p.log(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (p slogLeveled) Info(msg string)                { p.log(slog.LevelInfo, msg) }
func (p slogLeveled) Infof(f string, a ...any)       { p.log(slog.LevelInfo, fmt.Sprintf(f, a...)) }
func (p slogLeveled) Warn(msg string)                { p.log(slog.LevelWarn, msg) }
func (p slogLeveled) Warnf(f string, a ...any)       { p.log(slog.LevelWarn, fmt.Sprintf(f, a...)) }
func (p slogLeveled) Error(msg string)               { p.log(slog.LevelError, msg) }
func (p slogLeveled) Errorf(f string, a ...any)      { p.log(slog.LevelError, fmt.Sprintf(f, a...)) }
