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
		c.until("one lobby", 5*time.Second, c.settled)
		for _, nd := range nodes {
			if err := nd.l.SetReady(true); err != nil {
				t.Fatal(err)
			}
		}
		c.until("everyone started", 10*time.Second, c.allStarted)
		want, _ := nodes[0].l.Match()
		for _, nd := range nodes {
			got, _ := nd.l.Match()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Match = %+v, want %+v", nd.id, got, want)
			}
			if f := nd.of(EventStartFailed); len(f) > 0 {
				t.Errorf("%s: start failures %v", nd.id, f)
			}
			if st := nd.of(EventStarted); len(st) != 1 {
				t.Errorf("%s: %d EventStarted, want 1", nd.id, len(st))
			}
		}
		if len(want.Seats) != 4 {
			t.Errorf("seats = %v, want 4", want.Seats)
		}
		t.Logf("match %+v\n%s", want, c.dump())
	})
}

// startedCluster returns n settled peers p0..p(n-1), p0 the host.
func settledCluster(t *testing.T, n int, cfg Config) (*cluster, []*node) {
	t.Helper()
	c := newCluster(t, wan)
	nodes := c.addN(n, cfg)
	c.until("one lobby", 5*time.Second, c.settled)
	if h := nodes[0].l.State().Host; h != "p0" {
		t.Fatalf("host = %s, want p0 (the smallest ID when all found at once)", h)
	}
	return c, nodes
}

func readyAll(t *testing.T, nodes []*node) {
	t.Helper()
	for _, nd := range nodes {
		if !nd.gone {
			if err := nd.l.SetReady(true); err != nil {
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
				before := nodes[1].l.State()
				succ := before.Members[1].ID // admission order decides
				c.leave(nodes[0], bye)
				c.until("new host", 5*time.Second, func() bool { return c.settled() && nodes[1].l.State().Host == succ })
				for _, nd := range c.live() {
					s := nd.l.State()
					if s.Term != before.Term+1 {
						t.Errorf("%s: term %d, want %d", nd.id, s.Term, before.Term+1)
					}
					if hc := nd.of(EventHostChanged); hc[len(hc)-1].Peer != succ {
						t.Errorf("%s: last host change %v, want %s", nd.id, hc[len(hc)-1], succ)
					}
					left := nd.of(EventLeft)
					if len(left) != 1 || left[0].Peer != "p0" {
						t.Errorf("%s: left events %v, want p0", nd.id, left)
					}
					want := map[bool]Reason{true: ReasonLeft, false: ReasonDisconnected}[bye]
					if len(left) == 1 && left[0].Reason != want {
						t.Errorf("%s: leave reason %s, want %s", nd.id, left[0].Reason, want)
					}
				}
				// The new host runs the lobby: a start still works.
				readyAll(t, nodes)
				c.until("started after migration", 10*time.Second, c.allStarted)
				m, _ := nodes[1].l.Match()
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
		c.until("countdown", 2*time.Second, func() bool { return nodes[1].l.State().Phase == PhaseCountdown })
		c.leave(nodes[3], true)
		c.until("started with three", 10*time.Second, c.allStarted)
		for _, nd := range c.live() {
			cc := nd.of(EventCountdownCancelled)
			if len(cc) != 1 || cc[0].Reason != ReasonLeft {
				t.Errorf("%s: cancellations %v, want one (left)", nd.id, cc)
			}
			if n := len(nd.of(EventCountdown)); n != 2 {
				t.Errorf("%s: %d countdowns, want 2", nd.id, n)
			}
			m, _ := nd.l.Match()
			if len(m.Seats) != 3 {
				t.Errorf("%s: seats %v", nd.id, m.Seats)
			}
		}
	})
}

func TestJoinDuringCountdownCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 2, Config{})
		readyAll(t, nodes)
		c.until("countdown", 2*time.Second, func() bool { return nodes[1].l.State().Phase == PhaseCountdown })
		late := c.add("p9", Config{Name: "nina"})
		c.until("three members", 5*time.Second, c.settled)
		for _, nd := range nodes {
			cc := nd.of(EventCountdownCancelled)
			if len(cc) != 1 || cc[0].Reason != ReasonJoined {
				t.Errorf("%s: cancellations %v, want one (joined)", nd.id, cc)
			}
		}
		late.l.SetReady(true)
		c.until("started with three", 10*time.Second, c.allStarted)
	})
}

func TestLeaveDuringStartRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 4, Config{})
		readyAll(t, nodes)
		c.until("starting", 5*time.Second, func() bool { return nodes[0].l.State().Phase == PhaseStarting })
		c.leave(nodes[2], false)
		c.until("started with three", 15*time.Second, c.allStarted)
		for _, nd := range c.live() {
			f := nd.of(EventStartFailed)
			if len(f) != 1 {
				t.Errorf("%s: failures %v, want 1", nd.id, f)
				continue
			}
			var se *StartError
			if !errorsAs(f[0].Err, &se) || se.Reason != StartReasonLeft || se.Peer != "p2" {
				t.Errorf("%s: failure %v, want left p2", nd.id, f[0].Err)
			}
		}
		m0, _ := nodes[0].l.Match()
		for _, nd := range c.live() {
			if m, _ := nd.l.Match(); !reflect.DeepEqual(m, m0) {
				t.Errorf("%s: match %+v, want %+v", nd.id, m, m0)
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
		c.until("bad peer committed", 5*time.Second, func() bool { return bad.l.rnd != nil })
		bad.paused = true // it committed; it will never reveal
		c.until("round failed", 5*time.Second, func() bool {
			for _, nd := range nodes[:3] {
				if len(nd.of(EventStartFailed)) == 0 {
					return false
				}
			}
			return true
		})
		c.run(3 * time.Second)
		for _, nd := range nodes[:3] {
			f := nd.of(EventStartFailed)
			var se *StartError
			if len(f) != 1 || !errorsAs(f[0].Err, &se) || se.Reason != StartReasonTimeout || se.Peer != bad.id {
				t.Errorf("%s: failures %v, want one timeout naming %s", nd.id, f, bad.id)
			}
			if _, ok := nd.l.Match(); ok {
				t.Errorf("%s started without %s", nd.id, bad.id)
			}
			if nd.l.State().Phase != PhaseOpen {
				t.Errorf("%s: phase %s, want open (no automatic retry: %s is unready)", nd.id, nd.l.State().Phase, bad.id)
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
		c.until("bad peer committed", 5*time.Second, func() bool { return bad.l.rnd != nil })
		bad.l.mu.Lock()
		bad.l.rnd.nonce[0] ^= 1 // reveal something else
		bad.l.mu.Unlock()
		c.until("round failed", 5*time.Second, func() bool {
			for _, nd := range nodes[:2] {
				if len(nd.of(EventStartFailed)) == 0 {
					return false
				}
			}
			return true
		})
		for _, nd := range nodes[:2] {
			var se *StartError
			f := nd.of(EventStartFailed)
			if !errorsAs(f[0].Err, &se) || se.Reason != StartReasonBadReveal || se.Peer != bad.id {
				t.Errorf("%s: %v, want bad reveal by %s", nd.id, f[0].Err, bad.id)
			}
			if _, ok := nd.l.Match(); ok {
				t.Errorf("%s started", nd.id)
			}
		}
	})
}

func TestDuplicateNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		a := c.add("a", Config{Name: "Sam"})
		c.run(time.Second)
		b := c.add("b", Config{Name: "sam"})
		c.until("one lobby", 5*time.Second, c.settled)
		for _, nd := range []*node{a, b} {
			m, _ := nd.l.State().Member("b")
			if m.Name != "sam (2)" || m.Requested != "sam" {
				t.Errorf("%s sees b as %q (requested %q), want \"sam (2)\"", nd.id, m.Name, m.Requested)
			}
			if r := nd.of(EventRenamed); len(r) != 1 || r[0].Peer != "b" {
				t.Errorf("%s: renames %v", nd.id, r)
			}
		}
		// b renames itself to something free: the suffix goes.
		b.l.SetName("Max")
		c.run(time.Second)
		if m, _ := a.l.State().Member("b"); m.Name != "Max" || m.Requested != "" {
			t.Errorf("after SetName: %+v", m)
		}
	})
}

func TestLateArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 2, Config{})
		readyAll(t, nodes)
		c.until("started", 10*time.Second, c.allStarted)
		late := c.add("p7", Config{Name: "late"})
		c.until("late member", 5*time.Second, func() bool { return late.l.State().Joined })
		c.run(time.Second)
		for _, nd := range c.live() {
			la := nd.of(EventLateArrival)
			if len(la) != 1 || la[0].Peer != "p7" || !la[0].Member.Late {
				t.Errorf("%s: late arrivals %v", nd.id, la)
			}
		}
		if _, ok := late.l.Match(); ok {
			t.Error("the late peer has a Match")
		}
		if err := nodes[1].l.Reopen(); err != ErrNotHost {
			t.Errorf("Reopen by a member = %v, want ErrNotHost", err)
		}
		if err := nodes[0].l.Reopen(); err != nil {
			t.Fatal(err)
		}
		c.run(time.Second)
		for _, nd := range c.live() {
			if len(nd.of(EventReopened)) != 1 {
				t.Errorf("%s: no EventReopened", nd.id)
			}
			if _, ok := nd.l.Match(); ok {
				t.Errorf("%s: Match after Reopen", nd.id)
			}
		}
		readyAll(t, c.live())
		c.until("second match with three", 10*time.Second, func() bool {
			m, ok := late.l.Match()
			return ok && len(m.Seats) == 3 && c.allStarted()
		})
	})
}

func TestKick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		if err := nodes[1].l.Kick("p2"); err != ErrNotHost {
			t.Errorf("Kick by a member = %v, want ErrNotHost", err)
		}
		if err := nodes[0].l.Kick("nobody"); !errorsIs(err, ErrNotMember) {
			t.Errorf("Kick(nobody) = %v, want ErrNotMember", err)
		}
		if err := nodes[0].l.Kick("p2"); err != nil {
			t.Fatal(err)
		}
		c.run(time.Second)
		victim := nodes[2]
		if k := victim.of(EventKicked); len(k) != 1 || !errorsIs(k[0].Err, ErrKicked) {
			t.Errorf("victim events %v", victim.events)
		}
		if s := victim.l.State(); s.Joined || !s.Kicked {
			t.Errorf("victim state joined=%v kicked=%v", s.Joined, s.Kicked)
		}
		for _, nd := range nodes[:2] {
			left := nd.of(EventLeft)
			if len(left) != 1 || left[0].Peer != "p2" || left[0].Reason != ReasonKicked {
				t.Errorf("%s: left %v, want p2 kicked", nd.id, left)
			}
		}
		// The ban survives migration.
		c.leave(nodes[0], true)
		c.run(3 * time.Second)
		s := nodes[1].l.State()
		if s.Host != "p1" || len(s.Members) != 1 || s.Banned[0] != "p2" {
			t.Errorf("after migration: host %s members %v banned %v", s.Host, ids(s.Members), s.Banned)
		}
	})
}

func TestLobbyFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		a := c.add("a", Config{Settings: Settings{MaxPlayers: 2}})
		c.run(time.Second)
		c.add("b", Config{})
		c.add("c", Config{})
		c.run(2 * time.Second)
		if s := a.l.State(); len(s.Members) != 2 {
			t.Fatalf("members %v", ids(s.Members))
		}
		var in, out *node
		for _, nd := range c.nodes[1:] {
			if nd.l.State().Joined {
				in = nd
			} else {
				out = nd
			}
		}
		if in == nil || out == nil {
			t.Fatalf("want one of b, c admitted and one turned away\n%s", c.dump())
		}
		if r := out.of(EventRejected); len(r) != 1 || !errorsIs(r[0].Err, ErrLobbyFull) {
			t.Errorf("%s: rejections %v", out.id, r)
		}
		if got := a.l.State().Listing(); got != (Listing{Players: 2, MaxPlayers: 2, State: "open"}) {
			t.Errorf("listing %+v", got)
		}
		// Room frees up: the waiting peer gets in.
		c.leave(in, true)
		c.until("waiting peer admitted", 5*time.Second, func() bool { return out.l.State().Joined })
	})
}

func TestSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		readyAll(t, nodes)
		c.until("countdown", 2*time.Second, func() bool { return nodes[2].l.State().Phase == PhaseCountdown })
		if err := nodes[1].l.SetSettings(Settings{MaxPlayers: 4}); err != ErrNotHost {
			t.Errorf("SetSettings by a member = %v", err)
		}
		if err := nodes[0].l.SetSettings(Settings{MaxPlayers: 99}); !errorsIs(err, ErrInvalidSettings) {
			t.Errorf("SetSettings(99 players) = %v", err)
		}
		want := Settings{MaxPlayers: 4, Data: []byte("map=dunes")}
		if err := nodes[0].l.SetSettings(want); err != nil {
			t.Fatal(err)
		}
		c.run(time.Second)
		for _, nd := range nodes {
			if got := nd.l.State().Settings; !got.equal(want) {
				t.Errorf("%s: settings %+v", nd.id, got)
			}
			if len(nd.of(EventSettingsChanged)) != 1 {
				t.Errorf("%s: no EventSettingsChanged", nd.id)
			}
			cc := nd.of(EventCountdownCancelled)
			if len(cc) != 1 || cc[0].Reason != ReasonSettings {
				t.Errorf("%s: cancellations %v, want settings", nd.id, cc)
			}
			if st := nd.l.State(); st.Phase != PhaseOpen {
				t.Errorf("%s: phase %s", nd.id, st.Phase)
			}
		}
		readyAll(t, nodes)
		c.until("started", 10*time.Second, c.allStarted)
		for _, nd := range nodes {
			if m, _ := nd.l.Match(); !m.Settings.equal(want) {
				t.Errorf("%s: match settings %+v", nd.id, m.Settings)
			}
		}
	})
}

func TestManualStartAndSeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		cfg := Config{ManualStart: true, Countdown: -1}
		a := c.add("a", withSeat(cfg, 0, 0))
		c.run(time.Second)
		b := c.add("b", withSeat(cfg, 2, 1))
		cc := c.add("c", withSeat(cfg, 1, 2))
		c.until("one lobby", 5*time.Second, c.settled)
		readyAll(t, c.nodes)
		c.run(time.Second)
		if a.l.State().Phase != PhaseOpen {
			t.Fatalf("ManualStart lobby left open: %s", a.l.State().Phase)
		}
		if err := b.l.Start(); err != ErrNotHost {
			t.Errorf("Start by a member = %v", err)
		}
		if err := a.l.Start(); err != nil {
			t.Fatal(err)
		}
		c.until("started", 5*time.Second, c.allStarted)
		m, _ := cc.l.Match()
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
