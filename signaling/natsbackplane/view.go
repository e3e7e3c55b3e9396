package natsbackplane

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// cached is one room of this node's view of the registry.
type cached struct {
	rec  *record
	rev  uint64
	seen time.Time // local receipt time, for expiry in the listing
}

// watch applies a watcher's entries to the view until it stops. It
// always drains: the NATS callback blocks on a full channel.
func (r *registry) watch(w jetstream.KeyWatcher, synced chan<- struct{}) {
	defer r.b.wg.Done()
	for e := range w.Updates() {
		now := time.Now()
		r.mu.Lock()
		if r.watcher != w {
			r.mu.Unlock()
			continue
		}
		if e != nil {
			r.applyEntryLocked(e, r.synced != nil, now)
			r.mu.Unlock()
			continue
		}
		r.resyncedLocked(now)
		r.mu.Unlock()
		if synced != nil {
			close(synced)
			synced = nil
		}
	}
}

// resyncedLocked: a new watcher's initial values are in (deletions
// included, as delete markers): a room with no entry at all expired while
// the node was away. It is dropped, unless live nodes (this one included)
// hold seats in it: then the registry lost it, and they write it back
// from their copies (repair). Heartbeats are kept as long as they count
// as live: they may have expired in the same outage. A copy kept forgets
// its revision: it is from before (revisions start again from 1 when NATS
// lost its store), no compare-and-set may use it.
func (r *registry) resyncedLocked(now time.Time) {
	for room, c := range r.rooms {
		switch {
		case r.synced[roomKey(room)]:
		case r.b.dl.forget(room):
			c.rev = 0
		case r.liveInViewLocked(room, now):
			c.rev = 0
		default:
			r.applyRoomLocked(room, nil, 0, true, now)
		}
	}
	cut := r.cutoffLocked(now)
	for n, seen := range r.nodes {
		if !r.synced[nodeKey(n)] && seen.Before(cut) {
			delete(r.nodes, n)
		}
	}
	r.synced = nil
	if r.readySince.IsZero() {
		r.readySince = now // the view is complete from now on
	}
}

// applyEntryLocked applies a watched entry. initial: one of a new
// watcher's initial values, which replace what the view had whatever its
// revision (revisions start again from 1 when NATS lost its store).
func (r *registry) applyEntryLocked(e jetstream.KeyValueEntry, initial bool, now time.Time) {
	key := e.Key()
	if initial {
		r.synced[key] = true
	}
	del := e.Operation() != jetstream.KeyValuePut
	switch {
	case strings.HasPrefix(key, "node."):
		if del {
			delete(r.nodes, key[len("node."):])
		} else {
			r.nodes[key[len("node."):]] = now
			if key == nodeKey(r.b.cfg.Node) {
				r.selfSeen = now
			}
		}
	case strings.HasPrefix(key, "room."):
		if del {
			// The room's name is only in the values; find it by key,
			// in the view and among this node's seats.
			for room := range r.rooms {
				if roomKey(room) == key {
					r.applyRoomLocked(room, nil, e.Revision(), initial, now)
				}
			}
			for _, room := range r.b.dl.rooms() {
				if roomKey(room) == key {
					r.applyRoomLocked(room, nil, e.Revision(), initial, now)
				}
			}
			return
		}
		rec, err := decodeRecord(e.Value())
		if err != nil || roomKey(rec.Room) != key {
			r.b.st.dropped.Add(1)
			r.b.log.Warn("natsbackplane: undecodable room record", "key", key, "err", err)
			return
		}
		r.applyRoomLocked(rec.Room, rec, e.Revision(), initial, now)
	}
}

// apply records a write of this node (revision rev of room).
func (r *registry) apply(room string, rec *record, rev uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applyRoomLocked(room, rec, rev, false, time.Now())
}

// applyRoomLocked records revision rev of room (rec nil: gone) and
// reconciles this node's seats in it. force applies it whatever its
// revision (a new watcher's initial values, expiry found at re-sync), and
// makes it the seats' last known write.
func (r *registry) applyRoomLocked(room string, rec *record, rev uint64, force bool, now time.Time) {
	if c := r.rooms[room]; c != nil && rev <= c.rev && !force {
		if rev == c.rev {
			c.seen = now
		}
		return
	}
	if rec == nil {
		delete(r.rooms, room)
	} else {
		r.rooms[room] = &cached{rec: rec, rev: rev, seen: now}
	}
	r.b.dl.reconcile(room, rec, rev, force, now)
}

// cutoffLocked is the time before which a room record last seen is taken
// for expired: see window.cutoff.
func (r *registry) cutoffLocked(now time.Time) time.Time { return r.b.live.window().cutoff(now) }

// liveInViewLocked reports whether this node's view of the registry has
// room with a member on another node whose heartbeat counts as live (seen
// within the TTL, or before an outage, see window.cutoff): if the
// registry has no such room, it lost it (a deletion would have reached
// the view).
func (r *registry) liveInViewLocked(room string, now time.Time) bool {
	c := r.rooms[room]
	if c == nil {
		return false
	}
	cut := r.cutoffLocked(now)
	for _, m := range c.rec.Members {
		if m.Node == "" || m.Node == r.b.cfg.Node {
			continue
		}
		if seen, ok := r.nodes[m.Node]; ok && !seen.Before(cut) {
			return true
		}
	}
	return false
}

// counts returns the live rooms and nodes this node sees.
func (r *registry) counts(now time.Time) (rooms, nodes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cut := r.cutoffLocked(now)
	for _, c := range r.rooms {
		if !c.seen.Before(cut) {
			rooms++
		}
	}
	for _, seen := range r.nodes {
		if now.Sub(seen) <= r.b.cfg.TTL {
			nodes++
		}
	}
	return rooms, nodes
}

// roomCount is the number of live rooms but except, as this node sees
// them.
func (r *registry) roomCount(except string) int {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	cut := r.cutoffLocked(now)
	n := 0
	for room, c := range r.rooms {
		if room != except && !c.seen.Before(cut) {
			n++
		}
	}
	return n
}

// list returns the live rooms of the view; ok is false while the node
// is (re)watching the registry and the view may be stale.
func (r *registry) list(now time.Time) (out []signaling.RoomInfo, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.readySince.IsZero() {
		return nil, false
	}
	cut := r.cutoffLocked(now)
	out = make([]signaling.RoomInfo, 0, len(r.rooms))
	for _, c := range r.rooms {
		if !c.seen.Before(cut) {
			out = append(out, c.rec.info())
		}
	}
	return out, true
}

// hasMember reports whether the view lists peer in room.
func (r *registry) hasMember(room string, peer transport.PeerID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.rooms[room]; c != nil {
		_, ok := c.rec.Members[peer]
		return ok
	}
	return false
}

// knows reports whether the view has room.
func (r *registry) knows(room string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rooms[room] != nil
}

// readyFor reports how long the view has been complete (0: it is not).
func (r *registry) readyFor(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.readySince.IsZero() {
		return 0
	}
	return max(now.Sub(r.readySince), 1)
}

// forgetExpired drops from the view what NATS expired without telling
// watchers: rooms nobody refreshed for 2 TTL and nobody here has seats in,
// heartbeats of nodes gone for 10 TTL.
func (r *registry) forgetExpired(now time.Time) {
	held := make(map[string]bool)
	for _, room := range r.b.dl.rooms() {
		held[room] = true
	}
	ttl := r.b.cfg.TTL
	r.mu.Lock()
	defer r.mu.Unlock()
	for room, c := range r.rooms {
		if now.Sub(c.seen) > 2*ttl && !held[room] {
			delete(r.rooms, room)
		}
	}
	for n, seen := range r.nodes {
		if now.Sub(seen) > 10*ttl {
			delete(r.nodes, n)
		}
	}
}

// snapshot returns the rooms seen within the TTL and when each node's
// heartbeat was last seen, for the reaper.
func (r *registry) snapshot(now time.Time) (map[string]*record, map[string]time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rooms := make(map[string]*record, len(r.rooms))
	for room, c := range r.rooms {
		if now.Sub(c.seen) <= r.b.cfg.TTL {
			rooms[room] = c.rec
		}
	}
	nodes := make(map[string]time.Time, len(r.nodes))
	for n, seen := range r.nodes {
		nodes[n] = seen
	}
	return rooms, nodes
}
