package lockstep_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// sizeTap wraps a Conn and tallies the datagrams its session sends (what
// is handed to Conn.Send: the FlatBuffers datagram, no transport header).
type sizeTap struct {
	transport.Conn
	count, bytes, smallest, largest int
}

func (t *sizeTap) Send(to transport.PeerID, p []byte) error {
	t.count++
	t.bytes += len(p)
	if t.smallest == 0 || len(p) < t.smallest {
		t.smallest = len(p)
	}
	t.largest = max(t.largest, len(p))
	return t.Conn.Send(to, p)
}

// TestDatagramSize pins the steady-state datagram of 2, 4 and 8 seats
// (3-byte inputs, the default fixed delay of 2 frames and checksum
// interval of 30, an instant lossless network): the smallest (one
// unacknowledged input and the acks: most ticks), the largest (plus the
// receiver's echo of its ping and a checksum) and the total over 600
// ticks (150 pings, 20 checksums), as seat 0 sends them. Any change to
// these numbers is a change of the wire's cost: update them on purpose.
func TestDatagramSize(t *testing.T) {
	tests := []struct {
		seats                    int
		smallest, largest, total int
	}{
		{2, 64, 104, 42240}, // mean 70.4 B
		{4, 68, 108, 44640}, // mean 74.4 B (77.4 before echoes went only to their pinger)
		{8, 76, 116, 49440}, // mean 82.4 B (91.4 before)
	}
	for _, tt := range tests {
		ids := make([]transport.PeerID, tt.seats)
		for i := range ids {
			ids[i] = locksteptest.PeerID(i)
		}
		clock := &fakeClock{t: time.Unix(1e9, 0)}
		var sess []*lockstep.Session[input]
		var tap *sizeTap
		for i, c := range locksteptest.Loopback(ids...) {
			var conn transport.Conn = c
			if i == 0 {
				tap = &sizeTap{Conn: c}
				conn = tap
			}
			s, err := lockstep.NewSession[input](conn, lockstep.Config{Seats: ids, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			sess = append(sess, s)
		}
		tick := func() {
			clock.t = clock.t.Add(time.Second / 60)
			for i, s := range sess {
				steps, err := s.Advance(input{Buttons: 1, Dx: int16(i)})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					s.ReportChecksum(st.Frame, uint64(st.Frame))
				}
			}
		}
		for range 300 {
			tick()
		}
		*tap = sizeTap{Conn: tap.Conn}
		for range 600 {
			tick()
		}
		per := tap.count / (tt.seats - 1) // datagrams per tick and receiver
		t.Logf("%d seats: %d datagrams per receiver, smallest %d, largest %d, total %d (mean %.1f)", tt.seats, per, tap.smallest, tap.largest, tap.bytes/(tt.seats-1), float64(tap.bytes)/float64(tap.count))
		if per != 600 {
			t.Errorf("%d seats: %d datagrams per receiver in 600 ticks, want 600", tt.seats, per)
		}
		got := [3]int{tap.smallest, tap.largest, tap.bytes / (tt.seats - 1)}
		if want := [3]int{tt.smallest, tt.largest, tt.total}; got != want {
			t.Errorf("%d seats: smallest, largest, total bytes = %v, want %v", tt.seats, got, want)
		}
	}
}

// TestSeatLoss: Stats.Seats[i].Loss measures the loss of seat i's
// datagrams on the way here, from sequence gaps: duplicates do not count,
// datagrams overtaken on the way count only until they arrive, and the
// reverse direction is measured independently.
func TestSeatLoss(t *testing.T) {
	tests := []struct {
		name     string
		link     memnet.Link // a -> b; b -> a is clean
		min, max float64     // of b's estimate of a
	}{
		{"clean", memnet.Link{Latency: 20 * time.Millisecond}, 0, 0},
		{"loss 5%", memnet.Link{Latency: 20 * time.Millisecond, Loss: 0.05}, 0.02, 0.09},
		{"loss 20%", memnet.Link{Latency: 20 * time.Millisecond, Loss: 0.2}, 0.14, 0.27},
		{"duplicates", memnet.Link{Latency: 20 * time.Millisecond, Duplicate: 0.2}, 0, 0},
		{"reordering", memnet.Link{Latency: 20 * time.Millisecond, Reorder: 0.2}, 0, 0.02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := memnet.New(memnet.Config{Seed: 4, Link: memnet.Link{Latency: 20 * time.Millisecond}})
				defer n.Close()
				n.SetLink("a", "b", tt.link)
				ids := []transport.PeerID{"a", "b"}
				var ss []*lockstep.Session[input]
				for _, id := range ids {
					s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable),
						lockstep.Config{Seats: ids, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
					if err != nil {
						t.Fatal(err)
					}
					ss = append(ss, s)
				}
				for range 1200 {
					for _, s := range ss {
						if _, err := s.Advance(input{}); err != nil {
							t.Fatal(err)
						}
					}
					time.Sleep(time.Second / 60)
				}
				a, b := ss[0].Stats(), ss[1].Stats()
				if got := b.Seats[0].Loss; got < tt.min || got > tt.max {
					t.Errorf("b's loss of a = %.3f, want %.2f..%.2f", got, tt.min, tt.max)
				}
				if got := a.Seats[1].Loss; got != 0 {
					t.Errorf("a's loss of b (clean link) = %.3f, want 0", got)
				}
				if a.Seats[0].Loss != 0 || a.Seats[0].Heard || !a.Seats[1].Heard {
					t.Errorf("local seat: loss %v, heard %v; remote heard %v; want 0, false, true",
						a.Seats[0].Loss, a.Seats[0].Heard, a.Seats[1].Heard)
				}
				// RTT: 40 ms on the wire, measured between ticks (up to a
				// tick more each way).
				if rtt := a.Seats[1].RTT; rtt < 40*time.Millisecond || rtt > 40*time.Millisecond+2*time.Second/60 {
					t.Errorf("a's RTT to b = %v, want 40 ms to 40 ms + 2 ticks", rtt)
				}
				for _, s := range ss {
					_ = s.Close()
				}
			})
		})
	}
}

// TestDatagramSizeRTS pins the RTS profile's datagram: 8 seats, a 200 ms
// send interval, adaptive delay, each player giving a command every 20
// ticks (the zero input between), over a 2 ms memnet link: 12
// unacknowledged inputs a datagram (as runs), its receiver's echo in one
// of 4, a checksum in 4 of 5 (each in 2 datagrams): mean 103.4 B. It was
// 119 B with every seat's echoes in every datagram and 3 copies of each
// checksum, and about 155 B with raw inputs too (wire version 3).
func TestDatagramSizeRTS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 1, Link: memnet.Link{Latency: time.Millisecond}})
		defer n.Close()
		ids := make([]transport.PeerID, 8)
		for i := range ids {
			ids[i] = locksteptest.PeerID(i)
		}
		var sess []*lockstep.Session[input]
		var tap *sizeTap
		for i, id := range ids {
			var c transport.Conn = n.Join(id).Channel("ls", transport.Unreliable)
			if i == 0 {
				tap = &sizeTap{Conn: c}
				c = tap
			}
			s, err := lockstep.NewSession[input](c, lockstep.Config{Seats: ids, SendInterval: 200 * time.Millisecond,
				Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sess = append(sess, s)
		}
		for tick := range 1200 {
			if tick == 600 {
				*tap = sizeTap{Conn: tap.Conn}
			}
			for p, s := range sess {
				time.Sleep(time.Second / 60 / 8)
				var in input
				if tick%20 == p {
					in = input{Buttons: uint8(tick) | 1, Dx: int16(p)}
				}
				steps, err := s.Advance(in)
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					s.ReportChecksum(st.Frame, uint64(st.Frame))
				}
			}
		}
		mean := float64(tap.bytes) / float64(tap.count)
		t.Logf("%d datagrams in 600 ticks, smallest %d, largest %d, mean %.1f B", tap.count, tap.smallest, tap.largest, mean)
		if got, want := [3]int{tap.count, tap.smallest, tap.bytes}, [3]int{350, 80, 36176}; got != want {
			t.Errorf("datagrams, smallest, total bytes = %v, want %v", got, want)
		}
	})
}
