package netplay

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// testPlayer starts a player's Match on peer as startMatch does: lockstep
// with a control channel (join: coming back into the running match, with
// a catch-up Spectator of source), a Streamer.
func testPlayer(t *testing.T, peer *memnet.Peer, ids []transport.PeerID, gameID uint64, cfg sim.Config, join bool, source transport.PeerID) *Match {
	t.Helper()
	input := peer.Channel(chanInput, transport.Unreliable)
	sess, err := lockstep.NewSession[sim.Input](input, lockstep.Config{Seats: ids, GameID: gameID,
		Control: peer.Channel(chanControl, transport.Reliable), Join: join})
	if err != nil {
		t.Fatal(err)
	}
	m := newMatch(sess, cfg, testRoom())
	m.seats, m.gameID = ids, gameID
	m.room.names = map[transport.PeerID]string{"a": "ann", "b": "bob"}
	stream := peer.Channel(chanStream, transport.Reliable)
	if m.str, err = lockstep.NewStreamer[sim.Input](lockstep.StreamConfig{Conn: stream, Seats: 2, GameID: gameID, Snapshots: true}); err != nil {
		t.Fatal(err)
	}
	if join {
		if m.sp, err = lockstep.NewSpectator[sim.Input](lockstep.SpectatorConfig{Conn: stream, Source: source, GameID: gameID}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestRejoinTwoSeats: bob's game dies at tick 300 of a 2-seat match (its
// peer leaves without a goodbye, as a SIGKILLed process) and comes back
// 3 s later with the same identity: its request to be readmitted stands
// for its dead session's goodbye (lockstep cannot drop a seat of two on
// the other's word), it catches up from ann's stream and plays
// on. Both end on the same frame and checksum, ann's notes say she waited
// for bob and that he is back, and bob's paddle moved again after his
// return (the match was not played against an idle paddle to the end).
// Over a 60 ms link some of bob's join requests arrive after ann
// readmitted him (they dropped him again before lockstep ignored them).
func TestRejoinTwoSeats(t *testing.T) {
	for _, lat := range []time.Duration{15 * time.Millisecond, 60 * time.Millisecond} {
		t.Run(lat.String(), func(t *testing.T) { synctest.Test(t, func(t *testing.T) { testRejoinTwoSeats(t, lat) }) })
	}
}

func testRejoinTwoSeats(t *testing.T, lat time.Duration) {
	{
		n := memnet.New(memnet.Config{Seed: 5, Link: memnet.Link{Latency: lat}})
		defer n.Close()
		ids := []transport.PeerID{"a", "b"}
		const seed, win = 91, 3
		gameID := MatchGameID(win, seed)
		cfg := sim.Config{Seed: seed, WinScore: win}
		bobPeer := n.Join("b")
		ann := testPlayer(t, n.Join("a"), ids, gameID, cfg, false, "")
		bob := testPlayer(t, bobPeer, ids, gameID, cfg, false, "")
		defer func() { ann.Close(); bob.Close() }()
		const killAt, restartAt = 300, 300 + 3*60
		back, movedAfter := -1, false
		var notes []string
		for tick := 0; tick < 60*300 && (ann.Final() == nil || bob.Final() == nil); tick++ {
			switch tick {
			case killAt:
				bobPeer.Close() // no goodbye: the process is gone
			case restartAt:
				bobPeer = n.Join("b")
				bob = testPlayer(t, bobPeer, ids, gameID, cfg, true, "a")
			}
			if err := ann.Tick(sim.Bot(ann.State(), 0)); err != nil {
				t.Fatalf("ann, tick %d: %v", tick, err)
			}
			notes = append(notes, ann.room.notes...)
			ann.room.notes = nil
			if w := ann.waiting(); w != "" && !contains(notes, "waiting") {
				notes = append(notes, "waiting for "+w)
			}
			if tick < killAt || tick >= restartAt {
				y := bob.State().PaddleY[1]
				if err := bob.Tick(sim.Bot(bob.State(), 1)); err != nil {
					t.Fatalf("bob, tick %d: %v", tick, err)
				}
				if tick >= restartAt && bob.sp == nil {
					if back < 0 {
						back = tick
					}
					movedAfter = movedAfter || bob.State().PaddleY[1] != y
				}
			}
			time.Sleep(time.Second / 60)
		}
		if ann.Final() == nil || bob.Final() == nil {
			t.Fatalf("the match did not end: ann %v, bob %v", ann.Final(), bob.Final())
		}
		if *ann.Final() != *bob.Final() {
			t.Fatalf("ann ended at %+v, bob at %+v", ann.Final(), bob.Final())
		}
		if back < 0 || !movedAfter {
			t.Fatalf("bob back at tick %d, paddle moved after: %v", back, movedAfter)
		}
		if d := time.Duration(back-restartAt) * time.Second / 60; d > 5*time.Second {
			t.Errorf("bob played again %v after his restart, want within 5 s", d)
		}
		for _, want := range []string{"waiting for bob", "bob is back"} {
			if !contains(notes, want) {
				t.Errorf("ann's notes %q lack %q", notes, want)
			}
		}
		t.Logf("bob back %d ticks after his restart; end frame %d checksum %016x; ann's notes %q",
			back-restartAt, ann.Final().Frame, ann.Final().Checksum(), notes)
	}
}

func contains(notes []string, s string) bool {
	for _, n := range notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
