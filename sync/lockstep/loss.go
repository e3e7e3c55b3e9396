package lockstep

import (
	"math/bits"
	"time"
)

// Player loss agreement (see the package doc, "Player loss"):
//
//  1. A survivor marks seat l lost when l has been silent past the
//     timeout, said goodbye, or appears in another survivor's lost mask.
//     From then on it ignores l's own datagrams: its holdings of l's
//     inputs grow only by relays from other survivors.
//  2. Every survivor publishes, in each Frame datagram, its lost mask and
//     its holdings (acks) of every seat, and relays l's inputs to each
//     survivor whose ack of l is below its own holdings.
//  3. A survivor decides when every other survivor publishes the same lost
//     mask as its own and, for each lost seat not yet dropped, the same
//     holdings as its own: the drop frame is then that common holding
//     H_l, and l's input is the zero value from H_l+1 on.
//
// Why everyone decides the same H_l: once a survivor publishes a mask
// containing l, its holdings of l can only grow from another survivor that
// already held more. When one survivor sees all survivors at H_l, none of
// them held more at the time of its report, so none ever will: holdings
// are frozen at H_l everywhere, and any later decision (even with a larger
// mask, after another loss) reads the same H_l. And no survivor can have
// run a frame past H_l with l's real input, since running a frame needs
// its input.

// markLost starts (or joins) the agreement about seat l.
func (s *Session[I]) markLost(l int, why string) {
	bit := uint32(1) << l
	if l == s.me || s.lost&bit != 0 {
		return
	}
	s.lost |= bit
	sd := &s.seats[l]
	s.cfg.Logger.Info("lockstep: player lost", "seat", l, "peer", sd.id, "why", why, "held", sd.hold)
	s.event(Event{Kind: EventPlayerLost, Seat: l, Peer: sd.id, Frame: sd.hold + 1})
}

// checkLoss applies the timeouts and decides pending agreements.
func (s *Session[I]) checkLoss(now time.Time) {
	for v := range s.seats {
		if !s.survivor(v) {
			continue
		}
		sd := &s.seats[v]
		timeout := s.cfg.DisconnectTimeout
		if !sd.heard {
			timeout = s.cfg.JoinTimeout
		}
		if now.Sub(sd.lastHeard) > timeout {
			s.markLost(v, "timeout")
		}
	}
	pending := s.lost &^ s.dropped
	if pending == 0 {
		return
	}
	for v := range s.seats {
		if !s.survivor(v) {
			continue
		}
		sd := &s.seats[v]
		if sd.lostView&s.all != s.lost {
			return
		}
		for p := pending; p != 0; p &= p - 1 {
			l := bits.TrailingZeros32(p)
			if sd.acks[l] != s.seats[l].hold {
				return
			}
		}
	}
	for p := pending; p != 0; p &= p - 1 {
		l := bits.TrailingZeros32(p)
		sd := &s.seats[l]
		s.dropped |= 1 << l
		s.dropFrame[l] = sd.hold
		s.cfg.Logger.Info("lockstep: player dropped", "seat", l, "peer", sd.id, "frame", sd.hold+1)
		s.event(Event{Kind: EventPlayerDropped, Seat: l, Peer: sd.id, Frame: sd.hold + 1})
	}
}
