package lockstep

import "github.com/peerplay/peerplay/sync/lockstep/internal/wire"

// ReportChecksum gives the session the game's state checksum after it
// applied frame. Only frames that are multiples of ChecksumInterval are
// compared (others are ignored, so a game may report every frame). The
// session sends each in its next few datagrams to every peer, and
// compares them with the peers' own; a mismatch is reported once, as an
// EventDesync whose Err is the *DesyncError (Advance does not return it,
// unless the deprecated Config.DesyncErrors asks for the old behaviour).
func (s *Session[I]) ReportChecksum(frame Frame, sum uint64) {
	iv := Frame(s.cfg.ChecksumInterval)
	if iv <= 0 || frame < 0 || frame%iv != 0 || frame >= s.next {
		return
	}
	e := &s.local[(frame/iv)%checksumRing]
	if e.ok && e.frame >= frame {
		return // already reported
	}
	*e = sumEntry{frame: frame, sum: sum, ok: true}
	copy(s.recent[1:], s.recent[:len(s.recent)-1])
	copy(s.sendsFor[1:], s.sendsFor[:len(s.sendsFor)-1])
	s.recent[0] = wire.Checksum{Frame: int32(frame), Sum: sum}
	s.sendsFor[0] = checksumSends
	if s.sendClk.every > 1 {
		s.sendsFor[0] = checksumSendsSparse
	}
	if s.rec != nil {
		s.recordChecksum(frame, sum)
	}
	for t := range s.seats {
		if !s.survivor(t) {
			continue
		}
		r := &s.seats[t].sums[(frame/iv)%checksumRing]
		if r.ok && r.frame == frame {
			s.compare(t, frame, sum, r.sum)
		}
	}
}

// remoteSum handles a checksum received from seat t.
func (s *Session[I]) remoteSum(t int, frame Frame, sum uint64) {
	iv := Frame(s.cfg.ChecksumInterval)
	sd := &s.seats[t]
	if iv <= 0 || frame%iv != 0 || frame <= sd.lastCompared {
		return
	}
	i := (frame / iv) % checksumRing
	if l := &s.local[i]; l.ok && l.frame == frame {
		s.compare(t, frame, l.sum, sum)
		return
	}
	if r := &sd.sums[i]; !r.ok || r.frame < frame {
		*r = sumEntry{frame: frame, sum: sum, ok: true}
	}
}

func (s *Session[I]) compare(t int, frame Frame, local, remote uint64) {
	sd := &s.seats[t]
	if frame <= sd.lastCompared {
		return
	}
	sd.lastCompared = frame
	if local == remote {
		return
	}
	err := &DesyncError{Frame: frame, Seat: t, Peer: sd.id, Local: local, Remote: remote}
	s.cfg.Logger.Warn("lockstep: desync", "frame", frame, "seat", t, "peer", sd.id, "local", local, "remote", remote)
	s.event(Event{Kind: EventDesync, Seat: t, Peer: sd.id, Frame: frame, Err: err})
	if s.cfg.DesyncErrors && s.errQueue == nil {
		s.errQueue = err
	}
}
