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
	if _, err := b.reg.kvNow(); err != nil {
		return signaling.JoinResult{}, err
	}
	tok, th := rooms.NewToken()
	attach := newAttach()
	var s *seat
	for s == nil {
		var err error
		if s, err = b.dl.add(seatKey{req.Room, rooms.NewPeerID()}, seatJoining); err != nil && !isBusy(err) {
			return signaling.JoinResult{}, err
		}
	}
	peer := s.key.peer
	m := member{Name: req.Name, Token: th, Node: b.cfg.Node, Attach: attach}
	var restored *record
	created := false
	rec, rev, err := b.reg.updateRetry(ctx, req.Room, func(cur *record) (*record, error) {
		restored, created = nil, false
		if cur == nil {
			n, err := b.reg.absent(ctx, req.Room)
			if err != nil {
				return nil, err
			}
			cur, restored = n, n
		}
		if cur == nil {
			meta, err := rooms.Create(rooms.Join(req), b.reg.roomCount(req.Room))
			if err != nil {
				return nil, fromRule(err)
			}
			n := &record{V: wireVersion, Meta: meta, Members: map[transport.PeerID]member{}}
			created = true
			sm := m
			sm.Seq = n.Seat(rooms.Join(req), peer, time.Now())
			n.Members[peer] = sm
			return n, nil
		}
		if err := cur.Admit(rooms.Join(req), len(cur.Members), time.Now()); err != nil {
			return nil, fromRule(err)
		}
		if _, dup := cur.Members[peer]; dup || cur.IsKicked(peer) {
			return nil, refuse(signaling.CodeInternal, "peer ID collision")
		}
		n := cur.clone()
		n.fixOwner()
		sm := m
		sm.Seq = n.Seat(rooms.Join(req), peer, time.Now())
		n.Members[peer] = sm
		return n, nil
	})
	if err != nil {
		b.dl.drop(s)
		return signaling.JoinResult{}, err
	}
	b.reg.restored(restored, req.Room)
	b.dl.mu.Lock()
	s.name, s.token, s.attach, s.commit, s.rec = req.Name, th, attach, rev, rec
	b.dl.attachLocked(s, sink, nil)
	b.dl.mu.Unlock()
	b.dl.publishAll(rec, peer, seatMsg{Kind: kindJoined, Peer: peer, Name: req.Name})
	return signaling.JoinResult{
		Attachment:  signaling.Attachment{Room: req.Room, Peer: peer, ID: attach},
		ResumeToken: tok,
		Peers:       rec.peersExcept(peer),
		Info:        rec.info(),
		Created:     created,
	}, nil
}

func isBusy(err error) bool {
	se, ok := err.(*signaling.ServerError)
	return ok && se.Code == signaling.CodeResumeFailed
}

// Resume implements signaling.Backplane. It works on any node: the seat
// and its token live in the registry. The node that held the seat before
// is asked to give it up and hands over the signals it held.
func (b *Backplane) Resume(ctx context.Context, room string, peer transport.PeerID, tok string, sink signaling.Sink) (signaling.JoinResult, error) {
	if _, err := b.reg.kvNow(); err != nil {
		return signaling.JoinResult{}, err
	}
	failed := refuse(signaling.CodeResumeFailed, "no seat %s in room %s to resume", peer, room)
	if !validPeer(peer) || room == "" || len(room) > maxIDLen {
		return signaling.JoinResult{}, failed
	}
	// The token is single-use: the seat gets a new one, so a stolen
	// token is void after the owner's next resume.
	newTok, th := rooms.NewToken()
	attach := newAttach()
	k := seatKey{room, peer}

	// A seat this node holds (attached or held) is resumed in place;
	// otherwise a new local seat subscribes before the registry changes,
	// so that nothing sent to it after the change is missed.
	var held []seatMsg
	b.dl.mu.Lock()
	local := b.dl.seats[k]
	switch {
	case local != nil && local.state == seatHandoff:
		held = local.held
		b.dl.dropLocked(local)
		local = nil
	case local != nil && (local.state == seatAttached || local.state == seatHeld):
		local.next = attach
	case local != nil:
		b.dl.mu.Unlock()
		return signaling.JoinResult{}, refuse(signaling.CodeResumeFailed, "seat %s of room %s is busy", peer, room)
	}
	b.dl.mu.Unlock()
	var fresh *seat
	if local == nil {
		var err error
		if fresh, err = b.dl.add(k, seatResuming); err != nil {
			return signaling.JoinResult{}, err
		}
	}
	var prev member
	var restored *record
	rec, rev, err := b.reg.updateRetry(ctx, room, func(cur *record) (*record, error) {
		restored = nil
		if cur == nil {
			// The registry may have lost the room with this seat in it.
			n, err := b.reg.absent(ctx, room)
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
		if err := cur.Resume(peer); err != nil {
			return nil, fromRule(err)
		}
		prev = m
		m.Node, m.Attach, m.HeldUntil, m.Held, m.Token = b.cfg.Node, attach, 0, false, th
		n := cur.clone()
		n.Members[peer] = m
		return n, nil
	})
	if err != nil {
		b.dl.mu.Lock()
		if local != nil && local.next == attach {
			local.next = 0
		}
		b.dl.mu.Unlock()
		if fresh != nil {
			b.dl.drop(fresh)
		}
		return signaling.JoinResult{}, err
	}
	b.reg.restored(restored, room)
	if fresh != nil && prev.Node != "" && prev.Node != b.cfg.Node {
		held = append(held, b.dl.requestTakeover(ctx, prev.Node, room, peer, attach)...)
		b.st.takeovers.Add(1)
	}

	b.dl.mu.Lock()
	s := fresh
	if local != nil {
		s = local
		if b.dl.seats[k] != local {
			// It left meanwhile (a Leave of the old attachment lost
			// the race with this resume): subscribe again.
			b.dl.mu.Unlock()
			var err error
			if s, err = b.dl.add(k, seatResuming); err != nil {
				return signaling.JoinResult{}, err
			}
			b.dl.mu.Lock()
		} else {
			if local.state == seatAttached && local.sink != nil {
				local.sink(signaling.Event{Err: signaling.ErrReplaced})
			}
			held = append(held, local.held...)
		}
	}
	s.name, s.token, s.attach, s.commit, s.rec = prev.Name, th, attach, rev, rec
	b.dl.attachLocked(s, sink, held)
	b.dl.mu.Unlock()
	return signaling.JoinResult{
		Attachment:  signaling.Attachment{Room: room, Peer: peer, ID: attach},
		ResumeToken: newTok,
		Peers:       rec.peersExcept(peer),
		Info:        rec.info(),
		Resumed:     true,
	}, nil
}

// Detach implements signaling.Backplane. The seat is held by this node:
// its signals are buffered here, and the registry is not touched unless
// the grace period ends (or this node shuts down first: see Close).
func (b *Backplane) Detach(ctx context.Context, a signaling.Attachment, grace time.Duration) error {
	b.dl.mu.Lock()
	s := b.dl.attachedLocked(a)
	if s == nil {
		b.dl.mu.Unlock()
		return nil
	}
	if grace > 0 {
		s.state, s.sink, s.until = seatHeld, nil, time.Now().Add(grace)
		b.dl.mu.Unlock()
		b.markHeld(ctx, s.key, a.ID)
		return nil
	}
	s.state, s.sink = seatLeaving, nil
	b.dl.mu.Unlock()
	return b.removeSeat(ctx, s, false)
}

// markHeld marks the seat held in the registry, so that every node lists
// it as held rather than as a player. Best effort: a failure only leaves
// the listing showing a player until the grace ends.
func (b *Backplane) markHeld(ctx context.Context, k seatKey, attach uint64) {
	_, _, err := b.reg.update(ctx, k.room, func(cur *record) (*record, error) {
		if cur == nil {
			return nil, errNoChange
		}
		m, ok := cur.Members[k.peer]
		if !ok || m.Node != b.cfg.Node || m.Attach != attach || m.Held {
			return nil, errNoChange
		}
		n := cur.clone()
		m.Held = true
		n.Members[k.peer] = m
		return n, nil
	})
	if err != nil {
		b.log.Debug("natsbackplane: could not mark a seat held", "room", k.room, "peer", k.peer, "err", err)
	}
}

// Kick implements signaling.Backplane: the seat leaves the registry at
// once, the peer ID joins the room's kicked list, and the node holding the
// seat ends its attachment with kicked (it sees its seat gone from the
// record).
func (b *Backplane) Kick(ctx context.Context, a signaling.Attachment, peer transport.PeerID) error {
	b.dl.mu.Lock()
	ok := b.dl.attachedLocked(a) != nil
	b.dl.mu.Unlock()
	if !ok {
		return signaling.ErrReplaced
	}
	removed := false
	rec, _, err := b.reg.update(ctx, a.Room, func(cur *record) (*record, error) {
		removed = false
		if cur == nil {
			return nil, signaling.ErrReplaced
		}
		if err := current(cur, a); err != nil {
			return nil, err
		}
		n := cur.clone()
		n.fixOwner()
		if err := n.Kick(a.Peer, peer); err != nil {
			return nil, fromRule(err)
		}
		if _, ok := n.Members[peer]; ok {
			n.remove(peer)
			removed = true
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	if removed {
		b.dl.publish(a.Room, peer, &seatMsg{Kind: kindKicked, Peer: peer})
		b.dl.publishAll(rec, peer, seatMsg{Kind: kindLeft, Peer: peer})
	}
	return nil
}

// current checks that a is its seat's attachment in cur, the room's
// record: if not, a request of a's fails with replaced, or with kicked if
// the owner kicked a's peer. This node may not have applied that kick yet
// (its watch and the kicked message lag behind the record), and the
// Server ends the connection with the first reason it learns: the member
// must learn kicked, not replaced.
func current(cur *record, a signaling.Attachment) error {
	m, ok := cur.Members[a.Peer]
	switch {
	case ok && m.Attach == a.ID:
		return nil
	case !ok && cur.IsKicked(a.Peer):
		return kickedEvent().Err
	}
	return signaling.ErrReplaced
}

// Unkick implements signaling.Backplane.
func (b *Backplane) Unkick(ctx context.Context, a signaling.Attachment, peer transport.PeerID) error {
	b.dl.mu.Lock()
	ok := b.dl.attachedLocked(a) != nil
	b.dl.mu.Unlock()
	if !ok {
		return signaling.ErrReplaced
	}
	_, _, err := b.reg.update(ctx, a.Room, func(cur *record) (*record, error) {
		if cur == nil {
			return nil, signaling.ErrReplaced
		}
		n := cur.clone()
		n.fixOwner()
		if err := n.Unkick(a.Peer, peer); err != nil {
			return nil, fromRule(err)
		}
		return n, nil
	})
	return err
}

// fixOwner passes ownership on if the owner's seat is gone by a path that
// did not apply the rule (a reap, a repair).
func (r *record) fixOwner() {
	if _, ok := r.Members[r.Owner]; r.Owner != "" && !ok {
		r.Left(r.Owner, r.seqs)
	}
}

// Leave implements signaling.Backplane.
func (b *Backplane) Leave(ctx context.Context, a signaling.Attachment) error {
	b.dl.mu.Lock()
	s := b.dl.attachedLocked(a)
	if s == nil {
		b.dl.mu.Unlock()
		return nil
	}
	s.state, s.sink = seatLeaving, nil
	b.dl.mu.Unlock()
	return b.removeSeat(ctx, s, false)
}

// removeSeat removes s (state seatLeaving) from the registry, announces
// PeerLeft and forgets it. If the registry cannot be reached it returns
// the error, and keeps s if retry is set (the caller tries again);
// otherwise s is forgotten anyway, and the reaper removes the registry
// entry later (a seat of this node that this node does not know).
func (b *Backplane) removeSeat(ctx context.Context, s *seat, retry bool) error {
	removed := false
	rec, _, err := b.reg.update(ctx, s.key.room, func(cur *record) (*record, error) {
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
		n.remove(s.key.peer)
		if len(n.Members) == 0 {
			return nil, nil
		}
		return n, nil
	})
	if err != nil {
		b.log.Warn("natsbackplane: could not remove a seat", "room", s.key.room, "peer", s.key.peer, "retry", retry, "err", err)
		if !retry {
			b.dl.drop(s)
		}
		return err
	}
	b.dl.drop(s)
	if removed && rec != nil {
		b.dl.publishAll(rec, s.key.peer, seatMsg{Kind: kindLeft, Peer: s.key.peer})
	}
	return nil
}

// Signal implements signaling.Backplane: data goes to the seat's subject,
// whichever node holds it.
func (b *Backplane) Signal(ctx context.Context, a signaling.Attachment, to transport.PeerID, data []byte) error {
	if !b.dl.attached(a) {
		return signaling.ErrReplaced
	}
	known := b.reg.hasMember(a.Room, to)
	unknown := refuse(signaling.CodeUnknownPeer, "no peer %s in room %s", to, a.Room)
	if to == a.Peer {
		return unknown
	}
	if !known {
		// The local view may lag behind a join announced by another node.
		rec, _, err := b.reg.update(ctx, a.Room, func(*record) (*record, error) { return nil, errNoChange })
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
	return b.dl.publish(a.Room, to, &seatMsg{Kind: kindSignal, Peer: a.Peer, Data: data})
}

// UpdateRoom implements signaling.Backplane.
func (b *Backplane) UpdateRoom(ctx context.Context, a signaling.Attachment, meta signaling.RoomMeta, maxRoomSize int) (signaling.RoomInfo, error) {
	if !b.dl.attached(a) {
		return signaling.RoomInfo{}, signaling.ErrReplaced
	}
	rec, _, err := b.reg.update(ctx, a.Room, func(cur *record) (*record, error) {
		if cur == nil {
			return nil, signaling.ErrReplaced
		}
		if err := current(cur, a); err != nil {
			return nil, err
		}
		n := cur.clone()
		n.fixOwner()
		if err := n.Update(a.Peer, rooms.Update(meta), maxRoomSize); err != nil {
			return nil, fromRule(err)
		}
		return n, nil
	})
	if err != nil {
		return signaling.RoomInfo{}, err
	}
	info := rec.info()
	b.dl.publishAll(rec, "", seatMsg{Kind: kindRoom, Info: &info})
	return info, nil
}

// Rooms implements signaling.Backplane from this node's watch of the
// registry: every node lists the same rooms, a few milliseconds apart.
// Rooms whose record was not refreshed within the TTL are left out (their
// nodes are gone; NATS expires them), unless the registry could not be
// written meanwhile (see window.cutoff). While the node is not watching the
// registry (setting its watch up again), it fails with unavailable.
func (b *Backplane) Rooms(ctx context.Context) ([]signaling.RoomInfo, error) {
	if _, err := b.reg.kvNow(); err != nil {
		return nil, err
	}
	out, ok := b.reg.list(time.Now())
	if !ok {
		// Watching the registry again (after a reconnection or a
		// stall): the view may be stale.
		err := b.health.get().Err
		if err == nil {
			err = errors.New("watching the registry again")
		}
		return nil, unavailable("%v", err)
	}
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
