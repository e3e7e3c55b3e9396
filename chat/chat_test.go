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
		c.Net.SetLink("p0", "p3", memnet.Link{Latency: 120 * time.Millisecond})
		c.Net.SetLink("p3", "p1", memnet.Link{Latency: 5 * time.Millisecond})
		c.Until("everyone present", 5*time.Second, c.allPresent)
		rng := rand.New(rand.NewPCG(7, 7))
		const lines = 15
		said := make(map[*node]int)
		for total := 0; total < lines*len(nodes); c.Step() {
			for _, nd := range nodes {
				if said[nd] < lines && rng.IntN(3) == 0 {
					if err := nd.App.Say(fmt.Sprintf("%s line %d", nd.ID, said[nd])); err != nil {
						t.Fatal(err)
					}
					said[nd]++
					total++
				}
			}
		}
		c.Until("all lines everywhere", 10*time.Second, func() bool {
			for _, nd := range nodes {
				if len(texts(nd)) != lines*len(nodes) {
					return false
				}
			}
			return true
		})
		want := keys(texts(nodes[0]))
		for _, nd := range nodes {
			if got := keys(texts(nd)); !slices.Equal(got, want) {
				t.Errorf("%s order differs:\n got  %v\n want %v", nd.ID, got, want)
			}
			noDuplicates(t, nd)
			if st := nd.App.Stats().Bus; st.Forced != 0 || st.Throttled != 0 {
				t.Errorf("%s: stats %+v", nd.ID, st)
			}
		}
		// Lines from one sender keep their order and sequence.
		for _, nd := range nodes {
			last := map[transport.PeerID]uint64{}
			for _, m := range texts(nd) {
				if m.Seq <= last[m.From] {
					t.Errorf("%s: %s's seq %d after %d", nd.ID, m.From, m.Seq, last[m.From])
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
		c.Until("everyone present", 5*time.Second, c.allPresent)
		for i := range 12 {
			nd := nodes[i%3]
			if err := nd.App.Say(fmt.Sprintf("before %d", i)); err != nil {
				t.Fatal(err)
			}
			c.Step()
		}
		if err := nodes[0].App.Whisper("p1", "secret"); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		late := c.add("p9", Config{Name: "late"})
		c.Until("late joiner present", 5*time.Second, c.allPresent)
		nodes[2].App.Say("after")
		late.App.Say("hello all")
		c.Run(2 * time.Second)

		got := texts(late)
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
		want := keys(slices.DeleteFunc(texts(nodes[1]), func(m Message) bool { return m.Channel == ChannelDirect }))
		if g := keys(got); !slices.Equal(g, want) {
			t.Errorf("late joiner order:\n got  %v\n want %v", g, want)
		}
		if st := late.App.Stats().Bus; st.Duplicates == 0 {
			t.Errorf("three peers served the same history, but no duplicate was dropped: %+v", st)
		}
	})
}

func TestFlooderIsThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{})
		flooder := c.add("zz", Config{Name: "flood", Bus: BusConfig{Rate: 10000, Burst: 10000}})
		c.Until("everyone present", 5*time.Second, c.allPresent)
		const flood = 300
		for i := range 100 {
			for j := range flood / 100 {
				if err := flooder.App.Say(fmt.Sprintf("spam %d", i*3+j)); err != nil {
					t.Fatal(err)
				}
			}
			if i%20 == 0 {
				if err := nodes[i/20%3].App.Say(fmt.Sprintf("honest %d", i/20)); err != nil {
					t.Fatal(err)
				}
			}
			c.Step()
		}
		c.Run(3 * time.Second)
		for _, nd := range nodes {
			var spam, honest int
			for _, m := range texts(nd) {
				if m.From == "zz" {
					spam++
				} else {
					honest++
				}
			}
			if honest != 5 {
				t.Errorf("%s got %d honest lines, want 5", nd.ID, honest)
			}
			// 2×Burst at once, then 1.5×Rate per second, over ~1 s of flood.
			if spam > 10+5 {
				t.Errorf("%s accepted %d of %d flood lines", nd.ID, spam, flood)
			}
			ps := nd.App.Bus().PeerStats("zz")
			if ps.Throttled+uint64(spam) < flood-1 || ps.Throttled < flood-20 {
				t.Errorf("%s: flooder stats %+v, accepted %d", nd.ID, ps, spam)
			}
			if hs := nd.App.Bus().PeerStats(nodes[(slices.Index(nodes, nd)+1)%3].ID); hs.Throttled != 0 {
				t.Errorf("%s throttled an honest peer: %+v", nd.ID, hs)
			}
		}
		// Locally, an honest peer's own limit refuses the flood.
		var err error
		for range 10 {
			if err = nodes[0].App.Say("me too"); err != nil {
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
		c.Until("everyone present", 5*time.Second, c.allPresent)
		if err := red1.App.SayTeam("flank left"); err != nil {
			t.Fatal(err)
		}
		if err := blue.App.Whisper("b", "psst"); err != nil {
			t.Fatal(err)
		}
		if err := blue.App.Whisper("nobody", "psst"); !errors.Is(err, ErrUnknownPeer) {
			t.Errorf("Whisper(nobody) = %v", err)
		}
		c.Run(time.Second)
		shown := func(nd *node) []string {
			var s []string
			for _, m := range texts(nd) {
				s = append(s, m.String())
			}
			return s
		}
		if got, want := shown(red1), []string{"[team 1] ann: flank left"}; !slices.Equal(got, want) {
			t.Errorf("a sees %q, want %q", got, want)
		}
		if got, want := shown(red2), []string{"[team 1] ann: flank left", "[c -> b] psst"}; !slices.Equal(got, want) {
			t.Errorf("b sees %q, want %q", got, want)
		}
		if got, want := shown(blue), []string{"[c -> b] psst"}; !slices.Equal(got, want) {
			t.Errorf("c sees %q, want %q", got, want)
		}
	})
}

func TestLimitsOnSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		a := c.add("a", Config{MaxRunes: 10})
		b := c.add("b", Config{})
		c.Until("present", 5*time.Second, c.allPresent)
		for _, bad := range []string{"", "  \x00\x07 ", "\xff\xfe", "eleven runes"} {
			if err := a.App.Say(bad); !errors.Is(err, ErrInvalidText) {
				t.Errorf("Say(%q) = %v, want ErrInvalidText", bad, err)
			}
		}
		if err := a.App.Say("héllo\x1b[2J\u202e!"); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		if got := texts(b); len(got) != 1 || got[0].Text != "héllo[2J!" {
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
		c.Until("present", 5*time.Second, c.allPresent)
		for _, text := range []string{"ok\x07 line\u202e", strings.Repeat("x", 21), "bad \xff utf8", "\x00\x01"} {
			payload := encodeLine(rogue.App.b, line{kind: 1, text: text, name: "rogue\x1b"})
			if err := rogue.App.Bus().Publish(topicAll, payload); err != nil {
				t.Fatal(err)
			}
		}
		c.Run(time.Second)
		got := texts(honest)
		if len(got) != 1 || got[0].Text != "ok line" || got[0].Name != "rogue" {
			t.Errorf("honest peer shows %+v", got)
		}
		if st := honest.App.Stats(); st.Rejected != 3 {
			t.Errorf("rejected %d, want 3", st.Rejected)
		}
	})
}

func TestMute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{})
		c.Until("present", 5*time.Second, c.allPresent)
		nodes[0].App.Mute("p1")
		nodes[1].App.Say("you cannot hear me")
		nodes[2].App.Say("but me")
		c.Run(time.Second)
		if got := texts(nodes[0]); len(got) != 1 || got[0].From != "p2" {
			t.Errorf("muting peer sees %+v", got)
		}
		if got := texts(nodes[2]); len(got) != 2 {
			t.Errorf("mute is local only, but p2 sees %+v", got)
		}
		if !nodes[0].App.Muted("p1") || nodes[0].App.Stats().Muted != 1 {
			t.Errorf("Muted/Stats: %v %+v", nodes[0].App.Muted("p1"), nodes[0].App.Stats())
		}
		nodes[0].App.Unmute("p1")
		nodes[1].App.Say("again")
		c.Run(time.Second)
		if got := texts(nodes[0]); len(got) != 2 || got[1].Text != "again" {
			t.Errorf("after Unmute: %+v", got)
		}
	})
}

func TestSystemMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(3, Config{})
		c.Until("present", 5*time.Second, c.allPresent)
		c.Drop(nodes[2])
		c.Run(time.Second)
		for _, nd := range nodes[:2] {
			var sys []string
			for _, m := range nd.Events {
				if m.Kind != KindText {
					sys = append(sys, m.String())
				}
			}
			other := nodes[1-slices.Index(nodes, nd)]
			want := []string{"* player2 left"}
			if !slices.Contains(sys, "* "+other.App.name+" joined") || !slices.Contains(sys, "* player2 joined") || sys[len(sys)-1] != want[0] {
				t.Errorf("%s system messages %q", nd.ID, sys)
			}
		}
		if m := nodes[0].App.Members(); len(m) != 1 || m["p1"] != "player1" {
			t.Errorf("members %v", m)
		}
	})
}

// A peer that stops polling holds the order up for at most MaxDelay.
func TestStalledPeerDelaysAtMostMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, memnet.Link{Latency: 10 * time.Millisecond})
		nodes := c.addN(3, Config{Bus: BusConfig{MaxDelay: 500 * time.Millisecond}})
		c.Until("present", 5*time.Second, c.allPresent)
		nodes[2].Paused = true
		start := time.Now()
		nodes[0].App.Say("anyone?")
		c.Until("delivered despite the stall", 2*time.Second, func() bool { return len(texts(nodes[1])) == 1 })
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("delivered after %v: before MaxDelay, without the stalled peer's promise", d)
		}
		if nodes[1].App.Stats().Bus.Forced != 1 {
			t.Errorf("stats %+v", nodes[1].App.Stats().Bus)
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
		c.Until("everyone present", 5*time.Second, c.allPresent)
		var late *node
		for i := range 200 {
			if i%4 == 0 {
				nd := nodes[i/4%3]
				nd.App.Say(fmt.Sprintf("%s %d", nd.ID, i))
			}
			switch {
			case i == 100:
				late = c.add("p9", Config{Bus: BusConfig{Rate: 50, Burst: 50}})
				if err := late.App.Say("hi, I just came"); err != nil {
					t.Fatal(err)
				}
			case i > 100 && i%10 == 0:
				late.App.Say(fmt.Sprintf("late %d", i))
			}
			c.Step()
		}
		c.Run(2 * time.Second)
		want := keys(texts(nodes[0]))
		for _, nd := range c.Nodes {
			if got := keys(texts(nd)); !slices.Equal(got, want) {
				t.Errorf("%s order differs:\n got  %v\n want %v", nd.ID, got, want)
			}
			noDuplicates(t, nd)
		}
		if len(want) != 50+10 {
			t.Errorf("%d lines, want 60", len(want))
		}
	})
}
