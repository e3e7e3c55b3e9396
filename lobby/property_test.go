package lobby

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// For many seeds: five peers on links of random latency arrive at random
// moments, get ready at random moments, and one or two of them (maybe the
// host) leave at a random moment — during the countdown or the start round
// as often as not. Whatever happens, every peer that started holds the
// same Match, and every seat of it still connected started too.
func TestStartProperty(t *testing.T) {
	meshtest.Seeds(t, 40, startScenario)
}

func startScenario(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	c := newCluster(t, memnet.Link{})
	peers := []transport.PeerID{"a", "b", "c", "d", "e"}
	c.RandomLinks(rng, peers, 60*time.Millisecond, 10*time.Millisecond)
	cfg := Config{Countdown: time.Duration(rng.IntN(500)) * time.Millisecond, StartTimeout: time.Second}
	arrive := make([]int, len(peers))
	ready := make([]int, len(peers))
	for i := range peers {
		arrive[i] = rng.IntN(80)
		ready[i] = arrive[i] + 60 + rng.IntN(60)
	}
	leaveAt := 100 + rng.IntN(150)
	leavers := 1 + rng.IntN(2)
	added := map[int]*node{}
	for step := 0; step < 800; step++ {
		for i, id := range peers {
			if step == arrive[i] {
				added[i] = c.add(id, cfg)
			}
			if step == ready[i] && added[i] != nil && !added[i].Gone {
				added[i].App.SetReady(true)
			}
		}
		if step == leaveAt {
			for range leavers {
				live := c.Live()
				c.leave(live[rng.IntN(len(live))], rng.IntN(2) == 0)
			}
		}
		c.Step()
	}
	var ref *Match
	started := map[transport.PeerID]bool{}
	for _, nd := range c.Live() {
		m, ok := nd.App.Match()
		if !ok {
			continue
		}
		started[nd.ID] = true
		if ref == nil {
			ref = &m
		} else if !reflect.DeepEqual(m, *ref) {
			t.Errorf("%s holds %+v, another peer %+v", nd.ID, m, *ref)
		}
	}
	if ref == nil {
		t.Fatalf("nobody started in 8 s\n%s", c.Dump())
	}
	for _, nd := range c.Live() {
		if ref.Seat(nd.ID) >= 0 && !started[nd.ID] {
			t.Errorf("%s is seated in the match and connected, but did not start\n%s", nd.ID, c.Dump())
		}
	}
	s0 := c.Live()[0].App.State()
	for _, nd := range c.Live() {
		if s := nd.App.State(); s.Host != s0.Host || s.Term != s0.Term || !reflect.DeepEqual(ids(s.Members), ids(s0.Members)) {
			t.Errorf("%s sees host %s term %d members %v; %s sees %s %d %v", nd.ID, s.Host, s.Term, ids(s.Members),
				c.Live()[0].ID, s0.Host, s0.Term, ids(s0.Members))
		}
	}
}
