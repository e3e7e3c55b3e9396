package transport_test

import (
	"context"
	"fmt"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// echo answers every message with the same bytes; it works over any Conn.
func echo(ctx context.Context, c transport.Conn) error {
	m, err := c.Recv(ctx)
	if err != nil {
		return err
	}
	return c.Send(m.From, m.Data)
}

func Example() {
	n := memnet.New(memnet.Config{})
	defer n.Close()
	client := n.Join("client").Channel("rpc", transport.Reliable)
	server := n.Join("server").Channel("rpc", transport.Reliable)

	ctx := context.Background()
	_ = client.Send("server", []byte("ping"))
	_ = echo(ctx, server)
	reply, _ := client.Recv(ctx)
	fmt.Printf("%s from %s\n", reply.Data, reply.From)
	// Output: ping from server
}

func ExampleReliability_String() {
	fmt.Println(transport.Reliable, transport.Unreliable, transport.ReliabilityUnknown)
	// Output: reliable unreliable unknown
}
