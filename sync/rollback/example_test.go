package rollback_test

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// Counter is the example game: a score per seat. A State is a value, so
// Save and Load are copies into the game's own buffers.
type Counter struct{ Score [2]int }

// Two peers play over an in-memory network, each running the game loop
// of the package quick start (interleaved in one goroutine): the remote
// input is predicted, and a wrong prediction rolled back (alice, who
// ticks first, guessed bob's first input and his change at tick 60).
func Example() {
	net := memnet.New(memnet.Config{Seed: 1})
	defer net.Close()
	seats := []transport.PeerID{"alice", "bob"}
	var sessions []*rollback.Session[uint8]
	for _, id := range seats {
		conn := net.Join(id).Channel("lockstep", transport.Unreliable)
		sess, err := rollback.NewSession[uint8](conn, rollback.Config{Lockstep: lockstep.Config{Seats: seats}})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer sess.Close()
		sessions = append(sessions, sess)
	}
	games := make([]Counter, 2)
	states := [][]Counter{make([]Counter, sessions[0].Slots()), make([]Counter, sessions[1].Slots())}
	for tick := range 120 {
		for i, sess := range sessions {
			reqs, err := sess.Advance(uint8(1 + i*(tick/60))) // bob presses harder after a second
			if errors.Is(err, lockstep.ErrDropped) || errors.Is(err, lockstep.ErrCutOff) {
				fmt.Println(err) // out of the match
				return
			}
			for _, r := range reqs {
				switch r.Kind {
				case rollback.Save:
					states[i][r.Slot] = games[i]
				case rollback.Load:
					games[i] = states[i][r.Slot]
				case rollback.Advance:
					for seat, in := range r.Inputs {
						games[i].Score[seat] += int(in)
					}
				}
			}
			for _, e := range sess.PollEvents() {
				if e.Kind == lockstep.EventDesync {
					fmt.Println(e.Err) // a *lockstep.DesyncError
					return
				}
			}
		}
	}
	a, b := sessions[0].Stats(), sessions[1].Stats()
	fmt.Println("simulated:", a.Head, b.Head, "confirmed:", a.Frame, b.Frame)
	fmt.Println("alice rolled back", a.Rollbacks, "times, bob", b.Rollbacks)
	fmt.Println("alice sees", games[0].Score, "bob sees", games[1].Score)
	// Output:
	// simulated: 120 120 confirmed: 119 119
	// alice rolled back 2 times, bob 0
	// alice sees [120 180] bob sees [120 180]
}
