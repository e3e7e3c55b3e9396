package lockstep

import (
	"math/bits"
	"time"

	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// Player loss (see the package doc, "Player loss" and "Threat model"):
//
//  1. Suspicion is local evidence, recomputed every tick and revocable: a
//     seat silent past the timeout, a seat heard but blocking the next
//     frame past the timeout (while no seat is silent), a survivor
//     blocking a drop agreement past the join timeout plus the timeout.
//     Each peer publishes its suspicions (a vote).
//  2. A seat is lost (latched) when a majority of the match's seats vote
//     for it (own suspicion, other seats' suspicions and lost reports), or
//     when it said goodbye itself. One peer's word is never enough. From
//     then on its datagrams are ignored: its holdings grow only by relays
//     from survivors, which are accepted for it only now.
//  3. A survivor decides when every other survivor reports the lost seats
//     lost and the same holdings H_l as its own, and it and those
//     survivors form a majority: the drop frame is H_l+1.
//  4. A peer that does not hear a majority (too many seats are silent or
//     lost) is cut off: it stops, and gives up after another timeout, unless
//     the seats come back. A peer that a majority dropped is told so.
//
// Why everyone decides the same H_l: once a survivor latches l, its
// holdings of l can only grow from another survivor that already held
// more. When one survivor sees all survivors at H_l, none of them held
// more at the time of its report, so none ever will: holdings are frozen
// at H_l everywhere, and any later decision reads the same H_l. And no
// survivor can have run a frame past H_l with l's real input, since
// running a frame needs its input.

// Reasons, in Event.Reason.
const (
	reasonTimeout       = "silent for the disconnect timeout"
	reasonJoin          = "never heard within the join timeout"
	reasonStalls        = "heard, but blocks the next frame for the disconnect timeout"
	reasonBlocks        = "blocks the drop agreement for the join and disconnect timeouts"
	reasonBye           = "said goodbye"
	reasonRestarted     = "asks to rejoin: its old session is gone (a goodbye)"
	reasonMajority      = "a majority of the seats voted it out"
	reasonCutOff        = "cannot hear a majority of the seats"
	reasonAgreed        = "dropped by the agreement of a majority of the seats"
	reasonRelay         = "relay of inputs of a seat not being dropped here"
	reasonLostClaim     = "reports a seat lost that this peer hears (not adopted without a majority)"
	reasonImpossible    = "acknowledges inputs never sent, or claims frames far ahead"
	reasonSpoofed       = "speaks for another seat (or its Config.Seats order differs)"
	reasonDroppedLie    = "claims this peer was dropped (not adopted without a majority)"
	reasonBadDropNote   = "dropped notice about another seat"
	reasonConflictAdmit = "admission acknowledged at another frame than the coordinator said here (the coordinator or this seat lies): the admission stalls"
	reasonFalseBye      = "sent a new frame after its goodbye: it said goodbye to this seat alone"
	reasonBadAdmit      = "admission of a seat not by the coordinator, not dropped, or at a frame already run"
	reasonOtherPeer     = "binds the seat being admitted to another peer than this peer does (the lobby host or the sender lies): neither peer can enter"
	reasonEquivocation  = "coordinator signed two different admissions of one seat (proof of its lie): voted out"
	reasonUnsigned      = "admission not signed by the coordinator at its frame, or at another drop frame than this peer's (no proof: only this peer saw it)"
	reasonBadSigned     = "acknowledges an admission its coordinator did not sign (or at another frame): voted out"
	reasonOtherMatch    = "asks to join with another Config.Seed or Config.Settings (its lobby told it another match)"
)

// members returns the seats whose votes count: every seat not dropped and
// not departed by its own goodbye.
func (s *Session[I]) members() uint32 { return s.all &^ s.dropped &^ s.left }

// quorum is a majority of the members.
func (s *Session[I]) quorum() int { return bits.OnesCount32(s.members())/2 + 1 }

// markLost latches seat l lost and starts (or joins) the agreement.
func (s *Session[I]) markLost(now time.Time, l int, why string) {
	bit := uint32(1) << l
	if l == s.me || s.lost&bit != 0 {
		return
	}
	if s.lost&^s.dropped == 0 {
		s.pendingSince = now
	}
	s.lost |= bit
	s.resetBlocks(now)
	sd := &s.seats[l]
	s.cfg.Logger.Info("lockstep: player lost", "seat", l, "peer", sd.id, "why", why, "held", sd.hold)
	s.event(Event{Kind: EventPlayerLost, Seat: l, Peer: sd.id, Frame: sd.hold + 1, Reason: why})
}

// resetBlocks restarts every blocking clock (a membership change changes
// who waits for whom).
func (s *Session[I]) resetBlocks(now time.Time) {
	for t := range s.seats {
		s.seats[t].blockSince = now
	}
}

// suspicions recomputes this peer's own evidence against each seat.
func (s *Session[I]) suspicions(now time.Time) {
	s.suspect, s.silent = 0, 0
	pending := s.lost &^ s.dropped
	primary, primaryHold := -1, Frame(0)
	for v := range s.seats {
		if !s.survivor(v) {
			continue
		}
		sd := &s.seats[v]
		timeout, why := s.cfg.DisconnectTimeout, reasonTimeout
		if !sd.heard {
			timeout, why = s.cfg.JoinTimeout, reasonJoin
		}
		if now.Sub(sd.lastHeard) > timeout {
			s.suspect |= 1 << v
			s.silent |= 1 << v
			sd.why = why
			continue
		}
		if sd.hold >= s.next || !sd.heard {
			// Not blocking; or never heard: the join timeout judges it.
			sd.blockSince = now
			continue
		}
		// v blocks the next frame. Only one blocker is blamed at a time:
		// the one furthest behind (ties: the highest seat), so that a
		// broken link between two seats costs the match one of them, not
		// both. While an agreement runs, the agreement's own timeout
		// applies instead.
		if pending == 0 && now.Sub(sd.blockSince) > s.cfg.DisconnectTimeout &&
			(primary < 0 || sd.hold <= primaryHold) {
			primary, primaryHold = v, sd.hold
		}
	}
	// A seat that acknowledges an admission at another R than this peer
	// was told blocks every gate: it (or the coordinator) lies. Voting it
	// out is safe (a drop is the majority's, at one frame) and ends the
	// stall when the honest seats it told that R outnumber it; while the
	// coordinator lies instead, the honest seats blame each other, and
	// the larger group of them votes the smaller out. With a Signer the
	// vote goes to the proven liar instead (sign.go; see the package doc,
	// Rejoin).
	for v := range s.seats {
		if at := s.seats[v].conflictAt; s.survivor(v) && !at.IsZero() && now.Sub(at) < s.cfg.DisconnectTimeout {
			s.suspect |= 1 << v
			s.seats[v].why = reasonConflictAdmit
		}
	}
	// A silent seat is the likelier cause of any stall (the seats it
	// starves stall too): while one is suspected, no blocker is blamed.
	if primary >= 0 && s.silent == 0 {
		s.suspect |= 1 << primary
		s.seats[primary].why = reasonStalls
	}
	// A survivor that does not agree yet may just lack evidence: a seat it
	// never heard is judged by its join timeout, and a goodbye may not have
	// reached it. Only a disagreement that outlasts any honest peer's own
	// timeouts is a reason to vote it out.
	if pending != 0 && now.Sub(s.pendingSince) > max(s.cfg.DisconnectTimeout, s.cfg.JoinTimeout)+s.cfg.DisconnectTimeout {
		for v := range s.seats {
			if s.survivor(v) && !s.agrees(v, pending) {
				s.suspect |= 1 << v
				s.seats[v].why = reasonBlocks
			}
		}
	}
}

// agrees reports whether survivor v reports every pending seat lost with
// this peer's holdings of it.
func (s *Session[I]) agrees(v int, pending uint32) bool {
	sd := &s.seats[v]
	if uint32(sd.lostView)&pending != pending {
		return false
	}
	for p := pending; p != 0; p &= p - 1 {
		l := bits.TrailingZeros32(p)
		if sd.acks[l] != s.seats[l].hold && !s.voidable(l, sd.acks[l]) {
			return false
		}
	}
	return true
}

// votes counts the seats voting seat v out: this peer if it suspects v,
// and every other seat still in the game that reports v suspect or lost.
func (s *Session[I]) votes(v int) int {
	bit := uint16(1) << v
	n := 0
	if s.suspect&(1<<v) != 0 {
		n++
	}
	for u := range s.seats {
		if u == v || !s.survivor(u) {
			continue
		}
		if (s.seats[u].suspectView|s.seats[u].lostView)&bit != 0 {
			n++
		}
	}
	return n
}

// checkLoss applies suspicion, votes, the cut-off rule and decides pending
// agreements.
func (s *Session[I]) checkLoss(now time.Time) {
	s.suspicions(now)
	q := s.quorum()
	heard := bits.OnesCount32(s.members() &^ s.lost &^ s.silent)
	if heard < q {
		if !s.cutOff {
			s.cutOff, s.cutSince = true, now
			s.cfg.Logger.Warn("lockstep: cut off", "frame", s.next, "unheard", s.suspect)
			s.event(Event{Kind: EventCutOff, Seat: -1, Frame: s.next, Reason: reasonCutOff})
		}
		if now.Sub(s.cutSince) > s.cfg.DisconnectTimeout {
			s.exclude(&CutOffError{Frame: s.next, Unheard: s.unheard()})
		}
		return
	}
	if s.cutOff {
		s.cutOff = false
		s.event(Event{Kind: EventResumed, Seat: -1, Frame: s.next})
	}
	for v := range s.seats {
		if s.survivor(v) && s.votes(v) >= q {
			why := reasonMajority
			if s.suspect&(1<<v) != 0 {
				why = s.seats[v].why + "; " + reasonMajority
			}
			s.markLost(now, v, why)
		}
	}
	pending := s.lost &^ s.dropped
	if pending == 0 {
		return
	}
	survivors := s.all &^ s.lost &^ (1 << s.me)
	if bits.OnesCount32(survivors)+1 < q {
		return
	}
	for v := range s.seats {
		if s.survivor(v) && !s.agrees(v, pending) {
			return
		}
	}
	for p := pending; p != 0; p &= p - 1 {
		l := bits.TrailingZeros32(p)
		sd := &s.seats[l]
		s.dropped |= 1 << l
		s.dropFrame[l] = sd.hold
		if s.void(l) {
			s.dropFrame[l] = s.gapFrom[l] - 1 // the proven liar's admission is void (sign.go)
		}
		s.cfg.Logger.Info("lockstep: player dropped", "seat", l, "peer", sd.id, "frame", sd.hold+1)
		s.event(Event{Kind: EventPlayerDropped, Seat: l, Peer: sd.id, Frame: sd.hold + 1, Reason: reasonAgreed})
	}
	s.resetBlocks(now)
}

// unheard lists the seats this peer does not hear.
func (s *Session[I]) unheard() []int {
	var out []int
	for m := s.silent | s.lost&^s.dropped; m != 0; m &= m - 1 {
		out = append(out, bits.TrailingZeros32(m))
	}
	return out
}

// exclude ends the session for this peer: every later Advance returns err.
func (s *Session[I]) exclude(err error) {
	if s.excluded != nil {
		return
	}
	s.excluded = err
	e := Event{Kind: EventCutOff, Seat: -1, Frame: s.next, Err: err, Reason: reasonCutOff}
	if de, ok := err.(*DroppedError); ok {
		e = Event{Kind: EventDropped, Seat: s.me, Peer: s.seats[s.me].id, Frame: de.Frame, Err: err, Reason: reasonAgreed}
	}
	s.cfg.Logger.Warn("lockstep: out of the match", "err", err)
	s.event(e)
}

// onDroppedNotice counts a survivor's word that this peer was dropped; a
// majority of the other seats makes it final.
func (s *Session[I]) onDroppedNotice(from int, f Frame) {
	s.seats[from].droppedAt = f
	others := s.members() &^ (1 << s.me)
	n, frames := 0, [MaxSeats]Frame{}
	for m := others; m != 0; m &= m - 1 {
		if a := s.seats[bits.TrailingZeros32(m)].droppedAt; a != NoFrame {
			frames[n] = a
			n++
		}
	}
	if n < bits.OnesCount32(others)/2+1 {
		s.refuse(from, reasonDroppedLie)
		return
	}
	// The frame most notices give (honest survivors agree on it).
	best, bestN := frames[0], 0
	for i := range n {
		c := 0
		for j := range n {
			if frames[j] == frames[i] {
				c++
			}
		}
		if c > bestN {
			best, bestN = frames[i], c
		}
	}
	s.exclude(&DroppedError{Frame: best})
}

// notifyDropped answers a datagram from a dropped seat, at most every
// noticeEvery: it was dropped, at which frame.
func (s *Session[I]) notifyDropped(now time.Time, d int) {
	sd := &s.seats[d]
	if !sd.noticeAt.IsZero() && now.Sub(sd.noticeAt) < noticeEvery {
		return
	}
	sd.noticeAt = now
	p := &s.out
	*p = wireDropped(s.game, s.me, s.isize, s.seq-1, s.dropFrame[d]+1, d)
	buf, err := s.enc.Encode(p)
	if err != nil {
		s.stats.SendErrors++
		return
	}
	if err := s.conn.Send(sd.id, buf); err != nil {
		s.stats.SendErrors++
	}
}

// refuse reports that seat from's message was refused, at most once a
// second per seat whatever the reason, so a liar cannot fill the event
// queue (the counters in Stats.Dropped count every one).
func (s *Session[I]) refuse(from int, why string) {
	sd := &s.seats[from]
	now := s.lastNow
	if !sd.refusedAt.IsZero() && now.Sub(sd.refusedAt) < time.Second {
		return
	}
	sd.refusedAt = now
	s.cfg.Logger.Warn("lockstep: refused", "seat", from, "peer", sd.id, "why", why)
	s.event(Event{Kind: EventRefused, Seat: from, Peer: sd.id, Frame: s.next, Reason: why})
}

// waiting tracks which seat the next frame waits for, for EventWaiting and
// Waiting.
func (s *Session[I]) waiting(now time.Time) {
	w, since := -1, now
	for v := range s.seats {
		if v == s.me || s.dropped&(1<<v) != 0 {
			continue
		}
		if sd := &s.seats[v]; sd.hold < s.next && (w < 0 || sd.waitSince.Before(since)) {
			w, since = v, sd.waitSince
		}
	}
	for v := range s.seats {
		if sd := &s.seats[v]; sd.hold >= s.next || v == s.me {
			sd.waitSince = now
		}
	}
	if w != s.waitSeat && s.waitNotified {
		s.waitNotified = false
		if w < 0 {
			s.event(Event{Kind: EventResumed, Seat: s.waitSeat, Peer: s.seats[s.waitSeat].id, Frame: s.next})
		}
	}
	s.waitSeat = w
	if w >= 0 && !s.waitNotified && now.Sub(since) >= s.cfg.WaitNotify {
		s.waitNotified = true
		s.event(Event{Kind: EventWaiting, Seat: w, Peer: s.seats[w].id, Frame: s.next})
	}
}

// Waiting returns the seat the next frame has waited for the longest, and
// for how long (at the last Advance); -1 and 0 when nothing is late. A
// game shows it as "waiting for bob… 3 s". It does not allocate.
func (s *Session[I]) Waiting() (seat int, d time.Duration) {
	if s.waitSeat < 0 {
		return -1, 0
	}
	return s.waitSeat, s.lastNow.Sub(s.seats[s.waitSeat].waitSince)
}

// credit moves every clock forward by a gap in the game loop (a pause of
// this peer is not the others' silence).
func (s *Session[I]) credit(gap time.Duration) {
	for t := range s.seats {
		sd := &s.seats[t]
		sd.lastHeard = sd.lastHeard.Add(gap)
		sd.blockSince = sd.blockSince.Add(gap)
		sd.waitSince = sd.waitSince.Add(gap)
	}
	s.pendingSince = s.pendingSince.Add(gap)
	s.cutSince = s.cutSince.Add(gap)
}

// wireDropped builds the notice telling seat d it was dropped at frame f.
func wireDropped(game uint32, me, isize int, seq uint16, f Frame, d int) wire.Packet {
	return wire.Packet{Kind: wire.KindDropped, Game: game, Seat: uint8(me), InputSize: uint8(isize),
		Seq: seq, Frame: int32(f), LostSeat: uint8(d)}
}
