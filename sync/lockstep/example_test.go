package lockstep_test

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Input is the example game's input: one byte of buttons.
type Input struct{ Buttons uint8 }

// Game is a toy deterministic game: a counter per seat.
type Game struct{ Score [2]int }

func (g *Game) Step(in []Input) {
	for seat, x := range in {
		g.Score[seat] += int(x.Buttons)
	}
}

func (g *Game) Checksum() uint64 { return uint64(g.Score[0])<<32 | uint64(g.Score[1]) }

// Two peers play over an in-memory network: each runs the game loop of
// the package quick start (here interleaved in one goroutine).
func Example() {
	net := memnet.New(memnet.Config{Seed: 1})
	defer net.Close()
	seats := []transport.PeerID{"alice", "bob"}
	var sessions []*lockstep.Session[Input]
	for _, id := range seats {
		conn := net.Join(id).Channel("lockstep", transport.Unreliable)
		sess, err := lockstep.NewSession[Input](conn, lockstep.Config{Seats: seats})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer sess.Close()
		sessions = append(sessions, sess)
	}
	games := []*Game{{}, {}}
	for tick := range 120 {
		for i, sess := range sessions {
			steps, err := sess.Advance(Input{Buttons: uint8(1 + i)})
			if errors.Is(err, lockstep.ErrDropped) || errors.Is(err, lockstep.ErrCutOff) {
				fmt.Println(err) // out of the match
				return
			}
			for _, st := range steps {
				games[i].Step(st.Inputs)
				sess.ReportChecksum(st.Frame, games[i].Checksum())
			}
			for _, e := range sess.PollEvents() {
				if e.Kind == lockstep.EventDesync {
					fmt.Println(e.Err) // the simulations diverged at e.Frame
					return
				}
				fmt.Println(tick, e.Kind, e.Seat)
			}
		}
	}
	a, b := sessions[0].Stats(), sessions[1].Stats()
	fmt.Println("frames:", a.Frame, b.Frame)
	fmt.Println("alice sees", games[0].Score, "bob sees", games[1].Score)
	// Output:
	// frames: 119 120
	// alice sees [117 234] bob sees [118 236]
}
