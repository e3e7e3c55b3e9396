package chat

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

var wan = memnet.Link{Latency: 30 * time.Millisecond, Jitter: 20 * time.Millisecond}

// Four peers talk at once over links of different latencies; every peer
// shows the same lines in the same order, each once.
func TestFourPeersSeeOneOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(4, Config{Bus: BusConfig{Rate: 20, Burst: 20}})
		c.net.SetLink("p0", "p3", memnet.Link{Latency: 120 * time.Millisecond})
		c.net.SetLink("p3", "p1", memnet.Link{Latency: 5 * time.Millisecond})
		c.until("everyone present", 5*time.Second, c.allPresent)
		rng := rand.New(rand.NewPCG(7, 7))
		const lines = 15
		said := make(map[*node]int)
		for total := 0; total < lines*len(nodes); c.step() {
			for _, nd := range nodes {
				if said[nd] < lines && rng.IntN(3) == 0 {
					if err := nd.c.Say(fmt.Sprintf("%s line %d", nd.id, said[nd])); err != nil {
						t.Fatal(err)
					}
					said[nd]++
					total++
				}
			}
		}
		c.until("all lines everywhere", 10*time.Second, func() bool {
			for _, nd := range nodes {
				if len(nd.texts()) != lines*len(nodes) {
					return false
				}
			}
			return true
		})
		want := keys(nodes[0].texts())
		for _, nd := range nodes {
			if got := keys(nd.texts()); !slices.Equal(got, want) {
				t.Errorf("%s order differs:\n got  %v\n want %v", nd.id, got, want)
			}
			noDuplicates(t, nd)
			if st := nd.c.Stats().Bus; st.Forced != 0 || st.Throttled != 0 {
				t.Errorf("%s: stats %+v", nd.id, st)
			}
		}
		// Lines from one sender keep their order and sequence.
		for _, nd := range nodes {
			last := map[transport.PeerID]uint64{}
			for _, m := range nd.texts() {
				if m.Seq <= last[m.From] {
					t.Errorf("%s: %s's seq %d after %d", nd.id, m.From, m.Seq, last[m.From])
				}
				last[m.From] = m.Seq
			}
		}
	})
}

func TestLateJoinerGetsHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{Bus: BusConfig{Rate: 50, Burst: 50}})
		c.until("everyone present", 5*time.Second, c.allPresent)
		for i := range 12 {
			nd := nodes[i%3]
			if err := nd.c.Say(fmt.Sprintf("before %d", i)); err != nil {
				t.Fatal(err)
			}
			c.step()
		}
		if err := nodes[0].c.Whisper("p1", "secret"); err != nil {
			t.Fatal(err)
		}
		c.run(time.Second)
		late := c.add("p9", Config{Name: "late"})
		c.until("late joiner present", 5*time.Second, c.allPresent)
		nodes[2].c.Say("after")
		late.c.Say("hello all")
		c.run(2 * time.Second)

		got := late.texts()
		if len(got) != 14 {
			t.Fatalf("late joiner has %d lines, want 12 + 2:\n%v", len(got), got)
		}
		for i, m := range got[:12] {
			if !m.History || m.Text != fmt.Sprintf("before %d", i) {
				t.Errorf("history line %d: %+v", i, m)
			}
		}
		for _, m := range got[12:] {
			if m.History {
				t.Errorf("live line marked history: %+v", m)
			}
		}
		for _, m := range got {
			if m.Text == "secret" {
				t.Error("late joiner got someone else's direct message")
			}
		}
		noDuplicates(t, late)
		// Its order is the others' order, minus what it may not see.
		want := keys(slices.DeleteFunc(nodes[1].texts(), func(m Message) bool { return m.Channel == ChannelDirect }))
		if g := keys(got); !slices.Equal(g, want) {
			t.Errorf("late joiner order:\n got  %v\n want %v", g, want)
		}
		if st := late.c.Stats().Bus; st.Duplicates == 0 {
			t.Errorf("three peers served the same history, but no duplicate was dropped: %+v", st)
		}
	})
}

func TestFlooderIsThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{})
		flooder := c.add("zz", Config{Name: "flood", Bus: BusConfig{Rate: 10000, Burst: 10000}})
		c.until("everyone present", 5*time.Second, c.allPresent)
		const flood = 300
		for i := range 100 {
			for j := range flood / 100 {
				if err := flooder.c.Say(fmt.Sprintf("spam %d", i*3+j)); err != nil {
					t.Fatal(err)
				}
			}
			if i%20 == 0 {
				if err := nodes[i/20%3].c.Say(fmt.Sprintf("honest %d", i/20)); err != nil {
					t.Fatal(err)
				}
			}
			c.step()
		}
		c.run(3 * time.Second)
		for _, nd := range nodes {
			var spam, honest int
			for _, m := range nd.texts() {
				if m.From == "zz" {
					spam++
				} else {
					honest++
				}
			}
			if honest != 5 {
				t.Errorf("%s got %d honest lines, want 5", nd.id, honest)
			}
			// 2×Burst at once, then 1.5×Rate per second, over ~1 s of flood.
			if spam > 10+5 {
				t.Errorf("%s accepted %d of %d flood lines", nd.id, spam, flood)
			}
			ps := nd.c.Bus().PeerStats("zz")
			if ps.Throttled+uint64(spam) < flood-1 || ps.Throttled < flood-20 {
				t.Errorf("%s: flooder stats %+v, accepted %d", nd.id, ps, spam)
			}
			if hs := nd.c.Bus().PeerStats(nodes[(slices.Index(nodes, nd)+1)%3].id); hs.Throttled != 0 {
				t.Errorf("%s throttled an honest peer: %+v", nd.id, hs)
			}
		}
		// Locally, an honest peer's own limit refuses the flood.
		var err error
		for range 10 {
			if err = nodes[0].c.Say("me too"); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrRateLimited) {
			t.Errorf("sixth line in a burst: %v, want ErrRateLimited", err)
		}
	})
}

func TestTeamsAndDirect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		red1 := c.add("a", Config{Name: "ann", Team: 1})
		red2 := c.add("b", Config{Name: "bob", Team: 1})
		blue := c.add("c", Config{Name: "cat", Team: 2})
		c.until("everyone present", 5*time.Second, c.allPresent)
		if err := red1.c.SayTeam("flank left"); err != nil {
			t.Fatal(err)
		}
		if err := blue.c.Whisper("b", "psst"); err != nil {
			t.Fatal(err)
		}
		if err := blue.c.Whisper("nobody", "psst"); !errors.Is(err, ErrUnknownPeer) {
			t.Errorf("Whisper(nobody) = %v", err)
		}
		c.run(time.Second)
		texts := func(nd *node) []string {
			var s []string
			for _, m := range nd.texts() {
				s = append(s, m.String())
			}
			return s
		}
		if got, want := texts(red1), []string{"[team 1] ann: flank left"}; !slices.Equal(got, want) {
			t.Errorf("a sees %q, want %q", got, want)
		}
		if got, want := texts(red2), []string{"[team 1] ann: flank left", "[c -> b] psst"}; !slices.Equal(got, want) {
			t.Errorf("b sees %q, want %q", got, want)
		}
		if got, want := texts(blue), []string{"[c -> b] psst"}; !slices.Equal(got, want) {
			t.Errorf("c sees %q, want %q", got, want)
		}
	})
}

func TestLimitsOnSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		a := c.add("a", Config{MaxRunes: 10})
		b := c.add("b", Config{})
		c.until("present", 5*time.Second, c.allPresent)
		for _, bad := range []string{"", "  \x00\x07 ", "\xff\xfe", "eleven runes"} {
			if err := a.c.Say(bad); !errors.Is(err, ErrInvalidText) {
				t.Errorf("Say(%q) = %v, want ErrInvalidText", bad, err)
			}
		}
		if err := a.c.Say("héllo\x1b[2J\u202e!"); err != nil {
			t.Fatal(err)
		}
		c.run(time.Second)
		if got := b.texts(); len(got) != 1 || got[0].Text != "héllo[2J!" {
			t.Errorf("b got %+v", got)
		}
	})
}

// A peer that bypasses its own checks (raw bus publications) has its bad
// lines dropped or cleaned on receipt.
func TestLimitsOnReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		honest := c.add("a", Config{MaxRunes: 20})
		rogue := c.add("r", Config{Bus: BusConfig{Rate: 100, Burst: 100}})
		c.until("present", 5*time.Second, c.allPresent)
		for _, text := range []string{"ok\x07 line\u202e", strings.Repeat("x", 21), "bad \xff utf8", "\x00\x01"} {
			payload := encodeLine(rogue.c.b, line{kind: 1, text: text, name: "rogue\x1b"})
			if err := rogue.c.Bus().Publish(topicAll, payload); err != nil {
				t.Fatal(err)
			}
		}
		c.run(time.Second)
		got := honest.texts()
		if len(got) != 1 || got[0].Text != "ok line" || got[0].Name != "rogue" {
			t.Errorf("honest peer shows %+v", got)
		}
		if st := honest.c.Stats(); st.Rejected != 3 {
			t.Errorf("rejected %d, want 3", st.Rejected)
		}
	})
}

func TestMute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{})
		c.until("present", 5*time.Second, c.allPresent)
		nodes[0].c.Mute("p1")
		nodes[1].c.Say("you cannot hear me")
		nodes[2].c.Say("but me")
		c.run(time.Second)
		if got := nodes[0].texts(); len(got) != 1 || got[0].From != "p2" {
			t.Errorf("muting peer sees %+v", got)
		}
		if got := nodes[2].texts(); len(got) != 2 {
			t.Errorf("mute is local only, but p2 sees %+v", got)
		}
		if !nodes[0].c.Muted("p1") || nodes[0].c.Stats().Muted != 1 {
			t.Errorf("Muted/Stats: %v %+v", nodes[0].c.Muted("p1"), nodes[0].c.Stats())
		}
		nodes[0].c.Unmute("p1")
		nodes[1].c.Say("again")
		c.run(time.Second)
		if got := nodes[0].texts(); len(got) != 2 || got[1].Text != "again" {
			t.Errorf("after Unmute: %+v", got)
		}
	})
}

func TestSystemMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{})
		c.until("present", 5*time.Second, c.allPresent)
		nodes[2].peer.Close()
		nodes[2].gone = true
		c.run(time.Second)
		for _, nd := range nodes[:2] {
			var sys []string
			for _, m := range nd.msgs {
				if m.Kind != KindText {
					sys = append(sys, m.String())
				}
			}
			other := nodes[1-slices.Index(nodes, nd)]
			want := []string{"* player2 left"}
			if !slices.Contains(sys, "* "+other.c.name+" joined") || !slices.Contains(sys, "* player2 joined") || sys[len(sys)-1] != want[0] {
				t.Errorf("%s system messages %q", nd.id, sys)
			}
		}
		if m := nodes[0].c.Members(); len(m) != 1 || m["p1"] != "player1" {
			t.Errorf("members %v", m)
		}
	})
}

// A peer that stops polling holds the order up for at most MaxDelay.
func TestStalledPeerDelaysAtMostMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, memnet.Link{Latency: 10 * time.Millisecond})
		nodes := c.addN(3, Config{Bus: BusConfig{MaxDelay: 500 * time.Millisecond}})
		c.until("present", 5*time.Second, c.allPresent)
		nodes[2].paused = true
		start := time.Now()
		nodes[0].c.Say("anyone?")
		c.until("delivered despite the stall", 2*time.Second, func() bool { return len(nodes[1].texts()) == 1 })
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("delivered after %v: before MaxDelay, without the stalled peer's promise", d)
		}
		if nodes[1].c.Stats().Bus.Forced != 1 {
			t.Errorf("stats %+v", nodes[1].c.Stats().Bus)
		}
	})
}

// A newcomer that talks the moment it arrives, while the others keep
// talking, still lands in one order with everyone: its first stamp waits
// for every peer's history (and clock).
func TestJoinerTalkingAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{Bus: BusConfig{Rate: 50, Burst: 50}})
		c.until("everyone present", 5*time.Second, c.allPresent)
		var late *node
		for i := range 200 {
			if i%4 == 0 {
				nd := nodes[i/4%3]
				nd.c.Say(fmt.Sprintf("%s %d", nd.id, i))
			}
			switch {
			case i == 100:
				late = c.add("p9", Config{Bus: BusConfig{Rate: 50, Burst: 50}})
				if err := late.c.Say("hi, I just came"); err != nil {
					t.Fatal(err)
				}
			case i > 100 && i%10 == 0:
				late.c.Say(fmt.Sprintf("late %d", i))
			}
			c.step()
		}
		c.run(2 * time.Second)
		want := keys(nodes[0].texts())
		for _, nd := range c.nodes {
			if got := keys(nd.texts()); !slices.Equal(got, want) {
				t.Errorf("%s order differs:\n got  %v\n want %v", nd.id, got, want)
			}
			noDuplicates(t, nd)
		}
		if len(want) != 50+10 {
			t.Errorf("%d lines, want 60", len(want))
		}
	})
}
