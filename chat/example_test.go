package chat_test

import (
	"fmt"
	"time"

	"github.com/peerplay/peerplay/chat"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Three peers chat over an in-memory network; every one of them shows the
// same lines in the same order.
func Example() {
	net := memnet.New(memnet.Config{})
	defer net.Close()
	clock := time.Unix(0, 0)
	cfg := func(name string, team int) chat.Config {
		return chat.Config{Name: name, Team: team, Bus: chat.BusConfig{Now: func() time.Time { return clock }}}
	}
	var chats []*chat.Chat
	for i, name := range []string{"ann", "bob", "cat"} {
		c, err := chat.New(net.Join(transport.PeerID(name)).Channel("chat", transport.Reliable), cfg(name, 1+i%2))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		chats = append(chats, c)
	}
	frame := func() {
		for _, c := range chats {
			for _, m := range c.PollMessages() {
				if c.Bus().Local() == "cat" {
					fmt.Println(m)
				}
			}
		}
		clock = clock.Add(time.Second / 60)
	}
	for range 10 {
		frame()
	}
	chats[0].Say("gl hf")
	chats[1].Say("you too")
	chats[2].SayTeam("ann, go left") // cat and ann are team 1
	chats[1].Whisper("cat", "psst")
	for range 10 {
		frame()
	}
	// Output:
	// * ann joined
	// * bob joined
	// ann: gl hf
	// bob: you too
	// [team 1] cat: ann, go left
	// [bob -> cat] psst
}

// The bus under the chat carries the application's own topics too (the
// bus is package pubsub; these names are its deprecated aliases).
func ExampleBus() {
	net := memnet.New(memnet.Config{})
	defer net.Close()
	a, _ := chat.NewBus(net.Join("a").Channel("bus", transport.Reliable), chat.BusConfig{})
	b, _ := chat.NewBus(net.Join("b").Channel("bus", transport.Reliable), chat.BusConfig{})
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
