package natsbackplane_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// Two signaling nodes on one NATS serve one room: alice joins through the
// first, bob through the second, and they signal each other.
func Example() {
	ns, err := natstest.Run() // a real nats-server with JetStream on loopback
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ns.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var urls []string
	for _, name := range []string{"node-a", "node-b"} {
		bp, err := natsbackplane.New(natsbackplane.Config{URL: ns.URL(), Node: name})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer bp.Close()
		if err := bp.Ready(ctx); err != nil {
			fmt.Println(err)
			return
		}
		srv := &signaling.Server{Backplane: bp}
		hs := httptest.NewServer(srv)
		defer hs.Close()
		defer srv.Close()
		urls = append(urls, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws")
	}

	alice, err := sigclient.Dial(ctx, urls[0], "lobby", sigclient.DialOptions{Name: "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Close()
	bob, err := sigclient.Dial(ctx, urls[1], "lobby", sigclient.DialOptions{Name: "bob"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Close()
	fmt.Println("bob sees:", bob.PeerName(alice.Local()))

	ev := <-alice.Events()
	fmt.Println("alice:", ev.Kind, ev.Name)
	_ = alice.Signal(bob.Local(), []byte("offer"))
	for ev := range bob.Events() {
		if ev.Kind == signaling.EventSignal {
			fmt.Printf("bob: %s from alice: %v\n", ev.Data, ev.Peer == alice.Local())
			break
		}
	}
	// Output:
	// bob sees: alice
	// alice: peer-joined bob
	// bob: offer from alice: true
}
