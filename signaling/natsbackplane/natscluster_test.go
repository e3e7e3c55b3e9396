package natsbackplane

import (
	"errors"
	"testing"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
)

// TestNATSCluster: the documented deployment in miniature: a 3-server
// NATS cluster (JetStream, registry replicated 3 times), three signald
// nodes each knowing every NATS server. One NATS server dies: nodes
// connected to it fail over to the others, rooms stay, joins and signals
// keep working, listings agree.
func TestNATSCluster(t *testing.T) {
	cluster := natstest.StartCluster(t, 3)
	urls := natstest.URLs(cluster)
	replicas := func(c *Config, _ *signaling.Server) { c.Replicas = 3 }
	nodes := []*node{startNode(t, urls, "n0", replicas), startNode(t, urls, "n1", replicas), startNode(t, urls, "n2", replicas)}
	waitReady(t, nodes...)

	a := dial(t, nodes[0].wsURL(), "r", signaling.DialOptions{Name: "a"})
	b := dial(t, nodes[1].wsURL(), "r", signaling.DialOptions{Name: "b"})
	expect(t, a, signaling.PeerJoined, b.Local())

	cluster[0].Kill()
	t.Logf("NATS server 0 killed")
	// While JetStream elects new leaders for what the dead server led,
	// registry writes fail with unavailable for a few seconds; clients
	// retry, and so does this test.
	var c *signaling.Client
	waitFor(t, 30*waitUnit, "a join after the NATS server loss", func() bool {
		var err error
		c, err = signaling.Dial(testCtx(t), nodes[2].wsURL(), "r", signaling.DialOptions{Name: "c"})
		if err != nil && !errors.Is(err, signaling.ErrUnavailable) {
			t.Fatalf("join: %v", err)
		}
		return err == nil
	})
	t.Cleanup(func() { _ = c.Close() })
	if got, want := c.Peers(), sorted(a.Local(), b.Local()); !equalIDs(got, want) {
		t.Fatalf("after losing a NATS server the newcomer sees %v, want %v", got, want)
	}
	expect(t, a, signaling.PeerJoined, c.Local())
	expect(t, b, signaling.PeerJoined, c.Local())
	if err := c.Signal(a.Local(), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, signaling.Signal, c.Local())
	want := `[{"room":"r","players":3,"max":16,"password":false}]`
	for _, n := range nodes {
		waitFor(t, 20*waitUnit, n.name+"'s listing", func() bool { return listing(t, n) == want })
	}
	for _, n := range nodes {
		waitFor(t, 20*waitUnit, n.name+" healthy", func() bool { return n.bp.Health().State == StateOK })
	}
}
