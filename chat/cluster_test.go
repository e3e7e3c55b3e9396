package chat

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const tick = 10 * time.Millisecond

type node struct {
	id     transport.PeerID
	peer   *memnet.Peer
	conn   *memnet.Conn
	c      *Chat
	msgs   []Message
	paused bool
	gone   bool
}

type cluster struct {
	t     *testing.T
	net   *memnet.Network
	nodes []*node
}

func newCluster(t *testing.T, link memnet.Link) *cluster {
	t.Helper()
	n := memnet.New(memnet.Config{Seed: 3, Link: link})
	t.Cleanup(func() { n.Close() })
	return &cluster{t: t, net: n}
}

func (c *cluster) add(id transport.PeerID, cfg Config) *node {
	c.t.Helper()
	p := c.net.Join(id)
	conn := p.Channel("chat", transport.Reliable)
	ch, err := New(conn, cfg)
	if err != nil {
		c.t.Fatalf("New(%s): %v", id, err)
	}
	nd := &node{id: id, peer: p, conn: conn, c: ch}
	c.nodes = append(c.nodes, nd)
	return nd
}

func (c *cluster) addN(n int, cfg Config) []*node {
	var out []*node
	for i := range n {
		cfg := cfg
		cfg.Name = fmt.Sprintf("player%d", i)
		out = append(out, c.add(transport.PeerID(fmt.Sprintf("p%d", i)), cfg))
	}
	return out
}

func (c *cluster) step() {
	for _, nd := range c.nodes {
		if !nd.gone && !nd.paused {
			nd.msgs = append(nd.msgs, nd.c.Poll()...)
		}
	}
	time.Sleep(tick)
}

func (c *cluster) run(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		c.step()
	}
}

func (c *cluster) until(what string, limit time.Duration, cond func() bool) {
	c.t.Helper()
	for end := time.Now().Add(limit); !cond(); {
		if time.Now().After(end) {
			c.t.Fatalf("%s: not reached within %v\n%s", what, limit, c.dump())
		}
		c.step()
	}
}

func (c *cluster) live() []*node {
	var out []*node
	for _, nd := range c.nodes {
		if !nd.gone {
			out = append(out, nd)
		}
	}
	return out
}

// allPresent reports whether every live chat has announced every other.
func (c *cluster) allPresent() bool {
	live := c.live()
	for _, nd := range live {
		if len(nd.c.Members()) != len(live)-1 {
			return false
		}
	}
	return true
}

func (c *cluster) dump() string {
	var s string
	for _, nd := range c.nodes {
		s += fmt.Sprintf("  %s gone=%v members=%v stats=%+v lines=%d\n", nd.id, nd.gone, nd.c.Members(), nd.c.Stats(), len(nd.texts()))
	}
	return s
}

// texts returns the node's text messages.
func (nd *node) texts() []Message {
	var out []Message
	for _, m := range nd.msgs {
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
	ks := keys(nd.texts())
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
		t.Errorf("%s: duplicate lines in %v", nd.id, ks)
	}
}
