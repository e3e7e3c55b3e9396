package lockstep

import (
	"math/bits"
	"time"
)

// The joiner's side of an admission (see the package doc, "Rejoin and
// join in progress", step 5): it has no state of its own to check a word
// against, so it starts only on an R and a membership every survivor of
// that membership said, and none that a seat named out contradicts.

// view is the body of an admission, an acknowledgement or a view: R (NoFrame
// in a view) and the sender's membership, the joining seat excluded: the
// seats dropped here, with their drop frames, and those gone by a goodbye
// and not dropped yet.
type view struct {
	r             Frame
	dropped, left uint32
	frames        [MaxSeats]Frame
}

// word is what a joiner heard from one seat: its last admission, its last
// acknowledgement, and when it last spoke at all (any of the three kinds:
// only a member speaks them).
type word struct {
	admit, ack       view
	hasAdmit, hasAck bool
	seen             time.Time
}

// wordFresh is how long a seat's word counts as its claim to be a member,
// at a joiner: twice the view a survivor repeats every join request.
const wordFresh = time.Second

// survivorsOf returns the survivors a view names for this joiner: every
// seat but the joiner, the dropped ones and the departed ones.
func (s *Session[I]) survivorsOf(v *view) uint32 {
	return s.all &^ v.dropped &^ v.left &^ (1 << s.me)
}

// contradicted reports whether a seat that v says is out (dropped or
// departed) spoke as a member within wordFresh: then v (or that seat)
// lies.
func (s *Session[I]) contradicted(now time.Time, v *view) int {
	out := s.all &^ s.survivorsOf(v) &^ (1 << s.me)
	for w := out; w != 0; w &= w - 1 {
		t := bits.TrailingZeros32(w)
		if sw := &s.words[t]; !sw.seen.IsZero() && now.Sub(sw.seen) < wordFresh {
			return t
		}
	}
	return -1
}

// lone reports whether v leaves a single survivor in a match of three seats
// or more. Then nobody can confirm its word: the joiner waits WaitNotify
// from its first request for a seat that v says is out to speak as a
// member (every survivor answers a join request with its view), and the
// lone survivor admits only once the joiner's request says it is clear, so
// that a joiner held back by a liar never stalls an honest lone survivor.
func (s *Session[I]) lone(v *view) bool {
	surv := s.survivorsOf(v)
	return s.n >= 3 && surv != 0 && surv&(surv-1) == 0
}

// clear reports whether this joiner may tell a lone survivor to admit it:
// it waited WaitNotify since its first request, and a seat's view names
// that seat as the lone survivor, uncontradicted.
func (s *Session[I]) clear(now time.Time) bool {
	if now.Sub(s.joinStart) < s.cfg.WaitNotify {
		return false
	}
	for c := range s.words {
		w := &s.words[c]
		v := &w.admit
		if !w.hasAdmit {
			v = &w.ack // a view is stored as an ack with r NoFrame
			if !w.hasAck {
				continue
			}
		}
		if s.lone(v) && s.survivorsOf(v) == 1<<c && s.contradicted(now, v) < 0 {
			return true
		}
	}
	return false
}

// admitted returns the admission this joiner may start on: R and a
// membership that every survivor it names said, the coordinator (the
// lowest of them) by its admission, every other by its acknowledgement
// (each carries its sender's own membership), and that no seat it says is
// out contradicts. With one liar and two survivors or more, some honest
// survivor's word is among them, so R and the membership are the honest
// seats'. With three or more, the others' unanimous acknowledgements stand
// without the coordinator's word (it lied to this joiner alone: an honest
// one among them accepted R from it). A lone survivor's word is checked
// only by the others' silence (lone).
func (s *Session[I]) admitted(now time.Time) (view, bool) {
	for t := range s.words {
		w := &s.words[t]
		for _, v := range [2]*view{&w.admit, &w.ack} {
			if v == &w.admit && !w.hasAdmit || v == &w.ack && (!w.hasAck || w.ack.r == NoFrame) {
				continue
			}
			surv := s.survivorsOf(v)
			if surv == 0 {
				continue
			}
			c := bits.TrailingZeros32(surv)
			others := surv &^ (1 << c)
			if cw := &s.words[c]; !(cw.hasAdmit && cw.admit == *v) && bits.OnesCount32(others) < 2 {
				continue
			}
			all := true
			for o := others; o != 0 && all; o &= o - 1 {
				a := &s.words[bits.TrailingZeros32(o)]
				all = a.hasAck && a.ack == *v
			}
			if !all || s.contradicted(now, v) >= 0 || s.lone(v) && now.Sub(s.joinStart) < s.cfg.WaitNotify {
				continue
			}
			return *v, true
		}
	}
	return view{}, false
}

// onWord (joiner): an admission, acknowledgement or view about this
// joiner's seat. Each is the sender's claim to be a member; the admission
// starts the joiner only once the others' words agree (admitted).
func (s *Session[I]) onWord(now time.Time, from int, kind uint8, seat int, v view) {
	if seat != s.me {
		s.stats.Dropped.Malformed++
		return
	}
	w := &s.words[from]
	w.seen = now
	switch kind {
	case ctlAdmit:
		if w.hasAdmit && w.admit.r != v.r {
			s.stats.Dropped.Refused++ // the coordinator changed its R: it lies
			s.refuse(from, reasonConflictAdmit)
		}
		w.admit, w.hasAdmit = v, true
	default:
		if kind == ctlAck || !w.hasAck || w.ack.r == NoFrame {
			w.ack, w.hasAck = v, true // a view never replaces an acknowledgement
		}
	}
	// Name a conflict once it shows: an acknowledgement that differs from
	// the admission of the seat that would coordinate, or a word from a
	// seat that admission says is out. The joiner cannot tell which of the
	// two lies; it names the sender and waits.
	for c := range s.words {
		cw := &s.words[c]
		cv := &cw.admit
		if !cw.hasAdmit {
			cv = &cw.ack // a view
		}
		if !cw.hasAdmit && !cw.hasAck || bits.TrailingZeros32(s.survivorsOf(cv)) != c {
			continue
		}
		in := s.survivorsOf(cv)&(1<<from) != 0
		if (kind == ctlAck && in && from != c && cw.hasAdmit && v != *cv) || (!in && from != c) {
			s.stats.Dropped.Refused++
			s.refuse(from, reasonConflictAdmit)
		}
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
