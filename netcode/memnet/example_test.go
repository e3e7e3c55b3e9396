package memnet_test

import (
	"context"
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func Example() {
	n := memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{Latency: 40 * time.Millisecond}})
	defer n.Close()
	alice := n.Join("alice").Channel("chat", transport.Reliable)
	bob := n.Join("bob").Channel("chat", transport.Reliable)

	if err := alice.Send("bob", []byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	_, ready := bob.TryRecv() // 40 ms have not passed yet
	msg, err := bob.Recv(context.Background())
	fmt.Println(ready, msg.From, string(msg.Data), err)
	fmt.Println(alice.Peers())
	// Output:
	// false alice hello <nil>
	// [bob]
}
