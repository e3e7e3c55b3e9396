package lobby

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// tick is how often the test "game loop" polls every lobby.
const tick = 10 * time.Millisecond

// node is one peer of a test cluster.
type node struct {
	id     transport.PeerID
	peer   *memnet.Peer
	conn   *memnet.Conn
	l      *Lobby
	events []Event
	paused bool // the game loop stopped polling (a stuck or malicious peer)
	gone   bool
}

// cluster is a set of lobbies on one memnet network, polled in turn.
type cluster struct {
	t     *testing.T
	net   *memnet.Network
	nodes []*node
}

func newCluster(t *testing.T, link memnet.Link) *cluster {
	t.Helper()
	n := memnet.New(memnet.Config{Seed: 1, Link: link})
	t.Cleanup(func() { n.Close() })
	return &cluster{t: t, net: n}
}

// add joins a peer and starts its lobby.
func (c *cluster) add(id transport.PeerID, cfg Config) *node {
	c.t.Helper()
	p := c.net.Join(id)
	conn := p.Channel("lobby", transport.Reliable)
	l, err := New(conn, cfg)
	if err != nil {
		c.t.Fatalf("New(%s): %v", id, err)
	}
	nd := &node{id: id, peer: p, conn: conn, l: l}
	c.nodes = append(c.nodes, nd)
	return nd
}

// addN adds peers p0..p(n-1) with the same config.
func (c *cluster) addN(n int, cfg Config) []*node {
	var out []*node
	for i := range n {
		out = append(out, c.add(transport.PeerID(fmt.Sprintf("p%d", i)), cfg))
	}
	return out
}

// step polls every live lobby once and lets one tick of fake time pass.
func (c *cluster) step() {
	for _, nd := range c.nodes {
		if !nd.gone && !nd.paused {
			nd.events = append(nd.events, nd.l.Poll()...)
		}
	}
	time.Sleep(tick)
}

// run steps for d of fake time.
func (c *cluster) run(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		c.step()
	}
}

// until steps until cond holds, failing after limit of fake time.
func (c *cluster) until(what string, limit time.Duration, cond func() bool) {
	c.t.Helper()
	for end := time.Now().Add(limit); !cond(); {
		if time.Now().After(end) {
			c.t.Fatalf("%s: not reached within %v\n%s", what, limit, c.dump())
		}
		c.step()
	}
}

// live returns the nodes that have not left.
func (c *cluster) live() []*node {
	var out []*node
	for _, nd := range c.nodes {
		if !nd.gone {
			out = append(out, nd)
		}
	}
	return out
}

// leave closes a node's lobby (it says goodbye) and its peer.
func (c *cluster) leave(nd *node, sayBye bool) {
	if sayBye {
		nd.l.Close()
		c.run(100 * time.Millisecond) // the goodbye arrives before the link drops
	}
	nd.peer.Close()
	nd.gone = true
}

// settled reports whether every live node follows one host, is a member,
// and sees the same roster.
func (c *cluster) settled() bool {
	live := c.live()
	first := live[0].l.State()
	for _, nd := range live {
		s := nd.l.State()
		if s.Host == "" || s.Host != first.Host || s.Term != first.Term || !s.Joined ||
			len(s.Members) != len(live) || !slices.Equal(ids(s.Members), ids(first.Members)) {
			return false
		}
	}
	return true
}

func (c *cluster) allStarted() bool {
	for _, nd := range c.live() {
		if _, ok := nd.l.Match(); !ok {
			return false
		}
	}
	return true
}

func (c *cluster) dump() string {
	var s string
	for _, nd := range c.nodes {
		st := nd.l.State()
		s += fmt.Sprintf("  %s gone=%v phase=%s host=%s term=%d v=%d joined=%v members=%v stats=%+v\n",
			nd.id, nd.gone, st.Phase, st.Host, st.Term, st.Version, st.Joined, ids(st.Members), nd.l.Stats())
	}
	return s
}

func ids(ms []Member) []transport.PeerID {
	var out []transport.PeerID
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// kinds returns the events of a node of the given kinds.
func (nd *node) of(kinds ...EventKind) []Event {
	var out []Event
	for _, e := range nd.events {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
}
