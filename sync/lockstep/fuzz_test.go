package lockstep_test

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// FuzzSessionDatagram feeds arbitrary datagrams from a seated peer into a
// session: whatever they say (frames, acks, lost masks, relays, goodbyes,
// checksums), Advance must not panic nor fail, and the session must go on
// running frames with the honest seat once the hostile one is dropped.
// Seeds are real datagrams of every kind.
func FuzzSessionDatagram(f *testing.F) {
	ids := []transport.PeerID{"a", "b", "c"}
	// Record what seat c sends in a real game, including a dropped notice
	// (seat b falls silent, is dropped, comes back once, too late) and a
	// goodbye; and a crafted relay.
	conns := locksteptest.Loopback(ids...)
	tapC := &tap{Conn: conns[2]}
	clock := &fakeClock{t: time.Unix(0, 0)}
	var ss []*lockstep.Session[input]
	for _, c := range []transport.Conn{conns[0], conns[1], tapC} {
		s, err := lockstep.NewSession[input](c, lockstep.Config{Seats: ids, Now: clock.Now, ChecksumInterval: 2})
		if err != nil {
			f.Fatal(err)
		}
		ss = append(ss, s)
	}
	for tick := range 420 {
		clock.t = clock.t.Add(time.Second / 60)
		for i, s := range ss {
			if i == 1 && tick >= 20 && tick != 410 {
				continue
			}
			steps, _ := s.Advance(input{Buttons: uint8(tick), Dx: int16(i)})
			for _, st := range steps {
				s.ReportChecksum(st.Frame, uint64(st.Frame))
			}
		}
	}
	_ = ss[2].Close()
	var kinds [8]int
	var dec wire.Decoder
	var p wire.Packet
	for _, d := range tapC.sent {
		if dec.Decode(d, &p) == nil {
			kinds[p.Kind]++
		}
	}
	if kinds[wire.KindDropped] == 0 || kinds[wire.KindBye] == 0 {
		f.Fatalf("seed datagrams by kind %v: want dropped notices and goodbyes", kinds)
	}
	f.Add(forge(f, wire.Packet{Kind: wire.KindRelay, Seat: 2, LostSeat: 1, Start: 3, Inputs: make([]byte, 9)}))
	for _, d := range tapC.sent[len(tapC.sent)-12:] {
		f.Add(d)
	}
	for _, d := range tapC.sent[:6] {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		conns := locksteptest.Loopback(ids...)
		clock := &fakeClock{t: time.Unix(0, 0)}
		a, err := lockstep.NewSession[input](conns[0], lockstep.Config{Seats: ids, Now: clock.Now, ChecksumInterval: 2, DisconnectTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		b, err := lockstep.NewSession[input](conns[1], lockstep.Config{Seats: ids, Now: clock.Now, ChecksumInterval: 2, DisconnectTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		frames := 0
		for tick := range 200 {
			clock.t = clock.t.Add(time.Second / 60)
			if tick < 5 {
				_ = conns[2].Send("a", data)
			}
			for i, s := range []*lockstep.Session[input]{a, b} {
				steps, err := s.Advance(input{})
				if err != nil {
					t.Fatalf("seat %d: Advance: %v", i, err)
				}
				for _, st := range steps {
					s.ReportChecksum(st.Frame, uint64(st.Frame))
					if i == 0 {
						frames++
					}
				}
			}
		}
		// Seat c never really plays: after its timeout (JoinTimeout if it
		// was never heard, DisconnectTimeout otherwise) a and b drop it
		// and go on. 200 ticks = 3.3 s covers DisconnectTimeout only, so
		// require progress only when c was heard.
		if st := a.Stats(); st.Seats[2].Dropped && frames == 0 {
			t.Fatalf("seat c dropped but no frame ran")
		}
	})
}
