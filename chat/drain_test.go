package chat

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

type names map[transport.PeerID]string

func (n names) DisplayName(p transport.PeerID) string { return n[p] }

// With Config.Names set, the chat shows the name source's display name (the
// lobby's, in a game), not the one the sender announced; a peer the source
// does not name keeps its announced name. PollMessages reuses its slice.
func TestNamesOwnedBySource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{})
		defer n.Close()
		a, err := New(n.Join("a").Channel("chat", transport.Reliable), Config{Name: "Al"})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		c, err := New(n.Join("c").Channel("chat", transport.Reliable), Config{Name: "Cy"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		b, err := New(n.Join("b").Channel("chat", transport.Reliable), Config{Names: names{"a": "Alice (2)"}})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		got := map[transport.PeerID]string{}
		said := false
		for range 400 {
			a.PollMessages()
			c.PollMessages()
			if !said && len(b.Members()) == 2 {
				if a.Say("hi") == nil && c.Say("yo") == nil {
					said = true
				}
			}
			for _, m := range b.PollMessages() {
				if m.Kind == KindText {
					got[m.From] = m.Name
				}
			}
			if len(got) == 2 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got["a"] != "Alice (2)" || got["c"] != "Cy" {
			t.Fatalf("names shown: %v, want a as Alice (2) (the source) and c as Cy (announced)", got)
		}
		if m := b.Members(); m["a"] != "Alice (2)" {
			t.Errorf("Members()[a] = %q, want the source's name", m["a"])
		}
	})
}
