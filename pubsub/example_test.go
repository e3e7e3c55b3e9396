package pubsub_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/pubsub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A game's own topics: every peer delivers the same publications in the
// same order.
func Example() {
	net := memnet.New(memnet.Config{})
	defer net.Close()
	a, _ := pubsub.New(net.Join("a").Channel("bus", transport.Reliable), pubsub.Config{})
	b, _ := pubsub.New(net.Join("b").Channel("bus", transport.Reliable), pubsub.Config{})
	scores := b.Subscribe("score/")
	for range 5 {
		a.Update()
		scores.PollDeliveries()
	}
	a.Publish("score/round1", []byte("a:3 b:1"))
	for range 5 {
		a.Update()
		for _, d := range scores.PollDeliveries() {
			fmt.Println(d.Kind, d.Topic, d.From, string(d.Payload))
		}
	}
	// Output:
	// message score/round1 a a:3 b:1
}

// Three peers publish at once on links of different latency: all deliver
// one sequence.
func TestTotalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := memnet.New(memnet.Config{Seed: 9, Link: memnet.Link{Latency: 20 * time.Millisecond, Jitter: 15 * time.Millisecond}})
		defer net.Close()
		var subs []*pubsub.Subscription
		var buses []*pubsub.Bus
		for _, id := range []transport.PeerID{"a", "b", "c"} {
			bus, err := pubsub.New(net.Join(id).Channel("bus", transport.Reliable), pubsub.Config{Rate: 50, Burst: 50})
			if err != nil {
				t.Fatal(err)
			}
			defer bus.Close()
			buses = append(buses, bus)
			subs = append(subs, bus.Subscribe("t/"))
		}
		got := make([][]string, 3)
		poll := func() {
			for i, s := range subs {
				for _, d := range s.PollDeliveries() {
					if d.Kind == pubsub.DeliveryMessage {
						got[i] = append(got[i], fmt.Sprintf("%s%d", d.From, d.Seq))
					}
				}
			}
		}
		for range 50 {
			poll()
			time.Sleep(10 * time.Millisecond)
		}
		for round := range 10 {
			for _, bus := range buses {
				if err := bus.Publish("t/x", []byte{byte(round)}); err != nil {
					t.Fatal(err)
				}
			}
			poll()
			time.Sleep(10 * time.Millisecond)
		}
		for range 300 {
			poll()
			time.Sleep(10 * time.Millisecond)
		}
		if len(got[0]) != 30 {
			t.Fatalf("a delivered %d, want 30", len(got[0]))
		}
		for i := range got {
			if fmt.Sprint(got[i]) != fmt.Sprint(got[0]) {
				t.Errorf("peer %d: %v\nwant %v", i, got[i], got[0])
			}
		}
	})
}
