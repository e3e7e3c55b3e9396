//go:build !js

package netcode

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/signaling"
)

// loopTURN is a signaling server on loopback that also runs its embedded
// TURN server (ServeTURN) on 127.0.0.1, relaying from 127.0.0.1. Its
// welcome hands out fresh credentials for the TURN URL.
type loopTURN struct {
	sig  *sigServer
	addr string // host:port of the TURN server
	url  string // its ICE server URL
}

const loopTURNSecret = "loopback-turn-secret"

func startLoopTURN(t *testing.T) *loopTURN {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lt := &loopTURN{addr: pc.LocalAddr().String()}
	lt.url = "turn:" + lt.addr + "?transport=udp"
	lt.sig = startSignalingWith(t, func() *signaling.Server {
		return &signaling.Server{TURNSecret: loopTURNSecret, ICEServers: []signaling.ICEServer{{URLs: []string{lt.url}}}}
	})
	lt.sig.mu.Lock()
	srv := lt.sig.srv
	lt.sig.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeTURN(pc, signaling.TURNRelay{IP: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"})
	}()
	t.Cleanup(func() {
		lt.sig.kill()
		if err := <-done; !errors.Is(err, signaling.ErrServerClosed) {
			t.Errorf("ServeTURN: %v", err)
		}
	})
	return lt
}

// creds returns ICE servers naming the TURN server with credentials made
// from secret that expire after ttl (negative: already expired).
func (lt *loopTURN) creds(secret, user string, ttl time.Duration) meshOpt {
	return func(c *Config) {
		u, p := signaling.TURNCredentials(secret, user, ttl, time.Now())
		c.ICEServers = []ICEServer{{URLs: []string{lt.url}, Username: u, Credential: p}}
	}
}

func relayOnly(c *Config) { c.RelayOnly = true }

// TestTURNRelayOnly: with RelayOnly and the credentials signaling hands
// out, two peers on loopback connect through signaling's embedded TURN
// server, and Stats calls the link relayed.
func TestTURNRelayOnly(t *testing.T) {
	checkLeaks(t)
	lt := startLoopTURN(t)
	a := join(t, lt.sig.url(), "room", "a", relayOnly)
	b := join(t, lt.sig.url(), "room", "b", relayOnly)
	waitMesh(t, 20*time.Second, a, b)
	for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
		ps, _ := pair[0].Stats().Peer(pair[1].Local())
		if ps.Link != LinkRelay || ps.LocalCandidate != LinkRelay || !ps.Relayed() || ps.Direct() || ps.Link.Class() != LinkRelayed {
			t.Errorf("%s: link %v (local %v, remote %v), class %v, Relayed %v, Direct %v; want relay, relayed",
				pair[0].cfg.Name, ps.Link, ps.LocalCandidate, ps.RemoteCandidate, ps.Link.Class(), ps.Relayed(), ps.Direct())
		}
		if err := pair[0].Channel("rel").Send(pair[1].Local(), []byte("via turn")); err != nil {
			t.Fatal(err)
		}
		if got := recvN(t, pair[1].Channel("rel"), 1, 5*time.Second)[0]; string(got.Data) != "via turn" {
			t.Errorf("got %q", got.Data)
		}
	}
}

// TestRelayOnlyWithoutTURN: RelayOnly with ICE servers from a signaling
// server that has no TURN server fails Join at once.
func TestRelayOnlyWithoutTURN(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	m, err := tryJoin(t, sig.url(), "room", "a", relayOnly)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(fmt.Sprint(err), "TURN") {
		t.Errorf("Join = %v, %v; want an ErrInvalidConfig naming TURN", m, err)
	}
}

// TestTURNRefusedLoopback: RelayOnly peers whose TURN credentials the
// server refuses (expired an hour ago, or made with another secret) fail
// at once, and the EventFailed error names the TURN server and its 401,
// matching ErrTURNAuth.
func TestTURNRefusedLoopback(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		ttl    time.Duration
	}{
		{"expired", loopTURNSecret, -time.Hour},
		{"wrong secret", "not-the-secret", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			lt := startLoopTURN(t)
			a := join(t, lt.sig.url(), "room", "a", relayOnly, lt.creds(tt.secret, "a", tt.ttl))
			b := join(t, lt.sig.url(), "room", "b", relayOnly, lt.creds(tt.secret, "b", tt.ttl))
			// Well before ConnectTimeout (15 s): the peer fails as soon
			// as gathering ends without a candidate.
			for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
				checkTURNFailure(t, pair[0], pair[1], 8*time.Second, lt.addr, lt.url)
			}
		})
	}
}

// checkTURNFailure waits for m's EventFailed about other and checks that
// its error is a TURN 401 from server (and url, if not "").
func checkTURNFailure(t *testing.T, m, other *Mesh, within time.Duration, server, url string) {
	t.Helper()
	l := &eventLog{m: m}
	start := time.Now()
	var ev Event
	waitFor(t, within, fmt.Sprintf("%s: EventFailed for %s", m.cfg.Name, other.Local()), func() bool {
		var ok bool
		ev, ok = l.find(EventFailed, other.Local())
		return ok
	})
	t.Logf("%s: after %v: %v", m.cfg.Name, time.Since(start).Round(time.Millisecond), ev)
	if l.has(EventConnected, other.Local()) {
		t.Errorf("%s connected to %s without a usable TURN server", m.cfg.Name, other.cfg.Name)
	}
	var te *TURNError
	switch {
	case !errors.Is(ev.Err, ErrTURNAuth) || !errors.Is(ev.Err, ErrTURN):
		t.Errorf("%s: error %v does not match ErrTURNAuth and ErrTURN", m.cfg.Name, ev.Err)
	case !errors.As(ev.Err, &te):
		t.Errorf("%s: error %v holds no *TURNError", m.cfg.Name, ev.Err)
	case te.Code != 401 || te.Server != server || url != "" && te.URL != url:
		t.Errorf("%s: TURNError{Server %q, URL %q, Code %d}, want %q, %q, 401", m.cfg.Name, te.Server, te.URL, te.Code, server, url)
	}
	if msg := ev.Err.Error(); !strings.Contains(msg, "TURN") || !strings.Contains(msg, "401") || !strings.Contains(msg, server) {
		t.Errorf("%s: message %q does not name TURN, 401 and %s", m.cfg.Name, msg, server)
	}
}

// TestVNetTURNExpired is the netlab's TestTURNExpired on a virtual
// network: both peers behind symmetric NATs, so only TURN could connect
// them, with TURN credentials that expired an hour ago. They still gather
// host and server-reflexive candidates, so ICE runs until it fails; the
// EventFailed error then names the TURN server and its 401.
func TestVNetTURNExpired(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, symmetric, symmetric, impair{}, impair{})
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(turnSecret, "player", -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired := func(c *Config) {
		c.ICEServers = []ICEServer{
			{URLs: []string{"stun:1.2.3.4:3478"}},
			{URLs: []string{"turn:1.2.3.4:3478?transport=udp"}, Username: user, Credential: pass},
		}
		c.ICEDisconnectedTimeout, c.ICEFailedTimeout = time.Second, 2*time.Second
	}
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), expired)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), expired)
	for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
		checkTURNFailure(t, pair[0], pair[1], 12*time.Second, "1.2.3.4:3478", "turn:1.2.3.4:3478?transport=udp")
	}
}

// TestTURNFailure pins the recognition of pion/ice's log call for a
// failed allocation (gather.go: "failed to allocate on TURN client %s
// %s", server, err) and the TURNError it becomes.
func TestTURNFailure(t *testing.T) {
	refusal := func(code stun.ErrorCode, reason string) error {
		return &stun.TurnError{
			StunMessageType: stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse),
			ErrorCodeAttr:   stun.ErrorCodeAttribute{Code: code, Reason: []byte(reason)},
		}
	}
	timeout := errors.New("all retransmissions failed")
	const pionFormat = "failed to allocate on TURN client %s %s"
	tests := []struct {
		name     string
		format   string
		args     []any
		want     *TURNError // nil: not a TURN failure
		auth     bool
		contains []string
	}{
		{"401", pionFormat, []any{"10.0.0.1:3478", refusal(401, "Unauthorized")},
			&TURNError{Server: "10.0.0.1:3478", Code: 401, Reason: "Unauthorized"}, true,
			[]string{"TURN server 10.0.0.1:3478", "401 Unauthorized", "expired"}},
		{"441", pionFormat, []any{"10.0.0.1:3478", refusal(441, "Wrong Credentials")},
			&TURNError{Server: "10.0.0.1:3478", Code: 441, Reason: "Wrong Credentials"}, true, []string{"441"}},
		{"486 quota", pionFormat, []any{"10.0.0.1:3478", refusal(486, "Allocation Quota Reached")},
			&TURNError{Server: "10.0.0.1:3478", Code: 486, Reason: "Allocation Quota Reached"}, false, []string{"486"}},
		{"no answer", pionFormat, []any{"10.0.0.1:3478", timeout},
			&TURNError{Server: "10.0.0.1:3478"}, false, []string{"TURN allocation on 10.0.0.1:3478 failed: all retransmissions"}},
		{"wrapped, reworded", "relay gathering: %v", []any{fmt.Errorf("alloc: %w", refusal(401, "Unauthorized"))},
			&TURNError{Code: 401, Reason: "Unauthorized"}, true, []string{"401"}},
		{"hostile reason", pionFormat, []any{"10.0.0.1:3478", refusal(401, "Bad\x1b[31m\nnews"+strings.Repeat("x", 500))},
			&TURNError{Server: "10.0.0.1:3478", Code: 401, Reason: "Bad[31m news" + strings.Repeat("x", 64-12)}, true, nil},
		{"401 without a reason phrase", pionFormat, []any{"10.0.0.1:3478", refusal(401, "")},
			&TURNError{Server: "10.0.0.1:3478", Code: 401, Reason: "Unauthorized"}, true,
			[]string{"refused the allocation: 401 Unauthorized (credentials"}},
		{"a TURN refusal of another method", "refresh failed: %v", []any{&stun.TurnError{
			StunMessageType: stun.NewType(stun.MethodRefresh, stun.ClassErrorResponse),
			ErrorCodeAttr:   stun.ErrorCodeAttribute{Code: 401}}}, nil, false, nil},
		{"another warning", "Failed to listen %s: %v", []any{"udp4", timeout}, nil, false, nil},
	}
	for _, tt := range tests {
		got := turnFailure(tt.format, tt.args)
		if (got == nil) != (tt.want == nil) {
			t.Errorf("%s: turnFailure = %v, want %v", tt.name, got, tt.want)
			continue
		}
		if got == nil {
			continue
		}
		if got.Server != tt.want.Server || got.Code != tt.want.Code || got.Reason != tt.want.Reason || got.Err == nil {
			t.Errorf("%s: got {%q %d %q %v}, want {%q %d %q, an Err}", tt.name, got.Server, got.Code, got.Reason, got.Err,
				tt.want.Server, tt.want.Code, tt.want.Reason)
		}
		if errors.Is(got, ErrTURNAuth) != tt.auth || !errors.Is(got, ErrTURN) {
			t.Errorf("%s: Is(ErrTURNAuth) = %v, want %v; Is(ErrTURN) = %v", tt.name, errors.Is(got, ErrTURNAuth), tt.auth, errors.Is(got, ErrTURN))
		}
		for _, c := range tt.contains {
			if !strings.Contains(got.Error(), c) {
				t.Errorf("%s: %q lacks %q", tt.name, got.Error(), c)
			}
		}
	}
}

// TestTURNWatchForwards: the per-connection logger factory passes every
// line through and reports only the ICE scope's allocation failures.
func TestTURNWatchForwards(t *testing.T) {
	var got []*TURNError
	rec := &recordingFactory{}
	w := turnWatch{inner: rec, report: func(e *TURNError) { got = append(got, e) }}
	ice, other := w.NewLogger("ice"), w.NewLogger("turnc")
	ice.Warnf("failed to allocate on TURN client %s %s", "127.0.0.1:1", errors.New("x"))
	ice.Errorf("failed to allocate on TURN client %s %s", "127.0.0.1:2", errors.New("y"))
	ice.Infof("failed to allocate on TURN client %s %s", "127.0.0.1:3", errors.New("z")) // not a warning
	other.Warnf("failed to allocate on TURN client %s %s", "127.0.0.1:4", errors.New("w"))
	ice.Debug("d")
	if len(got) != 2 || got[0].Server != "127.0.0.1:1" || got[1].Server != "127.0.0.1:2" {
		t.Errorf("reported %v, want the ICE warning and error", got)
	}
	if want := []string{"ice:warn", "ice:error", "ice:info", "turnc:warn", "ice:debug"}; fmt.Sprint(rec.lines) != fmt.Sprint(want) {
		t.Errorf("forwarded %v, want %v", rec.lines, want)
	}
}

func TestTURNURL(t *testing.T) {
	servers := []webrtc.ICEServer{
		{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"}},
		{URLs: []string{"turn:relay.example.com:3479"}},
	}
	tests := map[string]string{
		"127.0.0.1:3478":        "turn:127.0.0.1:3478?transport=udp",
		"turn.example.com:5349": "turns:turn.example.com:5349?transport=tcp",
		"192.0.2.7:3479":        "turn:relay.example.com:3479", // resolved by pion; the only TURN URL on that port
		"192.0.2.7:9999":        "",
		"garbage":               "",
	}
	for server, want := range tests {
		if got := turnURL(server, servers); got != want {
			t.Errorf("turnURL(%q) = %q, want %q", server, got, want)
		}
	}
}

// recordingFactory records "scope:level" for every line logged.
type recordingFactory struct{ lines []string }

func (f *recordingFactory) NewLogger(scope string) logging.LeveledLogger {
	return recordingLogger{f: f, scope: scope}
}

type recordingLogger struct {
	f     *recordingFactory
	scope string
}

func (l recordingLogger) rec(level string)      { l.f.lines = append(l.f.lines, l.scope+":"+level) }
func (l recordingLogger) Trace(string)          { l.rec("trace") }
func (l recordingLogger) Tracef(string, ...any) { l.rec("trace") }
func (l recordingLogger) Debug(string)          { l.rec("debug") }
func (l recordingLogger) Debugf(string, ...any) { l.rec("debug") }
func (l recordingLogger) Info(string)           { l.rec("info") }
func (l recordingLogger) Infof(string, ...any)  { l.rec("info") }
func (l recordingLogger) Warn(string)           { l.rec("warn") }
func (l recordingLogger) Warnf(string, ...any)  { l.rec("warn") }
func (l recordingLogger) Error(string)          { l.rec("error") }
func (l recordingLogger) Errorf(string, ...any) { l.rec("error") }
