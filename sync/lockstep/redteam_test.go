package lockstep_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// Red team: one seat of the match lies (crafted datagrams through the
// internal wire encoder, over memnet, in a synctest bubble). The honest
// seats must never simulate different states, never stall forever, and
// be told which seat's messages were refused and why. See the package
// doc, "Threat model".

const redGame = 0x5eed

// redMatch runs honest sessions; the test drives the liar through hooks.
type redMatch struct {
	t      *testing.T
	net    *memnet.Network
	ids    []transport.PeerID
	conns  []*tap
	sess   []*lockstep.Session[input]
	sims   []*hashSim
	sums   []map[lockstep.Frame]uint64
	events [][]lockstep.Event
	errs   []error
	frozen []bool // not advanced (the liar's session, or a paused loop)
}

func newRedMatch(t *testing.T, seats int, cfg lockstep.Config) *redMatch {
	t.Helper()
	m := &redMatch{t: t, net: memnet.New(memnet.Config{Seed: 9, Link: memnet.Link{Latency: 15 * time.Millisecond}})}
	for i := range seats {
		m.ids = append(m.ids, transport.PeerID(string(rune('a'+i))))
	}
	cfg.Seats = m.ids
	cfg.GameID = redGame
	for _, id := range m.ids {
		c := &tap{Conn: m.net.Join(id).Channel("ls", transport.Unreliable)}
		s, err := lockstep.NewSession[input](c, cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.conns = append(m.conns, c)
		m.sess = append(m.sess, s)
		m.sims = append(m.sims, newHashSim(seats))
		m.sums = append(m.sums, map[lockstep.Frame]uint64{})
	}
	m.events = make([][]lockstep.Event, seats)
	m.errs = make([]error, seats)
	m.frozen = make([]bool, seats)
	t.Cleanup(func() {
		for _, s := range m.sess {
			_ = s.Close()
		}
		_ = m.net.Close()
	})
	return m
}

// tick advances every seat not frozen once, then sleeps a tick.
func (m *redMatch) tick(tick int) {
	for i, s := range m.sess {
		if m.frozen[i] || m.errs[i] != nil {
			continue
		}
		steps, err := s.Advance(input{Buttons: uint8(tick*7 + i), Dx: int16(tick%5 - i)})
		if err != nil && !errors.Is(err, lockstep.ErrDesync) {
			m.errs[i] = err
		}
		for _, st := range steps {
			m.sims[i].Step(st.Frame, st.Inputs)
			sum := m.sims[i].Checksum()
			m.sums[i][st.Frame] = sum
			s.ReportChecksum(st.Frame, sum)
		}
		m.events[i] = append(m.events[i], s.PollEvents()...)
	}
	time.Sleep(time.Second / 60)
}

// agree fails unless seats i and j computed the same state on every frame
// both ran.
func (m *redMatch) agree(i, j int) {
	m.t.Helper()
	for f, a := range m.sums[i] {
		if b, ok := m.sums[j][f]; ok && a != b {
			m.t.Fatalf("seats %d and %d diverge at frame %d", i, j, f)
		}
	}
}

func (m *redMatch) frames(i int) lockstep.Frame { return lockstep.Frame(len(m.sums[i])) }

// find returns seat i's first event of kind k about seat about.
func (m *redMatch) find(i int, k lockstep.EventKind, about int) (lockstep.Event, bool) {
	for _, e := range m.events[i] {
		if e.Kind == k && e.Seat == about {
			return e, true
		}
	}
	return lockstep.Event{}, false
}

// lastFrame decodes the newest Frame datagram seat i's session sent.
func (m *redMatch) lastFrame(i int) wire.Packet {
	m.t.Helper()
	var d wire.Decoder
	var p wire.Packet
	sent := m.conns[i].sent
	for k := len(sent) - 1; k >= 0; k-- {
		if d.Decode(sent[k], &p) == nil && p.Kind == wire.KindFrame {
			return p
		}
	}
	m.t.Fatalf("seat %d sent no Frame", i)
	return p
}

// inject sends a crafted datagram from seat from's own transport (so the
// transport sender is genuine: the lie is in the content).
func (m *redMatch) inject(from, to int, p wire.Packet) {
	m.t.Helper()
	p.Game = wire.GameTag(redGame)
	p.Seat = uint8(from)
	if err := m.conns[from].Conn.Send(m.ids[to], forge(m.t, p)); err != nil {
		m.t.Fatal(err)
	}
}

// noDrops fails if any honest seat dropped anyone or was told it was.
func (m *redMatch) noDrops(honest ...int) {
	m.t.Helper()
	for _, i := range honest {
		for _, e := range m.events[i] {
			if e.Kind == lockstep.EventPlayerDropped || e.Kind == lockstep.EventPlayerLost {
				m.t.Errorf("seat %d: %v of seat %d (%s)", i, e.Kind, e.Seat, e.Reason)
			}
		}
		if m.errs[i] != nil {
			m.t.Errorf("seat %d: %v", i, m.errs[i])
		}
	}
}

// wantRefused fails unless seat i was told that seat from's messages were
// refused.
func (m *redMatch) wantRefused(i, from int) {
	m.t.Helper()
	e, ok := m.find(i, lockstep.EventRefused, from)
	if !ok {
		m.t.Errorf("seat %d: no %v event naming seat %d; events %v", i, lockstep.EventRefused, from, m.events[i])
		return
	}
	if e.Peer != m.ids[from] || e.Reason == "" {
		m.t.Errorf("seat %d: refused event %+v: want peer %s and a reason", i, e, m.ids[from])
	}
	m.t.Logf("seat %d refused seat %d: %s", i, from, e.Reason)
}

// TestRedteamRelayForLiveSeat: seat c sends b "relays" of made-up inputs
// of seat a, who is alive. Before: b stored them (a relay was accepted for
// any seat but the receiver's own), b's state diverged from a's and the
// checksum datagrams were the ones refused. Now a relay is accepted only
// for a seat the receiver itself considers lost, while the drop agreement
// for it runs.
func TestRedteamRelayForLiveSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		fake := make([]byte, 8*3)
		for k := range fake {
			fake[k] = 0xEE
		}
		for tick := range 900 {
			if tick >= 100 && tick < 400 {
				held := m.sess[2].Stats().Seats[0].Held
				m.inject(2, 1, wire.Packet{Kind: wire.KindRelay, InputSize: 3, LostSeat: 0,
					Seq: m.lastFrame(2).Seq, Start: int32(max(0, held-2)), Inputs: fake})
			}
			m.tick(tick)
		}
		m.agree(0, 1)
		m.agree(0, 2)
		for i := range 3 {
			if f := m.frames(i); f < 850 {
				t.Errorf("seat %d ran %d frames, want >= 850", i, f)
			}
		}
		m.noDrops(0, 1)
		m.wantRefused(1, 2)
		if st := m.sess[1].Stats(); st.Dropped.Refused == 0 {
			t.Errorf("seat 1: Dropped.Refused = 0, want the relays counted (%+v)", st.Dropped)
		}
	})
}

// TestRedteamLostMask: one Frame datagram from c tells b "seat a is
// lost". Before: b adopted it at once (contagion); the seats dropped each
// other or b stalled forever. Now a lost report is adopted only with the
// receiver's own evidence (its silence timeout) or from a majority of the
// seats; the claim is refused and reported.
func TestRedteamLostMask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		for tick := range 900 {
			if tick >= 150 && tick < 160 {
				last := m.lastFrame(2)
				p := frameFrom(2, 3, last.Seq+1)
				p.Frame, p.Start = last.Frame, last.Frame
				p.Lost = 1 << 0
				p.Suspect = 1 << 0
				m.inject(2, 1, p)
			}
			m.tick(tick)
		}
		m.agree(0, 1)
		m.agree(1, 2)
		for i := range 3 {
			if f := m.frames(i); f < 850 {
				t.Errorf("seat %d ran %d frames, want >= 850", i, f)
			}
		}
		m.noDrops(0, 1, 2)
		m.wantRefused(1, 2)
	})
}

// TestRedteamImpossibleClaims: c acknowledges inputs the receivers never
// sent and claims frames far ahead. Such datagrams are dropped and
// counted, the honest seats are never dropped for it, and they are told
// which seat sent them.
func TestRedteamImpossibleClaims(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		for tick := range 900 {
			if tick >= 100 && tick < 400 && tick%3 == 0 {
				last := m.lastFrame(2)
				for to := range 2 {
					p := frameFrom(2, 3, last.Seq+1)
					p.Frame, p.Start = last.Frame, last.Frame
					p.Acks[to] = last.Frame + 500 // inputs never sent
					m.inject(2, to, p)
				}
			}
			m.tick(tick)
		}
		m.agree(0, 1)
		m.agree(1, 2)
		for i := range 3 {
			if f := m.frames(i); f < 850 {
				t.Errorf("seat %d ran %d frames, want >= 850", i, f)
			}
		}
		m.noDrops(0, 1, 2)
		for i := range 2 {
			m.wantRefused(i, 2)
			if st := m.sess[i].Stats(); st.Dropped.FarFuture == 0 {
				t.Errorf("seat %d: Dropped.FarFuture = 0 (%+v)", i, st.Dropped)
			}
		}
	})
}

// TestRedteamStallingLiar: from tick 100, seat c keeps talking (fresh
// sequence numbers, its old inputs and acks) but never sends a new input:
// it stalls the match without ever falling silent. Before: a and b waited
// forever. Now a seat that blocks the next frame for DisconnectTimeout
// although it is heard is suspected; the majority (a and b) drops it at
// one agreed frame, and the match goes on.
func TestRedteamStallingLiar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		var last wire.Packet
		const from, ticks = 100, 1200
		for tick := range ticks {
			if tick == from {
				m.frozen[2] = true
				last = m.lastFrame(2)
			}
			if tick >= from {
				last.Seq++
				last.Ping = false
				last.NumEchoes, last.NumChecksums = 0, 0
				for to := range 2 {
					m.inject(2, to, last)
				}
			}
			m.tick(tick)
		}
		m.agree(0, 1)
		var drop [2]lockstep.Frame
		for i := range 2 {
			e, ok := m.find(i, lockstep.EventPlayerDropped, 2)
			if !ok {
				t.Fatalf("seat %d never dropped the stalling seat 2 (frames %d); events %v", i, m.frames(i), m.events[i])
			}
			drop[i] = e.Frame
			if w, ok := m.find(i, lockstep.EventWaiting, 2); !ok {
				t.Errorf("seat %d: no waiting event naming seat 2", i)
			} else {
				t.Logf("seat %d: waiting for seat %d at frame %d; dropped it at frame %d (%s)", i, w.Seat, w.Frame, e.Frame, e.Reason)
			}
			if m.errs[i] != nil {
				t.Errorf("seat %d: %v", i, m.errs[i])
			}
		}
		if drop[0] != drop[1] {
			t.Errorf("drop frames %v, want one agreed frame", drop)
		}
		// Bounded stall: DisconnectTimeout (5 s) plus the agreement.
		st := m.sess[0].Stats()
		if bound := 6 * 60; st.LongestStall > bound {
			t.Errorf("longest stall %d ticks, want <= %d", st.LongestStall, bound)
		}
		if want := lockstep.Frame(ticks - from - 7*60); m.frames(0) < want {
			t.Errorf("seat 0 ran %d frames, want >= %d", m.frames(0), want)
		}
		t.Logf("stall bound: longest stall %d ticks (%.1f s)", st.LongestStall, float64(st.LongestStall)/60)
	})
}

// TestRedteamDroppedNotice: c tells b "you were dropped" (and a "seat b
// was dropped", a notice about another seat). One seat's word is not a
// majority of the others: b plays on, and both are told which seat lied.
func TestRedteamDroppedNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		for tick := range 900 {
			if tick >= 150 && tick < 450 && tick%10 == 0 {
				last := m.lastFrame(2)
				m.inject(2, 1, wire.Packet{Kind: wire.KindDropped, InputSize: 3, Seq: last.Seq, Frame: last.Frame, LostSeat: 1})
				m.inject(2, 0, wire.Packet{Kind: wire.KindDropped, InputSize: 3, Seq: last.Seq, Frame: last.Frame, LostSeat: 1})
			}
			m.tick(tick)
		}
		m.agree(0, 1)
		m.agree(1, 2)
		for i := range 3 {
			if f := m.frames(i); f < 850 {
				t.Errorf("seat %d ran %d frames, want >= 850", i, f)
			}
		}
		m.noDrops(0, 1, 2)
		m.wantRefused(0, 2)
		m.wantRefused(1, 2)
	})
}
