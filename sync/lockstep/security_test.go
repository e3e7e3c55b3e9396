package lockstep_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// tap wraps a Conn and remembers the datagrams its session sends.
type tap struct {
	transport.Conn
	sent [][]byte
}

func (t *tap) Send(to transport.PeerID, p []byte) error {
	if len(t.sent) < 1000 {
		t.sent = append(t.sent, append([]byte(nil), p...))
	}
	return t.Conn.Send(to, p)
}

// forge encodes a datagram as seat from would, with the test's defaults.
func forge(t testing.TB, p wire.Packet) []byte {
	t.Helper()
	if p.InputSize == 0 {
		p.InputSize = 3
	}
	buf, err := wire.NewEncoder().Encode(&p)
	if err != nil {
		t.Fatalf("forge: %v", err)
	}
	return append([]byte(nil), buf...)
}

func frameFrom(seat, seats int, seq uint16) wire.Packet {
	p := wire.Packet{Kind: wire.KindFrame, Seat: uint8(seat), Seq: seq, InputSize: 3, Seats: seats}
	for i := range seats {
		p.Acks[i] = -1
	}
	return p
}

// TestHostileDatagrams plays a 3-seat game in which seat 2 (and an unseated
// peer, mallory) also inject forged, malformed, replayed and far-future
// datagrams. The honest game must go on unharmed (identical checksums,
// every frame), and each kind must be dropped and counted by its reason.
func TestHostileDatagrams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"a", "b", "c"}
		var sess []*lockstep.Session[input]
		var conns []transport.Conn
		for _, id := range ids {
			c := n.Join(id).Channel("ls", transport.Unreliable)
			conns = append(conns, c)
		}
		evil := &tap{Conn: conns[2]}
		conns[2] = evil
		mallory := n.Join("mallory").Channel("ls", transport.Unreliable)
		for _, c := range conns {
			s, err := lockstep.NewSession[input](c, lockstep.Config{Seats: ids, GameID: 77, InputDelay: 3})
			if err != nil {
				t.Fatal(err)
			}
			sess = append(sess, s)
		}
		sims := []*hashSim{newHashSim(3), newHashSim(3), newHashSim(3)}
		inject := func(from transport.Conn, p []byte) {
			for _, to := range []transport.PeerID{"a", "b"} {
				if err := from.Send(to, p); err != nil {
					t.Fatalf("inject: %v", err)
				}
			}
		}
		valid := frameFrom(2, 3, 30_000)
		valid.Game = wire.GameTag(77)
		attacks := []struct {
			name string
			do   func()
		}{
			{"spoof seat 0", func() { p := frameFrom(0, 3, 5000); p.Game = wire.GameTag(77); inject(evil.Conn, forge(t, p)) }},
			{"unseated sender", func() { inject(mallory, forge(t, valid)) }},
			{"garbage", func() { inject(evil.Conn, []byte("definitely not a flatbuffer, but long enough")) }},
			{"truncated", func() { b := forge(t, valid); inject(evil.Conn, b[:len(b)-12]) }},
			{"wrong input size", func() { p := valid; p.InputSize = 4; inject(evil.Conn, forge(t, p)) }},
			{"wrong seat count", func() { p := frameFrom(2, 4, 30_000); p.Game = wire.GameTag(77); inject(evil.Conn, forge(t, p)) }},
			{"oversize", func() { inject(evil.Conn, make([]byte, wire.MaxDatagram+100)) }},
			{"foreign game", func() { p := valid; p.Game = wire.GameTag(78); inject(evil.Conn, forge(t, p)) }},
			{"far future start", func() {
				p := valid
				p.Start, p.Frame, p.Inputs = 1<<24, 1<<24, make([]byte, 30)
				inject(evil.Conn, forge(t, p))
			}},
			{"ack of unsent inputs", func() { p := valid; p.Acks[0] = 20_000; inject(evil.Conn, forge(t, p)) }},
			{"replay", func() {
				// Re-send what seat 2's own session sent a moment ago.
				for _, b := range evil.sent[len(evil.sent)-4:] {
					inject(evil.Conn, b)
				}
			}},
			{"stale", func() { inject(evil.Conn, evil.sent[0]) }},
		}
		for tick := 0; tick < 600; tick++ {
			if tick >= 100 && tick%20 == 0 {
				attacks[(tick/20)%len(attacks)].do()
			}
			for i, s := range sess {
				steps, err := s.Advance(input{Buttons: uint8(tick + i), Dx: int16(i)})
				if err != nil {
					t.Fatalf("seat %d: %v", i, err)
				}
				for _, st := range steps {
					sims[i].Step(st.Frame, st.Inputs)
					s.ReportChecksum(st.Frame, sims[i].Checksum())
				}
			}
			time.Sleep(time.Second / 60)
		}
		for i := 1; i < 3; i++ {
			if sess[i].Stats().Frame < 550 {
				t.Errorf("seat %d ran %d frames, want >= 550", i, sess[i].Stats().Frame)
			}
		}
		a, b := sims[0].Checksum(), sims[1].Checksum()
		if fa, fb := sess[0].Stats().Frame, sess[1].Stats().Frame; fa == fb && a != b {
			t.Errorf("seats 0 and 1 diverged: %#x vs %#x", a, b)
		}
		for i := range 2 {
			d := sess[i].Stats().Dropped
			for _, c := range []struct {
				name string
				got  uint64
			}{
				{"Spoofed", d.Spoofed}, {"Malformed", d.Malformed}, {"Oversize", d.Oversize},
				{"Foreign", d.Foreign}, {"FarFuture", d.FarFuture}, {"Replayed", d.Replayed}, {"Stale", d.Stale},
			} {
				if c.got == 0 {
					t.Errorf("seat %d: Dropped.%s = 0, want > 0 (%+v)", i, c.name, d)
				}
			}
			if d.Conflicts != 0 {
				t.Errorf("seat %d: Dropped.Conflicts = %d, want 0", i, d.Conflicts)
			}
		}
		for _, s := range sess {
			_ = s.Close()
		}
	})
}
