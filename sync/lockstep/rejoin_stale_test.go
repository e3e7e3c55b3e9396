package lockstep_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// TestRejoinStaleRequest: in a 2-seat match over a 60 ms link seat 1's
// process dies and restarts with Config.Join. Its join requests repeat
// every 100 ms until the admission reaches it, so some arrive after seat
// 0 readmitted it: they must not count as the goodbye of a crashed
// session (that seat is alive: it was just readmitted), or seat 0 drops
// it again and tells it so, and the restart was for nothing.
func TestRejoinStaleRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{Latency: 60 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1"}
		start := func(p *memnet.Peer, join bool) *lockstep.Session[input] {
			s, err := lockstep.NewSession[input](p.Channel("ls", transport.Unreliable),
				lockstep.Config{Seats: ids, GameID: 5, Control: p.Channel("ctl", transport.Reliable), Join: join})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s0 := start(n.Join("p0"), false)
		defer s0.Close()
		p1 := n.Join("p1")
		s1 := start(p1, false)
		var events []lockstep.Event
		var last lockstep.Step[input]
		for tick := range 1200 {
			switch tick {
			case 300:
				p1.Close() // killed: no goodbye
				s1 = nil
			case 360:
				p1 = n.Join("p1")
				s1 = start(p1, true)
			}
			steps, err := s0.Advance(input{Dx: 1})
			if err != nil {
				t.Fatalf("seat 0, tick %d: %v", tick, err)
			}
			if len(steps) > 0 {
				last = steps[len(steps)-1]
				last.Status = append([]lockstep.InputStatus(nil), last.Status...)
			}
			events = append(events, s0.PollEvents()...)
			if s1 != nil {
				if _, err := s1.Advance(input{Dx: 2}); err != nil {
					var de *lockstep.DroppedError
					if errors.As(err, &de) || errors.Is(err, lockstep.ErrDropped) {
						t.Fatalf("seat 1 dropped again after its restart (tick %d): %v; seat 0's events %v", tick, err, events)
					}
					t.Fatalf("seat 1, tick %d: %v", tick, err)
				}
				s1.PollEvents()
			}
			time.Sleep(time.Second / 60)
		}
		lost := 0
		for _, ev := range events {
			if ev.Kind == lockstep.EventPlayerLost && ev.Seat == 1 {
				lost++
			}
		}
		if lost != 1 || s1.JoinFrame() == lockstep.NoFrame {
			t.Errorf("seat 0 lost seat 1 %d times (want once), seat 1 joined at %d; events: %v", lost, s1.JoinFrame(), events)
		}
		if len(last.Status) != 2 || last.Status[1] != lockstep.InputConfirmed {
			t.Errorf("seat 0's last step %d: seat 1 status %v, want it playing", last.Frame, last.Status)
		}
		s1.Close()
	})
}
