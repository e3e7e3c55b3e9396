package lobby_test

import (
	"encoding/binary"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// watchPeer is a watching process: a lobby and, after EventWatch, a
// Spectator of the Source it names, checked by the Witnesses.
type watchPeer struct {
	*gamePeer
	watch    lobby.Event
	switches []lockstep.Event
}

func (w *watchPeer) tick(t *testing.T) {
	t.Helper()
	for _, e := range w.lb.PollEvents() {
		if e.Kind == lobby.EventWatch && w.sp == nil {
			w.watch = e
			var err error
			w.sp, err = lockstep.NewSpectator[pad](lockstep.SpectatorConfig{Conn: w.spec, Source: e.Source,
				Witnesses: e.Witnesses, GameID: e.Match.Seed})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.sp == nil {
		return
	}
	if c, ok := w.sp.Restore(); ok {
		w.state = binary.LittleEndian.Uint64(c.State)
		w.next = lockstep.Frame(binary.LittleEndian.Uint32(c.State[8:]))
	}
	steps, err := w.sp.Advance()
	if err != nil {
		t.Fatalf("watcher: %v", err)
	}
	for _, e := range w.sp.PollEvents() {
		if e.Kind == lockstep.EventSourceSwitched {
			w.switches = append(w.switches, e)
		}
	}
	for _, st := range steps {
		if st.Frame != w.next {
			t.Fatalf("watcher: frame %d, want %d", st.Frame, w.next)
		}
		w.step(st.Frame, st.Inputs)
		w.sums[st.Frame] = w.state
		w.sp.ReportChecksum(st.Frame, w.state)
	}
}

// TestWatchSourceLeaves: a watcher (Config.Watch) follows a 3-seat match
// from the Source and Witnesses of its EventWatch; at tick 600 the
// watcher's source leaves (its game and lobby close, its process exits:
// here the host, so the lobby migrates too). The other two drop its seat
// and play on; the watcher's Spectator switches to a witness by itself
// (lockstep "Source failover") and follows the match to frame 1500 with
// the players' state at every frame it ran. Before failover it froze
// at the frame it had when the source left.
func TestWatchSourceLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const frames = 1500
		net := memnet.New(memnet.Config{Seed: 5, Link: memnet.Link{Latency: 15 * time.Millisecond, Jitter: 3 * time.Millisecond}})
		defer net.Close()
		cfg := lobby.Config{Settings: lobby.Settings{MaxPlayers: 3}, Countdown: -1}
		var players []*gamePeer
		for _, id := range []transport.PeerID{"p0", "p1", "p2"} {
			players = append(players, newGamePeer(t, net, id, cfg))
		}
		w := &watchPeer{gamePeer: newGamePeer(t, net, "w9", lobby.Config{Watch: true})}
		defer func() {
			for _, g := range append(players, w.gamePeer) {
				g.close()
			}
		}()
		gone := map[transport.PeerID]bool{}
		var left transport.PeerID
		for tick := 0; ; tick++ {
			if tick > 6000 {
				t.Fatalf("no end: watcher at frame %d (source %v, switches %v)", w.next, left, w.switches)
			}
			if tick == 60 {
				for _, g := range players {
					_ = g.lb.SetReady(true)
				}
			}
			if tick == 600 {
				if w.sp == nil || w.next < 100 {
					t.Fatalf("watcher at frame %d at tick 600", w.next)
				}
				left = w.sp.Source()
				for _, g := range players {
					if g.id == left {
						g.close() // goodbyes: lockstep and lobby
						_ = g.peer.Close()
						gone[g.id] = true
					}
				}
			}
			done := w.next >= frames
			for _, g := range players {
				if gone[g.id] {
					continue
				}
				g.tick(t, tick)
				done = done && g.next >= frames
			}
			w.tick(t)
			if done {
				break
			}
			time.Sleep(time.Second / 60)
		}
		if len(w.switches) != 1 || w.switches[0].From != left || w.switches[0].Peer == left {
			t.Fatalf("switches %+v, want one away from %s", w.switches, left)
		}
		if w.watch.Source != left {
			t.Errorf("the watch source was %s, %s left", w.watch.Source, left)
		}
		compared := 0
		for f, sum := range w.sums {
			for _, g := range players {
				if other, ok := g.sums[f]; ok {
					compared++
					if other != sum {
						t.Fatalf("frame %d: watcher %#x, %s %#x", f, sum, g.id, other)
					}
				}
			}
		}
		if compared < frames {
			t.Errorf("%d comparisons", compared)
		}
		t.Logf("source %s left; switch to %s at frame %d (%s); watcher ran %d frames, %d comparisons",
			left, w.switches[0].Peer, w.switches[0].Frame, w.switches[0].Reason, len(w.sums), compared)
	})
}
