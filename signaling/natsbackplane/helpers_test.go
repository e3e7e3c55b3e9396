package natsbackplane

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// testTTL is short so that expiry tests finish quickly.
const testTTL = 2 * time.Second

// testLogger writes to the test log when NATSBP_TEST_LOG is set (its value
// is the minimum level), else discards.
func testLogger(t testing.TB, name string) *slog.Logger {
	lvl := os.Getenv("NATSBP_TEST_LOG")
	if lvl == "" {
		return nil
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(lvl))
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: l})).With("who", name)
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// node is one signald node: a Backplane, a signaling.Server and an HTTP
// listener on loopback.
type node struct {
	t    testing.TB
	name string
	bp   *Backplane
	srv  *signaling.Server
	ts   *httptest.Server
	once sync.Once
}

type nodeOpt func(*Config, *signaling.Server)

func startNode(t testing.TB, url, name string, opts ...nodeOpt) *node {
	t.Helper()
	cfg := Config{URL: url, Node: name, TTL: testTTL, Logger: testLogger(t, name)}
	srv := &signaling.Server{MaxConnsPerIP: 10000, Logger: testLogger(t, name+"/srv")}
	for _, o := range opts {
		o(&cfg, srv)
	}
	bp, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	srv.Backplane = bp
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = nil
	ts.Start()
	n := &node{t: t, name: name, bp: bp, srv: srv, ts: ts}
	t.Cleanup(n.close)
	return n
}

func (n *node) wsURL() string    { return "ws" + strings.TrimPrefix(n.ts.URL, "http") + "/ws" }
func (n *node) hostport() string { return strings.TrimPrefix(n.ts.URL, "http://") }

// close shuts the node down gracefully.
func (n *node) close() {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.srv.Shutdown(ctx)
		n.ts.Close()
		_ = n.bp.Close()
	})
}

// kill crashes the node: its NATS connection goes first (no goodbye to
// the registry: its heartbeat and seats stay until they expire), then its
// clients' connections and its listener.
func (n *node) kill() {
	n.once.Do(func() {
		n.bp.nc.Close()
		_ = n.srv.Close()
		n.ts.CloseClientConnections()
		n.ts.Close()
		_ = n.bp.Close()
	})
}

func waitReady(t testing.TB, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := n.bp.Ready(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
	}
}

// waitFor polls cond until it holds; the deadline is a hang guard, not a
// timing assertion.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t testing.TB, url, room string, opts sigclient.DialOptions) *sigclient.Client {
	t.Helper()
	c, err := sigclient.Dial(testCtx(t), url, room, opts)
	if err != nil {
		t.Fatalf("Dial(%s, %s): %v", url, room, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func next(t testing.TB, c *sigclient.Client) signaling.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("%s: events closed", c.Local())
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no event", c.Local())
	}
	return signaling.Event{}
}

// expect skips events of other kinds until one of kind k (from peer, if
// set) arrives.
func expect(t testing.TB, c *sigclient.Client, k signaling.EventKind, peer transport.PeerID) signaling.Event {
	t.Helper()
	for {
		ev := next(t, c)
		if ev.Kind == k && (peer == "" || ev.Peer == peer) {
			return ev
		}
		if ev.Kind == signaling.EventFailed {
			t.Fatalf("%s: failed while waiting for %v: %v", c.Local(), k, ev.Err)
		}
	}
}

// listing fetches GET /rooms from n.
func listing(t testing.TB, n *node) string {
	t.Helper()
	resp, err := http.Get(n.ts.URL + "/rooms")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Sprintf("HTTP %d %s", resp.StatusCode, b)
	}
	var v struct {
		Rooms []signaling.RoomInfo `json:"rooms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("/rooms: %v: %s", err, b)
	}
	out, _ := json.Marshal(v.Rooms)
	return string(out)
}

// lb is a round-robin TCP load balancer on loopback: each new connection
// goes to the next backend that accepts it.
type lb struct {
	ln       net.Listener
	mu       sync.Mutex
	backends []string
	next     int
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func newLB(t testing.TB, backends ...string) *lb {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &lb{ln: ln, backends: backends, conns: make(map[net.Conn]struct{})}
	l.wg.Add(1)
	go l.serve()
	t.Cleanup(l.close)
	return l
}

func (l *lb) url() string { return "ws://" + l.ln.Addr().String() + "/ws" }

func (l *lb) serve() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.forward(c)
		}()
	}
}

func (l *lb) forward(c net.Conn) {
	var up net.Conn
	l.mu.Lock()
	n := len(l.backends)
	start := l.next
	l.next++
	l.mu.Unlock()
	for i := 0; i < n && up == nil; i++ {
		l.mu.Lock()
		addr := l.backends[(start+i)%n]
		l.mu.Unlock()
		up, _ = net.DialTimeout("tcp4", addr, time.Second)
	}
	if up == nil {
		_ = c.Close()
		return
	}
	if !l.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	l.mu.Lock()
	delete(l.conns, c)
	delete(l.conns, up)
	l.mu.Unlock()
}

func (l *lb) track(cs ...net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		l.conns[c] = struct{}{}
	}
	return true
}

func (l *lb) close() {
	_ = l.ln.Close()
	l.mu.Lock()
	for c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
	l.mu.Unlock()
	l.wg.Wait()
}

// waitUnit scales hang guards.
const waitUnit = time.Second

// listingOf returns n's listing entry of room only.
func listingOf(t testing.TB, n *node, room string) string {
	t.Helper()
	var rooms []signaling.RoomInfo
	if err := json.Unmarshal([]byte(listing(t, n)), &rooms); err != nil {
		return "?"
	}
	var out []signaling.RoomInfo
	for _, r := range rooms {
		if r.Room == room {
			out = append(out, r)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// setBackends replaces the backends for new connections.
func (l *lb) setBackends(backends ...string) {
	l.mu.Lock()
	l.backends = backends
	l.mu.Unlock()
}

// cut closes every forwarded connection.
func (l *lb) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		_ = c.Close()
	}
}

// waitListing waits until n lists want (GET /rooms), failing with what it
// listed last.
func waitListing(t testing.TB, n *node, d time.Duration, want string) {
	t.Helper()
	waitHealthyListing(t, n, d, want, false)
}

// waitHealthyListing is waitListing that also waits for n to be healthy
// (StateOK) at the same time, if healthy is set.
func waitHealthyListing(t testing.TB, n *node, d time.Duration, want string, healthy bool) {
	t.Helper()
	var got string
	deadline := time.Now().Add(d)
	for {
		if got = listing(t, n); got == want && (!healthy || n.bp.Health().State == StateOK) {
			return
		}
		if time.Now().After(deadline) {
			st := n.bp.Stats()
			t.Fatalf("%s lists %s after %v, want %s (health %v; stats %+v)", n.name, got, d, want, n.bp.Health(), st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
