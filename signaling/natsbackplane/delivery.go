package natsbackplane

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// seatState is where one of this node's seats is; see the package doc
// ("Inside a node") for its transitions.
type seatState int

const (
	seatJoining  seatState = iota + 1 // admitted locally, CAS in flight
	seatResuming                      // taken over from another node, CAS in flight
	seatAttached                      // a connection is attached (sink)
	seatHeld                          // connection lost; grace period running
	seatHandoff                       // resumed elsewhere; keeps held signals for the takeover request
	seatLeaving                       // being removed
)

type seatKey struct {
	room string
	peer transport.PeerID
}

// seat is this node's side of one registry seat. Its fields are guarded
// by delivery.mu.
type seat struct {
	key     seatKey
	subject string
	sub     *nats.Subscription
	name    string
	token   []byte // SHA-256 of the resume token
	attach  uint64
	next    uint64 // an attachment being committed by a same-node resume
	state   seatState
	sink    signaling.Sink
	held    []seatMsg // signals while held or handed off
	pending []seatMsg // events while joining or resuming
	commit  uint64    // registry revision of this node's last write of the seat
	until   time.Time // held: end of grace; handoff: when to forget it
	lost    bool      // attached, but the registry lost it: repair
	rec     *record   // last known record of its room (for repair)
}

// member is s as a registry member on node (its join order from the
// last record it saw).
func (s *seat) member(node string) member {
	m := member{Name: s.name, Token: s.token, Node: node, Attach: s.attach, Held: s.state == seatHeld}
	if s.rec != nil {
		m.Seq = s.rec.Members[s.key.peer].Seq
	}
	return m
}

// holds reports an attached or held seat: one this node answers for.
func (s *seat) holds() bool { return s != nil && (s.state == seatAttached || s.state == seatHeld) }

// delivery is this node's seats and the subjects they listen on: it
// subscribes a seat's subject, hands what arrives to the seat's sink (or
// buffers it), publishes to other seats, and answers and makes takeover
// requests. It never touches the registry; the registry calls reconcile
// (under its own lock, which comes first in the lock order).
type delivery struct {
	b    *Backplane
	msgs chan *nats.Msg
	seq  atomic.Uint64

	mu     sync.Mutex // guards the following and every seat's fields
	closed bool
	seats  map[seatKey]*seat
	bySubj map[string]*seat
	byRoom map[string]map[transport.PeerID]*seat
}

func (d *delivery) init(b *Backplane) {
	d.b = b
	d.msgs = make(chan *nats.Msg, msgQueueLen)
	d.seats = make(map[seatKey]*seat)
	d.bySubj = make(map[string]*seat)
	d.byRoom = make(map[string]map[transport.PeerID]*seat)
}

func (d *delivery) seatSubject(room string, peer transport.PeerID) string {
	return d.b.cfg.Subject + ".seat." + token(room) + "." + token(string(peer))
}

func (d *delivery) ctlSubject(node string) string { return d.b.cfg.Subject + ".node." + node }

// count returns the seats this node holds (attached or held) and how many
// of them are held.
func (d *delivery) count() (seats, held int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.seats {
		switch s.state {
		case seatAttached:
			seats++
		case seatHeld:
			seats++
			held++
		}
	}
	return seats, held
}

// dispatch hands seat messages to their seats until ctx ends.
func (d *delivery) dispatch(ctx context.Context) {
	defer d.b.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-d.msgs:
			d.deliver(m)
		}
	}
}

func (d *delivery) deliver(nm *nats.Msg) {
	st := &d.b.st
	m, err := decodeSeatMsg(nm.Data)
	if err != nil {
		st.dropped.Add(1)
		d.b.log.Warn("natsbackplane: dropped a malformed seat message", "subject", nm.Subject, "err", err)
		return
	}
	st.received.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.bySubj[nm.Subject]
	if s == nil {
		return
	}
	switch s.state {
	case seatAttached:
		s.sink(m.event())
	case seatHeld, seatHandoff:
		// Like MemoryBackplane: a held seat keeps signals only; the
		// resume's peer list stands for the membership events.
		if m.Kind == kindSignal {
			if len(s.held) >= heldSignals {
				s.held = s.held[1:]
				st.dropped.Add(1)
			}
			s.held = append(s.held, m)
		}
	case seatJoining, seatResuming:
		if len(s.pending) >= pendingEvents {
			s.pending = s.pending[1:]
			st.dropped.Add(1)
		}
		s.pending = append(s.pending, m)
	}
}

// add registers and subscribes a new local seat.
func (d *delivery) add(k seatKey, st seatState) (*seat, error) {
	s := &seat{key: k, subject: d.seatSubject(k.room, k.peer), state: st}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, signaling.ErrShutdown
	}
	if d.seats[k] != nil {
		return nil, refuse(signaling.CodeResumeFailed, "seat %s of room %s is busy", k.peer, k.room)
	}
	sub, err := d.b.nc.ChanSubscribe(s.subject, d.msgs)
	if err != nil {
		return nil, unavailable("subscribe: %v", err)
	}
	s.sub = sub
	d.seats[k] = s
	d.bySubj[s.subject] = s
	if d.byRoom[k.room] == nil {
		d.byRoom[k.room] = make(map[transport.PeerID]*seat)
	}
	d.byRoom[k.room][k.peer] = s
	return s, nil
}

func (d *delivery) drop(s *seat) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropLocked(s)
}

func (d *delivery) dropLocked(s *seat) {
	if d.seats[s.key] != s {
		return
	}
	_ = s.sub.Unsubscribe()
	delete(d.seats, s.key)
	delete(d.bySubj, s.subject)
	if r := d.byRoom[s.key.room]; r != nil {
		delete(r, s.key.peer)
		if len(r) == 0 {
			delete(d.byRoom, s.key.room)
		}
	}
	s.state, s.sink = seatLeaving, nil
}

// heldSeat is a seat handed to the registry at shutdown.
type heldSeat struct {
	key    seatKey
	attach uint64
	until  time.Time
}

// shutdown refuses new seats and lists the seats to hand over as orphans:
// held ones until their grace ends, attached ones for a TTL.
func (d *delivery) shutdown() []heldSeat {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	var out []heldSeat
	for _, s := range d.seats {
		switch s.state {
		case seatHeld:
			out = append(out, heldSeat{s.key, s.attach, s.until})
		case seatAttached:
			out = append(out, heldSeat{s.key, s.attach, now.Add(d.b.cfg.TTL)})
		}
	}
	return out
}

// dropAll forgets every seat (Close).
func (d *delivery) dropAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.seats {
		d.dropLocked(s)
	}
}

// attachedLocked returns a's seat if a is its current, attached
// attachment.
func (d *delivery) attachedLocked(a signaling.Attachment) *seat {
	s := d.seats[seatKey{a.Room, a.Peer}]
	if s == nil || s.attach != a.ID || s.state != seatAttached {
		return nil
	}
	return s
}

// attached reports whether a is its seat's current, attached attachment.
func (d *delivery) attached(a signaling.Attachment) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.attachedLocked(a) != nil
}

// attachLocked attaches sink to s: first the held signals (held), then
// what arrived meanwhile (s.pending, without what held already had).
func (d *delivery) attachLocked(s *seat, sink signaling.Sink, held []seatMsg) {
	seen := make(map[string]bool, len(held))
	for i := range held {
		seen[held[i].ID] = true
		sink(held[i].event())
	}
	for i := range s.pending {
		if !seen[s.pending[i].ID] {
			sink(s.pending[i].event())
		}
	}
	s.pending, s.held = nil, nil
	s.sink, s.state, s.lost, s.next = sink, seatAttached, false, 0
}

// replacedLocked: the seat was resumed on another node. The connection
// here (if any) ends with replaced; held signals wait for the takeover
// request.
func (d *delivery) replacedLocked(s *seat, now time.Time) {
	if s.state == seatHandoff {
		return
	}
	if s.state == seatAttached && s.sink != nil {
		s.sink(signaling.Event{Err: signaling.ErrReplaced})
	}
	s.sink, s.state, s.until, s.lost = nil, seatHandoff, now.Add(handoffKeep), false
}

// reconcile brings this node's seats in room in line with revision rev of
// its record (nil: gone), as the registry applies it to its view (with
// registry.mu held). force: the record replaces whatever came before (a
// new watch's initial values), and counts as the seats' last write.
func (d *delivery) reconcile(room string, rec *record, rev uint64, force bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	self := d.b.cfg.Node
	for _, s := range d.byRoom[room] {
		if s.state != seatAttached && s.state != seatHeld && s.state != seatHandoff {
			continue
		}
		if !force && s.commit >= rev {
			continue
		}
		var m member
		ok := false
		if rec != nil {
			s.rec = rec
			m, ok = rec.Members[s.key.peer]
			if force {
				s.commit = rev
			}
		}
		switch {
		case ok && m.Node == self && (m.Attach == s.attach || m.Attach == s.next):
			s.lost = false
		case ok && m.Node == self:
			// Only this node resumes its seats in place, and it does
			// not write an attachment it does not hold: another node
			// restored the room from a copy older than a resume here.
			// Repair writes the attachment again.
			if s.state == seatAttached {
				s.lost = true
			}
		case ok:
			d.replacedLocked(s, now)
		case rec != nil && rec.IsKicked(s.key.peer):
			// The owner kicked it: gone for good, whether or not the
			// kicked message arrives (NATS delivers at most once).
			if s.state == seatAttached && s.sink != nil {
				s.sink(kickedEvent())
			}
			d.dropLocked(s)
		case s.state == seatAttached:
			if !s.lost {
				d.b.log.Debug("natsbackplane: the registry lost a seat", "room", room, "peer", s.key.peer, "rev", rev, "commit", s.commit, "force", force)
			}
			s.lost = true
		case s.state == seatHeld:
			d.dropLocked(s)
		}
	}
}

// forget is the registry's re-sync finding no entry for room: if this
// node holds seats there, they forget their last write (revisions start
// again from 1 when NATS lost its store), the attached ones are to be
// repaired, and forget reports true (the room is kept in the view).
func (d *delivery) forget(room string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	holds := false
	for _, s := range d.byRoom[room] {
		holds = holds || s.holds()
	}
	if !holds {
		return false
	}
	for _, s := range d.byRoom[room] {
		s.commit = 0
		if s.state == seatAttached {
			s.lost = true
		}
	}
	return true
}

// holdsIn reports whether this node holds a seat (attached or held) in
// room.
func (d *delivery) holdsIn(room string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.byRoom[room] {
		if s.holds() {
			return true
		}
	}
	return false
}

// known reports whether this node has a seat (any state) for (room, peer).
func (d *delivery) known(k seatKey) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seats[k] != nil
}

// rooms lists the rooms this node has seats in.
func (d *delivery) rooms() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.byRoom))
	for room := range d.byRoom {
		out = append(out, room)
	}
	return out
}

// ownMembers puts this node's seats in room into n, a copy of its
// record to write back: members listed as this node's keep their place
// if this node holds them (with the attachment it holds) and are dropped
// if not; held seats the copy lacks are added.
func (d *delivery) ownMembers(room string, n *record) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p, m := range n.Members {
		if m.Node != d.b.cfg.Node {
			continue
		}
		if s := d.seats[seatKey{room, p}]; s.holds() {
			m.Attach, m.HeldUntil, m.Held = s.attach, 0, s.state == seatHeld
			n.Members[p] = m
		} else {
			delete(n.Members, p)
		}
	}
	for p, s := range d.byRoom[room] {
		if _, listed := n.Members[p]; !listed && s.holds() && s.token != nil && !n.IsKicked(p) {
			n.Members[p] = s.member(d.b.cfg.Node)
		}
	}
}

// lastRecord returns the last record any seat of this node in room saw.
func (d *delivery) lastRecord(room string) *record {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.byRoom[room] {
		if s.rec != nil {
			return s.rec
		}
	}
	return nil
}

// onTakeover answers another node that resumed one of our seats: the
// connection here (if any) is replaced, the held signals go to the
// requester.
func (d *delivery) onTakeover(nm *nats.Msg) {
	t, err := decodeTakeover(nm.Data)
	if err != nil {
		d.b.log.Warn("natsbackplane: malformed takeover request", "err", err)
		return
	}
	var held []seatMsg
	d.mu.Lock()
	if s := d.seats[seatKey{t.Room, t.Peer}]; s != nil && s.attach != t.Attach &&
		(s.state == seatAttached || s.state == seatHeld || s.state == seatHandoff) {
		if s.state == seatAttached && s.sink != nil {
			s.sink(signaling.Event{Err: signaling.ErrReplaced})
		}
		held = s.held
		d.dropLocked(s)
	}
	d.mu.Unlock()
	out, _ := json.Marshal(takeoverReply{V: wireVersion, Held: held})
	_ = nm.Respond(out)
}

// requestTakeover asks node for the seat; it returns the signals that node
// held. A dead node (no responders) or a slow one gives none.
func (d *delivery) requestTakeover(ctx context.Context, node, room string, peer transport.PeerID, attach uint64) []seatMsg {
	req, _ := json.Marshal(takeover{V: wireVersion, Room: room, Peer: peer, Attach: attach})
	ctx, cancel := context.WithTimeout(ctx, takeoverTimeout)
	defer cancel()
	resp, err := d.b.nc.RequestWithContext(ctx, d.ctlSubject(node), req)
	if err != nil {
		d.b.log.Debug("natsbackplane: takeover without the previous node", "prev", node, "room", room, "peer", peer, "err", err)
		return nil
	}
	r, err := decodeTakeoverReply(resp.Data)
	if err != nil {
		d.b.log.Warn("natsbackplane: malformed takeover reply", "prev", node, "err", err)
		return nil
	}
	return r.Held
}

// publish sends m to the seat (room, peer).
func (d *delivery) publish(room string, peer transport.PeerID, m *seatMsg) error {
	m.ID = d.b.cfg.Node + "." + strconv.FormatUint(d.seq.Add(1), 10)
	if err := d.b.nc.Publish(d.seatSubject(room, peer), encodeSeatMsg(m)); err != nil {
		return unavailable("publish: %v", err)
	}
	d.b.st.published.Add(1)
	return nil
}

// publishAll sends m to every member of rec but except.
func (d *delivery) publishAll(rec *record, except transport.PeerID, m seatMsg) {
	for p := range rec.Members {
		if p != except {
			mm := m
			if err := d.publish(rec.Room, p, &mm); err != nil {
				d.b.log.Warn("natsbackplane: publish", "room", rec.Room, "to", p, "err", err)
			}
		}
	}
}
