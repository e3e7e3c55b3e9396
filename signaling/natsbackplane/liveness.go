package natsbackplane

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// liveness is this node's side of "who is alive": its own heartbeats and
// the outage window they reveal (the books behind window), and the sweep
// goroutine that keeps rooms alive (refresh), removes the seats of dead
// nodes and expired holds (reap, expireHeld) and puts back seats the
// registry lost (repair). Its lock is a leaf: nothing is called with it
// held.
type liveness struct {
	b     *Backplane
	nudge chan struct{} // asks sweep for a cycle now (the registry is set up again)

	mu      sync.Mutex // guards the following
	books   window     // ttl, beatOK, gapFrom, okSince
	beatErr error      // the last heartbeat's error; nil if it landed

	// selfOrphan is owned by the sweep goroutine (reap): seats the
	// registry says are this node's that this node does not know, and
	// since when.
	selfOrphan map[seatKey]time.Time
}

func (l *liveness) init(b *Backplane) {
	l.b = b
	l.nudge = make(chan struct{}, 1)
	l.books.ttl = b.cfg.TTL
	l.selfOrphan = make(map[seatKey]time.Time)
}

// window is the outage window: when this node's heartbeats last landed
// and the last registry write outage it saw (no heartbeat landed for
// TTL/2 or more while this node was trying: entries may have expired
// meanwhile). A gap in which this node did not try (its goroutine did
// not run: a starved machine) is no outage: the registry was not seen
// failing. Its methods are pure but tried and landed.
type window struct {
	ttl     time.Duration
	beatOK  time.Time // when this node's last heartbeat landed; zero: none yet
	attempt time.Time // the first heartbeat attempt since beatOK (skipped while disconnected, failed, or in flight); zero: none
	gapFrom time.Time // the last outage: from (its last heartbeat before)
	okSince time.Time // to (the first after); zero if none
}

// down reports an outage going on: no heartbeat landed for outageGap,
// and this node has been trying for all of it but the first period.
func (w window) down(now time.Time) bool {
	return !w.beatOK.IsZero() && now.Sub(w.beatOK) > w.outageGap() &&
		!w.attempt.IsZero() && now.Sub(w.attempt) > w.outageGap()-w.beatEvery()
}

// tried records a heartbeat attempt starting at.
func (w *window) tried(at time.Time) {
	if w.attempt.IsZero() {
		w.attempt = at
	}
}

// landed records a heartbeat that landed at now; it reports whether an
// outage ended with it.
func (w *window) landed(now time.Time) (outage bool) {
	if outage = w.down(now); outage {
		w.gapFrom, w.okSince = w.beatOK, now
	}
	w.beatOK, w.attempt = now, time.Time{}
	return outage
}

// beatEvery is the heartbeat period: TTL/8, so that a gap of TTL/2
// between two heartbeats that landed (an outage) stands out from
// scheduling delays.
func (w window) beatEvery() time.Duration { return w.ttl / 8 }

// outageGap is the gap between two heartbeats that landed from which this
// node takes the registry to have been unwritable.
func (w window) outageGap() time.Duration { return w.ttl / 2 }

// settled reports whether the registry can be taken to have every live
// entry: this node's heartbeats land (no outage going on) and the
// last write outage it saw ended at least TTL ago, time enough for the
// live nodes to put back what expired during it. If not, it returns when
// it will be (zero: unknown, an outage is going on).
func (w window) settled(now time.Time) (time.Time, bool) {
	if w.beatOK.IsZero() || w.down(now) {
		return time.Time{}, false
	}
	if end := w.okSince.Add(w.ttl); !w.okSince.IsZero() && now.Before(end) {
		return end, false
	}
	return now, true
}

// newRoomsWait reports whether a room with no trace at all (not in the
// registry, not in this node's view, no delete marker) must not be
// created yet, and until when (zero: unknown): while the registry is not
// settled, unless this node's watch ran throughout the outage (complete
// since readySince), so that its view has every room that was there (the
// live ones lost in the outage are restored from it, see absent).
func (w window) newRoomsWait(now, readySince time.Time) (time.Time, bool) {
	at, settled := w.settled(now)
	if settled || w.beatOK.IsZero() {
		return now, false // no outage seen (a node that just started cannot know of one)
	}
	from := w.gapFrom
	if w.down(now) {
		from = w.beatOK // going on
	}
	if !readySince.IsZero() && readySince.Before(from) {
		return now, false
	}
	return at, true
}

// cutoff is the time before which a room record last seen is taken for
// expired (its nodes died): TTL ago, or TTL before a registry write
// outage that is going on or ended less than TTL ago (rooms could not be
// refreshed during it; their nodes restore them after it).
func (w window) cutoff(now time.Time) time.Time {
	cut := now.Add(-w.ttl)
	var from time.Time
	switch {
	case w.down(now):
		from = w.beatOK
	case !w.okSince.IsZero() && now.Sub(w.okSince) < w.ttl:
		from = w.gapFrom
	}
	if !from.IsZero() && from.Add(-w.ttl).Before(cut) {
		cut = from.Add(-w.ttl)
	}
	return cut
}

// window returns a copy of the books.
func (l *liveness) window() window {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.books
}

// lastBeat returns when the last heartbeat landed and the error of the
// last attempt (nil if it landed).
func (l *liveness) lastBeat() (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.books.beatOK, l.beatErr
}

// heartbeat writes this node's heartbeat every TTL/8 until ctx ends.
func (l *liveness) heartbeat(ctx context.Context) {
	defer l.b.loops.Done()
	t := time.NewTicker(l.books.beatEvery())
	defer t.Stop()
	for {
		l.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beat writes this node's heartbeat (if the registry is set up and NATS
// connected) and keeps the books of the outage window.
func (l *liveness) beat(ctx context.Context) {
	b := l.b
	l.mu.Lock()
	l.books.tried(time.Now())
	l.mu.Unlock()
	kv := b.reg.kvOrNil()
	if kv == nil || !b.nc.IsConnected() {
		return
	}
	seats, _ := b.dl.count()
	v, _ := json.Marshal(struct {
		V     int    `json:"v"`
		Node  string `json:"node"`
		Seats int    `json:"seats"`
		At    int64  `json:"at"`
	}{wireVersion, b.cfg.Node, seats, time.Now().UnixMilli()})
	cctx, cancel := context.WithTimeout(ctx, min(opTimeout, b.cfg.TTL/2))
	defer cancel()
	start := time.Now() // the watch may show the put before Put returns
	_, err := kv.Put(cctx, nodeKey(b.cfg.Node), v)
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	if err != nil {
		b.st.registryErrors.Add(1)
		l.mu.Lock()
		l.beatErr = err
		l.mu.Unlock()
		return
	}
	l.mu.Lock()
	last := l.books.beatOK
	if l.books.landed(now) {
		b.st.outages.Add(1)
		b.log.Warn("natsbackplane: no heartbeat landed for a while, the registry may have lost entries meanwhile: new rooms wait",
			"gap", now.Sub(last).Round(time.Millisecond), "until", now.Add(l.b.cfg.TTL))
	}
	l.beatErr = nil
	l.mu.Unlock()
	b.reg.notePut(start)
}

// sweep is the periodic upkeep, in its own goroutine: every TTL/4 (and
// when the link nudges it) it refreshes this node's rooms while connected
// and, while the registry is watched, reaps and repairs; every tick it
// ends held seats whose grace ran out.
func (l *liveness) sweep(ctx context.Context) {
	b := l.b
	defer b.loops.Done()
	cycle := time.NewTicker(b.cfg.TTL / 4)
	defer cycle.Stop()
	held := time.NewTicker(tick)
	defer held.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-held.C:
			if b.link.ready() {
				b.expireHeld(ctx)
			}
			continue
		case <-l.nudge:
		case <-cycle.C:
		}
		if !b.nc.IsConnected() {
			continue
		}
		// Refresh also while setting up again: rooms must not expire
		// because this node's watch is being replaced.
		b.reg.refresh(ctx)
		if b.link.ready() {
			l.reap(ctx)
			b.repair(ctx)
		}
	}
}

// reapable is the reap decision for one member of a room: an orphan whose
// hold ran out, a member on a node whose heartbeat is gone, or a member
// the registry gives this node that this node has not known for a TTL.
func reapable(m member, nowMs int64, self string, dead map[string]bool, unknownHere bool) bool {
	switch {
	case m.Node == "":
		return m.HeldUntil < nowMs
	case m.Node == self:
		return unknownHere
	default:
		return dead[m.Node]
	}
}

// reap removes seats whose node died (its heartbeat expired), orphans
// whose hold ran out, and seats the registry says are ours that this node
// does not know (after a restart under the same name). It waits while the
// registry may lack live heartbeats: the view is not complete for a TTL
// yet, or the registry is not settled after an outage (live nodes put
// their heartbeats back within TTL/8 of its return).
func (l *liveness) reap(ctx context.Context) {
	b := l.b
	now := time.Now()
	if b.reg.readyFor(now) < b.cfg.TTL {
		return // not watching long enough to have seen every live heartbeat
	}
	if _, ok := l.window().settled(now); !ok {
		return
	}
	kv := b.reg.kvOrNil()
	if kv == nil {
		return
	}
	b.reg.forgetExpired(now)
	rooms, suspects := l.candidates(now)
	if len(rooms) == 0 {
		return
	}
	// A heartbeat missing from the view is confirmed with a Get.
	dead := make(map[string]bool)
	for n := range suspects {
		if alive, err := b.reg.nodeAlive(ctx, kv, n); err == nil && !alive {
			dead[n] = true
			b.log.Info("natsbackplane: node is gone; removing its seats", "dead", n)
		}
	}
	for room := range rooms {
		l.reapRoom(ctx, room, dead)
	}
}

// candidates finds, in the view, the rooms that may have a seat to reap
// and the nodes whose heartbeat the view has not seen for a TTL; it
// updates selfOrphan (this node's seats it does not know, and since
// when).
func (l *liveness) candidates(now time.Time) (rooms, suspects map[string]bool) {
	b := l.b
	ttl, self := b.cfg.TTL, b.cfg.Node
	recs, nodes := b.reg.snapshot(now)
	rooms, suspects = make(map[string]bool), make(map[string]bool)
	orphans := make(map[seatKey]time.Time)
	for room, rec := range recs {
		for p, m := range rec.Members {
			switch {
			case m.Node == "":
				if reapable(m, now.UnixMilli(), self, nil, false) {
					rooms[room] = true
				}
			case m.Node == self:
				k := seatKey{room, p}
				if !b.dl.known(k) {
					first, ok := l.selfOrphan[k]
					if !ok {
						first = now
					}
					orphans[k] = first
					if now.Sub(first) > ttl {
						rooms[room] = true
					}
				}
			default:
				if seen, ok := nodes[m.Node]; !ok || now.Sub(seen) > ttl {
					suspects[m.Node] = true
					rooms[room] = true
				}
			}
		}
	}
	l.selfOrphan = orphans
	return rooms, suspects
}

// reapRoom removes room's reapable members (see reapable) with a
// compare-and-set and announces PeerLeft to the others.
func (l *liveness) reapRoom(ctx context.Context, room string, dead map[string]bool) {
	b := l.b
	ttl, self := b.cfg.TTL, b.cfg.Node
	var gone []transport.PeerID
	rec, _, err := b.reg.update(ctx, room, func(cur *record) (*record, error) {
		gone = gone[:0]
		if cur == nil {
			return nil, errNoChange
		}
		nowMs := time.Now().UnixMilli()
		n := cur.clone()
		for p, m := range cur.Members {
			k := seatKey{room, p}
			first, orphan := l.selfOrphan[k]
			unknown := orphan && time.Since(first) > ttl && !b.dl.known(k)
			if reapable(m, nowMs, self, dead, unknown) {
				n.remove(p) // passes ownership on by the room rules
				gone = append(gone, p)
			}
		}
		if len(gone) == 0 {
			return nil, errNoChange
		}
		if len(n.Members) == 0 {
			return nil, nil
		}
		return n, nil
	})
	if err != nil {
		b.log.Debug("natsbackplane: reap", "room", room, "err", err)
		return
	}
	b.st.reaped.Add(uint64(len(gone)))
	if len(gone) > 0 {
		b.log.Info("natsbackplane: reaped seats", "room", room, "peers", gone)
	}
	if rec != nil {
		for _, p := range gone {
			b.dl.publishAll(rec, "", seatMsg{Kind: kindLeft, Peer: p})
		}
	}
}

// expireHeld removes held seats whose grace ended, and forgets handed-off
// seats nobody asked for.
func (b *Backplane) expireHeld(ctx context.Context) {
	now := time.Now()
	var due []*seat
	b.dl.mu.Lock()
	for _, s := range b.dl.seats {
		switch {
		case s.state == seatHeld && now.After(s.until):
			s.state = seatLeaving
			due = append(due, s)
		case s.state == seatHandoff && now.After(s.until):
			b.dl.dropLocked(s)
		}
	}
	b.dl.mu.Unlock()
	for _, s := range due {
		if err := b.removeSeat(ctx, s, true); err != nil {
			// Try again on the next tick.
			b.dl.mu.Lock()
			if b.dl.seats[s.key] == s && s.state == seatLeaving {
				s.state = seatHeld
			}
			b.dl.mu.Unlock()
		}
	}
}
