package lockstep

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Rejoin (see the package doc, "Rejoin"): a dropped seat comes back.
//
//  1. The joiner's session (Config.Join) sends a join request on
//     Config.Control every tick and advances nothing.
//  2. The coordinator, the lowest seat that is a member and not the
//     joiner, picks R, the frame after its own last stamped input, stops
//     stamping at R-1 (the gate: nobody can run R without its input) and
//     sends an admission (seat, R, the membership: dropped seats and their
//     drop frames, departed seats) to every survivor and to the joiner.
//  3. A survivor accepts an admission from the coordinator if the seat is
//     dropped here and R is not run yet: from R on it needs the seat's
//     input again (frames between the drop and R stay InputDropped), it
//     gates at R-1 too, and it acknowledges (seat, R) to every survivor
//     and to the joiner.
//  4. Every survivor (the coordinator included) opens its own gate when
//     every other survivor acknowledged the same (seat, R) (the
//     coordinator's admission is its acknowledgement): nobody can run R
//     before every survivor stamped R, and none stamps R before it saw
//     every survivor agree, so all run R with the joiner's input. A
//     conflicting R (a coordinator that told survivors different frames,
//     or a survivor lying in its acknowledgement) keeps the gates shut
//     (EventRefused, never a split): see the package doc.
//  5. The joiner starts at R once the coordinator's admission and every
//     other survivor's acknowledgement agree on R: it gets the state after
//     R-1 from a Streamer (Spectator: a snapshot or the log,
//     fast-forwarded) and then calls Advance.

// Control message kinds ("PPR2", kind, game tag, body). Version 2 (the
// acknowledgements go to every survivor and the joiner, and each gates on
// them) does not mix with version 1: a "PPR1" message is dropped as
// malformed, so a mixed match never admits anyone rather than split.
const (
	ctlMagic        = "PPR2"
	ctlJoin   uint8 = 1
	ctlAdmit  uint8 = 2
	ctlAck    uint8 = 3
	ctlHead         = len(ctlMagic) + 1 + 4
	joinEvery       = 100 * time.Millisecond
)

// admission is a running admission of a seat: the one this peer
// coordinates, or the one it accepted as a survivor, until its gate opens.
type admission struct {
	seat   int
	frame  Frame // R
	coord  int   // the coordinator's seat (its admission is its acknowledgement)
	active bool
}

// ackRec is the last acknowledgement a seat sent: it admits seat at r.
type ackRec struct {
	seat int
	r    Frame
	ok   bool
}

// pending is an admission the joiner holds until every survivor's
// acknowledgement agrees with it.
type pending struct {
	r             Frame
	coord         int
	dropped, left uint32
	frames        [MaxSeats]Frame
	ok            bool
}

func appendCtl(b []byte, kind uint8, game uint32) []byte {
	b = append(b, ctlMagic...)
	b = append(b, kind)
	return binary.LittleEndian.AppendUint32(b, game)
}

// JoinFrame returns the frame this session entered the match at: R for a
// Config.Join session once admitted (the game's state must be the
// match's state after R-1 before it applies the steps Advance returns),
// NoFrame while still waiting, and 0 for a session that started with the
// match.
func (s *Session[I]) JoinFrame() Frame {
	if s.joining {
		return NoFrame
	}
	return s.joinedAt
}

// Rebind gives seat a new peer: a newcomer that the game's lobby seated
// in a reserved seat still empty or in a seat whose player left for good
// (lobby.EventSeated), so that this session hears the newcomer's join
// request and inputs instead of the old occupant's. It applies at once to
// a seat that is empty or dropped here, or readmitted and silent since
// (its admission raced the lobby's word); a seat that still plays here
// keeps its peer until the majority drops it, then the rebind applies
// (during Advance). A later Rebind of the same seat replaces a waiting
// one. It never moves a playing seat: what a lying lobby host can do with
// it is point an empty seat at the wrong peer, which then joins in it.
// Errors: the local seat, a seat out of range, an empty ID, or an ID that
// holds another seat.
func (s *Session[I]) Rebind(seat int, id transport.PeerID) error {
	if seat < 0 || seat >= s.n || seat == s.me || id == "" {
		return fmt.Errorf("%w: rebind seat %d to %q", ErrInvalidConfig, seat, id)
	}
	if t := s.seatOf(id); t >= 0 && t != seat {
		return fmt.Errorf("%w: %q holds seat %d", ErrInvalidConfig, id, t)
	}
	if s.rebind == nil {
		s.rebind = make(map[int]transport.PeerID)
	}
	s.rebind[seat] = id
	s.applyRebinds()
	return nil
}

// applyRebinds applies the Rebind calls whose seat is free here now.
func (s *Session[I]) applyRebinds() {
	for seat, id := range s.rebind {
		bit := uint32(1) << seat
		sd := &s.seats[seat]
		silent := s.joinedFrom[seat] > 0 && sd.hold < s.joinedFrom[seat] && s.dropped&bit == 0
		if s.dropped&bit == 0 && !silent {
			continue
		}
		delete(s.rebind, seat)
		if sd.id == id {
			continue
		}
		s.cfg.Logger.Info("lockstep: seat rebound", "seat", seat, "from", string(sd.id), "to", string(id))
		sd.id = id
	}
}

// control reads the control channel (admissions, acknowledgements, join
// requests) and, for a joiner, repeats its request.
func (s *Session[I]) control(now time.Time) {
	if len(s.rebind) > 0 {
		s.applyRebinds()
	}
	c := s.cfg.Control
	if c == nil {
		return
	}
	if s.joining && now.Sub(s.joinSent) >= joinEvery {
		s.joinSent = now
		b := appendCtl(s.ctlBuf[:0], ctlJoin, s.game)
		s.ctlBuf = b
		for t := range s.seats {
			if t != s.me {
				_ = c.Send(s.seats[t].id, b)
			}
		}
	}
	for range 16 {
		m, ok := c.TryRecv()
		if !ok {
			break
		}
		s.onControl(now, m)
	}
	if a := &s.admit; a.active && !s.joining {
		if s.dropped&(1<<a.seat) != 0 {
			a.active = false // dropped again: nothing to wait for
		} else if s.agreed(a.seat, a.frame, s.all&^s.lost&^(1<<s.me)&^(1<<a.seat)&^(1<<a.coord)) {
			s.cfg.Logger.Info("lockstep: seat readmitted", "seat", a.seat, "frame", a.frame)
			a.active = false // open the gate
		}
	}
	if p := &s.pend; s.joining && p.ok &&
		s.agreed(s.me, p.r, s.all&^p.dropped&^p.left&^(1<<s.me)&^(1<<p.coord)) {
		s.enter(now, p.r, p.dropped, p.left, p.frames)
	}
}

// agreed reports whether every seat in want acknowledged seat's admission
// at r.
func (s *Session[I]) agreed(seat int, r Frame, want uint32) bool {
	for w := want; w != 0; w &= w - 1 {
		if a := s.acked[bits.TrailingZeros32(w)]; !a.ok || a.seat != seat || a.r != r {
			return false
		}
	}
	return true
}

func (s *Session[I]) onControl(now time.Time, m transport.Message) {
	from := s.seatOf(m.From)
	b := m.Data
	if from < 0 || from == s.me || len(b) < ctlHead || string(b[:4]) != ctlMagic ||
		binary.LittleEndian.Uint32(b[5:]) != s.game {
		s.stats.Dropped.Malformed++
		return
	}
	kind, body := b[4], b[ctlHead:]
	switch {
	case kind == ctlJoin && len(body) == 0:
		s.onJoinRequest(now, from)
	case kind == ctlAdmit && len(body) >= 9:
		s.onAdmit(now, from, body)
	case kind == ctlAck && len(body) == 5:
		seat, r := int(body[0]), Frame(int32(binary.LittleEndian.Uint32(body[1:])))
		if seat >= s.n || seat == from || r < 0 || r >= maxStreamFrame {
			s.stats.Dropped.Malformed++
			return
		}
		s.acked[from] = ackRec{seat: seat, r: r, ok: true}
		want := r
		switch a := &s.admit; {
		case a.active && a.seat == seat:
			want = a.frame
		case s.joining && s.pend.ok && seat == s.me:
			want = s.pend.r
		}
		if r != want {
			// One of two lies: the coordinator told this peer another R
			// than the sender, or the sender acknowledges an R it was not
			// told. The gate stays shut: no split, the admission stalls.
			s.stats.Dropped.Refused++
			s.refuse(from, reasonConflictAdmit)
		}
	default:
		s.stats.Dropped.Malformed++
	}
}

// coordinator is the lowest member seat other than the joiner.
func (s *Session[I]) coordinator(joiner int) int {
	m := s.members() &^ s.lost &^ (1 << joiner)
	if m == 0 {
		return -1
	}
	return bits.TrailingZeros32(m)
}

// onJoinRequest: a seat asks to come back. A request from a seat not
// dropped here is that seat's word that its old session is gone (it
// crashed and restarted before the others dropped it): it counts as the
// old session's goodbye, which only the seat itself can give (the
// request comes from its transport identity), so the survivors drop it
// without waiting for a majority of votes; in a 2-seat match that is the
// only way back, since a lone survivor never forms a majority. Once the
// seat is dropped, only the coordinator answers; it repeats the
// admission (reliable, but the joiner may have restarted) while it runs.
func (s *Session[I]) onJoinRequest(now time.Time, from int) {
	if bit := uint32(1) << from; !s.joining && s.excluded == nil && s.dropped&bit == 0 {
		// Not if the seat was heard within WaitNotify: its session is
		// alive, or it was just readmitted and this is one of the
		// requests it repeated until the admission reached it
		// (TestRejoinStaleRequest). A crashed session is silent; the
		// restarted one repeats its request, so it counts once the old
		// one has been quiet that long.
		if now.Sub(s.seats[from].lastHeard) >= s.cfg.WaitNotify {
			s.left |= bit
			s.byeSeq[from] = s.seats[from].maxSeq
			s.markLost(now, from, reasonRestarted)
		}
		return
	}
	if s.joining || s.excluded != nil || s.dropped&(1<<from) == 0 || s.coordinator(from) != s.me {
		return
	}
	a := &s.admit
	if a.active && a.seat != from {
		return // one at a time; the joiner repeats its request
	}
	if !a.active {
		*a = admission{seat: from, frame: s.seats[s.me].hold + 1, coord: s.me, active: true}
		s.readmit(now, from, a.frame)
	}
	body := s.admitBody(a.seat, a.frame)
	for t := range s.seats {
		if t == from || s.survivor(t) {
			_ = s.cfg.Control.Send(s.seats[t].id, body)
		}
	}
}

func (s *Session[I]) admitBody(seat int, r Frame) []byte {
	b := appendCtl(s.ctlBuf[:0], ctlAdmit, s.game)
	b = append(b, uint8(seat))
	b = binary.LittleEndian.AppendUint32(b, uint32(r))
	dropped := s.dropped &^ (1 << seat)
	b = binary.LittleEndian.AppendUint16(b, uint16(dropped))
	b = binary.LittleEndian.AppendUint16(b, uint16(s.left))
	for d := dropped; d != 0; d &= d - 1 {
		b = binary.LittleEndian.AppendUint32(b, uint32(s.dropFrame[bits.TrailingZeros32(d)]))
	}
	s.ctlBuf = b
	return b
}

// onAdmit: an admission from the coordinator, for a survivor or for the
// joiner itself.
func (s *Session[I]) onAdmit(now time.Time, from int, body []byte) {
	seat := int(body[0])
	r := Frame(int32(binary.LittleEndian.Uint32(body[1:])))
	dropped := uint32(binary.LittleEndian.Uint16(body[5:])) & s.all
	left := uint32(binary.LittleEndian.Uint16(body[7:])) & s.all
	rest := body[9:]
	if seat >= s.n || r < 0 || r >= maxStreamFrame || len(rest) != 4*bits.OnesCount32(dropped) {
		s.stats.Dropped.Malformed++
		return
	}
	if s.joining {
		if seat != s.me || dropped&(1<<s.me) != 0 {
			s.stats.Dropped.Malformed++
			return
		}
		// Held until every other survivor acknowledged the same R
		// (control): a coordinator that tells the joiner another R than
		// the survivors cannot start it at the wrong frame.
		if s.pend.ok && s.pend.r != r {
			s.stats.Dropped.Refused++
			s.refuse(from, reasonConflictAdmit)
		}
		s.pend = pending{r: r, coord: from, dropped: dropped, left: left, ok: true}
		for d := dropped; d != 0; d &= d - 1 {
			s.pend.frames[bits.TrailingZeros32(d)] = Frame(int32(binary.LittleEndian.Uint32(rest)))
			rest = rest[4:]
		}
		return
	}
	if s.coordinator(seat) != from || s.dropped&(1<<seat) == 0 || r < s.next {
		if !(s.dropped&(1<<seat) == 0 && s.joinedFrom[seat] == r) { // a repeat
			s.stats.Dropped.Refused++
			s.refuse(from, reasonBadAdmit)
			return
		}
	} else {
		if a := &s.admit; a.active && a.seat != seat {
			return // one at a time: the coordinator repeats it
		}
		s.readmit(now, seat, r)
		s.admit = admission{seat: seat, frame: r, coord: from, active: true} // the gate
	}
	// To every survivor and the joiner: each gates on everyone's word.
	b := appendCtl(s.ctlBuf[:0], ctlAck, s.game)
	b = append(b, uint8(seat))
	b = binary.LittleEndian.AppendUint32(b, uint32(r))
	s.ctlBuf = b
	for t := range s.seats {
		if t == seat || s.survivor(t) {
			_ = s.cfg.Control.Send(s.seats[t].id, b)
		}
	}
}

// readmit makes seat d a member again from frame r: frames after its drop
// frame and before r stay dropped (zero input, InputDropped).
func (s *Session[I]) readmit(now time.Time, d int, r Frame) {
	bit := uint32(1) << d
	s.gapFrom[d], s.joinedFrom[d] = s.dropFrame[d]+1, r
	s.dropped &^= bit
	s.lost &^= bit
	s.left &^= bit
	s.dropFrame[d] = NoFrame
	sd := &s.seats[d]
	s.resetSeat(now, sd, r)
	for v := range s.seats {
		if v != d {
			s.seats[v].acks[d] = r - 1
		}
	}
	s.resetBlocks(now)
	s.cfg.Logger.Info("lockstep: seat rejoining", "seat", d, "frame", r)
	s.event(Event{Kind: EventRejoined, Seat: d, Peer: sd.id, Frame: r})
}

// resetSeat forgets what this peer knew of a seat that comes back (a new
// session: new sequence numbers, no votes) and sets its holdings to r-1.
func (s *Session[I]) resetSeat(now time.Time, sd *seat, r Frame) {
	*sd = seat{id: sd.id, ring: sd.ring, hold: r - 1, lastHeard: now, blockSince: now, waitSince: now,
		droppedAt: NoFrame, lastCompared: r - 1, rtt: sd.rtt}
	for u := range sd.acks {
		sd.acks[u] = r - 1
	}
}

// enter starts a joiner at frame r with the survivors' membership.
func (s *Session[I]) enter(now time.Time, r Frame, dropped, left uint32, frames [MaxSeats]Frame) {
	s.joining = false
	s.joinedAt = r
	s.next = r
	s.dropped, s.left, s.lost = dropped, left&^dropped, dropped
	s.start, s.lastNow = now, now
	for t := range s.seats {
		sd := &s.seats[t]
		hold := r - 1
		if dropped&(1<<t) != 0 {
			s.dropFrame[t] = frames[t]
			hold = min(hold, frames[t])
		}
		s.resetSeat(now, sd, r)
		sd.hold = hold
	}
	// The delay's head start, as at frame 0: zero inputs for r..r+delay-1.
	me := &s.seats[s.me]
	for f := r; f < r+Frame(s.delay); f++ {
		clear(s.slot(s.me, f))
	}
	me.hold = r + Frame(s.delay) - 1
	for i := range s.local {
		s.local[i] = sumEntry{}
	}
	s.cfg.Logger.Info("lockstep: joined the running match", "frame", r)
	s.event(Event{Kind: EventRejoined, Seat: s.me, Peer: me.id, Frame: r})
}

// inGap reports whether frame f of seat t is in the frames it missed
// between a drop and its readmission.
func (s *Session[I]) inGap(t int, f Frame) bool {
	return f >= s.gapFrom[t] && f < s.joinedFrom[t]
}

// gateFrame is the last frame this peer may stamp while an admission it
// coordinates or accepted waits for the survivors' agreement (the gate),
// or the maximum.
func (s *Session[I]) gateFrame() Frame {
	if s.admit.active {
		return s.admit.frame - 1
	}
	return maxStreamFrame
}
