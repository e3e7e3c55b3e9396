package chat

// Red-team tests (issue #13, "chat"): each attack worked against the chat
// before its Threat model section (doc.go) was written, and must fail now.
// They run over memnet in a testing/synctest bubble.

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/pubsubfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// pubsub's defaults: MaxClockLead, and the jumps each peer may make.
const (
	defaultMaxClockLead = 1 << 32
	clockJumpBurst      = 4
)

// clockOf reads a node's Lamport clock.
func clockOf(nd *node) uint64 {
	return nd.App.Bus().Clock()
}

// shown reports whether every node shows a line with text.
func shown(nodes []*node, text string) bool {
	for _, nd := range nodes {
		found := false
		for _, m := range texts(nd) {
			if m.Text == text {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// One line stamped with the largest Lamport value the wire allows used to
// push every honest clock there; every later line was stamped 2^53 and
// refused as malformed: chat was dead for everyone. Now a stamp too far
// ahead is refused and counted against its sender, and chat goes on.
func TestRedTeamLamportOverflow(t *testing.T) {
	for _, kind := range []string{"publish", "clock", "hello"} {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, wan)
				nodes := c.addN(3, Config{})
				c.Until("present", 10*time.Second, c.allPresent)
				nodes[0].App.Say("before")
				c.Until("before", 10*time.Second, func() bool { return shown(nodes, "before") })
				atk := c.Net.Join("zz").Channel("chat", transport.Reliable)
				c.Run(100 * time.Millisecond)
				var msg []byte
				switch kind {
				case "publish":
					msg = encodeBus(pubsubfb.BodyPublish, &pubsubfb.PublishT{Seq: 1, Stamp: maxStamp - 1, Topic: topicAll,
						Payload: encodeLineBytes(line{kind: chatfb.KindText, text: "boom", name: "zz"})})
				case "clock":
					msg = encodeBus(pubsubfb.BodyClock, &pubsubfb.ClockT{Clock: maxStamp - 1})
				case "hello":
					msg = encodeBus(pubsubfb.BodyHello, &pubsubfb.HelloT{Clock: maxStamp - 1, History: 1})
				}
				atk.Broadcast(msg)
				c.Run(time.Second)
				nodes[1].App.Say("after")
				c.Until("after", 10*time.Second, func() bool { return shown(nodes, "after") })
				for _, nd := range nodes {
					noDuplicates(t, nd)
					if got, want := keys(texts(nd)), keys(texts(nodes[0])); !slices.Equal(got, want) {
						t.Errorf("%s: lines %v, want the order %v", nd.ID, got, want)
					}
					if cl := clockOf(nd); cl > 1<<20 {
						t.Errorf("%s: clock %d: the attacker moved it", nd.ID, cl)
					}
					if shown([]*node{nd}, "boom") {
						t.Errorf("%s shows the attacker's line", nd.ID)
					}
					if ps := nd.App.Bus().PeerStats("zz"); ps.Refused != 1 {
						t.Errorf("%s: attacker's stats %+v, want 1 refused", nd.ID, ps)
					}
					if st := nd.App.Stats().Bus; st.Refused != 1 {
						t.Errorf("%s: bus stats %+v, want 1 refused", nd.ID, st)
					}
				}
			})
		})
	}
}

// Creeping up: stamps each just inside the window, as fast as the
// transport goes. The clock may jump only a few times per peer.
func TestRedTeamLamportCreep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(2, Config{})
		c.Until("present", 10*time.Second, c.allPresent)
		atk := c.Net.Join("zz").Channel("chat", transport.Reliable)
		c.Run(100 * time.Millisecond)
		start := clockOf(nodes[0])
		for i := range 1000 {
			atk.Broadcast(encodeBus(pubsubfb.BodyClock, &pubsubfb.ClockT{Clock: start + uint64(i+1)*(defaultMaxClockLead-1)}))
			c.Step()
		}
		nodes[0].App.Say("still alive")
		c.Until("said", 10*time.Second, func() bool { return shown(nodes, "still alive") })
		for _, nd := range nodes {
			if cl := clockOf(nd); cl > start+(clockJumpBurst+1)*defaultMaxClockLead {
				t.Errorf("%s: clock %d, started at %d: more than %d jumps", nd.ID, cl, start, clockJumpBurst)
			}
			if ps := nd.App.Bus().PeerStats("zz"); ps.Refused < 900 {
				t.Errorf("%s: attacker's stats %+v", nd.ID, ps)
			}
		}
	})
}

// A peer serving history to a newcomer can make up lines of another peer
// ("player0: I used an aimbot, ban me"). It cannot be proven false without
// signatures, but the newcomer's chat shows which peer relayed it.
func TestRedTeamForgedHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(2, Config{})
		c.Until("present", 10*time.Second, c.allPresent)
		nodes[0].App.Say("gl hf")
		c.Until("said", 10*time.Second, func() bool { return shown(nodes, "gl hf") })
		atk := c.Net.Join("zz").Channel("chat", transport.Reliable)
		c.Run(200 * time.Millisecond)
		newcomer := c.add("p9", Config{Name: "newbie"})
		forged := &pubsubfb.HistoryT{Clock: 1, Done: true, Entries: []*pubsubfb.EntryT{{
			Origin: "p0", Seq: 77, Stamp: 1, Topic: topicAll,
			Payload: encodeLineBytes(line{kind: chatfb.KindText, text: "I used an aimbot, ban me", name: "player0"}),
		}}}
		for sent := false; !sent; c.Step() {
			for {
				m, ok := atk.TryRecv()
				if !ok {
					break
				}
				if b, err := decodeBus(m.Data); err == nil && m.From == "p9" && b.Type == pubsubfb.BodyHello {
					atk.Send("p9", encodeBus(pubsubfb.BodyHello, &pubsubfb.HelloT{Clock: 1, History: 64}))
					atk.Send("p9", encodeBus(pubsubfb.BodyHistory, forged))
					sent = true
				}
			}
		}
		c.Until("history shown", 10*time.Second, func() bool {
			return shown([]*node{newcomer}, "I used an aimbot, ban me") && shown([]*node{newcomer}, "gl hf")
		})
		for _, m := range texts(newcomer) {
			switch m.Text {
			case "I used an aimbot, ban me":
				if m.From != "p0" || !m.History || m.Via != "zz" || !strings.Contains(m.String(), "zz") {
					t.Errorf("forged line %+v (%q): the relaying peer is not shown", m, m.String())
				}
			case "gl hf":
				if m.Via == "" || m.Via == "zz" || !m.History {
					t.Errorf("honest history line %+v", m)
				}
			}
		}
		nodes[1].App.Say("live")
		c.Until("live", 10*time.Second, func() bool { return shown([]*node{newcomer}, "live") })
		for _, m := range texts(newcomer) {
			if m.Text == "live" && (m.Via != "" || m.History) {
				t.Errorf("live line %+v carries Via", m)
			}
		}
	})
}

// An oversized message is dropped unread and counted.
func TestRedTeamOversized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(2, Config{})
		c.Until("present", 10*time.Second, c.allPresent)
		atk := c.Net.Join("zz").Channel("chat", transport.Reliable)
		atk.Broadcast(make([]byte, MaxMessageSize+1))
		c.Run(200 * time.Millisecond)
		for _, nd := range nodes {
			if st := nd.App.Stats().Bus; st.Oversized != 1 {
				t.Errorf("%s: stats %+v, want 1 oversized", nd.ID, st)
			}
		}
	})
}
