package natsbackplane

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// TestRacingJoins: many clients join one room at once through three
// nodes; the compare-and-set admission seats exactly the room's size,
// refuses the rest with room_full, and every node lists the same count.
func TestRacingJoins(t *testing.T) {
	ns := natstest.Start(t)
	nodes := []*node{startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1"), startNode(t, ns.URL(), "n2")}
	waitReady(t, nodes...)

	for _, tc := range []struct {
		name    string
		size    int
		joiners int
	}{
		{"size 5, 30 joiners", 5, 30},
		{"size 1, 12 joiners", 1, 12},
		{"size 16, 40 joiners", 16, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room := fmt.Sprintf("race-%d", tc.size)
			var wg sync.WaitGroup
			start := make(chan struct{})
			var mu sync.Mutex
			var joined []*sigclient.Client
			full, other := 0, []error{}
			for i := range tc.joiners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					// Every joiner asks for the size: whichever creates
					// the room sets it.
					c, err := sigclient.Dial(testCtx(t), nodes[i%len(nodes)].wsURL(), room,
						sigclient.DialOptions{Name: fmt.Sprint("p", i), MaxPlayers: tc.size})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						joined = append(joined, c)
					case errors.Is(err, signaling.ErrRoomFull):
						full++
					default:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			t.Cleanup(func() {
				for _, c := range joined {
					_ = c.Close()
				}
			})
			if len(other) > 0 {
				t.Fatalf("unexpected join errors: %v", other)
			}
			if got, want := len(joined), tc.size; got != want {
				t.Fatalf("%d joins admitted to a room of %d (%d refused room_full)", got, want, full)
			}
			if got, want := full, tc.joiners-tc.size; got != want {
				t.Fatalf("%d refused with room_full, want %d", got, want)
			}
			want := fmt.Sprintf(`[{"room":"%s","players":%d,"max":%d,"password":false}]`, room, tc.size, tc.size)
			for _, n := range nodes {
				waitFor(t, 10*waitUnit, n.name+"'s listing", func() bool { return listingOf(t, n, room) == want })
			}
			// Everyone admitted sees every other admitted member (through
			// the welcome or the joins that followed).
			for _, c := range joined {
				waitFor(t, 10*waitUnit, "a full peer list", func() bool { return len(c.Peers()) == tc.size-1 })
			}
		})
	}
}

// TestAdmission: password, game, room-count limits and unknown peers work
// as with one node, across nodes.
func TestAdmission(t *testing.T) {
	ns := natstest.Start(t)
	n0 := startNode(t, ns.URL(), "n0", func(_ *Config, s *signaling.Server) { s.MaxRooms = 2 })
	n1 := startNode(t, ns.URL(), "n1", func(_ *Config, s *signaling.Server) { s.MaxRooms = 2 })
	waitReady(t, n0, n1)

	a := dial(t, n0.wsURL(), "locked", sigclient.DialOptions{Password: "pw", GameID: "pong"})
	tests := []struct {
		name string
		url  string
		room string
		opts sigclient.DialOptions
		want error
	}{
		{"right password, other node", n1.wsURL(), "locked", sigclient.DialOptions{Password: "pw", GameID: "pong"}, nil},
		{"wrong password", n1.wsURL(), "locked", sigclient.DialOptions{Password: "nope", GameID: "pong"}, signaling.ErrBadPassword},
		{"no password", n0.wsURL(), "locked", sigclient.DialOptions{GameID: "pong"}, signaling.ErrBadPassword},
		{"wrong game", n1.wsURL(), "locked", sigclient.DialOptions{Password: "pw", GameID: "chess"}, signaling.ErrWrongGame},
		{"second room", n1.wsURL(), "second", sigclient.DialOptions{}, nil},
		{"third room over the limit", n0.wsURL(), "third", sigclient.DialOptions{}, signaling.ErrTooManyRooms},
	}
	var keep []*sigclient.Client
	t.Cleanup(func() {
		for _, c := range keep {
			_ = c.Close()
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == signaling.ErrTooManyRooms {
				// The room count is checked against the node's view of
				// the registry (a soft limit across nodes): let n0 see
				// the room n1 just made.
				waitFor(t, 10*waitUnit, "n0 to see room second", func() bool { return n0.bp.reg.roomCount("") == 2 })
			}
			c, err := sigclient.Dial(testCtx(t), tt.url, tt.room, tt.opts)
			if err == nil {
				keep = append(keep, c) // the rooms stay until the test ends
			}
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Dial: %v, want %v", err, tt.want)
			}
		})
	}
	// A signal to a member of the room on another node goes through; to
	// a stranger it is refused (not fatal).
	b := dial(t, n1.wsURL(), "locked", sigclient.DialOptions{Password: "pw"})
	if err := b.Signal(a.Local(), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, signaling.EventSignal, b.Local())
}
