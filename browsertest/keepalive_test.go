//go:build browser && !js

package browsertest

import (
	"encoding/json"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// freezer is a TCP proxy that can stop forwarding without closing: the
// server seems to vanish (a dead NAT mapping, a cable pulled on the way),
// and only a keepalive can tell.
type freezer struct {
	l      net.Listener
	target string
	frozen chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l, target: target, frozen: make(chan struct{})}
	f.wg.Go(f.accept)
	t.Cleanup(func() {
		l.Close()
		f.freeze()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *freezer) freeze() { f.once.Do(func() { close(f.frozen) }) }

func (f *freezer) accept() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp4", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, s)
		f.mu.Unlock()
		f.wg.Go(func() { f.copy(s, c) })
		f.wg.Go(func() { f.copy(c, s) })
	}
}

// copy forwards until frozen; then it holds the connection open, silent.
func (f *freezer) copy(dst io.Writer, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-f.frozen:
			return
		default:
		}
		_ = src.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := src.Read(buf)
		select {
		case <-f.frozen:
			return // drop what came in after the freeze
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil && !isTimeout(err) {
			return
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestBrowserSignalingKeepalive: in a browser the signaling client cannot
// send a WebSocket ping (coder/websocket's Ping does nothing under js), so
// it pings with a protocol message. The page's client stays connected
// while the server answers, and notices within a few seconds when the
// connection goes silent without closing.
func TestBrowserSignalingKeepalive(t *testing.T) {
	s := peerSiteWith(t, &signaling.Server{OriginPatterns: []string{"127.0.0.1:*"}})
	px := startFreezer(t, strings.TrimPrefix(s.URL, "http://"))
	c := startChromium(t)
	q := url.Values{"signal": {"ws://" + px.l.Addr().String() + "/ws"}, "room": {"keepalive"}, "scenario": {"keepalive"}}
	page := c.Open("wasm", s.URL+"/?"+q.Encode())
	page.Wait(2*time.Minute, "JOINED ")
	if l := page.Wait(time.Minute, "STEADY", "ERROR ", "EXCEPTION "); l != "STEADY" {
		t.Fatalf("before the freeze: %s", l)
	}
	px.freeze()
	l := page.Wait(time.Minute, "RESULT ", "ERROR ", "EXCEPTION ")
	if !strings.HasPrefix(l, "RESULT ") {
		t.Fatalf("after the freeze: %s", l)
	}
	var res struct {
		DisconnectedAfterMS int64
		Err                 string
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "RESULT ")), &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("the page's client noticed the silent server after %d ms (ping every 1 s, timeout 1 s): %s", res.DisconnectedAfterMS, res.Err)
}
