package lobby

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// Rematch (#15): after a match the host reopens the lobby; the same
// players are back in it, unready, with no Match; ready again, they get a
// new match with a new seed. Twice, the second time after the host left
// (its successor reopens).
func TestRematch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		readyAll(t, nodes)
		c.Until("first match", 10*time.Second, c.allStarted)
		first, _ := nodes[0].App.Match()
		seeds := []uint64{first.Seed}
		for i, host := range []*node{nodes[0], nodes[1]} {
			if i == 1 {
				c.leave(nodes[0], false) // the host of the last match vanishes after it
				c.Until("successor", 10*time.Second, func() bool { return c.settled() && nodes[1].App.State().Host == "p1" })
			}
			if err := nodes[2].App.Reopen(); err != ErrNotHost {
				t.Errorf("Reopen by a member = %v", err)
			}
			if err := host.App.Reopen(); err != nil {
				t.Fatal(err)
			}
			c.Until("reopened", 5*time.Second, func() bool {
				for _, nd := range c.Live() {
					if _, ok := nd.App.Match(); ok || nd.App.State().Phase != PhaseOpen {
						return false
					}
				}
				return true
			})
			for _, nd := range c.Live() {
				s := nd.App.State()
				if len(s.Members) != len(c.Live()) || slices.ContainsFunc(s.Members, func(m Member) bool { return m.Ready }) {
					t.Errorf("%s after reopen: members %+v", nd.ID, s.Members)
				}
				if nd.ID != host.ID && len(eventsOf(nd, EventReopened)) != i+1 {
					t.Errorf("%s: %d reopen events, want %d", nd.ID, len(eventsOf(nd, EventReopened)), i+1)
				}
			}
			readyAll(t, c.Live())
			c.Until("rematch", 10*time.Second, c.allStarted)
			m, _ := host.App.Match()
			for _, nd := range c.Live() {
				if got, _ := nd.App.Match(); got.Seed != m.Seed || !slices.Equal(got.Seats, m.Seats) {
					t.Errorf("%s: match %+v, want %+v", nd.ID, got, m)
				}
			}
			if slices.Contains(seeds, m.Seed) || len(m.Seats) != len(c.Live()) {
				t.Errorf("rematch %d: seed %#x (earlier %#x), seats %v", i+1, m.Seed, seeds, m.Seats)
			}
			seeds = append(seeds, m.Seed)
		}
	})
}
