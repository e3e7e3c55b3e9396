package natsbackplane

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// refresh rewrites the records of rooms with seats here that nobody wrote
// for a while, so that they outlive the bucket's TTL. A record that is
// gone (it expired while the registry could not be written, e.g. during a
// JetStream leader election) is restored from this node's copy. A round
// stops at the first failure: the registry is unavailable, every other
// write would wait for its timeout too.
func (r *registry) refresh(ctx context.Context) {
	type job struct {
		room string
		rec  *record
		rev  uint64
	}
	var jobs []job
	ttl := r.b.cfg.TTL
	now := time.Now()
	rooms := r.b.dl.rooms()
	r.mu.Lock()
	kv := r.kv
	for _, room := range rooms {
		c := r.rooms[room]
		if c == nil {
			continue
		}
		jitter := time.Duration(rand.Int64N(int64(ttl/6) + 1))
		if now.Sub(c.seen) > ttl/3+jitter {
			jobs = append(jobs, job{room, c.rec, c.rev})
		}
	}
	r.mu.Unlock()
	if kv == nil {
		return
	}
	for _, j := range jobs {
		// A copy kept at a re-sync has no revision to compare: it
		// goes straight to restore, which writes it only if the
		// registry has nothing.
		var rev uint64
		err := errNoChange
		if j.rev != 0 {
			cctx, cancel := context.WithTimeout(ctx, min(opTimeout, ttl/2))
			rev, err = kv.Update(cctx, roomKey(j.room), encodeRecord(j.rec), j.rev)
			cancel()
		}
		switch {
		case err == nil:
			r.apply(j.room, j.rec, rev)
		case err == errNoChange || isConflict(err):
			// Someone else wrote it (it is fresh), or it is gone.
			cctx, cancel := context.WithTimeout(ctx, min(opTimeout, ttl/2))
			err := r.restore(cctx, j.room)
			cancel()
			if err != nil {
				r.b.log.Debug("natsbackplane: restore", "room", j.room, "err", err)
				return
			}
		default:
			r.b.st.registryErrors.Add(1)
			r.b.log.Debug("natsbackplane: refresh", "room", j.room, "err", err)
			return
		}
	}
}

// restore writes room back, whole, if the registry lost it while this
// node holds seats in it (see restoreRecordLocked).
func (r *registry) restore(ctx context.Context, room string) error {
	var restored *record
	_, _, err := r.update(ctx, room, func(cur *record) (*record, error) {
		restored = nil
		if cur != nil {
			return nil, errNoChange
		}
		op, err := r.lastOpOf(ctx, room)
		if err != nil {
			return nil, err
		}
		if op != lastNone {
			// Deleted on purpose (this node's seats are lost: repair
			// puts them back), or not quite gone.
			return nil, errNoChange
		}
		r.mu.Lock()
		n := r.restoreRecordLocked(room)
		r.mu.Unlock()
		if n == nil {
			return nil, errNoChange
		}
		restored = n
		return n, nil
	})
	if err == nil {
		r.restored(restored, room)
	}
	return err
}

// restored counts and logs a room written back (rec nil: it was not).
func (r *registry) restored(rec *record, room string) {
	if rec != nil {
		r.b.st.restored.Add(1)
		r.b.log.Info("natsbackplane: restored a room the registry lost", "room", room, "members", len(rec.Members))
	}
}

// restoreRecordLocked returns the record to write back for room, which
// the registry lost (it expired while no one could refresh it, or NATS
// lost its store) although this node may know live members: this node's
// last copy of the room (every member, as the watch last showed it), with
// this node's own members as it holds them (attached or held seats;
// members it does not hold are left out). Without a copy (the watch
// showed a deletion), only this node's seats, with the room's settings
// from their last record. Nil if that leaves no member.
func (r *registry) restoreRecordLocked(room string) *record {
	var n *record
	if c := r.rooms[room]; c != nil {
		n = c.rec.clone()
	} else if last := r.b.dl.lastRecord(room); last != nil {
		n = last.clone()
		n.Members = make(map[transport.PeerID]member)
	}
	if n == nil {
		return nil
	}
	r.b.dl.ownMembers(room, n)
	if len(n.Members) == 0 {
		return nil
	}
	return n
}

// retryLater is returned by the functions a join or resume passes to
// update when the registry's answer (no such room) cannot be trusted yet:
// look again at at (zero: unknown), or fail with err.
type retryLater struct {
	at  time.Time
	err error
}

func (r *retryLater) Error() string { return r.err.Error() }
func (r *retryLater) Unwrap() error { return r.err }

// retryWindow bounds how long a join or resume looks again (updateRetry).
const retryWindow = 500 * time.Millisecond

// absent decides what a join or resume does about room, which the
// registry does not have. If nothing suggests a loss (this node holds no
// seat there, its view shows no member on a live node, no recent outage),
// the room is new: (nil, nil). Otherwise it asks the stream: a delete
// marker means the room was removed on purpose (new, too); no trace at all
// means the registry lost it: then it returns the room restored from this
// node's copy (restoreRecordLocked) to admit into and write back; without
// a copy, after an outage this node's view did not watch throughout, it
// answers retryLater (unavailable: clients retry) until the outage is TTL
// behind (window.newRoomsWait).
func (r *registry) absent(ctx context.Context, room string) (*record, error) {
	now := time.Now()
	r.mu.Lock()
	suspect := r.b.dl.holdsIn(room) || r.liveInViewLocked(room, now)
	at, wait := r.b.live.window().newRoomsWait(now, r.readySince)
	r.mu.Unlock()
	if !suspect && !wait {
		return nil, nil
	}
	op, err := r.lastOpOf(ctx, room)
	if err != nil {
		return nil, err
	}
	switch op {
	case lastDeleted:
		return nil, nil
	case lastPut:
		// Written since the read (or a replica behind another): read
		// again.
		return nil, &retryLater{at: time.Now(), err: unavailable("the registry's answers about room %s disagree", room)}
	}
	if suspect {
		r.mu.Lock()
		n := r.restoreRecordLocked(room)
		r.mu.Unlock()
		if n != nil {
			return n, nil
		}
	}
	if wait {
		return nil, &retryLater{at: at,
			err: unavailable("the registry was unavailable (NATS failover?): rooms it does not have wait until it settles")}
	}
	return nil, nil
}

// updateRetry is update for joins and resumes: it looks again while fn
// answers retryLater, for at most retryWindow from the first such answer
// (and casAttempts times).
func (r *registry) updateRetry(ctx context.Context, room string, fn func(cur *record) (*record, error)) (*record, uint64, error) {
	var deadline time.Time
	for attempt := 0; ; attempt++ {
		rec, rev, err := r.update(ctx, room, fn)
		var later *retryLater
		if !errors.As(err, &later) {
			return rec, rev, err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(retryWindow)
		}
		if later.at.IsZero() || later.at.After(deadline) || attempt >= casAttempts {
			return nil, 0, later.err
		}
		t := time.NewTimer(time.Until(later.at))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, 0, later.err
		}
	}
}

// repair puts this node's attached seats that the registry lost (NATS lost
// its store, or this node was cut off longer than the TTL and reaped)
// back, re-creating the room if needed, and announces them again.
func (b *Backplane) repair(ctx context.Context) {
	type job struct {
		s      *seat
		rec    *record
		attach uint64
		m      member // the seat as it would be written
	}
	var jobs []job
	for _, room := range b.dl.rooms() {
		known := b.reg.knows(room)
		b.dl.mu.Lock()
		for _, s := range b.dl.byRoom[room] {
			if s.state == seatAttached && (s.lost || !known) && s.rec != nil {
				jobs = append(jobs, job{s, s.rec, s.attach, s.member(b.cfg.Node)})
			}
		}
		b.dl.mu.Unlock()
	}
	self := b.cfg.Node
	for _, j := range jobs {
		room, peer := j.s.key.room, j.s.key.peer
		var taken, wrote bool
		rec, rev, err := b.reg.update(ctx, room, func(cur *record) (*record, error) {
			taken, wrote = false, false
			var n *record
			if cur == nil {
				// The room is gone: write it back whole (every member
				// this node knows of), not just this seat.
				b.reg.mu.Lock()
				n = b.reg.restoreRecordLocked(room)
				b.reg.mu.Unlock()
				if n == nil {
					n = j.rec.clone()
					n.Members = make(map[transport.PeerID]member)
				}
			} else {
				if cur.IsKicked(peer) {
					return nil, refuse(signaling.CodeKicked, "kicked from room %s", room)
				}
				if m, ok := cur.Members[peer]; ok {
					if m.Node == self && m.Attach == j.attach {
						return nil, errNoChange
					}
					if m.Node != self {
						taken = true
						return nil, errNoChange
					}
					// Restored from an older copy: set the attachment
					// and the resume token (it rotates on every resume); the seat
					// is attached, not held.
					n = cur.clone()
					m.Attach, m.Token, m.Held = j.attach, j.m.Token, false
					n.Members[peer] = m
					wrote = true
					return n, nil
				}
				if cur.Max > 0 && len(cur.Members) >= cur.Max {
					return nil, refuse(signaling.CodeResumeFailed, "the registry lost this seat and room %s is full now", room)
				}
				n = cur.clone()
			}
			if n.IsKicked(peer) {
				return nil, refuse(signaling.CodeKicked, "kicked from room %s", room)
			}
			n.Members[peer] = j.m
			wrote = true
			return n, nil
		})
		b.dl.mu.Lock()
		if b.dl.seats[j.s.key] != j.s || j.s.attach != j.attach || j.s.state != seatAttached {
			b.dl.mu.Unlock()
			continue
		}
		switch {
		case err != nil && (errors.Is(err, signaling.ErrResumeFailed) || errors.Is(err, signaling.ErrKicked)):
			j.s.sink(signaling.Event{Err: err})
			b.dl.dropLocked(j.s)
		case err != nil:
			// NATS trouble: try again next round.
		case taken:
			b.dl.replacedLocked(j.s, time.Now())
		default:
			j.s.lost = false
			if rev > j.s.commit {
				j.s.commit = rev
			}
		}
		b.dl.mu.Unlock()
		if err == nil && wrote {
			b.st.repaired.Add(1)
			b.log.Info("natsbackplane: repaired a seat the registry lost", "room", room, "peer", peer)
			b.dl.publishAll(rec, peer, seatMsg{Kind: kindJoined, Peer: peer, Name: j.m.Name})
		}
	}
}
