package lobby

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// startedCluster settles n peers with cfg, readies them and waits for the
// match.
func startedCluster(t *testing.T, n int, cfg Config) (*cluster, []*node, Match) {
	t.Helper()
	c, nodes := settledCluster(t, n, cfg)
	readyAll(t, nodes)
	c.Until("started", 10*time.Second, c.allStarted)
	m, _ := nodes[0].App.Match()
	return c, nodes, m
}

// A player whose process crashed comes back with the same identity and a
// fresh lobby: the host recognises its seat and sends it the match
// (EventRejoin), with the seat it held and the same seed; nobody else is
// seated or told anything.
func TestRejoinRunningMatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 3, Config{})
		seat := m.Seat("p2")
		c.Drop(nodes[2])
		c.Run(time.Second)
		back := c.add("p2", Config{Name: "back"})
		c.Until("rejoin", 10*time.Second, func() bool { return len(eventsOf(back, EventRejoin)) > 0 })
		e := eventsOf(back, EventRejoin)[0]
		if e.Seat != seat || e.Match.Seed != m.Seed || !slices.Equal(e.Match.Seats, m.Seats) || e.Match.Round != m.Round {
			t.Errorf("rejoin event %+v, want seat %d of %+v", e, seat, m)
		}
		if got, ok := back.App.Match(); !ok || got.Seed != m.Seed {
			t.Errorf("Match() after rejoin = %+v, %v", got, ok)
		}
		c.Run(2 * time.Second)
		if n := len(eventsOf(back, EventRejoin)); n != 1 {
			t.Errorf("%d rejoin events, want 1", n)
		}
		if mb, _ := back.App.State().Member("p2"); mb.Late {
			t.Errorf("rejoined member shown late: %+v", mb)
		}
		for _, nd := range nodes[:2] {
			if ev := eventsOf(nd, EventRejoin, EventSeated, EventWatch); len(ev) != 0 {
				t.Errorf("%s: %v", nd.ID, ev)
			}
		}
	})
}

// A 2-seat match with one reserved seat: a newcomer asks and takes it;
// every seat hears it (EventSeated, to Rebind its session), the newcomer
// gets the match with itself in the seat. The setting is the host's and
// every member sees it.
func TestNewcomerTakesReservedSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 4, LateJoin: true, OpenSeats: 1}})
		if len(m.Seats) != 3 || !slices.Equal(m.Reserved, []transport.PeerID{ReservedID(2)}) || m.Seats[2] != ReservedID(2) {
			t.Fatalf("match seats %q reserved %q", m.Seats, m.Reserved)
		}
		if s := nodes[1].App.State().Settings; !s.LateJoin || s.OpenSeats != 1 {
			t.Errorf("member sees settings %+v", s)
		}
		nc := c.add("p5", Config{Name: "new"})
		c.Until("newcomer member", 5*time.Second, func() bool { return nc.App.State().Joined })
		if err := nc.App.JoinRunning(); err != nil {
			t.Fatal(err)
		}
		c.Until("seated", 5*time.Second, func() bool { return len(eventsOf(nc, EventSeated)) > 0 })
		c.Run(time.Second)
		for _, nd := range append(nodes, nc) {
			ev := eventsOf(nd, EventSeated)
			if len(ev) != 1 || ev[0].Peer != "p5" || ev[0].Seat != 2 {
				t.Errorf("%s: seated events %v", nd.ID, ev)
				continue
			}
			got := ev[0].Match
			if got.Seed != m.Seed || !slices.Equal(got.Seats, []transport.PeerID{m.Seats[0], m.Seats[1], "p5"}) ||
				!slices.Equal(got.Reserved, []transport.PeerID{"p5"}) {
				t.Errorf("%s: match %+v", nd.ID, got)
			}
			if r, _ := nd.App.Running(); !slices.Equal(r.Seats, got.Seats) {
				t.Errorf("%s: Running() seats %q", nd.ID, r.Seats)
			}
		}
		if mt, ok := nc.App.Match(); !ok || mt.Seat("p5") != 2 {
			t.Errorf("newcomer Match() = %+v, %v", mt, ok)
		}
		// No second open seat: a second newcomer stays late.
		nc2 := c.add("p6", Config{})
		c.Until("second newcomer member", 5*time.Second, func() bool { return nc2.App.State().Joined })
		if err := nc2.App.JoinRunning(); err != nil {
			t.Fatal(err)
		}
		c.Run(3 * time.Second)
		if ev := eventsOf(nc2, EventSeated); len(ev) != 0 {
			t.Errorf("second newcomer seated: %v", ev)
		}
	})
}

// A seat whose player left for good (a goodbye) is open to a newcomer
// when the host allows it; a seat whose player only disconnected is held
// for its rejoin.
func TestNewcomerTakesFreedSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 4, Config{Settings: Settings{MaxPlayers: 8, LateJoin: true}})
		c.Drop(nodes[3]) // crashed: held
		c.leave(nodes[2], true)
		c.Run(time.Second)
		nc := c.add("p7", Config{})
		c.Until("newcomer member", 5*time.Second, func() bool { return nc.App.State().Joined })
		if err := nc.App.JoinRunning(); err != nil {
			t.Fatal(err)
		}
		c.Until("seated", 5*time.Second, func() bool { return len(eventsOf(nc, EventSeated)) > 0 })
		if e := eventsOf(nc, EventSeated)[0]; e.Seat != m.Seat("p2") {
			t.Errorf("newcomer took seat %d, want p2's %d (p3's is held)", e.Seat, m.Seat("p2"))
		}
	})
}

// With LateJoin off (the default) nobody is seated in a running match.
func TestNewcomerWaitsWhenLateJoinOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, _ := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 4, OpenSeats: 1}})
		nc := c.add("p5", Config{})
		c.Until("newcomer member", 5*time.Second, func() bool { return nc.App.State().Joined })
		if err := nc.App.JoinRunning(); err != ErrLateJoinOff {
			t.Errorf("JoinRunning = %v, want ErrLateJoinOff", err)
		}
		c.Run(3 * time.Second)
		if ev := eventsOf(nc, EventSeated); len(ev) != 0 {
			t.Errorf("seated: %v", ev)
		}
	})
}

// A spectator asks to watch: it is never seated, and gets the match and
// the seats to stream from, both when it asks mid-match and when it was
// watching before the match started.
func TestWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		if err := nodes[2].App.Watch(true); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		readyAll(t, nodes[:2])
		c.Until("started", 10*time.Second, func() bool {
			_, a := nodes[0].App.Match()
			_, b := nodes[1].App.Match()
			return a && b && len(eventsOf(nodes[2], EventWatch)) > 0
		})
		m, _ := nodes[0].App.Match()
		if len(m.Seats) != 2 || m.Seat("p2") >= 0 {
			t.Errorf("watcher seated: %q", m.Seats)
		}
		e := eventsOf(nodes[2], EventWatch)[0]
		if e.Match.Seed != m.Seed || e.Source != m.Seats[0] || !slices.Equal(e.Witnesses, m.Seats[1:]) {
			t.Errorf("watch event %+v, match %+v", e, m)
		}
		if _, ok := nodes[2].App.Match(); ok {
			t.Error("watcher has a seated Match")
		}
		late := c.add("p9", Config{})
		c.Until("late member", 5*time.Second, func() bool { return late.App.State().Joined })
		if err := late.App.Watch(true); err != nil {
			t.Fatal(err)
		}
		c.Until("late watch", 5*time.Second, func() bool { return len(eventsOf(late, EventWatch)) > 0 })
		if e := eventsOf(late, EventWatch)[0]; e.Match.Seed != m.Seed || e.Source == "" {
			t.Errorf("late watch %+v", e)
		}
		if err := nodes[0].App.Watch(true); err == nil {
			t.Error("a seated player could watch its own running match")
		}
	})
}

// A full 2-player match can be watched: a peer that joins as a watcher
// (Config.Watch) is admitted beyond MaxPlayers and follows the match; a
// player beyond it is still turned away, and a watcher cannot turn
// itself into a player while the players are full. The room listing
// counts the players only.
func TestWatchFullMatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 2}})
		w := c.add("p8", Config{Watch: true})
		c.Until("watch", 5*time.Second, func() bool { return len(eventsOf(w, EventWatch)) > 0 })
		if e := eventsOf(w, EventWatch)[0]; e.Match.Seed != m.Seed || e.Source != m.Seats[0] {
			t.Errorf("watch event %+v", e)
		}
		extra := c.add("p9", Config{})
		c.Run(2 * time.Second)
		if r := eventsOf(extra, EventRejected); len(r) == 0 || r[0].Err != ErrLobbyFull {
			t.Errorf("third player: %v", extra.Events)
		}
		if err := w.App.Watch(false); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		if mb, _ := nodes[0].App.State().Member("p8"); !mb.Watching {
			t.Errorf("watcher turned player in a full lobby: %+v", mb)
		}
		if l := nodes[0].App.State().Listing(); l.Players != 2 || l.MaxPlayers != 2 {
			t.Errorf("listing %+v, want 2/2", l)
		}
	})
}

// The host itself crashes mid-match (a 2-player match: the other player
// takes over) and restarts with the same identity: the successor, which
// holds the match, gives it back its seat.
func TestRejoinAfterHostCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 2, Config{})
		c.Drop(nodes[0])
		c.Until("successor", 10*time.Second, func() bool { return nodes[1].App.State().Host == "p1" })
		// memnet still delivers what the dead process sent; a restart
		// takes longer than that (with netcode the old link's messages
		// cannot reach the new one).
		c.Run(time.Second)
		back := c.add("p0", Config{})
		c.Until("rejoin", 10*time.Second, func() bool { return len(eventsOf(back, EventRejoin)) > 0 })
		if e := eventsOf(back, EventRejoin)[0]; e.Seat != m.Seat("p0") || e.Match.Seed != m.Seed {
			t.Errorf("rejoin %+v, want seat %d of %+v", e, m.Seat("p0"), m)
		}
		if s := back.App.State(); s.Host != "p1" || s.Phase != PhaseStarted {
			t.Errorf("restarted host follows %s in phase %s", s.Host, s.Phase)
		}
	})
}

// The host crashes mid-match and its restart (same identity, a fresh
// lobby) is back before the other player noticed it was gone (netcode
// replaces the link of a peer that comes back under the same ID: the
// member's lobby never sees it disconnect). The member gets a claim from
// its host for a lobby without it and without the match: the host it
// followed is gone, so the member takes over as after a crash, and the
// restarted host follows it and gets its seat back.
func TestRejoinAfterFastHostRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 2, Config{})
		c.Drop(nodes[0])
		back := c.add("p0", Config{}) // no step between: p1 never sees p0 down
		c.Until("rejoin", 10*time.Second, func() bool { return len(eventsOf(back, EventRejoin)) > 0 })
		if e := eventsOf(back, EventRejoin)[0]; e.Seat != m.Seat("p0") || e.Match.Seed != m.Seed {
			t.Errorf("rejoin %+v, want seat %d of %+v", e, m.Seat("p0"), m)
		}
		if s := back.App.State(); s.Host != "p1" || s.Phase != PhaseStarted {
			t.Errorf("restarted host follows %s in phase %s", s.Host, s.Phase)
		}
		if got, ok := nodes[1].App.Running(); !ok || got.Seed != m.Seed || !slices.Equal(got.Seats, m.Seats) {
			t.Errorf("the member's running match %+v, %v; want %+v", got, ok, m)
		}
	})
}
