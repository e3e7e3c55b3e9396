package lockstep_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Red team at a joiner: one seat lies to the newcomer about its admission
// (the control channel). The joiner has no state of its own yet and
// believes what it is told, so the lie must be refuted by what the other
// seats say, never by timing. See the package doc, "Rejoin and join in
// progress".

// ctlLiar wraps one seat's control channel: onRecv sees every control
// message the seat receives (and may send forged ones through the inner
// channel); onSend may rewrite every message it sends.
type ctlLiar struct {
	transport.Conn
	onRecv func(c transport.Conn, m transport.Message)
	onSend func(to transport.PeerID, p []byte) []byte
}

func (c *ctlLiar) Send(to transport.PeerID, p []byte) error {
	if c.onSend != nil {
		p = c.onSend(to, p)
	}
	return c.Conn.Send(to, p)
}

func (c *ctlLiar) TryRecv() (transport.Message, bool) {
	m, ok := c.Conn.TryRecv()
	if ok && c.onRecv != nil {
		c.onRecv(c.Conn, m)
	}
	return m, ok
}

// joinRun is one seat's record of a match a newcomer joins.
type joinRun struct {
	status []lockstep.InputStatus
	in     []input
}

// joinMatch is a match a newcomer joins: seats seats (default 4), the
// last one reserved, its newcomer starting at tick 60; the seats in leave
// close (a goodbye) at tick 30; tick, if set, runs before every tick.
type joinMatch struct {
	seats, ticks  int
	leave, honest []int
	wrap          func(i int, c transport.Conn) transport.Conn
	tick          func(tick int)
	stall         []int  // out: each seat's longest run of ticks without a step, once it ran one
	joinSeed      uint64 // the newcomer's Config.Seed, if not the match's (1)
	signed        bool   // every seat has a Config.Signer (edSigner)
}

// runJoinAttack plays a match (see joinMatch) for ticks ticks. It fails
// if the newcomer runs any frame differently from an honest seat (status
// and inputs), and returns the sessions, the frames each ran and every
// seat's events.
func runJoinAttack(t *testing.T, ticks int, honest []int, wrap func(i int, c transport.Conn) transport.Conn) ([]*lockstep.Session[input], []map[lockstep.Frame]joinRun, [][]lockstep.Event) {
	return runJoin(t, &joinMatch{seats: 4, ticks: ticks, honest: honest, wrap: wrap})
}

func runJoin(t *testing.T, jm *joinMatch) ([]*lockstep.Session[input], []map[lockstep.Frame]joinRun, [][]lockstep.Event) {
	ticks, honest, wrap, last := jm.ticks, jm.honest, jm.wrap, jm.seats-1
	n := memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{Latency: 10 * time.Millisecond}})
	defer n.Close()
	ids := []transport.PeerID{"p0", "p1", "p2", "p3", "p4"}[:jm.seats]
	ss := make([]*lockstep.Session[input], jm.seats)
	runs := make([]map[lockstep.Frame]joinRun, jm.seats)
	ended := make([]error, jm.seats)
	events := make([][]lockstep.Event, jm.seats)
	jm.stall = make([]int, jm.seats)
	lastStep := make([]int, jm.seats)
	start := func(i int, join bool) {
		peer := n.Join(ids[i])
		var ctl transport.Conn = peer.Channel("ctl", transport.Reliable)
		if wrap != nil {
			ctl = wrap(i, ctl)
		}
		var sg lockstep.Signer
		if jm.signed {
			sg = edSigner{keys: newKeys(ids...), me: ids[i]}
		}
		seed := uint64(1)
		if join && jm.joinSeed != 0 {
			seed = jm.joinSeed
		}
		s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable),
			lockstep.Config{Seats: ids, Reserved: ids[last:], GameID: 9, Seed: seed, Control: ctl, Join: join, InputDelay: 2, Signer: sg})
		if err != nil {
			t.Fatal(err)
		}
		ss[i], runs[i] = s, map[lockstep.Frame]joinRun{}
	}
	for i := range last {
		start(i, false)
	}
	for tick := range ticks {
		if tick == 60 {
			start(last, true)
		}
		for _, i := range jm.leave {
			if tick == 30 {
				_ = ss[i].Close()
				ended[i] = lockstep.ErrClosed
			}
		}
		if jm.tick != nil {
			jm.tick(tick)
		}
		for i, s := range ss {
			if s == nil || ended[i] != nil {
				continue
			}
			steps, err := s.Advance(input{Buttons: uint8(tick + i), Dx: int16(i)})
			if errors.Is(err, lockstep.ErrDropped) || errors.Is(err, lockstep.ErrCutOff) {
				ended[i] = err
				continue
			}
			if err != nil {
				t.Fatalf("seat %d: %v", i, err)
			}
			for _, st := range steps {
				status := slices.Clone(st.Status)
				for k, v := range status {
					if v == lockstep.InputDisconnecting { // a local view
						status[k] = lockstep.InputConfirmed
					}
				}
				runs[i][st.Frame] = joinRun{status, slices.Clone(st.Inputs)}
				if lastStep[i] > 0 {
					jm.stall[i] = max(jm.stall[i], tick-lastStep[i])
				}
				lastStep[i] = tick
			}
			events[i] = append(events[i], s.PollEvents()...)
		}
		time.Sleep(time.Second / 60)
	}
	for k, h := range honest {
		for _, g := range honest[k+1:] {
			for f, a := range runs[h] {
				if b, ok := runs[g][f]; ok && (!slices.Equal(a.status, b.status) || !slices.Equal(a.in, b.in)) {
					t.Fatalf("frame %d: honest seat %d ran %v %+v, honest seat %d %v %+v", f, h, a.status, a.in, g, b.status, b.in)
				}
			}
		}
	}
	for _, h := range honest {
		diff := 0
		for f, a := range runs[last] {
			b, ok := runs[h][f]
			if ok && (!slices.Equal(a.status, b.status) || !slices.Equal(a.in, b.in)) {
				if diff == 0 {
					t.Errorf("frame %d: the newcomer ran %v %+v, honest seat %d %v %+v", f, a.status, a.in, h, b.status, b.in)
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("the newcomer (JoinFrame %d) ran %d frames differently from honest seat %d", ss[last].JoinFrame(), diff, h)
		}
	}
	return ss, runs, events
}

// idPrint is the fingerprint of the peer a control message binds the seat
// to (FNV-1a, 64 bits, little-endian).
func idPrint(id transport.PeerID) []byte {
	h := fnv.New64a()
	h.Write([]byte(id))
	return binary.LittleEndian.AppendUint64(nil, h.Sum64())
}

// ctlKind returns a control message's kind, or 0.
func ctlKind(b []byte) byte {
	if len(b) < 9 || string(b[:3]) != "PPR" {
		return 0
	}
	return b[4]
}

// TestRedteamFakeAdmission: seat 2 of 4 is not the coordinator (seat 0
// is) but, as soon as the newcomer in seat 3 asks, sends it an admission
// of its own: seat 3 at frame 30, seats 0 and 1 dropped at frame 10, so
// that seat 2 looks like the only survivor and so the coordinator, whose
// word no other survivor has to confirm. Before the fix the newcomer
// started on it at frame 30 with seats 0 and 1 dropped: it ran every frame
// differently from the honest seats. Now the honest seats' own words
// (their acknowledgements and views carry their membership) refute the
// liar's, the newcomer enters at the R the honest seats admitted it at and
// runs every frame as they do.
func TestRedteamFakeAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		forged := 0
		wrap := func(i int, c transport.Conn) transport.Conn {
			if i != 2 {
				return c
			}
			return &ctlLiar{Conn: c, onRecv: func(c transport.Conn, m transport.Message) {
				if m.From != "p3" || ctlKind(m.Data) != 1 {
					return
				}
				b := append(slices.Clone(m.Data[:9]), 3)
				b[4] = 2                                    // an admission
				b = binary.LittleEndian.AppendUint32(b, 30) // R
				b = binary.LittleEndian.AppendUint16(b, 0b011)
				b = binary.LittleEndian.AppendUint16(b, 0)
				b = binary.LittleEndian.AppendUint32(b, 10)
				b = binary.LittleEndian.AppendUint32(b, 10)
				b = append(b, idPrint("p3")...)
				b = append(b, 0, 0, 0, 0, 0) // drop frame, no signature
				_ = c.Send("p3", b)
				forged++
			}}
		}
		ss, runs, events := runJoinAttack(t, 1500, []int{0, 1}, wrap)
		r := ss[3].JoinFrame()
		var honestR []lockstep.Frame
		for i := range 2 {
			for _, e := range events[i] {
				if e.Kind == lockstep.EventRejoined && e.Seat == 3 {
					honestR = append(honestR, e.Frame)
				}
			}
		}
		if forged == 0 {
			t.Fatal("the liar never saw a join request")
		}
		if m := ss[3].Stats().Dropped.Malformed; m != 0 {
			t.Errorf("the newcomer dropped %d control messages as malformed: the forgery must be well-formed", m)
		}
		if len(honestR) < 2 || !slices.Contains(honestR, r) {
			t.Errorf("the newcomer entered at %d, the honest seats admitted it at %v", r, honestR)
		}
		if n := len(runs[3]); n < 600 {
			t.Errorf("the newcomer ran %d frames (JoinFrame %d)", n, r)
		}
		t.Logf("forged admissions %d, newcomer JoinFrame %d (honest %v), frames run %d, refused at the newcomer %d",
			forged, r, honestR, len(runs[3]), ss[3].Stats().Dropped.Refused)
	})
}

// TestRedteamAdmissionMembership: the coordinator (seat 0) tells the
// newcomer in seat 3 that seat 1 was dropped at frame 5 (the survivors
// hear the true admission). Before the fix the newcomer only compared R
// in the acknowledgements it waited for (seat 2's) and started with seat
// 1 dropped: it ran every frame differently from seats 1 and 2. Now an
// acknowledgement carries its sender's own membership, and the newcomer
// starts only on an R and a membership every survivor said: with three
// survivors, seats 1 and 2's unanimous acknowledgements stand without the
// coordinator's word (an honest one among them accepted R from it). It
// never runs a frame differently, and everyone plays on (before, the
// honest seats froze at frame 62 for the rest of the 25 s).
func TestRedteamAdmissionMembership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lies := 0
		wrap := func(i int, c transport.Conn) transport.Conn {
			if i != 0 {
				return c
			}
			return &ctlLiar{Conn: c, onSend: func(to transport.PeerID, p []byte) []byte {
				if to != "p3" || ctlKind(p) != 2 || len(p) < 18 || binary.LittleEndian.Uint16(p[14:]) != 0 {
					return p
				}
				b := slices.Clone(p[:18])
				binary.LittleEndian.PutUint16(b[14:], 0b010) // seat 1 dropped
				lies++
				b = binary.LittleEndian.AppendUint32(b, 5)
				return append(b, p[18:]...) // the peer it binds the seat to
			}}
		}
		ss, runs, _ := runJoinAttack(t, 1500, []int{1, 2}, wrap)
		if lies == 0 {
			t.Fatal("the coordinator never lied")
		}
		if m := ss[3].Stats().Dropped.Malformed; m != 0 {
			t.Errorf("the newcomer dropped %d control messages as malformed: the lie must be well-formed", m)
		}
		if n := len(runs[3]); n < 600 {
			t.Errorf("the newcomer ran %d frames (JoinFrame %d)", n, ss[3].JoinFrame())
		}
		for _, i := range []int{1, 2} {
			if n := len(runs[i]); n < 1200 {
				t.Errorf("honest seat %d ran %d frames", i, n)
			}
		}
		t.Logf("lies %d, newcomer JoinFrame %d, frames run %d, refused at the newcomer %d",
			lies, ss[3].JoinFrame(), len(runs[3]), ss[3].Stats().Dropped.Refused)
	})
}

// TestRejoinLoneSurvivor: the honest case the lone-survivor rule must keep
// working. In a 3-seat match (seat 2 reserved) seat 1 says goodbye; a
// newcomer takes seat 2 and seat 0, alone, admits it: nobody can confirm
// its word, so the newcomer waits WaitNotify for a seat to contradict it,
// then says clear, and seat 0 admits it. It plays the same frames.
func TestRejoinLoneSurvivor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss, runs, events := runJoin(t, &joinMatch{seats: 3, ticks: 900, leave: []int{1}, honest: []int{0}})
		r := ss[2].JoinFrame()
		admitted := lockstep.NoFrame
		for _, e := range events[0] {
			if e.Kind == lockstep.EventRejoined && e.Seat == 2 {
				admitted = e.Frame
			}
		}
		if r == lockstep.NoFrame || r != admitted {
			t.Fatalf("the newcomer entered at %d, seat 0 admitted it at %d", r, admitted)
		}
		if n := len(runs[2]); n < 600 {
			t.Errorf("the newcomer ran %d frames (JoinFrame %d)", n, r)
		}
		t.Logf("newcomer started at frame ~60, admitted at %d, ran %d frames", r, len(runs[2]))
	})
}

// TestRedteamLoneSurvivorContradicted: the price of the lone-survivor
// rule, bounded. In a 4-seat match seats 1 and 2 say goodbye and seat 0
// plays on alone; a newcomer takes seat 3. Seat 2 lies: its process stays
// and answers every join request with a view claiming it is still a
// member. The newcomer cannot tell which of seats 0 and 2 lies, so it
// never says clear and never enters (safety first); seat 0, which admits
// a lone survivor's joiner only on a clear request, is never gated and
// plays on.
func TestRedteamLoneSurvivorContradicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var liar transport.Conn
		views := 0
		jm := &joinMatch{seats: 4, ticks: 900, leave: []int{1, 2}, honest: []int{0}}
		jm.wrap = func(i int, c transport.Conn) transport.Conn {
			if i == 2 {
				liar = c
			}
			return c
		}
		jm.tick = func(tick int) {
			for tick > 30 {
				m, ok := liar.TryRecv()
				if !ok {
					break
				}
				if m.From == "p3" && ctlKind(m.Data) == 1 {
					b := append(slices.Clone(m.Data[:9]), 3)
					b[4] = 4 // a view: nobody dropped
					b = binary.LittleEndian.AppendUint32(b, 0xffffffff)
					b = binary.LittleEndian.AppendUint32(b, 0)
					b = append(b, idPrint("p3")...)
					_ = liar.Send("p3", b)
					views++
				}
			}
		}
		ss, runs, events := runJoin(t, jm)
		if views == 0 {
			t.Fatal("the liar never saw a join request")
		}
		if r := ss[3].JoinFrame(); r != lockstep.NoFrame {
			t.Errorf("the newcomer entered at %d on a contradicted lone survivor's word", r)
		}
		for _, e := range events[0] {
			if e.Kind == lockstep.EventRejoined {
				t.Errorf("seat 0 admitted the newcomer without a clear request: %+v", e)
			}
		}
		if n := len(runs[0]); n < 850 {
			t.Errorf("seat 0 ran %d frames in 900 ticks", n)
		}
		t.Logf("liar's views %d, seat 0 ran %d frames, refused at the newcomer %d", views, len(runs[0]), ss[3].Stats().Dropped.Refused)
	})
}

// TestRedteamRejoinLyingAck measures the stall a lying survivor buys.
// Seat 2 acknowledges the newcomer's admission (reserved last seat) at
// R+5 toward every seat. The honest survivors refuse it, name seat 2,
// keep their gates shut and never run a frame differently, from each
// other or from the newcomer; they also vote seat 2 out. With 4 survivors
// (5 seats) the 3 honest votes are a majority: seat 2 is dropped (with
// the newcomer, in the same agreement) and the newcomer admitted again
// after one stall of about half a second. Before, the
// honest seats crawled for good (392 frames in 2400 ticks): every time
// the newcomer was readmitted and gated on, its repeated join request
// counted as a goodbye after WaitNotify, the seats ran a few frames and
// admitted it again, and nobody ever voted the liar out. With 3
// survivors (4 seats) the same: the newcomer's repeated request counts
// as its goodbye (it cannot vote yet), so the 2 honest votes are a
// majority of the 3 members left.
func TestRedteamRejoinLyingAck(t *testing.T) {
	for _, tc := range []struct {
		seats     int
		honest    []int
		minFrames int
		signed    bool // the lie's admission is not signed at that R: proof against the liar
	}{
		{5, []int{0, 1, 3}, 2000, false},
		{4, []int{0, 1}, 1000, false},
		{5, []int{0, 1, 3}, 2000, true},
		{4, []int{0, 1}, 1000, true},
	} {
		t.Run(fmt.Sprintf("seats=%d,signed=%v", tc.seats, tc.signed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lies := 0
				jm := &joinMatch{seats: tc.seats, ticks: 2400, honest: tc.honest, signed: tc.signed}
				jm.wrap = func(i int, c transport.Conn) transport.Conn {
					if i != 2 {
						return c
					}
					return &ctlLiar{Conn: c, onSend: func(to transport.PeerID, p []byte) []byte {
						if ctlKind(p) != 3 || len(p) < 14 {
							return p
						}
						b := slices.Clone(p)
						binary.LittleEndian.PutUint32(b[10:], binary.LittleEndian.Uint32(b[10:])+5)
						lies++
						return b
					}}
				}
				ss, runs, events := runJoin(t, jm)
				if lies == 0 {
					t.Fatal("seat 2 never acknowledged")
				}
				for _, i := range tc.honest {
					named := false
					for _, e := range events[i] {
						named = named || e.Kind == lockstep.EventRefused && e.Seat == 2
					}
					if !named {
						t.Errorf("honest seat %d did not name seat 2", i)
					}
					if n := len(runs[i]); n < tc.minFrames {
						t.Errorf("honest seat %d ran %d frames in 2400 ticks", i, n)
					}
				}
				var ran []int
				for _, r := range runs {
					ran = append(ran, len(r))
				}
				for _, e := range events[0] {
					if e.Kind == lockstep.EventPlayerDropped || e.Kind == lockstep.EventRejoined {
						t.Logf("seat 0: %v seat %d frame %d", e.Kind, e.Seat, e.Frame)
					}
				}
				t.Logf("lies %d, newcomer JoinFrame %d, frames run %v, longest stalls %v ticks",
					lies, ss[tc.seats-1].JoinFrame(), ran, jm.stall)
			})
		})
	}
}

// TestRedteamTwoNewcomersOneSeat: a lying lobby host gives the open seat 3
// of a 4-seat match to two newcomers: seats 0 and 1 hear "x" (their
// sessions Rebind seat 3 to x), seat 2 hears "y", and x and y both start
// with Config.Join. Every survivor must admit the same peer, so neither
// may play; the honest seats must not be voted out nor crawl while the
// two newcomers keep asking.
func TestRedteamTwoNewcomersOneSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ticks = 3600
		n := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1", "p2", "open-3"}
		ss := make([]*lockstep.Session[input], 5)
		ended := make([]error, 5)
		ran := make([]map[lockstep.Frame]joinRun, 5)
		start := func(i int, id transport.PeerID, seats []transport.PeerID, join bool) {
			peer := n.Join(id)
			s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable), lockstep.Config{Seats: seats,
				Reserved: seats[3:], GameID: 9, Control: peer.Channel("ctl", transport.Reliable), Join: join, InputDelay: 2})
			if err != nil {
				t.Fatal(err)
			}
			ss[i], ran[i] = s, map[lockstep.Frame]joinRun{}
		}
		for i := range 3 {
			start(i, ids[i], ids, false)
		}
		stall := make([]int, 5)
		lastStep := make([]int, 5)
		var events [5][]lockstep.Event
		for tick := range ticks {
			if tick == 60 {
				for i, to := range []transport.PeerID{"x", "x", "y"} {
					if err := ss[i].Rebind(3, to); err != nil {
						t.Fatal(err)
					}
				}
				start(3, "x", []transport.PeerID{"p0", "p1", "p2", "x"}, true)
				start(4, "y", []transport.PeerID{"p0", "p1", "p2", "y"}, true)
			}
			for i, s := range ss {
				if s == nil || ended[i] != nil {
					continue
				}
				steps, err := s.Advance(input{Buttons: uint8(tick + i), Dx: int16(i)})
				if err != nil {
					ended[i] = err
					continue
				}
				for _, st := range steps {
					status := slices.Clone(st.Status)
					for k, v := range status {
						if v == lockstep.InputDisconnecting {
							status[k] = lockstep.InputConfirmed
						}
					}
					ran[i][st.Frame] = joinRun{status, slices.Clone(st.Inputs)}
					if lastStep[i] > 0 {
						stall[i] = max(stall[i], tick-lastStep[i])
					}
					lastStep[i] = tick
				}
				events[i] = append(events[i], s.PollEvents()...)
			}
			time.Sleep(time.Second / 60)
		}
		for i := range 5 {
			for j := range 3 {
				if i == j {
					continue
				}
				for f, a := range ran[i] {
					if b, ok := ran[j][f]; ok && (!slices.Equal(a.status, b.status) || !slices.Equal(a.in, b.in)) {
						t.Fatalf("frame %d: seat %d ran %v %+v, honest seat %d %v %+v", f, i, a.status, a.in, j, b.status, b.in)
					}
				}
			}
		}
		// Each side names the other: "the lobby host or the sender lies".
		for i, blame := range []int{2, 2, 0} {
			named := false
			for _, e := range events[i] {
				named = named || e.Kind == lockstep.EventRefused && e.Seat == blame
			}
			if !named {
				t.Errorf("seat %d did not name seat %d, which binds seat 3 to another peer", i, blame)
			}
		}
		for i := range 3 {
			if ended[i] != nil || len(ran[i]) < ticks*9/10 {
				t.Errorf("honest seat %d: ran %d frames of %d ticks, ended %v", i, len(ran[i]), ticks, ended[i])
			}
		}
		t.Logf("frames run %d %d %d, x %d (JoinFrame %d), y %d (JoinFrame %d), longest stalls %v ticks, refused %d %d %d",
			len(ran[0]), len(ran[1]), len(ran[2]), len(ran[3]), ss[3].JoinFrame(), len(ran[4]), ss[4].JoinFrame(), stall,
			ss[0].Stats().Dropped.Refused, ss[1].Stats().Dropped.Refused, ss[2].Stats().Dropped.Refused)
	})
}

// TestRedteamRejoinOtherMatch: a lying lobby host tells a newcomer the
// right seats but another seed (the game's own randomness: its state
// would differ from the first frame it runs). Before, the survivors
// admitted it (the seed is not in the game tag) and it played a different
// game. Now a join request carries a fingerprint of Config.Seed and
// Config.Settings: the survivors refuse it and name the newcomer, never
// gate, and play on; the newcomer never starts.
func TestRedteamRejoinOtherMatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jm := &joinMatch{seats: 4, ticks: 900, honest: []int{0, 1, 2}, joinSeed: 2}
		ss, runs, events := runJoin(t, jm)
		if r := ss[3].JoinFrame(); r != lockstep.NoFrame {
			t.Errorf("the newcomer with another seed entered at %d", r)
		}
		for i := range 3 {
			named := false
			for _, e := range events[i] {
				named = named || e.Kind == lockstep.EventRefused && e.Seat == 3
				if e.Kind == lockstep.EventRejoined {
					t.Errorf("seat %d admitted it: %+v", i, e)
				}
			}
			if !named {
				t.Errorf("seat %d did not name the newcomer", i)
			}
			if n := len(runs[i]); n < 890 {
				t.Errorf("seat %d ran %d frames in 900 ticks", i, n)
			}
		}
		t.Logf("refused at seat 0: %d, longest stalls %v ticks", ss[0].Stats().Dropped.Refused, jm.stall)
	})
}

// TestRedteamAckLieToJoiner bounds what a survivor that lies to the
// newcomer alone buys. Seat 2 of 5 acknowledges the right R to the other
// survivors (their gates open) and R+5 to the newcomer, which then lacks
// one survivor's agreement and never starts (it cannot tell the liar from
// an honest survivor the coordinator told another R). Nobody can vote the
// liar out (only the newcomer sees the lie), so each admission fails: the
// honest seats stall about half a second per attempt, the coordinator
// backs off (1 s, 2 s, 4 s ...), and they play on; no frame differs.
func TestRedteamAckLieToJoiner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ticks = 3600
		lies := 0
		jm := &joinMatch{seats: 5, ticks: ticks, honest: []int{0, 1, 3}}
		jm.wrap = func(i int, c transport.Conn) transport.Conn {
			if i != 2 {
				return c
			}
			return &ctlLiar{Conn: c, onSend: func(to transport.PeerID, p []byte) []byte {
				if to != "p4" || ctlKind(p) != 3 || len(p) < 14 {
					return p
				}
				b := slices.Clone(p)
				binary.LittleEndian.PutUint32(b[10:], binary.LittleEndian.Uint32(b[10:])+5)
				lies++
				return b
			}}
		}
		ss, runs, _ := runJoin(t, jm)
		if lies == 0 {
			t.Fatal("seat 2 never lied")
		}
		if r := ss[4].JoinFrame(); r != lockstep.NoFrame {
			t.Logf("the newcomer entered at %d", r) // allowed: then it ran every frame as the honest seats
		}
		for _, i := range []int{0, 1, 3} {
			if n := len(runs[i]); n < ticks*9/10 {
				t.Errorf("honest seat %d ran %d frames in %d ticks", i, n, ticks)
			}
		}
		t.Logf("lies %d, newcomer JoinFrame %d, frames run %d %d %d, longest stalls %v ticks, refused at the newcomer %d",
			lies, ss[4].JoinFrame(), len(runs[0]), len(runs[1]), len(runs[3]), jm.stall, ss[4].Stats().Dropped.Refused)
	})
}
