package chat

import (
	"fmt"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// node is one peer of a test cluster; node.App is its chat.
type node = meshtest.Node[*Chat, Message]

// cluster is a set of chats on one memnet network, polled in turn.
type cluster struct {
	*meshtest.Cluster[*Chat, Message]
	t *testing.T
}

func newCluster(t *testing.T, link memnet.Link) *cluster {
	t.Helper()
	c := meshtest.New(t, meshtest.Config[*Chat, Message]{Seed: 3, Link: link, Label: "chat", Poll: (*Chat).Poll,
		Describe: func(nd *node) string {
			return fmt.Sprintf("members=%v stats=%+v lines=%d", nd.App.Members(), nd.App.Stats(), len(texts(nd)))
		}})
	return &cluster{Cluster: c, t: t}
}

func (c *cluster) add(id transport.PeerID, cfg Config) *node {
	c.t.Helper()
	return c.Add(id, func(conn transport.Conn) (*Chat, error) { return New(conn, cfg) })
}

// addN adds peers p0..p(n-1), named player0..player(n-1).
func (c *cluster) addN(n int, cfg Config) []*node {
	c.t.Helper()
	return c.AddN(n, func(i int, conn transport.Conn) (*Chat, error) {
		cfg := cfg
		cfg.Name = fmt.Sprintf("player%d", i)
		return New(conn, cfg)
	})
}

// allPresent reports whether every live chat has announced every other.
func (c *cluster) allPresent() bool {
	live := c.Live()
	for _, nd := range live {
		if len(nd.App.Members()) != len(live)-1 {
			return false
		}
	}
	return true
}

// texts returns the node's text messages.
func texts(nd *node) []Message {
	var out []Message
	for _, m := range nd.Events {
		if m.Kind == KindText {
			out = append(out, m)
		}
	}
	return out
}

type key struct {
	from transport.PeerID
	seq  uint64
}

func keys(ms []Message) []key {
	var out []key
	for _, m := range ms {
		out = append(out, key{m.From, m.Seq})
	}
	return out
}

func noDuplicates(t *testing.T, nd *node) {
	t.Helper()
	ks := keys(texts(nd))
	sorted := slices.Clone(ks)
	slices.SortFunc(sorted, func(a, b key) int {
		if a.from != b.from {
			if a.from < b.from {
				return -1
			}
			return 1
		}
		return int(a.seq) - int(b.seq)
	})
	if len(slices.Compact(sorted)) != len(ks) {
		t.Errorf("%s: duplicate lines in %v", nd.ID, ks)
	}
}
