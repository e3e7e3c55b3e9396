package lobby

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// node is one peer of a test cluster; node.App is its lobby.
type node = meshtest.Node[*Lobby, Event]

// cluster is a set of lobbies on one memnet network, polled in turn.
type cluster struct {
	*meshtest.Cluster[*Lobby, Event]
	t *testing.T
}

func newCluster(t *testing.T, link memnet.Link) *cluster {
	t.Helper()
	c := meshtest.New(t, meshtest.Config[*Lobby, Event]{Seed: 1, Link: link, Label: "lobby", Poll: (*Lobby).Poll,
		Describe: func(nd *node) string {
			st := nd.App.State()
			return fmt.Sprintf("phase=%s host=%s term=%d v=%d joined=%v members=%v stats=%+v",
				st.Phase, st.Host, st.Term, st.Version, st.Joined, ids(st.Members), nd.App.Stats())
		}})
	return &cluster{Cluster: c, t: t}
}

// add joins a peer and starts its lobby.
func (c *cluster) add(id transport.PeerID, cfg Config) *node {
	c.t.Helper()
	return c.Add(id, func(conn transport.Conn) (*Lobby, error) { return New(conn, cfg) })
}

// addN adds peers p0..p(n-1) with the same config.
func (c *cluster) addN(n int, cfg Config) []*node {
	c.t.Helper()
	return c.AddN(n, func(_ int, conn transport.Conn) (*Lobby, error) { return New(conn, cfg) })
}

// leave closes a node's lobby (it says goodbye) and its peer.
func (c *cluster) leave(nd *node, sayBye bool) {
	if sayBye {
		nd.App.Close()
		c.Run(100 * time.Millisecond) // the goodbye arrives before the link drops
	}
	c.Drop(nd)
}

// settled reports whether every live node follows one host, is a member,
// and sees the same roster.
func (c *cluster) settled() bool {
	live := c.Live()
	first := live[0].App.State()
	for _, nd := range live {
		s := nd.App.State()
		if s.Host == "" || s.Host != first.Host || s.Term != first.Term || !s.Joined ||
			len(s.Members) != len(live) || !slices.Equal(ids(s.Members), ids(first.Members)) {
			return false
		}
	}
	return true
}

func (c *cluster) allStarted() bool {
	for _, nd := range c.Live() {
		if _, ok := nd.App.Match(); !ok {
			return false
		}
	}
	return true
}

func ids(ms []Member) []transport.PeerID {
	var out []transport.PeerID
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// eventsOf returns the events of a node of the given kinds.
func eventsOf(nd *node, kinds ...EventKind) []Event {
	var out []Event
	for _, e := range nd.Events {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
}
