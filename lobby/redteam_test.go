package lobby

// Red-team tests (issue #13, "lobby authority"): each attack worked
// against the lobby before its Threat model section (doc.go) was written,
// and must fail now. They run over memnet in a testing/synctest bubble.

import (
	"math"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// A member sends every peer a snapshot claiming term 100, with itself as
// host and a victim on the ban list. Before: every peer followed it and
// the victim was kicked. Now: nobody follows it, nobody is banned, and
// every peer names it.
func TestRedTeamTermClaim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 4, Config{})
		atk, victim := nodes[3], nodes[2]
		fake := &lobbyfb.SnapshotT{Term: 100, Version: 1, Phase: lobbyfb.PhaseOpen, MaxPlayers: 8, Banned: []string{string(victim.ID)}}
		for _, nd := range nodes {
			if nd != victim {
				fake.Members = append(fake.Members, &lobbyfb.MemberT{Id: string(nd.ID), Name: string(nd.ID)})
			}
		}
		fake.Members[0], fake.Members[len(fake.Members)-1] = fake.Members[len(fake.Members)-1], fake.Members[0] // atk first
		for range 3 {
			atk.Conn.Broadcast(encodeSample(lobbyfb.BodySnapshot, fake))
			fake.Version++
			c.Run(500 * time.Millisecond)
		}
		for _, nd := range nodes[:3] {
			s := nd.App.State()
			if s.Host != "p0" || s.Term != 1 {
				t.Errorf("%s follows %s (term %d), want p0 (term 1)", nd.ID, s.Host, s.Term)
			}
			if len(s.Banned) != 0 || s.Kicked {
				t.Errorf("%s: banned %v kicked=%v", nd.ID, s.Banned, s.Kicked)
			}
			if len(s.Members) != 4 {
				t.Errorf("%s: members %v", nd.ID, ids(s.Members))
			}
			if r := eventsOf(nd, EventRefused); len(r) == 0 || r[0].Peer != atk.ID {
				t.Errorf("%s: refused events %v, want one naming %s", nd.ID, r, atk.ID)
			}
			if nd.App.Stats().Refused == 0 {
				t.Errorf("%s: stats %+v: the claim went uncounted", nd.ID, nd.App.Stats())
			}
		}
		if k := eventsOf(victim, EventKicked, EventRejected); len(k) != 0 {
			t.Errorf("victim: %v", k)
		}
	})
}

// An outsider (not a member) claims term 100: same outcome.
func TestRedTeamTermClaimOutsider(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		atk := c.Net.Join("a-attacker").Channel("lobby", transport.Reliable)
		fake := &lobbyfb.SnapshotT{Term: 100, Version: 1, Phase: lobbyfb.PhaseOpen, MaxPlayers: 8, Banned: []string{"p1"}}
		fake.Members = []*lobbyfb.MemberT{{Id: "a-attacker"}, {Id: "p0"}, {Id: "p2"}}
		atk.Broadcast(encodeSample(lobbyfb.BodySnapshot, fake))
		c.Run(time.Second)
		for _, nd := range nodes {
			if s := nd.App.State(); s.Host != "p0" || len(s.Banned) != 0 || s.Kicked {
				t.Errorf("%s follows %s, banned %v kicked %v", nd.ID, s.Host, s.Banned, s.Kicked)
			}
		}
	})
}

// A kick is the host's to decide: every honest peer's lobby reports the
// kicked identity (EventBanned, Banned) so that the game can close its
// links, the kicked peer is told, and Unban lifts it everywhere.
func TestRedTeamKickIsAnnounced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		if err := nodes[0].App.Kick("p2"); err != nil {
			t.Fatal(err)
		}
		c.Run(500 * time.Millisecond)
		if b := eventsOf(nodes[0], EventBanned); len(b) != 0 {
			t.Errorf("host: banned %v before KickGrace: the game would cut the notice's link", b)
		}
		if b := eventsOf(nodes[1], EventBanned); len(b) != 1 {
			t.Errorf("member: banned events %v, want p2 at once", b)
		}
		c.Run(time.Second)
		for _, nd := range nodes[:2] {
			b := eventsOf(nd, EventBanned)
			if len(b) != 1 || b[0].Peer != "p2" {
				t.Errorf("%s: banned events %v, want p2", nd.ID, b)
			}
			if got := nd.App.Banned(); !slices.Equal(got, []transport.PeerID{"p2"}) {
				t.Errorf("%s: Banned() = %v", nd.ID, got)
			}
		}
		if k := eventsOf(nodes[2], EventKicked); len(k) != 1 {
			t.Errorf("kicked peer: %v", nodes[2].Events)
		}
		if err := nodes[1].App.Unban("p2"); err != ErrNotHost {
			t.Errorf("Unban by a member = %v", err)
		}
		if err := nodes[0].App.Unban("p2"); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		for _, nd := range nodes[:2] {
			if u := eventsOf(nd, EventUnbanned); len(u) != 1 || u[0].Peer != "p2" || len(nd.App.Banned()) != 0 {
				t.Errorf("%s: unbanned events %v, Banned %v", nd.ID, u, nd.App.Banned())
			}
		}
	})
}

// grindConn is the attacker's Conn: it can hold back the attacker's own
// nonce (its Reveal, and its Launch, which carries every nonce).
type grindConn struct {
	transport.Conn
	mu       sync.Mutex
	withhold bool
	held     [][]byte
	heldTo   []transport.PeerID
}

func (g *grindConn) Send(to transport.PeerID, p []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.withhold {
		if m, err := decode(p); err == nil && (m.Type == lobbyfb.BodyReveal || m.Type == lobbyfb.BodyLaunch) {
			g.held = append(g.held, slices.Clone(p))
			g.heldTo = append(g.heldTo, to)
			return nil
		}
	}
	return g.Conn.Send(to, p)
}

func (g *grindConn) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, p := range g.held {
		g.Conn.Send(g.heldTo[i], p)
	}
	g.held, g.heldTo, g.withhold = nil, nil, false
}

// The host grinds the seed: it starts a round, holds back its own reveal
// until it has everyone else's and so knows the seed, and aborts and
// restarts unless the seed's low byte is 0x42. Before, it got 0x42 in
// every match it let start (after ~256 rounds each), and the victims saw
// "cancelled" with no peer named. Now it is caught at its first withheld
// reveal: named and excluded by every honest seat, never seated again;
// the matches that start have seeds it cannot steer.
func TestRedTeamSeedGrinding(t *testing.T) {
	const tries = 10000
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, memnet.Link{Latency: time.Millisecond})
		honest := Config{StartTimeout: 200 * time.Millisecond}
		var g *grindConn
		atk := c.Add("p0", func(conn transport.Conn) (*Lobby, error) {
			g = &grindConn{Conn: conn}
			return New(g, Config{StartTimeout: 200 * time.Millisecond, Countdown: -1, ManualStart: true})
		})
		c.add("p1", honest)
		c.add("p2", honest)
		c.Until("one lobby", 5*time.Second, c.settled)
		if h := atk.App.State().Host; h != "p0" {
			t.Fatalf("host %s", h)
		}
		victims := c.Nodes[1:]
		mark := func() []int {
			var m []int
			for _, v := range victims {
				m = append(m, len(v.Events))
			}
			return m
		}
		resolved := func(m []int) bool {
			// Each victim started or failed since mark.
			for i, v := range victims {
				if len(eventsOf(&node{Events: v.Events[m[i]:]}, EventStarted, EventStartFailed)) == 0 {
					return false
				}
			}
			return true
		}
		tried, grinds := 0, 0
		for tried < tries {
			if atk.App.State().Phase == PhaseStarted {
				if err := atk.App.Reopen(); err != nil {
					t.Fatal(err)
				}
				c.Step()
				continue
			}
			if atk.App.State().Phase != PhaseOpen {
				c.Step()
				continue
			}
			m0 := mark()
			var prev uint32
			atk.App.mu.Lock()
			if atk.App.rnd != nil {
				prev = atk.App.rnd.num
			}
			atk.App.mu.Unlock()
			g.mu.Lock()
			g.withhold = true
			g.mu.Unlock()
			if err := atk.App.Start(); err != nil {
				t.Fatalf("try %d: Start: %v", tried, err)
			}
			tried++
			var seed uint64
			known := false
			for end := time.Now().Add(10 * time.Second); ; c.Step() {
				if time.Now().After(end) {
					t.Fatalf("try %d: round never resolved\n%s", tried, c.Dump())
				}
				atk.App.mu.Lock()
				if r := atk.App.rnd; r != nil && r.num != prev && r.computed && !known {
					seed, known = r.match.Seed, true
				}
				atk.App.mu.Unlock()
				if known || resolved(m0) {
					break
				}
			}
			if !known || seed&0xff == 0x42 {
				g.release()
				c.Until("try resolved", 10*time.Second, func() bool { return resolved(m0) })
				continue
			}
			// The seed does not suit: throw the round away and try again.
			grinds++
			g.mu.Lock()
			g.held, g.heldTo, g.withhold = nil, nil, false
			g.mu.Unlock()
			atk.App.mu.Lock()
			atk.App.abortRound(StartReasonCancelled, "", true)
			atk.App.flush()
			atk.App.mu.Unlock()
			c.Until("thrown round resolved", 10*time.Second, func() bool { return resolved(m0) })
		}
		c.Run(time.Second)
		for _, v := range victims {
			var n, hits int
			for _, e := range eventsOf(v, EventStarted) {
				n++
				if e.Match.Seed&0xff == 0x42 {
					hits++
				}
			}
			// Chance: n/256 on average; allow five standard deviations.
			mean := float64(n) / 256
			bound := mean + 5*math.Sqrt(mean) + 2
			t.Logf("%s: %d tries, %d thrown away, %d matches started, %d with low byte 0x42 (chance %.1f, bound %.1f)",
				v.ID, tried, grinds, n, hits, mean, bound)
			if n < tries/2 {
				t.Errorf("%s: %d matches in %d tries: the honest players could not play without the attacker", v.ID, n, tries)
			}
			if float64(hits) > bound {
				t.Errorf("%s: %d of %d matches have the attacker's low byte 0x42: the attacker steers the seed", v.ID, hits, n)
			}
			for _, e := range eventsOf(v, EventStartFailed) {
				if e.Peer == "" {
					t.Errorf("%s: start failure naming no peer: %v", v.ID, e.Err)
					break
				}
			}
			var named bool
			for _, e := range eventsOf(v, EventStartFailed) {
				var se *StartError
				if errorsAs(e.Err, &se) && se.Peer == atk.ID && se.Reason == StartReasonWithheld {
					named = true
				}
			}
			if !named {
				t.Errorf("%s: the attacker was never named for withholding its reveal", v.ID)
			}
			if !slices.Contains(v.App.State().Excluded, atk.ID) {
				t.Errorf("%s: excluded %v, want %s", v.ID, v.App.State().Excluded, atk.ID)
			}
		}
	})
}

// An oversized message is dropped unread and counted.
func TestRedTeamOversized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 2, Config{})
		atk := c.Net.Join("zz").Channel("lobby", transport.Reliable)
		atk.Broadcast(make([]byte, MaxMessageSize+1))
		c.Run(100 * time.Millisecond)
		for _, nd := range nodes {
			if st := nd.App.Stats(); st.Oversized != 1 {
				t.Errorf("%s: stats %+v, want 1 oversized", nd.ID, st)
			}
		}
	})
}

// A member grinds the seed: it withholds its nonce until it has seen the
// others' and likes the seed. It is caught at its first withheld nonce:
// named by every honest peer, excluded, and never seated again, so it
// never sees another seed before it is fixed.
func TestRedTeamMemberWithholds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, memnet.Link{Latency: time.Millisecond})
		cfg := Config{StartTimeout: 200 * time.Millisecond, Countdown: -1, ManualStart: true}
		host := c.add("p0", cfg)
		c.add("p1", cfg)
		var g *grindConn
		atk := c.Add("p2", func(conn transport.Conn) (*Lobby, error) {
			g = &grindConn{Conn: conn, withhold: true}
			return New(g, cfg)
		})
		c.Until("one lobby", 5*time.Second, c.settled)
		honest := c.Nodes[:2]
		seated, caught := 0, 0
		for try := range 300 {
			if host.App.State().Phase == PhaseStarted {
				host.App.Reopen()
				c.Step()
			}
			mark := []int{len(honest[0].Events), len(honest[1].Events)}
			if err := host.App.Start(); err != nil {
				t.Fatalf("try %d: %v", try, err)
			}
			c.Until("round over", 10*time.Second, func() bool {
				for i, nd := range honest {
					if len(eventsOf(&node{Events: nd.Events[mark[i]:]}, EventStarted, EventStartFailed)) == 0 {
						return false
					}
				}
				return true
			})
			for _, e := range eventsOf(&node{Events: honest[1].Events[mark[1]:]}, EventStarted, EventStartFailed) {
				if e.Kind == EventStarted && e.Match.Seat(atk.ID) >= 0 {
					seated++
				}
				var se *StartError
				if e.Kind == EventStartFailed && errorsAs(e.Err, &se) && se.Peer == atk.ID && se.Reason == StartReasonWithheld {
					caught++
				}
			}
			g.mu.Lock()
			g.held, g.heldTo = nil, nil
			g.mu.Unlock()
		}
		if caught != 1 || seated > 0 {
			t.Errorf("the withholder was caught %d times (want 1) and seated in %d matches (want 0)", caught, seated)
		}
		for _, nd := range honest {
			if !slices.Equal(nd.App.State().Excluded, []transport.PeerID{atk.ID}) {
				t.Errorf("%s: excluded %v", nd.ID, nd.App.State().Excluded)
			}
			if n := len(eventsOf(nd, EventStarted)); n != 299 {
				t.Errorf("%s: %d matches, want 299 (all but the first)", nd.ID, n)
			}
		}
	})
}

// In a two-player lobby, the host that caught its guest withholding does
// not start a match alone: the round fails naming the guest.
func TestRedTeamExcludedLeavesTooFewSeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, memnet.Link{Latency: time.Millisecond})
		cfg := Config{StartTimeout: 200 * time.Millisecond, Countdown: -1}
		host := c.add("p0", cfg)
		var g *grindConn
		c.Add("p1", func(conn transport.Conn) (*Lobby, error) {
			g = &grindConn{Conn: conn, withhold: true}
			return New(g, cfg)
		})
		c.Until("one lobby", 5*time.Second, c.settled)
		readyAll(t, c.Nodes)
		c.Until("caught", 5*time.Second, func() bool { return len(host.App.State().Excluded) == 1 })
		readyAll(t, c.Nodes)
		c.Run(3 * time.Second)
		if _, ok := host.App.Match(); ok || len(eventsOf(host, EventStarted)) != 0 {
			t.Fatalf("the host started alone: %v", eventsOf(host, EventStarted))
		}
		f := eventsOf(host, EventStartFailed)
		var se *StartError
		if len(f) < 2 || !errorsAs(f[len(f)-1].Err, &se) || se.Reason != StartReasonExcluded || se.Peer != "p1" {
			t.Errorf("failures %v, want the last naming p1 excluded", f)
		}
		if m, _ := host.App.State().Member("p1"); m.Ready {
			t.Errorf("p1 still ready: the countdown would loop")
		}
	})
}
