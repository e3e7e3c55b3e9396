package meshtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Tick is how often a Cluster's "game loop" polls every peer, in fake
// time.
const Tick = 10 * time.Millisecond

// Node is one peer of a Cluster: its memnet peer, the channel its app runs
// on, the app (a lobby, a chat) and everything the app's Poll returned.
type Node[A, E any] struct {
	ID   transport.PeerID
	Peer *memnet.Peer
	Conn *memnet.Conn
	App  A
	// Events is everything Poll returned, oldest first.
	Events []E
	// Paused stops the game loop polling this peer (a stuck or malicious
	// peer); the test sets it.
	Paused bool
	// Gone says the peer left the network (Drop).
	Gone bool
}

// Config says how a Cluster builds its network and drives its apps.
type Config[A, E any] struct {
	// Seed seeds the memnet network.
	Seed uint64
	// Link is every link's default.
	Link memnet.Link
	// Label names the Reliable channel each app runs on.
	Label string
	// Poll is the app's per-frame call, as (*lobby.Lobby).Poll.
	Poll func(A) []E
	// Describe returns one line of a node's state for failure messages;
	// nil prints the ID only.
	Describe func(*Node[A, E]) string
}

// Cluster is a set of apps on one memnet network, polled in turn by the
// test's game loop. Run it inside a testing/synctest bubble: a step is
// Tick of fake time. Not safe for concurrent use.
type Cluster[A, E any] struct {
	Net   *memnet.Network
	Nodes []*Node[A, E]
	t     testing.TB
	cfg   Config[A, E]
}

// New starts an empty cluster; t's cleanup closes the network.
func New[A, E any](t testing.TB, cfg Config[A, E]) *Cluster[A, E] {
	t.Helper()
	n := memnet.New(memnet.Config{Seed: cfg.Seed, Link: cfg.Link})
	t.Cleanup(func() { n.Close() })
	return &Cluster[A, E]{Net: n, t: t, cfg: cfg}
}

// Add joins peer id and opens its app on a Reliable channel; an error
// from open fails the test.
func (c *Cluster[A, E]) Add(id transport.PeerID, open func(transport.Conn) (A, error)) *Node[A, E] {
	c.t.Helper()
	p := c.Net.Join(id)
	conn := p.Channel(c.cfg.Label, transport.Reliable)
	app, err := open(conn)
	if err != nil {
		c.t.Fatalf("New(%s): %v", id, err)
	}
	nd := &Node[A, E]{ID: id, Peer: p, Conn: conn, App: app}
	c.Nodes = append(c.Nodes, nd)
	return nd
}

// AddN adds peers p0..p(n-1); open gets each one's index.
func (c *Cluster[A, E]) AddN(n int, open func(i int, conn transport.Conn) (A, error)) []*Node[A, E] {
	c.t.Helper()
	var out []*Node[A, E]
	for i := range n {
		out = append(out, c.Add(transport.PeerID(fmt.Sprintf("p%d", i)), func(conn transport.Conn) (A, error) {
			return open(i, conn)
		}))
	}
	return out
}

// Step polls every live, unpaused app once and lets Tick of fake time
// pass.
func (c *Cluster[A, E]) Step() {
	for _, nd := range c.Nodes {
		if !nd.Gone && !nd.Paused {
			nd.Events = append(nd.Events, c.cfg.Poll(nd.App)...)
		}
	}
	time.Sleep(Tick)
}

// Run steps for d of fake time.
func (c *Cluster[A, E]) Run(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		c.Step()
	}
}

// Until steps until cond holds, failing the test after limit of fake time.
func (c *Cluster[A, E]) Until(what string, limit time.Duration, cond func() bool) {
	c.t.Helper()
	for end := time.Now().Add(limit); !cond(); {
		if time.Now().After(end) {
			c.t.Fatalf("%s: not reached within %v\n%s", what, limit, c.Dump())
		}
		c.Step()
	}
}

// Live returns the nodes that have not left.
func (c *Cluster[A, E]) Live() []*Node[A, E] {
	var out []*Node[A, E]
	for _, nd := range c.Nodes {
		if !nd.Gone {
			out = append(out, nd)
		}
	}
	return out
}

// Drop takes a node's peer off the network without a word from its app:
// the others see it disconnect. The game loop stops polling it.
func (c *Cluster[A, E]) Drop(nd *Node[A, E]) {
	nd.Peer.Close()
	nd.Gone = true
}

// RandomLinks gives each direction between the peers its own link: a
// latency of 1 ms to maxLatency and a jitter below maxJitter, in whole
// milliseconds drawn from rng in turn (both limits at least 1 ms).
func (c *Cluster[A, E]) RandomLinks(rng *rand.Rand, peers []transport.PeerID, maxLatency, maxJitter time.Duration) {
	for _, x := range peers {
		for _, y := range peers {
			if x != y {
				c.Net.SetLink(x, y, memnet.Link{Latency: time.Duration(1+rng.IntN(int(maxLatency/time.Millisecond))) * time.Millisecond,
					Jitter: time.Duration(rng.IntN(int(maxJitter/time.Millisecond))) * time.Millisecond})
			}
		}
	}
}

// Dump returns a line per node, for failure messages.
func (c *Cluster[A, E]) Dump() string {
	var s strings.Builder
	for _, nd := range c.Nodes {
		fmt.Fprintf(&s, "  %s gone=%v", nd.ID, nd.Gone)
		if c.cfg.Describe != nil {
			fmt.Fprintf(&s, " %s", c.cfg.Describe(nd))
		}
		s.WriteString("\n")
	}
	return s.String()
}

// Seeds runs scenario for seeds 1..n, each as subtest "seed" in its own
// testing/synctest bubble.
func Seeds(t *testing.T, n uint64, scenario func(t *testing.T, seed uint64)) {
	t.Helper()
	for seed := uint64(1); seed <= n; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { scenario(t, seed) })
		})
	}
}
