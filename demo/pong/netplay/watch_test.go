package netplay

import (
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// testRoom is the part of a Room a Match uses (names, notes, the logger).
func testRoom() *Room {
	return &Room{net: &Network{log: slog.New(slog.DiscardHandler)}, names: map[transport.PeerID]string{}}
}

// TestWatchJoinsMidMatch: two players' Matches (lockstep + Streamer, as
// startMatch makes them) play bot against bot over memnet; a watcher's
// Match subscribes at tick 400 to seat 0's stream, witnessed by seat 1,
// restores its snapshot, and ends on the players' final frame and
// checksum. Before the end it stays WatchDelay frames behind.
func TestWatchJoinsMidMatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"a", "b"}
		const seed, win = 77, 2
		gameID := MatchGameID(win, seed)
		cfg := sim.Config{Seed: seed, WinScore: win}
		var players []*Match
		for _, id := range ids {
			peer := n.Join(id)
			sess, err := lockstep.NewSession[sim.Input](peer.Channel(chanInput, transport.Unreliable), lockstep.Config{Seats: ids, GameID: gameID})
			if err != nil {
				t.Fatal(err)
			}
			m := newMatch(sess, cfg, testRoom())
			m.seats = ids
			if m.str, err = lockstep.NewStreamer[sim.Input](lockstep.StreamConfig{
				Conn: peer.Channel(chanStream, transport.Reliable), Seats: 2, GameID: gameID, Snapshots: true}); err != nil {
				t.Fatal(err)
			}
			players = append(players, m)
			defer m.Close()
		}
		var watcher *Match
		behind := 0
		for tick := 0; tick < 60*600; tick++ {
			if tick == 400 {
				sp, err := lockstep.NewSpectator[sim.Input](lockstep.SpectatorConfig{
					Conn: n.Join("w").Channel(chanStream, transport.Reliable), Source: "a", Witnesses: []transport.PeerID{"b"},
					GameID: gameID, Delay: WatchDelay})
				if err != nil {
					t.Fatal(err)
				}
				watcher = newWatchMatch(sp, cfg, testRoom())
			}
			for i, p := range players {
				if err := p.Tick(sim.Bot(p.State(), i)); err != nil {
					t.Fatalf("player %d, tick %d: %v", i, tick, err)
				}
			}
			if watcher != nil {
				if err := watcher.Tick(sim.Input{}); err != nil {
					t.Fatalf("watcher, tick %d: %v", tick, err)
				}
				if watcher.Final() == nil && watcher.State().Frame > 0 && players[0].Final() == nil {
					behind = max(behind, int(players[0].State().Frame)-int(watcher.State().Frame))
				}
				if watcher.Final() != nil {
					break
				}
			}
			time.Sleep(time.Second / 60)
		}
		if watcher == nil || watcher.Final() == nil {
			t.Fatal("the watcher never saw the end of the match")
		}
		got, want := watcher.Final(), players[0].Final()
		if want == nil || *got != *players[1].Final() || *got != *want {
			t.Fatalf("watcher's end %+v, players' %+v and %+v", got, want, players[1].Final())
		}
		if got.Frame < 500 {
			t.Errorf("the match ended at frame %d, before the watcher could join mid-match", got.Frame)
		}
		st := watcher.sp.Stats()
		if st.Verified == lockstep.NoFrame || st.Compared == 0 {
			t.Errorf("the watcher verified nothing against the witness: %+v", st)
		}
		if behind < WatchDelay {
			t.Errorf("the watcher was at most %d frames behind, want its delay %d", behind, WatchDelay)
		}
		t.Logf("end at frame %d checksum %016x; watcher up to %d frames behind; %+v", got.Frame, got.Checksum(), behind, st)
	})
}

// FuzzDecodeState: a snapshot from a peer never panics; what decodes
// encodes back to the same bytes.
func FuzzDecodeState(f *testing.F) {
	s := sim.New(sim.Config{Seed: 1})
	f.Add(encodeState(&s))
	f.Add([]byte{})
	f.Add(make([]byte, sim.StateSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			return
		}
		if got := encodeState(&s); string(got) != string(b) {
			t.Fatalf("decode then encode changed the bytes")
		}
		s.Step([2]sim.Input{{Buttons: sim.Up}, {Buttons: sim.Down}})
	})
}

func TestDecodeStateRefuses(t *testing.T) {
	s := sim.New(sim.Config{Seed: 5, WinScore: 3})
	b := encodeState(&s)
	if got, err := decodeState(b); err != nil || got != s {
		t.Fatalf("decodeState(encodeState(s)) = %+v, %v", got, err)
	}
	bad := s
	bad.Winner = 2
	if _, err := decodeState(encodeState(&bad)); err == nil {
		t.Error("a winner seat 2 decoded")
	}
	bad = s
	bad.Score[1] = 9
	if _, err := decodeState(encodeState(&bad)); err == nil {
		t.Error("a score above the win score decoded")
	}
	if _, err := decodeState(b[:len(b)-1]); err == nil {
		t.Error("a short snapshot decoded")
	}
}

// TestWatchSourceStopsStreaming: the watcher's source, player a, stops
// streaming at tick 900 while it plays on (a game whose streamer broke,
// or a liar); lockstep's source failover moves the watcher to b, the
// room notes it, and the watcher still ends on the players' final frame
// and checksum. Before failover it stayed at a's last frame for good.
func TestWatchSourceStopsStreaming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 4, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"a", "b"}
		const seed, win = 77, 2 // a match of 2304 frames
		gameID := MatchGameID(win, seed)
		cfg := sim.Config{Seed: seed, WinScore: win}
		var players []*Match
		for _, id := range ids {
			peer := n.Join(id)
			sess, err := lockstep.NewSession[sim.Input](peer.Channel(chanInput, transport.Unreliable), lockstep.Config{Seats: ids, GameID: gameID})
			if err != nil {
				t.Fatal(err)
			}
			m := newMatch(sess, cfg, testRoom())
			m.seats = ids
			if m.str, err = lockstep.NewStreamer[sim.Input](lockstep.StreamConfig{
				Conn: peer.Channel(chanStream, transport.Reliable), Seats: 2, GameID: gameID, Snapshots: true}); err != nil {
				t.Fatal(err)
			}
			players = append(players, m)
			defer m.Close()
		}
		room := testRoom()
		room.names["a"], room.names["b"] = "ann", "bob"
		var watcher *Match
		for tick := 0; tick < 60*600; tick++ {
			switch tick {
			case 400:
				sp, err := lockstep.NewSpectator[sim.Input](lockstep.SpectatorConfig{
					Conn: n.Join("w").Channel(chanStream, transport.Reliable), Source: "a", Witnesses: []transport.PeerID{"b"},
					GameID: gameID, Delay: WatchDelay})
				if err != nil {
					t.Fatal(err)
				}
				watcher = newWatchMatch(sp, cfg, room)
			case 900:
				players[0].str = nil // a streams no more
			}
			for i, p := range players {
				if err := p.Tick(sim.Bot(p.State(), i)); err != nil {
					t.Fatalf("player %d, tick %d: %v", i, tick, err)
				}
			}
			if watcher != nil {
				if err := watcher.Tick(sim.Input{}); err != nil {
					t.Fatalf("watcher, tick %d: %v", tick, err)
				}
				if watcher.Final() != nil {
					break
				}
			}
			time.Sleep(time.Second / 60)
		}
		if watcher == nil || watcher.Final() == nil {
			t.Fatalf("the watcher never saw the end of the match (frame %d, players %d %v, %+v, notes %q)", watcher.State().Frame, players[1].State().Frame, players[1].Final(), watcher.sp.Stats(), room.notes)
		}
		got, want := watcher.Final(), players[1].Final()
		if want == nil || *got != *want {
			t.Fatalf("watcher's end %+v, players' %+v", got, want)
		}
		if got.Frame < 1200 {
			t.Errorf("the match ended at frame %d, before the source stopped", got.Frame)
		}
		if note := "the stream from ann stopped: watching from bob"; !slices.Contains(room.notes, note) {
			t.Errorf("notes %q, want %q", room.notes, note)
		}
		st := watcher.sp.Stats()
		if st.Failovers != 1 || watcher.sp.Source() != "b" {
			t.Errorf("%d failovers, source %s", st.Failovers, watcher.sp.Source())
		}
		t.Logf("end at frame %d checksum %016x; notes %q; %+v", got.Frame, got.Checksum(), room.notes, st)
	})
}
