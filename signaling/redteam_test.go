package signaling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/peerplay/peerplay/signaling/internal/proto"
	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// Attacks of issue #14, each over real loopback sockets. Each failed on
// main before the fix.

// turnClient allocates on the TURN server at addr; the caller closes.
func turnClient(t *testing.T, addr, user, pass string) *turn.Client {
	t.Helper()
	conn := listenUDP(t)
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: DefaultTURNRealm, LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	return c
}

// allocate allocates on c; the relay is closed at cleanup.
func allocate(t *testing.T, c *turn.Client) error {
	t.Helper()
	relay, err := c.Allocate()
	if err == nil {
		t.Cleanup(func() { _ = relay.Close() })
	}
	return err
}

// turnServer serves TURN for srv on loopback and returns its address.
func turnServer(t *testing.T, srv *Server) string {
	t.Helper()
	pc := listenUDP(t)
	serveUDP(t, srv, func() error { return srv.ServeTURN(pc, TURNRelay{IP: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}) })
	return pc.LocalAddr().String()
}

// TestRedteamTURNInternalPeers: a relay to loopback, RFC 1918, link-local
// or the server's own address is refused; a public address is allowed
// (CreatePermission only: no packet is sent to it); the allow list opens
// a LAN range. The decision table covers every range.
func TestRedteamTURNInternalPeers(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true}
	addr := turnServer(t, srv)
	user, pass := TURNCredentials(secret, "mallory@r", time.Hour, time.Now())
	c := turnClient(t, addr, user, pass)
	if err := allocate(t, c); err != nil {
		t.Fatalf("allocate: %v", err)
	}
	// 127.0.0.1 is this test server's relay IP: a permission to it is
	// granted (relay to relay), but the relay reaches no other port there
	// (TestRedteamTURNRelayToRelay). Any other loopback address is refused.
	targets := []string{"127.0.0.2", "10.0.0.1", "169.254.0.1", "192.168.1.1", "100.64.0.1"}
	own := ownPrefixes(nil)
	for _, p := range own {
		if a := p.Addr(); a.Is4() && !a.IsLoopback() {
			targets = append(targets, a.String()) // the server's own address
			break
		}
	}
	for _, ip := range targets {
		err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9})
		if err == nil {
			t.Errorf("permission to %s granted", ip)
		}
	}
	if err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP("203.0.113.9"), Port: 9}); err != nil {
		t.Errorf("permission to a public address refused: %v", err)
	}
	if n := srv.Stats().Refusals[RefuseTURNPeer]; n < uint64(len(targets)) {
		t.Errorf("turn_peer refusals %d, want >= %d", n, len(targets))
	}

	lan := []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}
	for _, tc := range []struct {
		ip    string
		allow []netip.Prefix
		want  bool
	}{
		{"127.0.0.1", nil, false}, {"127.1.2.3", nil, false}, {"10.1.2.3", nil, false},
		{"172.16.0.1", nil, false}, {"172.31.255.255", nil, false}, {"192.168.0.1", nil, false},
		{"100.64.0.1", nil, false}, {"100.127.255.255", nil, false}, {"169.254.1.1", nil, false},
		{"224.0.0.1", nil, false}, {"239.1.1.1", nil, false}, {"0.0.0.0", nil, false},
		{"255.255.255.255", nil, false}, {"::1", nil, false}, {"::", nil, false},
		{"fd00::1", nil, false}, {"fe80::1", nil, false}, {"ff02::1", nil, false},
		{"::ffff:127.0.0.1", nil, false}, {"::ffff:10.0.0.1", nil, false},
		{"192.168.1.7", lan, true}, {"10.0.0.1", lan, false},
		{"8.8.8.8", nil, true}, {"203.0.113.9", nil, true}, {"100.128.0.1", nil, true},
		{"2001:db8::1", nil, true}, {"172.32.0.1", nil, true},
		{"198.51.100.7", []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32")}, true},
	} {
		if got := TURNPeerAllowed(net.ParseIP(tc.ip), nil, tc.allow); got != tc.want {
			t.Errorf("TURNPeerAllowed(%s, allow %v) = %v, want %v", tc.ip, tc.allow, got, tc.want)
		}
	}
	self := []netip.Prefix{netip.MustParsePrefix("203.0.113.9/32")}
	if TURNPeerAllowed(net.ParseIP("203.0.113.9"), self, nil) {
		t.Error("the server's own (public) address allowed")
	}
}

// TestRedteamTURNTCPAndQuota: a TCP allocation (RFC 6062) is refused by
// default; one credential gets at most TURNMaxAllocationsPerUser
// allocations.
func TestRedteamTURNTCPAndQuota(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true, TURNMaxAllocationsPerUser: 3}
	addr := turnServer(t, srv)
	user, pass := TURNCredentials(secret, "mallory@r", time.Hour, time.Now())
	if _, err := turnClient(t, addr, user, pass).AllocateTCP(); err == nil {
		t.Fatal("TCP allocation granted")
	}
	granted := 0
	for range 10 {
		if err := allocate(t, turnClient(t, addr, user, pass)); err == nil {
			granted++
		}
	}
	if granted != 3 {
		t.Fatalf("%d allocations granted to one credential, quota 3", granted)
	}
	st := srv.Stats()
	if st.Refusals[RefuseTURNUser] == 0 || st.Refusals[RefuseTURNTCP] == 0 {
		t.Fatalf("refusals %v", st.Refusals)
	}
}

// TestRedteamTURNCredentials: credentials of a peer that is not seated, or
// expired ones, do not allocate; a seated member's do, and the ice
// message refreshes them while it stays.
func TestRedteamTURNCredentials(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNCredentialTTL: 2 * time.Second,
		ICEServers: []ICEServer{{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}}}}
	addr := turnServer(t, srv)
	url, _ := testServer(t, srv)
	c := dial(t, url, "r", DialOptions{})
	ice := c.ICEServers()
	if err := allocate(t, turnClient(t, addr, ice[0].Username, ice[0].Credential)); err != nil {
		t.Fatalf("a seated member's credential: %v", err)
	}
	nonMember, nmPass := TURNCredentials(secret, "zzzzzzzzzzzzzzzz@r", time.Hour, time.Now())
	if err := allocate(t, turnClient(t, addr, nonMember, nmPass)); err == nil {
		t.Fatal("a non-member's credential allocated")
	}
	expired, exPass := TURNCredentials(secret, string(c.Local())+"@r", -time.Second, time.Now())
	if err := allocate(t, turnClient(t, addr, expired, exPass)); err == nil {
		t.Fatal("an expired credential allocated")
	}
	// Refreshed at half the TTL while seated.
	deadline := time.Now().Add(30 * time.Second)
	for c.ICEServers()[0].Username == ice[0].Username {
		if time.Now().After(deadline) {
			t.Fatal("no refreshed credential")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dialerFrom is a DialOptions whose connections come from local address ip.
func dialerFrom(ip string) DialOptions {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

// TestRedteamFillRooms: one address joins new rooms and drops the
// connection as fast as it can (each seat held for the resume grace); an
// honest client from another address still creates and joins a room, and
// the listing stays small.
func TestRedteamFillRooms(t *testing.T) {
	srv := &Server{MaxRooms: 200}
	url, base := testServer(t, srv)
	ctx := testCtx(t)
	// Joins that drop the connection: each seat (and room) is held for
	// the resume grace.
	created := 0
	for i := range 300 {
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			continue
		}
		_ = ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(&proto.Frame{Type: proto.TypeJoin, Version: ProtocolVersion, Room: fmt.Sprintf("held-%d", i)}))
		if _, b, err := ws.Read(ctx); err == nil {
			if f, _ := proto.DecodeFrame(b, 0); f.Type == proto.TypeWelcome {
				created++
			}
		}
		_ = ws.CloseNow()
	}
	rooms, _ := srv.Rooms(ctx)
	if len(rooms) > DefaultMaxRoomsPerIP {
		t.Fatalf("one address holds %d rooms, cap %d", len(rooms), DefaultMaxRoomsPerIP)
	}
	o := dialerFrom("127.0.0.2")
	honest := dial(t, url, "honest", o)
	friend := dial(t, url, "honest", dialerFrom("127.0.0.2"))
	expect(t, honest, EventPeerJoined, friend.Local())
	resp, err := http.Get(base + "/rooms?limit=100000")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("attacker: %d of 300 joins created a room; /rooms %d bytes; refusals %v", created, len(body), srv.Stats().Refusals)
	if len(body) > 64<<10 {
		t.Fatalf("/rooms is %d bytes", len(body))
	}
}

// TestRedteamPasswordGuessing: guesses from one address are limited to
// FailureBurst + FailuresPerMinute; the right password from another
// address still gets in.
func TestRedteamPasswordGuessing(t *testing.T) {
	srv := &Server{}
	url, _ := testServer(t, srv)
	dial(t, url, "vault", DialOptions{Password: "correct horse"})
	ctx := testCtx(t)
	start := time.Now()
	tries := 0
	for range 200 {
		tries++
		if _, err := Dial(ctx, url, "vault", DialOptions{Password: fmt.Sprint("guess", tries)}); errors.Is(err, ErrRoomFull) {
			break
		}
	}
	elapsed := time.Since(start)
	checked := srv.Stats().Refusals[RefuseBadPassword]
	allowed := float64(DefaultFailureBurst) + DefaultFailuresPerMinute*elapsed.Minutes() + 1
	t.Logf("%d guesses in %v: %d checked (allowed %.1f), %v", tries, elapsed, checked, allowed, srv.Stats().Refusals)
	if float64(checked) > allowed {
		t.Fatalf("%d passwords checked in %v, the rate allows %.1f", checked, elapsed, allowed)
	}
	dial(t, url, "vault", func() DialOptions { o := dialerFrom("127.0.0.2"); o.Password = "correct horse"; return o }())
}

// TestRedteamStolenResumeToken: the token rotates on every resume, so a
// stolen one is void after the owner's next resume.
func TestRedteamStolenResumeToken(t *testing.T) {
	url, _ := testServer(t, &Server{})
	owner := rawDial(t, url, nil)
	owner.send(joinFrame("r"))
	w, err := owner.recv()
	if err != nil || w.Type != proto.TypeWelcome {
		t.Fatalf("welcome %+v %v", w, err)
	}
	stolen := w.Resume
	_ = owner.ws.CloseNow()
	again := rawDial(t, url, nil)
	again.send(map[string]any{"type": "join", "version": ProtocolVersion, "room": "r", "peer": w.Peer, "resume": stolen})
	w2, err := again.recv()
	if err != nil || w2.Type != proto.TypeWelcome || w2.Resume == stolen || w2.Resume == "" {
		t.Fatalf("resume: %+v %v (token must rotate)", w2, err)
	}
	thief := rawDial(t, url, nil)
	thief.send(map[string]any{"type": "join", "version": ProtocolVersion, "room": "r", "peer": w.Peer, "resume": stolen})
	thief.expectError(CodeResumeFailed)
}

// TestRedteamJoinTokenReuse: one join token admits one seat.
func TestRedteamJoinTokenReuse(t *testing.T) {
	secret := []byte("k")
	url, _ := testServer(t, &Server{TokenSecret: secret})
	tok, _ := MintToken(secret, TokenClaims{Room: "r", Expiry: time.Now().Add(time.Hour)})
	dial(t, url, "r", DialOptions{Token: tok})
	seats := 1
	for range 4 {
		if c, err := Dial(testCtx(t), url, "r", DialOptions{Token: tok}); err == nil {
			seats++
			defer c.Close()
		} else if !errors.Is(err, ErrBadToken) {
			t.Fatalf("reuse: %v", err)
		}
	}
	if seats != 1 {
		t.Fatalf("one token took %d seats", seats)
	}
}

// TestRedteamRoomOwner: a member that is not the owner cannot rewrite the
// listing nor kick; the owner can, and a kicked member is out at once
// (kicked, no grace, no resume).
func TestRedteamRoomOwner(t *testing.T) {
	srv := &Server{}
	url, _ := testServer(t, srv)
	host := dial(t, url, "r", DialOptions{GameID: "pong"})
	griefer := dial(t, url, "r", DialOptions{GameID: "pong"})
	expect(t, host, EventPeerJoined, griefer.Local())
	if err := griefer.SetRoomInfo(RoomMeta{Name: "spam", Game: "chess", Max: 2}); err != nil {
		t.Fatal(err)
	}
	if err := griefer.Kick(host.Local()); err != nil {
		t.Fatal(err)
	}
	// Whenever the griefer's requests arrive, they change nothing: the
	// next room event carries only the host's change.
	if err := host.SetRoomInfo(RoomMeta{State: "lobby"}); err != nil {
		t.Fatal(err)
	}
	ev := expect(t, host, EventRoomUpdated, "")
	if ev.Room.Name != "" || ev.Room.Game != "pong" || ev.Room.State != "lobby" || ev.Room.Owner != host.Local() {
		t.Fatalf("room after a non-owner's update: %+v", ev.Room)
	}
	friend := dial(t, url, "r", DialOptions{GameID: "pong"})
	expect(t, host, EventPeerJoined, friend.Local())
	// The griefer's connection is not ordered with the host's: wait for
	// both refusals (bounded).
	deadline := time.Now().Add(30 * time.Second)
	for srv.Stats().Refusals[RefuseNotOwner] != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("not_owner refusals %d, want 2", srv.Stats().Refusals[RefuseNotOwner])
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The owner kicks the griefer.
	if err := host.Kick(griefer.Local()); err != nil {
		t.Fatal(err)
	}
	expect(t, host, EventPeerLeft, griefer.Local())
	for {
		ev := next(t, griefer)
		if ev.Kind == EventFailed {
			if !errors.Is(ev.Err, ErrKicked) {
				t.Fatalf("griefer failed with %v, want kicked", ev.Err)
			}
			break
		}
	}
}

// TestRedteamOriginRefused: a refused origin reaches a browser as a
// WebSocket close (4403, reason origin), which the client maps to
// ErrOrigin; so do the rate and capacity refusals.
func TestRedteamOriginRefused(t *testing.T) {
	url, _ := testServer(t, &Server{})
	h := http.Header{"Origin": []string{"https://evil.example"}}
	// What a browser sees: the upgrade succeeds, then a close.
	ws, _, err := websocket.Dial(testCtx(t), url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("the refusal must be an accepted upgrade: %v", err)
	}
	for {
		if _, _, err = ws.Read(testCtx(t)); err != nil {
			break
		}
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4403 || ce.Reason != string(CodeOrigin) {
		t.Fatalf("close %v, want 4403 origin", err)
	}
	if _, err := Dial(testCtx(t), url, "r", DialOptions{Header: h}); !errors.Is(err, ErrOrigin) {
		t.Fatalf("Dial: %v, want ErrOrigin", err)
	}
}

// TestCloseErrorMapping is the js-equivalent test of the browser's view:
// under js/wasm coder/websocket reports a close as a CloseError with the
// code and reason of the browser's CloseEvent, and closeError maps it to
// the sentinel errors as for a native client.
func TestCloseErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		ce   websocket.CloseError
		want error
	}{
		{websocket.CloseError{Code: 4403, Reason: "origin"}, ErrOrigin},
		{websocket.CloseError{Code: 4403}, ErrOrigin},
		{websocket.CloseError{Code: 4429, Reason: "rate_limited"}, ErrRateLimited},
		{websocket.CloseError{Code: 4429, Reason: "too_many_connections"}, ErrTooManyConns},
		{websocket.CloseError{Code: 4429}, ErrRateLimited},
		{websocket.CloseError{Code: 4503, Reason: "too_many_connections"}, ErrTooManyConns},
		{websocket.CloseError{Code: 4503, Reason: "shutdown"}, ErrShutdown},
		{websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: "kicked"}, ErrKicked},
		{websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: "room_full"}, ErrRoomFull},
	} {
		err := fmt.Errorf("read: %w", tc.ce)
		if got := proto.CloseError(err); got == nil || !errors.Is(got, tc.want) {
			t.Errorf("closeError(%v) = %v, want %v", tc.ce, got, tc.want)
		}
	}
	if proto.CloseError(websocket.CloseError{Code: websocket.StatusNormalClosure}) != nil || proto.CloseError(io.EOF) != nil {
		t.Error("a normal close or EOF mapped to a server error")
	}
}

// TestRedteamConnCapCountsHeldSeats: seats held for a resume count toward
// MaxConnsPerIP, so join-and-drop cannot exceed it.
func TestRedteamConnCapCountsHeldSeats(t *testing.T) {
	srv := &Server{MaxConnsPerIP: 5, MaxRoomsPerIP: -1, RoomsPerMinute: -1}
	url, _ := testServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	joined := 0
	for i := range 20 {
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			continue
		}
		_ = ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(&proto.Frame{Type: proto.TypeJoin, Version: ProtocolVersion, Room: fmt.Sprint("h", i)}))
		_, b, err := ws.Read(ctx)
		if err == nil {
			if f, _ := proto.DecodeFrame(b, 0); f.Type == proto.TypeWelcome {
				joined++
			}
		}
		_ = ws.CloseNow()
		// Wait until the server saw the drop (the seat is held).
		deadline := time.Now().Add(10 * time.Second)
		for srv.Stats().Connections > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if joined != 5 {
		t.Fatalf("%d seats from one address, cap 5 (held seats count)", joined)
	}
	dial(t, url, "other", dialerFrom("127.0.0.2"))
}

// TestCoturnGuards: Debian's coturn with the settings README recommends
// (denied-peer-ip, no-tcp-relay, user-quota) accepts our credentials (user
// "<peer>@<room>") and refuses a relay to loopback, a TCP allocation and
// allocations beyond the user quota.
func TestCoturnGuards(t *testing.T) {
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("turnserver (coturn) not found: install it (apt-get install coturn); this test needs it: %v", err)
	}
	const secret = "guard-secret"
	port := freeUDPPort(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"-n", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port=" + strconv.Itoa(port),
		"--min-port=49152", "--max-port=65535",
		"--use-auth-secret", "--static-auth-secret=" + secret, "--realm=peerplay",
		"--no-tcp-relay", "--user-quota=2", "--total-quota=100", "--no-multicast-peers",
		"--denied-peer-ip=0.0.0.0-0.255.255.255", "--denied-peer-ip=10.0.0.0-10.255.255.255",
		"--denied-peer-ip=100.64.0.0-100.127.255.255", "--denied-peer-ip=127.0.0.0-127.255.255.255",
		"--denied-peer-ip=169.254.0.0-169.254.255.255", "--denied-peer-ip=172.16.0.0-172.31.255.255",
		"--denied-peer-ip=192.168.0.0-192.168.255.255",
		"--userdb=" + filepath.Join(dir, "turndb"), "--log-file=" + filepath.Join(dir, "turn.log"),
		"--pidfile=" + filepath.Join(dir, "turn.pid"), "--simple-log", "--no-stdout-log"}
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start turnserver: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	user, pass := TURNCredentials(secret, "abcdefghijklmnop@lobby-1", time.Hour, time.Now())
	var first *turn.Client
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := turnClient(t, addr, user, pass)
		if allocate(t, c) == nil {
			first = c
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "turn.log"))
			t.Fatalf("coturn refused our credentials\n%s\n%s", out.String(), log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := first.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err == nil {
		t.Error("coturn granted a permission to loopback")
	}
	if err := first.CreatePermission(&net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9}); err == nil {
		t.Error("coturn granted a permission to 10.0.0.1")
	}
	if _, err := turnClient(t, addr, user, pass).AllocateTCP(); err == nil {
		t.Error("coturn granted a TCP allocation")
	}
	if err := allocate(t, turnClient(t, addr, user, pass)); err != nil {
		t.Fatalf("second allocation (quota 2): %v", err)
	}
	if err := allocate(t, turnClient(t, addr, user, pass)); err == nil {
		t.Error("coturn granted a third allocation with user-quota 2")
	}
}

// TestHeldSeatsListed: a seat held for the resume grace is listed as
// held, not as a player (issue #15's room accounting too).
func TestHeldSeatsListed(t *testing.T) {
	url, base := testServer(t, &Server{})
	dial(t, url, "r", DialOptions{})
	rc := rawDial(t, url, nil)
	rc.send(joinFrame("r"))
	if f, err := rc.recv(); err != nil || f.Type != proto.TypeWelcome {
		t.Fatalf("join: %+v %v", f, err)
	}
	_ = rc.ws.CloseNow() // dropped, not left: the seat is held
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := getRooms(t, base, "")
		if len(got) == 1 && got[0].Players == 1 && got[0].Held == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("listing %+v, want 1 player and 1 held seat", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRoomsPagination: GET /rooms pages with limit and cursor, filters by
// game, and caps the page.
func TestRoomsPagination(t *testing.T) {
	url, base := testServer(t, &Server{})
	for i := range 7 {
		game := "pong"
		if i%2 == 1 {
			game = "chess"
		}
		dial(t, url, fmt.Sprint("room-", i), DialOptions{GameID: game})
	}
	get := func(q string) (rooms []RoomInfo, next string, status int) {
		resp, err := http.Get(base + "/rooms" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var l roomListing
		_ = json.NewDecoder(resp.Body).Decode(&l)
		return l.Rooms, l.Next, resp.StatusCode
	}
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		rooms, next, _ := get("?limit=3&cursor=" + cursor)
		if len(rooms) > 3 || pages > 5 {
			t.Fatalf("page of %d rooms", len(rooms))
		}
		for _, r := range rooms {
			all = append(all, r.Room)
			if r.Owner != "" {
				t.Fatal("the public listing shows the owner")
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 7 || all[0] != "room-0" || all[6] != "room-6" {
		t.Fatalf("pages gave %v", all)
	}
	if rooms, _, _ := get("?game=chess"); len(rooms) != 3 {
		t.Fatalf("?game=chess: %v", rooms)
	}
	if _, _, status := get("?limit=0"); status != http.StatusBadRequest {
		t.Fatalf("limit=0: %d", status)
	}
}

// TestRedteamTURNRelayToRelay: two relay-only peers on one server talk
// relay to relay (the relay IP is allowed), but a relay cannot reach
// another port of the server's own address (its services).
func TestRedteamTURNRelayToRelay(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true}
	addr := turnServer(t, srv)
	ua, pa := TURNCredentials(secret, "a@r", time.Hour, time.Now())
	ub, pb := TURNCredentials(secret, "b@r", time.Hour, time.Now())
	ca, cb := turnClient(t, addr, ua, pa), turnClient(t, addr, ub, pb)
	ra, err := ca.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := cb.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	// Each permits the other's relay address (what ICE does), then a
	// round trip relay to relay.
	if err := cb.CreatePermission(ra.LocalAddr()); err != nil {
		t.Fatalf("permission to a relay of this server: %v", err)
	}
	if _, err := ra.WriteTo([]byte("a to b"), rb.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = rb.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := rb.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "a to b" || from.String() != ra.LocalAddr().String() {
		t.Fatalf("relay to relay: %q from %v, %v", buf[:n], from, err)
	}
	// A service of the server on its own address (the relay IP, another
	// port; issue #14's UDP echo on 127.0.0.1): the permission is granted
	// (same IP) but the relay drops the datagram, and counts it.
	service := listenUDP(t)
	before := srv.Stats().Refusals[RefuseTURNPeer]
	if _, err := ra.WriteTo([]byte("probe"), service.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for srv.Stats().Refusals[RefuseTURNPeer] == before {
		if time.Now().After(deadline) {
			t.Fatal("the relay did not drop a datagram to a service of the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = service.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, _, err := service.ReadFrom(buf); err == nil {
		t.Fatalf("the relay reached a service of the server: %q", buf[:n])
	}
}

// TestRedteamTURNPermissionQuota: one allocation may be permitted to at
// most TURNMaxPermissions peer addresses; a refresh of one it has is fine.
func TestRedteamTURNPermissionQuota(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true, TURNMaxPermissions: 2}
	addr := turnServer(t, srv)
	user, pass := TURNCredentials(secret, "mallory@r", time.Hour, time.Now())
	c := turnClient(t, addr, user, pass)
	if err := allocate(t, c); err != nil {
		t.Fatal(err)
	}
	// CreatePermission only: nothing is sent to these public addresses.
	for i, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9})
		if (err == nil) != (i < 2) {
			t.Fatalf("permission %d (%s): %v", i+1, ip, err)
		}
	}
	if err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP("203.0.113.1"), Port: 9}); err != nil {
		t.Fatalf("refreshing a permission: %v", err)
	}
	if srv.Stats().Refusals[RefuseTURNPerms] == 0 {
		t.Fatal("turn_perms not counted")
	}
}
