package chat

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// For many seeds: five peers with random link latencies talk at random
// moments; one joins late, one leaves midway. Any two peers show the lines
// they both have in the same order, and nobody shows a line twice.
func TestOrderProperty(t *testing.T) {
	meshtest.Seeds(t, 40, orderScenario)
}

func orderScenario(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	c := newCluster(t, memnet.Link{Latency: 20 * time.Millisecond, Jitter: 15 * time.Millisecond})
	cfg := Config{Bus: BusConfig{Rate: 100, Burst: 100, History: 256}}
	ids := []transport.PeerID{"a", "b", "c", "d", "e"}
	c.RandomLinks(rng, ids, 80*time.Millisecond, 10*time.Millisecond)
	for _, id := range ids[:4] {
		c.add(id, cfg)
	}
	joinAt, leaveAt := 50+rng.IntN(100), 100+rng.IntN(100)
	for i := range 300 {
		if i == joinAt {
			c.add("e", cfg)
		}
		if i == leaveAt {
			c.Drop(c.Nodes[1+rng.IntN(2)])
		}
		for _, nd := range c.Live() {
			if rng.IntN(12) == 0 {
				if err := nd.App.Say(fmt.Sprintf("%s@%d", nd.ID, i)); err != nil {
					t.Fatalf("%s: %v", nd.ID, err)
				}
			}
		}
		c.Step()
	}
	c.Run(3 * time.Second)
	for _, x := range c.Nodes {
		noDuplicates(t, x)
		for _, y := range c.Nodes {
			if x.ID >= y.ID {
				continue
			}
			kx, ky := keys(texts(x)), keys(texts(y))
			cx := slices.DeleteFunc(slices.Clone(kx), func(k key) bool { return !slices.Contains(ky, k) })
			cy := slices.DeleteFunc(slices.Clone(ky), func(k key) bool { return !slices.Contains(kx, k) })
			if !slices.Equal(cx, cy) {
				t.Errorf("%s and %s disagree on the order of %d common lines:\n %v\n %v", x.ID, y.ID, len(cx), cx, cy)
			}
		}
	}
	// The peers present throughout hold the same lines.
	var full []*node
	for _, nd := range c.Live() {
		if nd.ID != "e" {
			full = append(full, nd)
		}
	}
	for _, nd := range full[1:] {
		if !slices.Equal(keys(texts(nd)), keys(texts(full[0]))) {
			t.Errorf("%s and %s hold different lines", nd.ID, full[0].ID)
		}
	}
	if e := c.Nodes[4]; len(texts(e)) == 0 || !texts(e)[0].History {
		t.Errorf("late peer got no history")
	}
	for _, nd := range c.Live() {
		if st := nd.App.Stats().Bus; st.Forced != 0 {
			t.Errorf("%s forced %d deliveries", nd.ID, st.Forced)
		}
	}
}
