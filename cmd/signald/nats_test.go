package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

func natsArgs(url, node string) []string {
	return []string{"-addr", "127.0.0.1:0", "-stun-addr", "", "-nats", url, "-node", node, "-nats-ttl", "2s", "-nats-wait", "10s"}
}

// waitHealth polls /healthz until its status code is code and its body
// holds every want; the deadline is a hang guard.
func waitHealth(t *testing.T, base string, code int, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, body := get(t, http.DefaultClient, base+"/healthz")
		ok := c == code
		for _, w := range want {
			ok = ok && strings.Contains(body, w)
		}
		if ok {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz: %d %s, want %d with %q", c, body, code, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNATSNodes: two signald processes' worth of run() on one real NATS
// serve the same rooms; /healthz and /metrics report the backplane per
// node; NATS going away makes /healthz 503 with the reason, and coming
// back makes it 200 again, without a restart of signald.
func TestNATSNodes(t *testing.T) {
	ns := natstest.Start(t)
	a, _, stopA := start(t, natsArgs(ns.URL(), "alpha"), nil)
	b, _, stopB := start(t, natsArgs(ns.URL(), "beta"), nil)
	baseA, baseB := "http://"+a.HTTP, "http://"+b.HTTP
	waitHealth(t, baseA, 200, `"status":"ok"`, `"backplane":"nats"`, `"node":"alpha"`)
	waitHealth(t, baseB, 200, `"node":"beta"`)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c1, err := sigclient.Dial(ctx, "ws://"+a.HTTP+"/ws", "room", sigclient.DialOptions{Name: "one"})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := sigclient.Dial(ctx, "ws://"+b.HTTP+"/ws", "room", sigclient.DialOptions{Name: "two"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if ev := <-c1.Events(); ev.Kind != sigclient.EventPeerJoined || ev.Peer != c2.Local() {
		t.Fatalf("c1 got %v %s, want c2 joining", ev.Kind, ev.Peer)
	}
	// Each node lists from its watch of the registry: a few milliseconds
	// behind the join (bounded wait).
	for _, base := range []string{baseA, baseB} {
		for end := time.Now().Add(20 * time.Second); ; {
			code, body := get(t, http.DefaultClient, base+"/rooms")
			if code == 200 && strings.Contains(body, `"players":2`) {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("%s/rooms: %d %s", base, code, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, http.DefaultClient, baseA+"/metrics")
		missing := ""
		for _, want := range []string{
			`signald_node_info{node="alpha"} 1`, "signald_backplane_up 1", "signald_backplane_nodes 2",
			`signald_backplane_seats{state="attached"} 1`, `signald_backplane_state{state="ok"} 1`,
			`signald_backplane_messages_total{event="published"}`, "signald_backplane_cas_conflicts_total",
			"signald_members 1", `signald_rooms{visibility="public"} 1`,
		} {
			if !strings.Contains(body, want) {
				missing = want
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q:\n%s", missing, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	ns.Kill()
	body := waitHealth(t, baseA, 503, `"status":"unavailable"`, "not connected to NATS", strings.TrimPrefix(ns.URL(), "nats://"))
	t.Logf("/healthz during the outage: %s", strings.TrimSpace(body))
	if _, m := get(t, http.DefaultClient, baseA+"/metrics"); !strings.Contains(m, "signald_backplane_up 0") {
		t.Errorf("/metrics during the outage lacks signald_backplane_up 0")
	}
	ns.Restart()
	waitHealth(t, baseA, 200, `"status":"ok"`)
	waitHealth(t, baseB, 200, `"status":"ok"`)
	if err := c1.Signal(c2.Local(), []byte("back")); err != nil {
		t.Fatal(err)
	}
	for ev := range c2.Events() {
		if ev.Kind == sigclient.EventSignal {
			break
		}
	}
	_ = c1.Close()
	_ = c2.Close()
	for _, stop := range []func() error{stopA, stopB} {
		if err := stop(); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}

// TestNATSDownAtStart: signald starts without NATS, serves degraded with
// a clear reason, refuses joins with unavailable, and serves once NATS
// comes. A malformed -nats URL is fatal.
func TestNATSDownAtStart(t *testing.T) {
	ns := natstest.Reserve(t)
	args := natsArgs(ns.URL(), "alpha")
	args[len(args)-1] = "100ms" // -nats-wait
	a, logs, stop := start(t, args, nil)
	base := "http://" + a.HTTP
	waitHealth(t, base, 503, `"status":"unavailable"`, "connection refused")
	if !strings.Contains(logs.String(), "NATS unavailable at start") {
		t.Errorf("no clear log line about NATS at start:\n%s", logs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sigclient.Dial(ctx, "ws://"+a.HTTP+"/ws", "r", sigclient.DialOptions{}); !errors.Is(err, signaling.ErrUnavailable) {
		t.Fatalf("join without NATS: %v, want ErrUnavailable", err)
	}
	ns.Restart()
	waitHealth(t, base, 200, `"status":"ok"`)
	c, err := sigclient.Dial(ctx, "ws://"+a.HTTP+"/ws", "r", sigclient.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-stun-addr", "", "-nats", "nats://%zz"}, func(string) string { return "" }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "natsbackplane") {
		t.Fatalf("malformed -nats: %v, want a natsbackplane error", err)
	}
}
