package lockstep

import (
	"crypto/sha256"
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
//     (EventRefused, never a split): see the package doc. With a
//     Config.Signer the admission is signed and every acknowledgement
//     carries it, so a coordinator's two Rs are a proof (sign.go).
//  5. The joiner starts at R once every survivor of a membership said R
//     and that membership (admissions, acknowledgements and views carry
//     their sender's membership; the coordinator must be the lowest
//     survivor named), no seat named out spoke as a member, and, for a
//     lone survivor, after WaitNotify (admitted, lone): it gets the state
//     after R-1 from a Streamer (Spectator: a snapshot or the log,
//     fast-forwarded) and then calls Advance.

// Control message kinds ("PPR4", kind, game tag, body). Version 3 (an
// acknowledgement carries its sender's membership, survivors answer a join
// request with theirs, a join request carries flags ("clear") and the
// match's fingerprint, admissions, acknowledgements and views end with the
// fingerprint of the peer the sender binds the seat to) does not mix with
// earlier ones; version 4 widens the match fingerprint to 8 bytes of
// SHA-256. An older message is dropped as malformed, so a mixed match
// never admits anyone rather than split.
const (
	ctlMagic        = "PPR5"
	ctlJoin   uint8 = 1
	ctlAdmit  uint8 = 2
	ctlAck    uint8 = 3
	ctlView   uint8 = 4 // a survivor's membership, to a joiner it does not admit (yet)
	ctlHead         = len(ctlMagic) + 1 + 4
	joinEvery       = 100 * time.Millisecond
	joinClear uint8 = 1 // join request flag: no seat contradicts a lone survivor (see lone)
	joinBody        = 9 // a join request's body: flags, match fingerprint (matchPrint)
)

// idPrint is the fingerprint of a peer ID in admissions, acknowledgements
// and views (FNV-1a, 64 bits): the peer the sender binds the seat to. It
// only lets a survivor see and name a binding that differs from its own
// (reasonOtherPeer); a collision would lose that report, not admit anyone
// (the joiner still needs every survivor's word, sent to the peer each
// binds).
func idPrint(id transport.PeerID) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(id) {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return h
}

// matchPrint is the fingerprint of the match a session plays, beyond its
// game tag: the first 8 bytes of SHA-256(Seed || Settings) (Config.Seed
// little-endian). A join request carries it, and the survivors refuse a
// joiner whose lobby told it another seed or settings
// (TestRedteamRejoinOtherMatch). A lying lobby host chooses both, so the
// fingerprint must resist a search: forging a seed or settings with the
// survivors' fingerprint costs ~2^64 SHA-256 (with the 32-bit FNV-1a of
// version 3 it was 2^32 at most, minutes).
func matchPrint(seed uint64, settings []byte) uint64 {
	h := sha256.New()
	_, _ = h.Write(binary.LittleEndian.AppendUint64(nil, seed))
	_, _ = h.Write(settings)
	return binary.LittleEndian.Uint64(h.Sum(nil))
}

// admission is a running admission of a seat: the one this peer
// coordinates, or the one it accepted as a survivor, until its gate opens.
type admission struct {
	seat   int
	frame  Frame // R
	coord  int   // the coordinator's seat (its admission is its acknowledgement)
	active bool
	d      Frame  // the seat's drop frame at the coordinator (the attempt: sign.go)
	sig    []byte // the coordinator's signature (Config.Signer), or nil
}

// signed returns the coordinator's signed admission this peer acts on.
func (a *admission) signed() signed {
	return signed{coord: a.coord, seat: a.seat, d: a.d, r: a.frame, sig: a.sig}
}

// ackRec is the last acknowledgement a seat sent: it admits seat at r.
type ackRec struct {
	seat int
	r    Frame
	ok   bool
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

// control reads the control channel (admissions, acknowledgements, views,
// join requests) and, for a joiner, repeats its request.
func (s *Session[I]) control(now time.Time) {
	if len(s.rebind) > 0 {
		s.applyRebinds()
	}
	c := s.cfg.Control
	if c == nil {
		return
	}
	if s.joining && now.Sub(s.joinSent) >= joinEvery {
		if s.joinStart.IsZero() {
			s.joinStart = now
		}
		s.joinSent = now
		b := appendCtl(s.ctlBuf[:0], ctlJoin, s.game)
		var flags uint8
		if s.clear(now) {
			flags |= joinClear
		}
		b = append(b, flags)
		b = binary.LittleEndian.AppendUint64(b, s.print)
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
	if s.joining {
		if v, ok := s.admitted(now); ok {
			s.enter(now, v.r, v.dropped, v.left, v.frames)
		}
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

// parseView reads the body of an admission, acknowledgement or view (seat,
// R, dropped and departed masks, drop frames, the peer the sender binds
// the seat to: idPrint of its ID) and normalises it; it returns what
// follows (an admission's signature, an acknowledgement's admission).
func (s *Session[I]) parseView(body []byte, kind uint8) (int, view, uint64, []byte, bool) {
	if len(body) < 9 {
		return 0, view{}, 0, nil, false
	}
	seat := int(body[0])
	v := view{r: Frame(int32(binary.LittleEndian.Uint32(body[1:])))}
	v.dropped = uint32(binary.LittleEndian.Uint16(body[5:])) & s.all
	v.left = uint32(binary.LittleEndian.Uint16(body[7:])) & s.all
	rest := body[9:]
	okR := v.r >= 0 && v.r < maxStreamFrame || kind == ctlView && v.r == NoFrame
	all := uint32(binary.LittleEndian.Uint16(body[5:]))
	nf := 4 * bits.OnesCount32(all)
	if seat >= s.n || !okR || len(rest) < nf+8 {
		return 0, view{}, 0, nil, false
	}
	occ := binary.LittleEndian.Uint64(rest[nf:])
	tail := rest[nf+8:]
	for d := all; d != 0; d &= d - 1 {
		if t := bits.TrailingZeros32(d); s.all&(1<<t) != 0 {
			v.frames[t] = Frame(int32(binary.LittleEndian.Uint32(rest)))
		}
		rest = rest[4:]
	}
	v.dropped &^= 1 << seat
	v.frames[seat] = 0
	v.left &^= v.dropped | 1<<seat
	return seat, v, occ, tail, true
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
	if kind == ctlJoin {
		switch {
		case len(body) != joinBody:
			s.stats.Dropped.Malformed++
		case binary.LittleEndian.Uint64(body[1:]) != s.print:
			if !s.joining {
				s.stats.Dropped.Refused++
				s.refuse(from, reasonOtherMatch)
			}
		default:
			s.onJoinRequest(now, from, body[0]&joinClear != 0)
		}
		return
	}
	if kind == ctlProof {
		if !s.joining {
			s.onProof(now, body)
		}
		return
	}
	seat, v, occ, tail, ok := s.parseView(body, kind)
	adm := signed{coord: from, seat: seat, r: v.r}
	switch {
	case !ok || kind < ctlAdmit || kind > ctlView:
		ok = false
	case kind == ctlView:
		ok = len(tail) == 0
	case kind == ctlAck:
		if ok = len(tail) > 0; ok {
			adm.coord = int(tail[0])
			tail, ok = parseSigned(tail[1:], &adm)
		}
		ok = ok && len(tail) == 0
	default:
		tail, ok = parseSigned(tail, &adm)
		ok = ok && len(tail) == 0
	}
	if !ok {
		s.stats.Dropped.Malformed++
		return
	}
	if s.joining {
		if occ != idPrint(s.seats[s.me].id) {
			s.stats.Dropped.Malformed++ // about another peer: not for this joiner
			return
		}
		s.onWord(now, from, kind, seat, v)
		return
	}
	other := occ != idPrint(s.seats[seat].id)
	switch kind {
	case ctlAdmit:
		s.onAdmit(now, from, adm)
	case ctlAck:
		if seat == from {
			s.stats.Dropped.Malformed++
			return
		}
		if s.cfg.Signer != nil && !s.onSignedAck(now, from, adm) {
			return
		}
		s.acked[from] = ackRec{seat: seat, r: v.r, ok: true}
		if a := &s.admit; a.active && a.seat == seat && v.r != a.frame && s.cfg.Signer == nil {
			// One of two lies: the coordinator told this peer another R
			// than the sender, or the sender acknowledges an R it was not
			// told. The gate stays shut: no split, the admission stalls.
			s.stats.Dropped.Refused++
			s.refuse(from, reasonConflictAdmit)
			s.seats[from].conflictAt = now // a vote against it (suspicions)
		}
	}
	// A view is for a joiner; a member has nothing to do with one.
	if other && kind != ctlView {
		// The sender binds the seat to another peer than this peer does
		// (the lobby host, or the sender, lies): reported only. The
		// admission goes on: each survivor sends its word to the peer it
		// binds, so neither peer gets every survivor's word and enters;
		// refusing (or voting) instead would leave the survivors with
		// different holdings of the seat, and the drop agreement that ends
		// the admission would then vote an honest seat out.
		s.stats.Dropped.Refused++
		s.refuse(from, reasonOtherPeer)
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
// seat is dropped, the coordinator admits it and repeats the admission
// (reliable, but the joiner may have restarted) while it runs; every
// other survivor answers with its view (its membership), so that the
// joiner can tell a liar's admission from the coordinator's. A lone
// survivor of a match of three seats or more answers with its view until
// the joiner's request says clear (see lone).
func (s *Session[I]) onJoinRequest(now time.Time, from int, clear bool) {
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
	if s.joining || s.excluded != nil || s.dropped&(1<<from) == 0 {
		return
	}
	a := &s.admit
	if s.coordinator(from) != s.me {
		if !(a.active && a.seat == from) { // an acknowledgement went out already
			_ = s.cfg.Control.Send(s.seats[from].id, s.viewBody(ctlView, from, NoFrame))
		}
		return
	}
	if a.active && a.seat != from {
		return // one at a time; the joiner repeats its request
	}
	if !a.active {
		if s.backoff(now, from) {
			return
		}
		others := s.members() &^ s.lost &^ (1 << from) &^ (1 << s.me)
		if others == 0 && s.n >= 3 && !clear {
			_ = s.cfg.Control.Send(s.seats[from].id, s.viewBody(ctlView, from, NoFrame))
			return
		}
		next := admission{seat: from, frame: s.seats[s.me].hold + 1, coord: s.me, active: true, d: s.dropFrame[from]}
		if sg := s.cfg.Signer; sg != nil {
			sig, err := sg.Sign(s.statement(next.signed()))
			if err != nil || len(sig) > maxSig {
				// Every survivor would refuse it unsigned: admitting would
				// only gate the match until the admission fails.
				if !s.cantSign {
					s.cantSign = true
					s.cfg.Logger.Warn("lockstep: cannot sign an admission; not admitting", "seat", from, "err", err, "size", len(sig))
				}
				return
			}
			next.sig = sig
		}
		*a = next
		s.readmit(now, from, a.frame)
	}
	body := appendSigned(s.viewBody(ctlAdmit, a.seat, a.frame), a.signed())
	for t := range s.seats {
		if t == from || s.survivor(t) {
			_ = s.cfg.Control.Send(s.seats[t].id, body)
		}
	}
}

// backoff reports whether the coordinator should not admit seat yet: its
// last admission failed (the seat was dropped again at R, never heard
// from R on: a joiner that never entered, e.g. because the survivors bind
// the seat to different peers), so it waits 1 s, 2 s, 4 s ... up to
// 3·JoinTimeout before the next one. Without it the gated survivors
// crawled: each admission stalled them until the joiner's repeated
// request counted as its goodbye, a few frames ran, and the next request
// gated them again (TestRedteamTwoNewcomersOneSeat). An admission that
// worked (the seat played, then left) resets it.
func (s *Session[I]) backoff(now time.Time, seat int) bool {
	jf := s.joinedFrom[seat]
	switch {
	case jf > 0 && s.dropFrame[seat] < jf && s.failedAt[seat] != jf:
		s.failedAt[seat] = jf
		s.fails[seat] = min(s.fails[seat]+1, 16)
		wait := min(2*s.cfg.WaitNotify<<(s.fails[seat]-1), 3*s.cfg.JoinTimeout)
		s.retryAt[seat] = now.Add(wait)
		s.cfg.Logger.Info("lockstep: admission failed, retrying later", "seat", seat, "frame", jf, "wait", wait)
	case jf > 0 && s.dropFrame[seat] >= jf:
		s.fails[seat] = 0
	}
	return now.Before(s.retryAt[seat])
}

// viewBody encodes an admission, acknowledgement or view of seat at r
// with this peer's membership.
func (s *Session[I]) viewBody(kind uint8, seat int, r Frame) []byte {
	b := appendCtl(s.ctlBuf[:0], kind, s.game)
	b = append(b, uint8(seat))
	b = binary.LittleEndian.AppendUint32(b, uint32(r))
	dropped := s.dropped &^ (1 << seat)
	b = binary.LittleEndian.AppendUint16(b, uint16(dropped))
	b = binary.LittleEndian.AppendUint16(b, uint16(s.left&^(1<<seat)))
	for d := dropped; d != 0; d &= d - 1 {
		b = binary.LittleEndian.AppendUint32(b, uint32(s.dropFrame[bits.TrailingZeros32(d)]))
	}
	b = binary.LittleEndian.AppendUint64(b, idPrint(s.seats[seat].id))
	s.ctlBuf = b
	return b
}

// onSignedAck checks the coordinator's admission that an acknowledgement
// carries (Config.Signer): one its coordinator did not sign, or not at the
// R the acknowledgement claims, is a vote against its sender; one that
// proves the coordinator told this peer another R is a vote against the
// coordinator (proven), not against the sender. It reports whether the
// acknowledgement counts.
func (s *Session[I]) onSignedAck(now time.Time, from int, adm signed) bool {
	if !s.valid(adm) {
		s.stats.Dropped.Refused++
		s.refuse(from, reasonBadSigned)
		s.seats[from].conflictAt = now
		return false
	}
	a := &s.admit
	if a.sig != nil && equivocates(a.signed(), adm) {
		s.proven(now, a.signed(), adm)
	} else if a.active && a.seat == adm.seat && adm.r != a.frame {
		// Another coordinator's, or another attempt's: no proof, no vote.
		s.stats.Dropped.Refused++
		s.refuse(from, reasonConflictAdmit)
	}
	return true
}

// onAdmit: an admission for a survivor.
func (s *Session[I]) onAdmit(now time.Time, from int, adm signed) {
	seat, r := adm.seat, adm.r
	if s.cfg.Signer != nil {
		if !s.valid(adm) {
			s.stats.Dropped.Refused++
			s.refuse(from, reasonUnsigned)
			return
		}
		if mine := s.admit.signed(); s.admit.sig != nil && equivocates(mine, adm) {
			s.proven(now, mine, adm)
			return
		}
	}
	if s.coordinator(seat) != from || s.dropped&(1<<seat) == 0 || r < s.next ||
		s.cfg.Signer != nil && adm.d != s.dropFrame[seat] {
		if !(s.dropped&(1<<seat) == 0 && s.joinedFrom[seat] == r && s.admit.seat == seat && s.admit.frame == r) { // a repeat
			why := reasonBadAdmit
			if s.dropped&(1<<seat) != 0 && adm.d != s.dropFrame[seat] && s.coordinator(seat) == from && r >= s.next {
				why = reasonUnsigned
			}
			s.stats.Dropped.Refused++
			s.refuse(from, why)
			return
		}
	} else {
		if a := &s.admit; a.active && a.seat != seat {
			return // one at a time: the coordinator repeats it
		}
		s.readmit(now, seat, r)
		s.admit = admission{seat: seat, frame: r, coord: from, active: true, d: adm.d, sig: adm.sig} // the gate
	}
	// To every survivor and the joiner: each gates on everyone's word, and
	// the joiner checks this peer's membership against the admission's.
	// The coordinator's signed admission goes with it (sign.go).
	b := s.viewBody(ctlAck, seat, r)
	b = appendSigned(append(b, uint8(s.admit.coord)), s.admit.signed())
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
	s.voidR[d] = s.voidR[d][:0]
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
