package lockstep

import (
	"bytes"
	"math/bits"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// Receiving: every datagram is validated (decoding, then the semantics:
// sender, game, sizes, frames within reach, replay window) before any of
// it is applied. Nothing a peer sends can make it fail.

// receive drains the Conn, at most a bounded number of datagrams per call
// (the rest waits in the Conn's own bounded inbox for the next tick).
func (s *Session[I]) receive(now time.Time) {
	for range 64 * s.n {
		m, ok := s.conn.TryRecv()
		if !ok {
			return
		}
		s.handle(now, m)
	}
}

func (s *Session[I]) seatOf(id transport.PeerID) int {
	for t := range s.seats {
		if s.seats[t].id == id {
			return t
		}
	}
	return -1
}

// handle validates one datagram and applies it. Nothing a peer sends can
// make it fail: invalid datagrams are dropped and counted.
func (s *Session[I]) handle(now time.Time, m transport.Message) {
	s.stats.DatagramsRecv++
	s.stats.BytesRecv += uint64(len(m.Data))
	d := &s.stats.Dropped
	from := s.seatOf(m.From)
	if from < 0 || from == s.me {
		d.Spoofed++
		return
	}
	if s.dropped&(1<<from) != 0 {
		// A dropped seat still talking (a loop back from a long pause):
		// tell it, without decoding more than needed.
		d.FromLost++
		if s.dec.Decode(m.Data, &s.in) == nil && int(s.in.Seat) == from && s.in.Game == s.game {
			s.notifyDropped(now, from)
		}
		return
	}
	p := &s.in
	switch err := s.dec.Decode(m.Data, p); err {
	case nil:
	case wire.ErrTooLarge:
		d.Oversize++
		return
	case wire.ErrVersion:
		d.Version++
		return
	default:
		d.Malformed++
		return
	}
	switch {
	case int(p.Seat) != from:
		d.Spoofed++
		s.refuse(from, reasonSpoofed)
		return
	case p.Game != s.game:
		d.Foreign++
		return
	case int(p.InputSize) != s.isize || (p.Kind == wire.KindFrame && p.Seats != s.n) ||
		(p.Kind == wire.KindRelay && (int(p.LostSeat) >= s.n || int(p.LostSeat) == from)):
		d.Malformed++
		return
	case p.Kind == wire.KindDropped:
		if int(p.LostSeat) != s.me {
			d.Malformed++
			s.refuse(from, reasonBadDropNote)
			return
		}
		if Frame(p.Frame) < s.joinedAt {
			d.Stale++ // about this seat's previous life, before it rejoined
			return
		}
		if Frame(p.Frame) <= s.seats[s.me].hold+1 {
			s.onDroppedNotice(from, Frame(p.Frame))
		} else {
			d.FarFuture++
			s.refuse(from, reasonImpossible)
		}
		return
	case s.lost&(1<<from) != 0 && !s.unleave(now, from, p):
		d.FromLost++
		return
	case s.farFuture(from, p):
		d.FarFuture++
		s.refuse(from, reasonImpossible)
		return
	}
	// Only Frame datagrams pass the replay filter (and count for loss):
	// they alone go to every seat with consecutive numbers. A Relay or Bye
	// repeats the last Frame's number, and applying one twice is harmless.
	newest := false
	if p.Kind == wire.KindFrame {
		var ok bool
		if newest, ok = s.acceptSeq(from, p.Seq); !ok {
			return
		}
	}
	sd := &s.seats[from]
	sd.lastHeard = now
	sd.heard = true
	switch p.Kind {
	case wire.KindFrame:
		s.onFrame(now, from, p, newest)
	case wire.KindRelay:
		// Only for a seat this peer itself latched lost and has not dropped
		// yet, from a survivor that reports it lost too: a relay is never
		// a way to speak for a live seat.
		l := int(p.LostSeat)
		if bit := uint32(1) << l; s.lost&^s.dropped&bit == 0 || uint32(sd.lostView)&bit == 0 {
			d.Refused++
			// A relay that merely comes early (the sender voted the seat
			// out a moment before this peer) is not worth an event; one
			// for a seat this peer hears well is.
			if s.lost&bit == 0 && now.Sub(s.seats[l].lastHeard) < s.cfg.DisconnectTimeout/2 {
				s.refuse(from, reasonRelay)
			}
			return
		}
		s.store(l, Frame(p.Start), p.Inputs)
	case wire.KindBye:
		s.left |= 1 << from
		s.byeSeq[from] = p.Seq
		s.markLost(now, from, reasonBye)
	}
}

// farFuture rejects frame numbers no honest peer can have reached: far
// beyond this peer's position (a peer cannot run more than about
// 2·(MaxInputDelay+1) frames ahead of another, and acks cannot exceed what
// exists).
func (s *Session[I]) farFuture(from int, p *wire.Packet) bool {
	limit := s.next + s.rcap
	if Frame(p.Frame) > limit || Frame(p.Start) > limit {
		return true
	}
	if p.Kind == wire.KindFrame {
		if Frame(p.Acks[s.me]) > s.seats[s.me].hold {
			return true
		}
		for t := range s.n {
			if Frame(p.Acks[t]) > limit {
				return true
			}
		}
		for i := range p.NumChecksums {
			if Frame(p.Checksums[i].Frame) > limit {
				return true
			}
		}
	}
	return false
}

// acceptSeq is the replay filter: a 64-datagram sliding window per sender,
// as in DTLS, over 16-bit sequence numbers compared in serial arithmetic
// (RFC 1982: a number up to 32767 ahead is newer). It reports whether seq
// is new, and whether it is the newest; it also feeds the loss estimate.
func (s *Session[I]) acceptSeq(from int, seq uint16) (newest, ok bool) {
	sd := &s.seats[from]
	d := &s.stats.Dropped
	if !sd.anySeq {
		sd.anySeq, sd.maxSeq, sd.seqMask = true, seq, 1
		sd.lossSample(0)
		return true, true
	}
	if diff := int16(seq - sd.maxSeq); diff > 0 {
		shift := uint16(diff)
		for range min(shift-1, lossWindow) {
			sd.lossSample(1)
		}
		sd.lossSample(0)
		if shift >= 64 {
			sd.seqMask = 1
		} else {
			sd.seqMask = sd.seqMask<<shift | 1
		}
		sd.maxSeq = seq
		return true, true
	}
	back := sd.maxSeq - seq
	if back >= 64 {
		d.Stale++
		return false, false
	}
	if sd.seqMask&(1<<back) != 0 {
		d.Replayed++
		return false, false
	}
	sd.seqMask |= 1 << back
	// Counted as lost when overtaken: take that sample back.
	sd.loss = max(0, sd.loss-1/float64(sd.lossN))
	return false, true
}

// lossSample adds one outcome (1: lost, 0: arrived) to the loss estimate.
func (sd *seat) lossSample(lost float64) {
	sd.lossN = min(sd.lossN+1, lossWindow)
	sd.loss += (lost - sd.loss) / float64(sd.lossN)
}

func (s *Session[I]) onFrame(now time.Time, from int, p *wire.Packet, newest bool) {
	sd := &s.seats[from]
	s.store(from, Frame(p.Start), p.Inputs)
	for t := range s.n {
		sd.acks[t] = max(sd.acks[t], Frame(p.Acks[t]))
	}
	if newest {
		// RTT samples from in-order datagrams only: one overtaken on the
		// way (jitter, a route change) adds nothing but noise.
		for _, e := range p.Echoes[:p.NumEchoes] {
			if int(e.Seat) != s.me {
				continue
			}
			if ps := s.pings[e.Seq%pingRing]; ps.ok && ps.seq == e.Seq && !s.loop.hitch {
				if rtt := int32(s.micros(s.loop.readAt) - ps.at - uint32(e.Hold)*wire.HoldUnit); rtt >= 0 {
					sd.rtt.add(time.Duration(rtt) * time.Microsecond)
				}
			}
		}
		if p.Ping && !s.loop.hitch {
			sd.echoDue, sd.echoSeq, sd.echoAt = true, p.Seq, s.loop.readAt
		}
		sd.frame, sd.frameAt, sd.hasFrame = Frame(p.Frame), now, true
		sd.own = Frame(p.Start) + Frame(len(p.Inputs)/s.isize) - 1
	}
	for i := range p.NumChecksums {
		c := p.Checksums[i]
		s.remoteSum(from, Frame(c.Frame), c.Sum)
	}
	if !newest {
		return
	}
	sd.lostView = p.Lost & uint16(s.all)
	sd.suspectView = p.Suspect & uint16(s.all)
	// A report is a vote (checkLoss counts them), never adopted on its
	// own. A report about a seat this peer hears well is worth telling the
	// game about: a liar, or a link broken between two other seats.
	for claim := uint32(sd.lostView|sd.suspectView) &^ s.lost &^ (1 << s.me); claim != 0; claim &= claim - 1 {
		if v := bits.TrailingZeros32(claim); now.Sub(s.seats[v].lastHeard) < s.cfg.DisconnectTimeout/2 {
			s.refuse(from, reasonLostClaim)
			break
		}
	}
}

// store appends seat t's inputs from frame start: only the frame after the
// last held one extends the run (datagrams always start at or before it);
// frames already held are compared, and a difference counted.
func (s *Session[I]) store(t int, start Frame, raw []byte) {
	sd := &s.seats[t]
	oldest := s.floor(t) // ring slots from here to hold are valid
	limit := oldest + s.rcap
	if s.dropped&(1<<t) != 0 {
		limit = min(limit, s.dropFrame[t]+1)
	}
	f := start
	for k := 0; k+s.isize <= len(raw); k, f = k+s.isize, f+1 {
		in := raw[k : k+s.isize]
		if f <= sd.hold {
			if f >= oldest && !bytes.Equal(s.slot(t, f), in) {
				s.stats.Dropped.Conflicts++
			}
			continue
		}
		if f != sd.hold+1 || f >= limit {
			return
		}
		copy(s.slot(t, f), in)
		sd.hold = f
	}
}

// unleave: a seat that said goodbye here (a Bye, or a join request that
// counted as its old session's goodbye) and is not dropped yet sends a
// Frame newer than its goodbye. An honest seat never does (a Bye repeats
// its last Frame's number and its session is closed; a restarted session
// sends no Frame before it is admitted): the goodbye was a lie told to
// this peer alone, which would make it stop waiting for a seat the others
// still play with, stall, and be voted out (TestRedteamByeToOne). The
// seat plays again here, and the sender is reported.
func (s *Session[I]) unleave(now time.Time, from int, p *wire.Packet) bool {
	bit := uint32(1) << from
	if s.left&^s.dropped&bit == 0 || p.Kind != wire.KindFrame || int16(p.Seq-s.byeSeq[from]) <= 0 {
		return false
	}
	s.left &^= bit
	s.lost &^= bit
	s.resetBlocks(now)
	s.stats.Dropped.Refused++
	s.refuse(from, reasonFalseBye)
	return true
}
