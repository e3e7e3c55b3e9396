package lobby_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Three peers meet over an in-memory network, get ready and agree on one
// Match. The game loop polls every lobby each frame; a fake clock makes
// the countdown instant to run.
func Example() {
	net := memnet.New(memnet.Config{})
	defer net.Close()
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }

	var lobbies []*lobby.Lobby
	for i, name := range []string{"alice", "bob", "carol"} {
		conn := net.Join(transport.PeerID(name)).Channel("lobby", transport.Reliable)
		lb, err := lobby.New(conn, lobby.Config{
			Name: name,
			Now:  now,
			Rand: rand.NewChaCha8([32]byte{byte(i)}), // fixed nonces: examples and tests only
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer lb.Close()
		lb.SetReady(true)
		lobbies = append(lobbies, lb)
	}

	for frame := 0; frame < 500; frame++ { // 8 s at 60 frames per second
		for _, lb := range lobbies {
			for _, e := range lb.PollEvents() {
				if lb.Local() != "bob" {
					continue
				}
				switch e.Kind {
				case lobby.EventHostChanged, lobby.EventCountdown, lobby.EventCountdownCancelled,
					lobby.EventStarting, lobby.EventStarted:
					fmt.Println(e)
				}
			}
		}
		clock = clock.Add(time.Second / 60)
	}
	s := lobbies[1].State()
	fmt.Println(s.Phase, s.Host, len(s.Members), s.Listing())
	a, _ := lobbies[0].Match()
	c, _ := lobbies[2].Match()
	fmt.Println("same seed everywhere:", a.Seed == c.Seed)
	// Output:
	// host-changed alice
	// countdown 3s
	// countdown-cancelled (joined)
	// countdown 3s
	// starting
	// started seats=[alice bob carol] seed=0x473e12e489d919bb
	// started alice 3 {3 8 started}
	// same seed everywhere: true
}

// A game loop over one lobby: draw the roster, start the game on
// EventStarted.
func ExampleLobby_PollEvents() {
	net := memnet.New(memnet.Config{})
	defer net.Close()
	conn := net.Join("solo").Channel("lobby", transport.Reliable)
	clock := time.Unix(0, 0)
	lb, _ := lobby.New(conn, lobby.Config{
		Name: "solo", MinPlayers: 1, Countdown: -1,
		Now: func() time.Time { return clock },
	})
	defer lb.Close()
	lb.SetReady(true)
	for frame := 0; frame < 100; frame++ {
		for _, e := range lb.PollEvents() {
			if e.Kind == lobby.EventStarted {
				fmt.Println("play with seats", e.Match.Seats)
				return
			}
		}
		clock = clock.Add(time.Second / 60)
	}
	// Output:
	// play with seats [solo]
}
