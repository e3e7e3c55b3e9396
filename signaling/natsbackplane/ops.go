package natsbackplane

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

// Join implements signaling.Backplane: the seat is added to the room's
// record with a compare-and-set, so admission (size, password, game)
// holds whatever other nodes do at the same moment. A room the registry
// does not have is created only if it was not lost (see absent): else it
// is restored first, and admission is decided on it, or the join fails
// with unavailable.
func (b *Backplane) Join(ctx context.Context, req signaling.JoinRequest, sink signaling.Sink) (signaling.JoinResult, error) {
	if _, err := b.registry(); err != nil {
		return signaling.JoinResult{}, err
	}
	tok, th := rooms.NewToken()
	attach := newAttach()
	var s *seat
	for s == nil {
		var err error
		if s, err = b.addSeat(seatKey{req.Room, rooms.NewPeerID()}, seatJoining); err != nil && !isBusy(err) {
			return signaling.JoinResult{}, err
		}
	}
	peer := s.key.peer
	m := member{Name: req.Name, Token: th, Node: b.cfg.Node, Attach: attach}
	var restored *record
	rec, rev, err := b.updateRetry(ctx, req.Room, func(cur *record) (*record, error) {
		restored = nil
		if cur == nil {
			n, err := b.absent(ctx, req.Room)
			if err != nil {
				return nil, err
			}
			cur, restored = n, n
		}
		if cur == nil {
			meta, err := rooms.Create(rooms.Join(req), b.roomCount(req.Room))
			if err != nil {
				return nil, fromRule(err)
			}
			return &record{V: wireVersion, Meta: meta, Members: map[transport.PeerID]member{peer: m}}, nil
		}
		if err := cur.Admit(rooms.Join(req), len(cur.Members)); err != nil {
			return nil, fromRule(err)
		}
		if _, dup := cur.Members[peer]; dup {
			return nil, refuse(signaling.CodeInternal, "peer ID collision")
		}
		n := cur.clone()
		n.Members[peer] = m
		return n, nil
	})
	if err != nil {
		b.dropSeat(s)
		return signaling.JoinResult{}, err
	}
	b.restored(restored, req.Room)
	b.mu.Lock()
	s.name, s.token, s.attach, s.commit, s.rec = req.Name, th, attach, rev, rec
	b.attachLocked(s, sink, nil)
	b.mu.Unlock()
	b.publishAll(rec, peer, seatMsg{Kind: kindJoined, Peer: peer, Name: req.Name})
	return signaling.JoinResult{
		Attachment:  signaling.Attachment{Room: req.Room, Peer: peer, ID: attach},
		ResumeToken: tok,
		Peers:       rec.peersExcept(peer),
		Info:        rec.info(),
	}, nil
}

// restored counts and logs a room that a join or resume wrote back (rec
// nil: it did not).
func (b *Backplane) restored(rec *record, room string) {
	if rec != nil {
		b.st.restored.Add(1)
		b.log.Info("natsbackplane: restored a room the registry lost", "room", room, "members", len(rec.Members))
	}
}

func isBusy(err error) bool {
	se, ok := err.(*signaling.ServerError)
	return ok && se.Code == signaling.CodeResumeFailed
}

// attachLocked attaches sink to s: first the held signals (held), then
// what arrived meanwhile (s.pending, without what held already had).
func (b *Backplane) attachLocked(s *seat, sink signaling.Sink, held []seatMsg) {
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

// roomCount is the number of live rooms but except, as this node sees
// them.
func (b *Backplane) roomCount(except string) int {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	cut := b.cutoffLocked(now)
	n := 0
	for room, c := range b.rooms {
		if room != except && !c.seen.Before(cut) {
			n++
		}
	}
	return n
}

// Resume implements signaling.Backplane. It works on any node: the seat
// and its token live in the registry. The node that held the seat before
// is asked to give it up and hands over the signals it held.
func (b *Backplane) Resume(ctx context.Context, room string, peer transport.PeerID, tok string, sink signaling.Sink) (signaling.JoinResult, error) {
	if _, err := b.registry(); err != nil {
		return signaling.JoinResult{}, err
	}
	failed := refuse(signaling.CodeResumeFailed, "no seat %s in room %s to resume", peer, room)
	if !validPeer(peer) || room == "" || len(room) > maxIDLen {
		return signaling.JoinResult{}, failed
	}
	th := rooms.TokenHash(tok)
	attach := newAttach()
	k := seatKey{room, peer}

	// A seat this node holds (attached or held) is resumed in place;
	// otherwise a new local seat subscribes before the registry changes,
	// so that nothing sent to it after the change is missed.
	var held []seatMsg
	b.mu.Lock()
	local := b.seats[k]
	switch {
	case local != nil && local.state == seatHandoff:
		held = local.held
		b.dropSeatLocked(local)
		local = nil
	case local != nil && (local.state == seatAttached || local.state == seatHeld):
		local.next = attach
	case local != nil:
		b.mu.Unlock()
		return signaling.JoinResult{}, refuse(signaling.CodeResumeFailed, "seat %s of room %s is busy", peer, room)
	}
	b.mu.Unlock()
	var fresh *seat
	if local == nil {
		var err error
		if fresh, err = b.addSeat(k, seatResuming); err != nil {
			return signaling.JoinResult{}, err
		}
	}
	var prev member
	var restored *record
	rec, rev, err := b.updateRetry(ctx, room, func(cur *record) (*record, error) {
		restored = nil
		if cur == nil {
			// The registry may have lost the room with this seat in it.
			n, err := b.absent(ctx, room)
			if err != nil {
				return nil, err
			}
			if n == nil {
				return nil, failed
			}
			cur, restored = n, n
		}
		m, ok := cur.Members[peer]
		if !ok || !rooms.TokenMatches(m.Token, tok) {
			return nil, failed
		}
		prev = m
		m.Node, m.Attach, m.HeldUntil = b.cfg.Node, attach, 0
		n := cur.clone()
		n.Members[peer] = m
		return n, nil
	})
	if err != nil {
		b.mu.Lock()
		if local != nil && local.next == attach {
			local.next = 0
		}
		b.mu.Unlock()
		if fresh != nil {
			b.dropSeat(fresh)
		}
		return signaling.JoinResult{}, err
	}
	b.restored(restored, room)
	if fresh != nil && prev.Node != "" && prev.Node != b.cfg.Node {
		held = append(held, b.requestTakeover(ctx, prev.Node, room, peer, attach)...)
		b.st.takeovers.Add(1)
	}

	b.mu.Lock()
	s := fresh
	if local != nil {
		s = local
		if b.seats[k] != local {
			// It left meanwhile (a Leave of the old attachment lost
			// the race with this resume): subscribe again.
			b.mu.Unlock()
			var err error
			if s, err = b.addSeat(k, seatResuming); err != nil {
				return signaling.JoinResult{}, err
			}
			b.mu.Lock()
		} else {
			if local.state == seatAttached && local.sink != nil {
				local.sink(signaling.Event{Err: signaling.ErrReplaced})
			}
			held = append(held, local.held...)
		}
	}
	s.name, s.token, s.attach, s.commit, s.rec = prev.Name, th, attach, rev, rec
	b.attachLocked(s, sink, held)
	b.mu.Unlock()
	return signaling.JoinResult{
		Attachment:  signaling.Attachment{Room: room, Peer: peer, ID: attach},
		ResumeToken: tok,
		Peers:       rec.peersExcept(peer),
		Info:        rec.info(),
		Resumed:     true,
	}, nil
}

// attached returns a's seat if a is its current, attached attachment.
func (b *Backplane) attachedLocked(a signaling.Attachment) *seat {
	s := b.seats[seatKey{a.Room, a.Peer}]
	if s == nil || s.attach != a.ID || s.state != seatAttached {
		return nil
	}
	return s
}

// Detach implements signaling.Backplane. The seat is held by this node:
// its signals are buffered here, and the registry is not touched unless
// the grace period ends (or this node shuts down first: see Close).
func (b *Backplane) Detach(ctx context.Context, a signaling.Attachment, grace time.Duration) error {
	b.mu.Lock()
	s := b.attachedLocked(a)
	if s == nil {
		b.mu.Unlock()
		return nil
	}
	if grace > 0 {
		s.state, s.sink, s.until = seatHeld, nil, time.Now().Add(grace)
		b.mu.Unlock()
		return nil
	}
	s.state, s.sink = seatLeaving, nil
	b.mu.Unlock()
	return b.removeSeat(ctx, s, false)
}

// Leave implements signaling.Backplane.
func (b *Backplane) Leave(ctx context.Context, a signaling.Attachment) error {
	b.mu.Lock()
	s := b.attachedLocked(a)
	if s == nil {
		b.mu.Unlock()
		return nil
	}
	s.state, s.sink = seatLeaving, nil
	b.mu.Unlock()
	return b.removeSeat(ctx, s, false)
}

// removeSeat removes s (state seatLeaving) from the registry, announces
// PeerLeft and forgets it. If the registry cannot be reached it returns
// the error, and keeps s if retry is set (the caller tries again);
// otherwise s is forgotten anyway, and the reaper removes the registry
// entry later (a seat of this node that this node does not know).
func (b *Backplane) removeSeat(ctx context.Context, s *seat, retry bool) error {
	removed := false
	rec, _, err := b.update(ctx, s.key.room, func(cur *record) (*record, error) {
		removed = false
		if cur == nil {
			return nil, errNoChange
		}
		m, ok := cur.Members[s.key.peer]
		if !ok || m.Node != b.cfg.Node || m.Attach != s.attach {
			return nil, errNoChange
		}
		removed = true
		n := cur.clone()
		delete(n.Members, s.key.peer)
		if len(n.Members) == 0 {
			return nil, nil
		}
		return n, nil
	})
	if err != nil {
		b.log.Warn("natsbackplane: could not remove a seat", "room", s.key.room, "peer", s.key.peer, "retry", retry, "err", err)
		if !retry {
			b.dropSeat(s)
		}
		return err
	}
	b.dropSeat(s)
	if removed && rec != nil {
		b.publishAll(rec, s.key.peer, seatMsg{Kind: kindLeft, Peer: s.key.peer})
	}
	return nil
}

// Signal implements signaling.Backplane: data goes to the seat's subject,
// whichever node holds it.
func (b *Backplane) Signal(ctx context.Context, a signaling.Attachment, to transport.PeerID, data []byte) error {
	b.mu.Lock()
	if b.attachedLocked(a) == nil {
		b.mu.Unlock()
		return signaling.ErrReplaced
	}
	known := false
	if c := b.rooms[a.Room]; c != nil {
		_, known = c.rec.Members[to]
	}
	b.mu.Unlock()
	unknown := refuse(signaling.CodeUnknownPeer, "no peer %s in room %s", to, a.Room)
	if to == a.Peer {
		return unknown
	}
	if !known {
		// The local view may lag behind a join announced by another node.
		rec, _, err := b.update(ctx, a.Room, func(*record) (*record, error) { return nil, errNoChange })
		if err != nil {
			return err
		}
		if rec == nil {
			return unknown
		}
		if _, ok := rec.Members[to]; !ok {
			return unknown
		}
	}
	return b.publish(a.Room, to, &seatMsg{Kind: kindSignal, Peer: a.Peer, Data: data})
}

// UpdateRoom implements signaling.Backplane.
func (b *Backplane) UpdateRoom(ctx context.Context, a signaling.Attachment, meta signaling.RoomMeta, maxRoomSize int) (signaling.RoomInfo, error) {
	b.mu.Lock()
	ok := b.attachedLocked(a) != nil
	b.mu.Unlock()
	if !ok {
		return signaling.RoomInfo{}, signaling.ErrReplaced
	}
	rec, _, err := b.update(ctx, a.Room, func(cur *record) (*record, error) {
		if cur == nil {
			return nil, signaling.ErrReplaced
		}
		if m, ok := cur.Members[a.Peer]; !ok || m.Attach != a.ID {
			return nil, signaling.ErrReplaced
		}
		n := cur.clone()
		n.Apply(rooms.Update(meta), maxRoomSize)
		return n, nil
	})
	if err != nil {
		return signaling.RoomInfo{}, err
	}
	info := rec.info()
	b.publishAll(rec, "", seatMsg{Kind: kindRoom, Info: &info})
	return info, nil
}

// Rooms implements signaling.Backplane from this node's watch of the
// registry: every node lists the same rooms, a few milliseconds apart.
// Rooms whose record was not refreshed within the TTL are left out (their
// nodes are gone; NATS expires them), unless the registry could not be
// written meanwhile (see cutoffLocked). While the node is not watching the
// registry (setting its watch up again), it fails with unavailable.
func (b *Backplane) Rooms(ctx context.Context) ([]signaling.RoomInfo, error) {
	if _, err := b.registry(); err != nil {
		return nil, err
	}
	now := time.Now()
	b.mu.Lock()
	if b.readySince.IsZero() {
		// Watching the registry again (after a reconnection or a
		// stall): the view may be stale.
		err := b.stateErr
		b.mu.Unlock()
		if err == nil {
			err = errors.New("watching the registry again")
		}
		return nil, unavailable("%v", err)
	}
	cut := b.cutoffLocked(now)
	out := make([]signaling.RoomInfo, 0, len(b.rooms))
	for _, c := range b.rooms {
		if !c.seen.Before(cut) {
			out = append(out, c.rec.info())
		}
	}
	b.mu.Unlock()
	sortRooms(out)
	return out, nil
}

func sortRooms(rs []signaling.RoomInfo) {
	slices.SortFunc(rs, func(x, y signaling.RoomInfo) int { return strings.Compare(x.Room, y.Room) })
}

// fromRule turns a rule's refusal into the *signaling.ServerError of its
// code.
func fromRule(err error) error {
	var r *rooms.Refusal
	if errors.As(err, &r) {
		return refuse(signaling.Code(r.Code), "%s", r.Message)
	}
	return err
}
