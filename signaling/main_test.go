package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(benchClientEnv); spec != "" {
		// A benchmark's client process (bench_test.go).
		os.Exit(runBenchClient(spec))
	}
	goleak.VerifyTestMain(m)
}

// testServer runs srv on a loopback httptest server and returns its
// WebSocket URL and HTTP base URL. Everything is closed at cleanup.
func testServer(t *testing.T, srv *Server) (wsURL, httpURL string) {
	t.Helper()
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ErrorLog = nil
	hs.Start()
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", hs.URL
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial joins room and closes the client at cleanup.
func dial(t *testing.T, url, room string, opts DialOptions) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), url, room, opts)
	if err != nil {
		t.Fatalf("Dial(%s): %v", room, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// next returns the next event of c, failing after a generous timeout (a
// hang guard, not a timing assertion).
func next(t *testing.T, c *Client) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("%s: events closed", c.Local())
		}
		return ev
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: no event", c.Local())
	}
	return Event{}
}

// expect returns the next event of c, which must be of kind k (and from
// peer, if not empty).
func expect(t *testing.T, c *Client, k EventKind, peer transport.PeerID) Event {
	t.Helper()
	ev := next(t, c)
	if ev.Kind != k || (peer != "" && ev.Peer != peer) {
		t.Fatalf("%s: got event %v from %q (err %v), want %v from %q", c.Local(), ev.Kind, ev.Peer, ev.Err, k, peer)
	}
	return ev
}

// noEvent checks that c has no queued event now: used after a
// synchronising round trip, so it does not depend on timing.
func noEvent(t *testing.T, c *Client) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Fatalf("%s: unexpected event %v from %q", c.Local(), ev.Kind, ev.Peer)
	default:
	}
}

// rawConn is a bare WebSocket to the server for protocol-level tests.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func rawDial(t *testing.T, url string, h http.Header) *rawConn {
	t.Helper()
	ws, _, err := websocket.Dial(testCtx(t), url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &rawConn{t: t, ws: ws}
}

func (r *rawConn) send(v any) {
	r.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	if err := r.ws.Write(testCtx(r.t), websocket.MessageText, b); err != nil {
		r.t.Fatalf("raw send: %v", err)
	}
}

// recv reads the next frame; a close becomes an error.
func (r *rawConn) recv() (proto.Frame, error) {
	r.t.Helper()
	_, b, err := r.ws.Read(testCtx(r.t))
	if err != nil {
		return proto.Frame{}, err
	}
	var f proto.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		r.t.Fatalf("raw recv: %v in %q", err, b)
	}
	return f, nil
}

// expectError reads until the server's error frame and the close that
// follows, and checks both carry code.
func (r *rawConn) expectError(code Code) proto.Frame {
	r.t.Helper()
	for {
		f, err := r.recv()
		if err != nil {
			r.t.Fatalf("want error %s, got connection error %v", code, err)
		}
		if f.Type != proto.TypeError {
			continue
		}
		if f.Code != code {
			r.t.Fatalf("got error %s (%s), want %s", f.Code, f.Message, code)
		}
		_, err = r.recv()
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Reason != string(code) {
			r.t.Fatalf("after error %s: got %v, want a close with reason %s", code, err, code)
		}
		return f
	}
}

func joinFrame(room string) map[string]any {
	return map[string]any{"type": "join", "version": ProtocolVersion, "room": room}
}

// proxy is a loopback TCP proxy whose connections can be cut, to simulate
// a lost server without stopping it.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		u, err := net.Dial("tcp", target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); copyClose(u, c) }()
		go func() { defer p.wg.Done(); copyClose(c, u) }()
	}
}

func copyClose(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
}

// cut drops every proxied connection (both sides see a reset/EOF).
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *proxy) url() string { return "ws://" + p.ln.Addr().String() + "/ws" }

func (p *proxy) close() {
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// fakeServer answers every WebSocket's first message with reply.
type fakeServer string

func (f fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := ws.Read(ctx); err != nil {
		return
	}
	_ = ws.Write(ctx, websocket.MessageText, []byte(f))
	_, _, _ = ws.Read(ctx)
}
