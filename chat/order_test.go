package chat

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// For many seeds: five peers with random link latencies talk at random
// moments; one joins late, one leaves midway. Any two peers show the lines
// they both have in the same order, and nobody shows a line twice.
func TestOrderProperty(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { orderScenario(t, seed) })
		})
	}
}

func orderScenario(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	c := newCluster(t, memnet.Link{Latency: 20 * time.Millisecond, Jitter: 15 * time.Millisecond})
	cfg := Config{Bus: BusConfig{Rate: 100, Burst: 100, History: 256}}
	ids := []transport.PeerID{"a", "b", "c", "d", "e"}
	for _, x := range ids {
		for _, y := range ids {
			if x != y {
				c.net.SetLink(x, y, memnet.Link{Latency: time.Duration(1+rng.IntN(80)) * time.Millisecond,
					Jitter: time.Duration(rng.IntN(10)) * time.Millisecond})
			}
		}
	}
	for _, id := range ids[:4] {
		c.add(id, cfg)
	}
	joinAt, leaveAt := 50+rng.IntN(100), 100+rng.IntN(100)
	for i := range 300 {
		if i == joinAt {
			c.add("e", cfg)
		}
		if i == leaveAt {
			nd := c.nodes[1+rng.IntN(2)]
			nd.peer.Close()
			nd.gone = true
		}
		for _, nd := range c.live() {
			if rng.IntN(12) == 0 {
				if err := nd.c.Say(fmt.Sprintf("%s@%d", nd.id, i)); err != nil {
					t.Fatalf("%s: %v", nd.id, err)
				}
			}
		}
		c.step()
	}
	c.run(3 * time.Second)
	for _, x := range c.nodes {
		noDuplicates(t, x)
		for _, y := range c.nodes {
			if x.id >= y.id {
				continue
			}
			kx, ky := keys(x.texts()), keys(y.texts())
			cx := slices.DeleteFunc(slices.Clone(kx), func(k key) bool { return !slices.Contains(ky, k) })
			cy := slices.DeleteFunc(slices.Clone(ky), func(k key) bool { return !slices.Contains(kx, k) })
			if !slices.Equal(cx, cy) {
				t.Errorf("%s and %s disagree on the order of %d common lines:\n %v\n %v", x.id, y.id, len(cx), cx, cy)
			}
		}
	}
	// The peers present throughout hold the same lines.
	var full []*node
	for _, nd := range c.live() {
		if nd.id != "e" {
			full = append(full, nd)
		}
	}
	for _, nd := range full[1:] {
		if !slices.Equal(keys(nd.texts()), keys(full[0].texts())) {
			t.Errorf("%s and %s hold different lines", nd.id, full[0].id)
		}
	}
	if e := c.nodes[4]; len(e.texts()) == 0 || !e.texts()[0].History {
		t.Errorf("late peer got no history")
	}
	for _, nd := range c.live() {
		if st := nd.c.Stats().Bus; st.Forced != 0 {
			t.Errorf("%s forced %d deliveries", nd.id, st.Forced)
		}
	}
}
