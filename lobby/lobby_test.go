package lobby

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
)

var wan = memnet.Link{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond}

func TestFourPeersAgreeOnOneMatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(4, Config{})
		c.Until("one lobby", 5*time.Second, c.settled)
		for _, nd := range nodes {
			if err := nd.App.SetReady(true); err != nil {
				t.Fatal(err)
			}
		}
		c.Until("everyone started", 10*time.Second, c.allStarted)
		want, _ := nodes[0].App.Match()
		for _, nd := range nodes {
			got, _ := nd.App.Match()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Match = %+v, want %+v", nd.ID, got, want)
			}
			if f := eventsOf(nd, EventStartFailed); len(f) > 0 {
				t.Errorf("%s: start failures %v", nd.ID, f)
			}
			if st := eventsOf(nd, EventStarted); len(st) != 1 {
				t.Errorf("%s: %d EventStarted, want 1", nd.ID, len(st))
			}
		}
		if len(want.Seats) != 4 {
			t.Errorf("seats = %v, want 4", want.Seats)
		}
		t.Logf("match %+v\n%s", want, c.Dump())
	})
}

// startedCluster returns n settled peers p0..p(n-1), p0 the host.
func settledCluster(t *testing.T, n int, cfg Config) (*cluster, []*node) {
	t.Helper()
	c := newCluster(t, wan)
	nodes := c.addN(n, cfg)
	c.Until("one lobby", 5*time.Second, c.settled)
	if h := nodes[0].App.State().Host; h != "p0" {
		t.Fatalf("host = %s, want p0 (the smallest ID when all found at once)", h)
	}
	return c, nodes
}

func readyAll(t *testing.T, nodes []*node) {
	t.Helper()
	for _, nd := range nodes {
		if !nd.Gone {
			if err := nd.App.SetReady(true); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestHostMigration(t *testing.T) {
	for _, bye := range []bool{true, false} {
		name := map[bool]string{true: "leave", false: "vanish"}[bye]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, nodes := settledCluster(t, 4, Config{})
				before := nodes[1].App.State()
				succ := before.Members[1].ID // admission order decides
				c.leave(nodes[0], bye)
				c.Until("new host", 5*time.Second, func() bool { return c.settled() && nodes[1].App.State().Host == succ })
				for _, nd := range c.Live() {
					s := nd.App.State()
					if s.Term != before.Term+1 {
						t.Errorf("%s: term %d, want %d", nd.ID, s.Term, before.Term+1)
					}
					if hc := eventsOf(nd, EventHostChanged); hc[len(hc)-1].Peer != succ {
						t.Errorf("%s: last host change %v, want %s", nd.ID, hc[len(hc)-1], succ)
					}
					left := eventsOf(nd, EventLeft)
					if len(left) != 1 || left[0].Peer != "p0" {
						t.Errorf("%s: left events %v, want p0", nd.ID, left)
					}
					want := map[bool]Reason{true: ReasonLeft, false: ReasonDisconnected}[bye]
					if len(left) == 1 && left[0].Reason != want {
						t.Errorf("%s: leave reason %s, want %s", nd.ID, left[0].Reason, want)
					}
				}
				// The new host runs the lobby: a start still works.
				readyAll(t, nodes)
				c.Until("started after migration", 10*time.Second, c.allStarted)
				m, _ := nodes[1].App.Match()
				if len(m.Seats) != 3 {
					t.Errorf("seats %v, want 3", m.Seats)
				}
			})
		})
	}
}

func TestLeaveDuringCountdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 4, Config{})
		readyAll(t, nodes)
		c.Until("countdown", 2*time.Second, func() bool { return nodes[1].App.State().Phase == PhaseCountdown })
		c.leave(nodes[3], true)
		c.Until("started with three", 10*time.Second, c.allStarted)
		for _, nd := range c.Live() {
			cc := eventsOf(nd, EventCountdownCancelled)
			if len(cc) != 1 || cc[0].Reason != ReasonLeft {
				t.Errorf("%s: cancellations %v, want one (left)", nd.ID, cc)
			}
			if n := len(eventsOf(nd, EventCountdown)); n != 2 {
				t.Errorf("%s: %d countdowns, want 2", nd.ID, n)
			}
			m, _ := nd.App.Match()
			if len(m.Seats) != 3 {
				t.Errorf("%s: seats %v", nd.ID, m.Seats)
			}
		}
	})
}

func TestJoinDuringCountdownCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 2, Config{})
		readyAll(t, nodes)
		c.Until("countdown", 2*time.Second, func() bool { return nodes[1].App.State().Phase == PhaseCountdown })
		late := c.add("p9", Config{Name: "nina"})
		c.Until("three members", 5*time.Second, c.settled)
		for _, nd := range nodes {
			cc := eventsOf(nd, EventCountdownCancelled)
			if len(cc) != 1 || cc[0].Reason != ReasonJoined {
				t.Errorf("%s: cancellations %v, want one (joined)", nd.ID, cc)
			}
		}
		late.App.SetReady(true)
		c.Until("started with three", 10*time.Second, c.allStarted)
	})
}

func TestLeaveDuringStartRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 4, Config{})
		readyAll(t, nodes)
		c.Until("starting", 5*time.Second, func() bool { return nodes[0].App.State().Phase == PhaseStarting })
		c.leave(nodes[2], false)
		c.Until("started with three", 15*time.Second, c.allStarted)
		for _, nd := range c.Live() {
			f := eventsOf(nd, EventStartFailed)
			if len(f) != 1 {
				t.Errorf("%s: failures %v, want 1", nd.ID, f)
				continue
			}
			var se *StartError
			if !errorsAs(f[0].Err, &se) || se.Reason != StartReasonLeft || se.Peer != "p2" {
				t.Errorf("%s: failure %v, want left p2", nd.ID, f[0].Err)
			}
		}
		m0, _ := nodes[0].App.Match()
		for _, nd := range c.Live() {
			if m, _ := nd.App.Match(); !reflect.DeepEqual(m, m0) {
				t.Errorf("%s: match %+v, want %+v", nd.ID, m, m0)
			}
		}
	})
}

// A peer that commits and then never reveals (the "last revealer" who
// dislikes the seed) can only make the round fail, everywhere, naming it.
func TestWithheldRevealFailsEverywhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 4, Config{StartTimeout: time.Second})
		readyAll(t, nodes)
		bad := nodes[3]
		c.Until("bad peer committed", 5*time.Second, func() bool { return bad.App.rnd != nil })
		bad.Paused = true // it committed; it will never reveal
		c.Until("round failed", 5*time.Second, func() bool {
			for _, nd := range nodes[:3] {
				if len(eventsOf(nd, EventStartFailed)) == 0 {
					return false
				}
			}
			return true
		})
		c.Run(3 * time.Second)
		for _, nd := range nodes[:3] {
			f := eventsOf(nd, EventStartFailed)
			var se *StartError
			if len(f) != 1 || !errorsAs(f[0].Err, &se) || se.Reason != StartReasonTimeout || se.Peer != bad.ID {
				t.Errorf("%s: failures %v, want one timeout naming %s", nd.ID, f, bad.ID)
			}
			if _, ok := nd.App.Match(); ok {
				t.Errorf("%s started without %s", nd.ID, bad.ID)
			}
			if nd.App.State().Phase != PhaseOpen {
				t.Errorf("%s: phase %s, want open (no automatic retry: %s is unready)", nd.ID, nd.App.State().Phase, bad.ID)
			}
		}
	})
}

// A peer that reveals a nonce other than the one it committed to is named
// and the round fails everywhere.
func TestBadRevealFailsEverywhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		readyAll(t, nodes)
		bad := nodes[2]
		c.Until("bad peer committed", 5*time.Second, func() bool { return bad.App.rnd != nil })
		bad.App.mu.Lock()
		bad.App.rnd.nonce[0] ^= 1 // reveal something else
		bad.App.mu.Unlock()
		c.Until("round failed", 5*time.Second, func() bool {
			for _, nd := range nodes[:2] {
				if len(eventsOf(nd, EventStartFailed)) == 0 {
					return false
				}
			}
			return true
		})
		for _, nd := range nodes[:2] {
			var se *StartError
			f := eventsOf(nd, EventStartFailed)
			if !errorsAs(f[0].Err, &se) || se.Reason != StartReasonBadReveal || se.Peer != bad.ID {
				t.Errorf("%s: %v, want bad reveal by %s", nd.ID, f[0].Err, bad.ID)
			}
			if _, ok := nd.App.Match(); ok {
				t.Errorf("%s started", nd.ID)
			}
		}
	})
}

func TestDuplicateNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		a := c.add("a", Config{Name: "Sam"})
		c.Run(time.Second)
		b := c.add("b", Config{Name: "sam"})
		c.Until("one lobby", 5*time.Second, c.settled)
		for _, nd := range []*node{a, b} {
			m, _ := nd.App.State().Member("b")
			if m.Name != "sam (2)" || m.Requested != "sam" {
				t.Errorf("%s sees b as %q (requested %q), want \"sam (2)\"", nd.ID, m.Name, m.Requested)
			}
			if r := eventsOf(nd, EventRenamed); len(r) != 1 || r[0].Peer != "b" {
				t.Errorf("%s: renames %v", nd.ID, r)
			}
		}
		// b renames itself to something free: the suffix goes.
		b.App.SetName("Max")
		c.Run(time.Second)
		if m, _ := a.App.State().Member("b"); m.Name != "Max" || m.Requested != "" {
			t.Errorf("after SetName: %+v", m)
		}
	})
}

func TestLateArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 2, Config{})
		readyAll(t, nodes)
		c.Until("started", 10*time.Second, c.allStarted)
		late := c.add("p7", Config{Name: "late"})
		c.Until("late member", 5*time.Second, func() bool { return late.App.State().Joined })
		c.Run(time.Second)
		for _, nd := range c.Live() {
			la := eventsOf(nd, EventLateArrival)
			if len(la) != 1 || la[0].Peer != "p7" || !la[0].Member.Late {
				t.Errorf("%s: late arrivals %v", nd.ID, la)
			}
		}
		if _, ok := late.App.Match(); ok {
			t.Error("the late peer has a Match")
		}
		if err := nodes[1].App.Reopen(); err != ErrNotHost {
			t.Errorf("Reopen by a member = %v, want ErrNotHost", err)
		}
		if err := nodes[0].App.Reopen(); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		for _, nd := range c.Live() {
			if len(eventsOf(nd, EventReopened)) != 1 {
				t.Errorf("%s: no EventReopened", nd.ID)
			}
			if _, ok := nd.App.Match(); ok {
				t.Errorf("%s: Match after Reopen", nd.ID)
			}
		}
		readyAll(t, c.Live())
		c.Until("second match with three", 10*time.Second, func() bool {
			m, ok := late.App.Match()
			return ok && len(m.Seats) == 3 && c.allStarted()
		})
	})
}

func TestKick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		if err := nodes[1].App.Kick("p2"); err != ErrNotHost {
			t.Errorf("Kick by a member = %v, want ErrNotHost", err)
		}
		if err := nodes[0].App.Kick("nobody"); !errorsIs(err, ErrNotMember) {
			t.Errorf("Kick(nobody) = %v, want ErrNotMember", err)
		}
		if err := nodes[0].App.Kick("p2"); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		victim := nodes[2]
		if k := eventsOf(victim, EventKicked); len(k) != 1 || !errorsIs(k[0].Err, ErrKicked) {
			t.Errorf("victim events %v", victim.Events)
		}
		if s := victim.App.State(); s.Joined || !s.Kicked {
			t.Errorf("victim state joined=%v kicked=%v", s.Joined, s.Kicked)
		}
		for _, nd := range nodes[:2] {
			left := eventsOf(nd, EventLeft)
			if len(left) != 1 || left[0].Peer != "p2" || left[0].Reason != ReasonKicked {
				t.Errorf("%s: left %v, want p2 kicked", nd.ID, left)
			}
		}
		// The ban survives migration.
		c.leave(nodes[0], true)
		c.Run(3 * time.Second)
		s := nodes[1].App.State()
		if s.Host != "p1" || len(s.Members) != 1 || s.Banned[0] != "p2" {
			t.Errorf("after migration: host %s members %v banned %v", s.Host, ids(s.Members), s.Banned)
		}
	})
}

func TestLobbyFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		a := c.add("a", Config{Settings: Settings{MaxPlayers: 2}})
		c.Run(time.Second)
		c.add("b", Config{})
		c.add("c", Config{})
		c.Run(2 * time.Second)
		if s := a.App.State(); len(s.Members) != 2 {
			t.Fatalf("members %v", ids(s.Members))
		}
		var in, out *node
		for _, nd := range c.Nodes[1:] {
			if nd.App.State().Joined {
				in = nd
			} else {
				out = nd
			}
		}
		if in == nil || out == nil {
			t.Fatalf("want one of b, c admitted and one turned away\n%s", c.Dump())
		}
		if r := eventsOf(out, EventRejected); len(r) != 1 || !errorsIs(r[0].Err, ErrLobbyFull) {
			t.Errorf("%s: rejections %v", out.ID, r)
		}
		if got := a.App.State().Listing(); got != (Listing{Players: 2, MaxPlayers: 2, State: "open"}) {
			t.Errorf("listing %+v", got)
		}
		// Room frees up: the waiting peer gets in.
		c.leave(in, true)
		c.Until("waiting peer admitted", 5*time.Second, func() bool { return out.App.State().Joined })
	})
}

func TestSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		readyAll(t, nodes)
		c.Until("countdown", 2*time.Second, func() bool { return nodes[2].App.State().Phase == PhaseCountdown })
		if err := nodes[1].App.SetSettings(Settings{MaxPlayers: 4}); err != ErrNotHost {
			t.Errorf("SetSettings by a member = %v", err)
		}
		if err := nodes[0].App.SetSettings(Settings{MaxPlayers: 99}); !errorsIs(err, ErrInvalidSettings) {
			t.Errorf("SetSettings(99 players) = %v", err)
		}
		want := Settings{MaxPlayers: 4, Data: []byte("map=dunes")}
		if err := nodes[0].App.SetSettings(want); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		for _, nd := range nodes {
			if got := nd.App.State().Settings; !got.equal(want) {
				t.Errorf("%s: settings %+v", nd.ID, got)
			}
			if len(eventsOf(nd, EventSettingsChanged)) != 1 {
				t.Errorf("%s: no EventSettingsChanged", nd.ID)
			}
			cc := eventsOf(nd, EventCountdownCancelled)
			if len(cc) != 1 || cc[0].Reason != ReasonSettings {
				t.Errorf("%s: cancellations %v, want settings", nd.ID, cc)
			}
			if st := nd.App.State(); st.Phase != PhaseOpen {
				t.Errorf("%s: phase %s", nd.ID, st.Phase)
			}
		}
		readyAll(t, nodes)
		c.Until("started", 10*time.Second, c.allStarted)
		for _, nd := range nodes {
			if m, _ := nd.App.Match(); !m.Settings.equal(want) {
				t.Errorf("%s: match settings %+v", nd.ID, m.Settings)
			}
		}
	})
}

func TestManualStartAndSeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		cfg := Config{ManualStart: true, Countdown: -1}
		a := c.add("a", withSeat(cfg, 0, 0))
		c.Run(time.Second)
		b := c.add("b", withSeat(cfg, 2, 1))
		cc := c.add("c", withSeat(cfg, 1, 2))
		c.Until("one lobby", 5*time.Second, c.settled)
		readyAll(t, c.Nodes)
		c.Run(time.Second)
		if a.App.State().Phase != PhaseOpen {
			t.Fatalf("ManualStart lobby left open: %s", a.App.State().Phase)
		}
		if err := b.App.Start(); err != ErrNotHost {
			t.Errorf("Start by a member = %v", err)
		}
		if err := a.App.Start(); err != nil {
			t.Fatal(err)
		}
		c.Until("started", 5*time.Second, c.allStarted)
		m, _ := cc.App.Match()
		// b asked for seat 1 first; c wanted seat 2; a (no preference)
		// takes the free seat 3.
		if got, want := m.Seats, []string{"b", "c", "a"}; !equalIDs(got, want) {
			t.Errorf("seats %v, want %v", got, want)
		}
		if got := m.Teams; !reflect.DeepEqual(got, []int{2, 1, 0}) {
			t.Errorf("teams %v", got)
		}
	})
}
