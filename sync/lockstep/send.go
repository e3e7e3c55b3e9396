package lockstep

import (
	"math/bits"
	"time"

	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// micros is the session clock sent in pings.
func (s *Session[I]) micros(now time.Time) uint32 {
	return uint32(now.Sub(s.start) / time.Microsecond)
}

// send transmits this tick's Frame datagram to every survivor, and relays
// lost seats' inputs to survivors that lack them.
func (s *Session[I]) send(now time.Time) {
	if s.lost|1<<s.me == s.all || !s.sendDue(now) {
		return // alone, or not yet time (Config.SendInterval)
	}
	measuring := s.measuring()
	p := &s.out
	*p = wire.Packet{
		Kind: wire.KindFrame, Game: s.game, Seat: uint8(s.me), InputSize: uint8(s.isize), Seq: s.seq,
		Ping: s.seq%pingEvery == 0 || measuring, Frame: int32(s.next), Seats: s.n,
	}
	if s.publishLost() {
		p.Lost = uint16(s.lost)
	}
	p.Suspect = uint16(s.suspect)
	me := &s.seats[s.me]
	start := s.minAck() + 1
	count := min(int(me.hold-start+1), s.cfg.window)
	p.Start = int32(start)
	p.Inputs = s.copyInputs(s.me, start, count)
	// Each ping is echoed once; while this peer is still measuring its
	// own links (start-up: its peers are too), the newest ping is echoed
	// in every datagram until a newer one arrives, so that a lost echo
	// does not cost a sample.
	for t := range s.seats {
		sd := &s.seats[t]
		p.Acks[t] = int32(sd.hold)
		if !sd.echoDue {
			continue
		}
		sd.echoDue = measuring
		if hold := now.Sub(sd.echoAt) / (wire.HoldUnit * time.Microsecond); s.survivor(t) && hold <= wire.MaxHold {
			p.Echoes[p.NumEchoes] = wire.Echo{Seat: uint8(t), Seq: sd.echoSeq, Hold: uint16(hold)}
			p.NumEchoes++
		}
	}
	for i, c := range s.recent {
		if s.sendsFor[i] > 0 {
			s.sendsFor[i]--
			p.Checksums[p.NumChecksums] = c
			p.NumChecksums++
		}
	}
	if p.Ping {
		s.pings[s.seq%pingRing] = pingSent{seq: s.seq, at: s.micros(now), ok: true}
	}
	s.seq++
	s.transmit(p, -1)

	// Relays: survivors agree on a lost seat's drop frame only once they
	// all hold the same inputs, so whoever holds more passes them on.
	for l := range s.seats {
		if s.lost&(1<<l) == 0 || s.seats[l].hold < 0 {
			continue
		}
		hold := s.seats[l].hold
		for v := range s.seats {
			a := s.seats[v].acks[l]
			if !s.survivor(v) || a >= hold {
				continue
			}
			start := a + 1
			count := min(int(hold-a), s.cfg.relay)
			*p = wire.Packet{
				Kind: wire.KindRelay, Game: s.game, Seat: uint8(s.me), InputSize: uint8(s.isize), Seq: s.seq - 1,
				LostSeat: uint8(l), Start: int32(start), Inputs: s.copyInputs(l, start, count),
			}
			s.stats.Relayed++
			s.transmit(p, v)
		}
	}
}

// measuring reports whether some survivor's link has fewer RTT samples
// than the adaptive delay waits for.
func (s *Session[I]) measuring() bool {
	for v := range s.seats {
		if s.survivor(v) && s.seats[v].rtt.samples < minSamples {
			return true
		}
	}
	return false
}

// publishLost reports whether Frame datagrams carry the lost mask: while
// an agreement is pending here, and then until every survivor has
// reported running past every agreed drop frame (running it needed the
// decision, so that survivor needs the mask no more). In steady state,
// and once a loss is settled, the mask costs nothing.
func (s *Session[I]) publishLost() bool {
	if s.lost == 0 {
		return false
	}
	if s.lost&^s.dropped != 0 {
		return true
	}
	last := NoFrame
	for d := s.dropped; d != 0; d &= d - 1 {
		last = max(last, s.dropFrame[bits.TrailingZeros32(d)])
	}
	for v := range s.seats {
		if sd := &s.seats[v]; s.survivor(v) && (!sd.hasFrame || sd.frame <= last+1) {
			return true
		}
	}
	return false
}

// copyInputs copies count inputs of seat t from frame start into scratch
// (the ring may wrap).
func (s *Session[I]) copyInputs(t int, start Frame, count int) []byte {
	out := s.scratch[:count*s.isize]
	for k := range count {
		copy(out[k*s.isize:], s.slot(t, start+Frame(k)))
	}
	return out
}

// transmit encodes p and sends it to seat to, or to every survivor if
// to < 0.
func (s *Session[I]) transmit(p *wire.Packet, to int) {
	if p.NumEchoes > 0 && to < 0 {
		// An echo matters only to the seat whose ping it answers: each
		// survivor gets the datagram with its own echo, if any (7 echoes
		// of 6 bytes in every datagram of an 8-seat match otherwise).
		all, n := p.Echoes, p.NumEchoes
		for v := range s.seats {
			if v == s.me || !s.survivor(v) {
				continue
			}
			p.NumEchoes = 0
			for _, e := range all[:n] {
				if int(e.Seat) == v {
					p.Echoes[0], p.NumEchoes = e, 1
					break
				}
			}
			s.transmit(p, v)
		}
		p.Echoes, p.NumEchoes = all, n
		return
	}
	buf, err := s.enc.Encode(p)
	if err != nil {
		// Unreachable by construction (sizes are bounded in NewSession);
		// counted rather than fatal.
		s.stats.SendErrors++
		return
	}
	s.stats.LargestSent = max(s.stats.LargestSent, len(buf))
	for v := range s.seats {
		if (to >= 0 && v != to) || !s.survivor(v) {
			continue
		}
		if err := s.conn.Send(s.seats[v].id, buf); err != nil {
			s.stats.SendErrors++
			continue
		}
		s.stats.DatagramsSent++
		s.stats.BytesSent += uint64(len(buf))
	}
}
