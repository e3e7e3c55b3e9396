package signaling

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

// heldSignals bounds the signals buffered for a held (disconnected) seat;
// past it the oldest are dropped.
const heldSignals = 64

// MemoryBackplane is the in-process Backplane: one Server, or several
// Servers in one process. It is the default of a zero Server. Safe for
// concurrent use.
type MemoryBackplane struct {
	mu     sync.Mutex // guards all following fields
	rooms  map[string]*memRoom
	nextID uint64
	closed bool
}

type memRoom struct {
	meta    rooms.Meta
	members map[transport.PeerID]*memSeat
}

func (r *memRoom) info() RoomInfo {
	held := 0
	for _, m := range r.members {
		if m.attach == 0 {
			held++
		}
	}
	return RoomInfo(r.meta.Listing(len(r.members)-held, held))
}

// seqs yields every member's peer ID and seat sequence number.
func (r *memRoom) seqs(yield func(transport.PeerID, uint64) bool) {
	for p, m := range r.members {
		if !yield(p, m.seq) {
			return
		}
	}
}

type memSeat struct {
	peer   transport.PeerID
	name   string
	token  []byte // hash of the resume token
	seq    uint64 // join order in the room
	attach uint64 // current attachment ID; 0 while held
	sink   Sink
	timer  *time.Timer // grace timer while held
	held   []Event     // signals that arrived while held
}

// NewMemoryBackplane returns an empty in-memory backplane.
func NewMemoryBackplane() *MemoryBackplane {
	return &MemoryBackplane{rooms: make(map[string]*memRoom)}
}

func (b *MemoryBackplane) lockedOpen() error {
	if b.closed {
		return ErrShutdown
	}
	if b.rooms == nil {
		b.rooms = make(map[string]*memRoom)
	}
	return nil
}

// Join implements Backplane.
func (b *MemoryBackplane) Join(_ context.Context, req JoinRequest, sink Sink) (JoinResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.lockedOpen(); err != nil {
		return JoinResult{}, err
	}
	r := b.rooms[req.Room]
	created := r == nil
	if r == nil {
		m, err := rooms.Create(rooms.Join(req), len(b.rooms))
		if err != nil {
			return JoinResult{}, fromRule(err)
		}
		r = &memRoom{meta: m, members: make(map[transport.PeerID]*memSeat)}
		b.rooms[req.Room] = r
	} else if err := r.meta.Admit(rooms.Join(req), len(r.members), time.Now()); err != nil {
		return JoinResult{}, fromRule(err)
	}
	var id transport.PeerID
	for id == "" || r.members[id] != nil || r.meta.IsKicked(id) {
		id = rooms.NewPeerID()
	}
	b.nextID++
	tok, th := rooms.NewToken()
	seq := r.meta.Seat(rooms.Join(req), id, time.Now())
	s := &memSeat{peer: id, name: req.Name, token: th, seq: seq, attach: b.nextID, sink: sink}
	for _, m := range r.members {
		if m.sink != nil {
			m.sink(Event{Kind: EventPeerJoined, Peer: id, Name: req.Name})
		}
	}
	res := JoinResult{
		Attachment:  Attachment{Room: req.Room, Peer: id, ID: s.attach},
		ResumeToken: tok,
		Peers:       r.peersExcept(id),
	}
	r.members[id] = s
	res.Info, res.Created = r.info(), created
	return res, nil
}

// Resume implements Backplane.
func (b *MemoryBackplane) Resume(_ context.Context, room string, peer transport.PeerID, token string, sink Sink) (JoinResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.lockedOpen(); err != nil {
		return JoinResult{}, err
	}
	r := b.rooms[room]
	var s *memSeat
	if r != nil {
		s = r.members[peer]
	}
	if s == nil || !rooms.TokenMatches(s.token, token) {
		return JoinResult{}, proto.ErrorFor(CodeResumeFailed, "no seat %s in room %s to resume", peer, room)
	}
	if err := r.meta.Resume(peer); err != nil {
		return JoinResult{}, fromRule(err)
	}
	token, s.token = rooms.NewToken() // the token is single-use: a stolen one is void after the owner's resume
	if s.sink != nil {
		s.sink(Event{Err: ErrReplaced})
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	b.nextID++
	s.attach, s.sink = b.nextID, sink
	for _, ev := range s.held {
		sink(ev)
	}
	s.held = nil
	return JoinResult{
		Attachment:  Attachment{Room: room, Peer: peer, ID: s.attach},
		ResumeToken: token,
		Peers:       r.peersExcept(peer),
		Info:        r.info(),
		Resumed:     true,
	}, nil
}

// lockedSeat returns a's seat if a is its current attachment.
func (b *MemoryBackplane) lockedSeat(a Attachment) (*memRoom, *memSeat) {
	r := b.rooms[a.Room]
	if r == nil {
		return nil, nil
	}
	s := r.members[a.Peer]
	if s == nil || s.attach != a.ID {
		return r, nil
	}
	return r, s
}

// Detach implements Backplane.
func (b *MemoryBackplane) Detach(_ context.Context, a Attachment, grace time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, s := b.lockedSeat(a)
	if s == nil || b.closed {
		return nil
	}
	if grace <= 0 {
		b.lockedRemove(r, s)
		return nil
	}
	s.attach, s.sink = 0, nil
	s.timer = time.AfterFunc(grace, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if r.members[s.peer] == s && s.attach == 0 && !b.closed {
			b.lockedRemove(r, s)
		}
	})
	return nil
}

// Leave implements Backplane.
func (b *MemoryBackplane) Leave(_ context.Context, a Attachment) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, s := b.lockedSeat(a); s != nil {
		b.lockedRemove(r, s)
	}
	return nil
}

func (b *MemoryBackplane) lockedRemove(r *memRoom, s *memSeat) {
	if s.timer != nil {
		s.timer.Stop()
	}
	delete(r.members, s.peer)
	owner := r.meta.Owner
	r.meta.Left(s.peer, r.seqs)
	if len(r.members) == 0 {
		if b.rooms[r.meta.Room] == r {
			delete(b.rooms, r.meta.Room)
		}
		return
	}
	for _, m := range r.members {
		if m.sink != nil {
			m.sink(Event{Kind: EventPeerLeft, Peer: s.peer})
		}
	}
	if r.meta.Owner != owner {
		b.lockedBroadcastInfo(r) // the members learn the new owner
	}
}

// lockedBroadcastInfo sends r's listing to every attached member.
func (b *MemoryBackplane) lockedBroadcastInfo(r *memRoom) {
	info := r.info()
	for _, m := range r.members {
		if m.sink != nil {
			i := info
			m.sink(Event{Kind: EventRoomUpdated, Room: &i})
		}
	}
}

// Signal implements Backplane.
func (b *MemoryBackplane) Signal(_ context.Context, a Attachment, to transport.PeerID, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, s := b.lockedSeat(a)
	if s == nil {
		return ErrReplaced
	}
	t := r.members[to]
	if t == nil || to == a.Peer {
		return proto.ErrorFor(CodeUnknownPeer, "no peer %s in room %s", to, a.Room)
	}
	ev := Event{Kind: EventSignal, Peer: a.Peer, Data: data}
	if t.sink != nil {
		t.sink(ev)
		return nil
	}
	if len(t.held) >= heldSignals {
		t.held = slices.Delete(t.held, 0, 1)
	}
	t.held = append(t.held, ev)
	return nil
}

// UpdateRoom implements Backplane.
func (b *MemoryBackplane) UpdateRoom(_ context.Context, a Attachment, meta RoomMeta, maxRoomSize int) (RoomInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, s := b.lockedSeat(a)
	if s == nil {
		return RoomInfo{}, ErrReplaced
	}
	if err := r.meta.Update(a.Peer, rooms.Update(meta), maxRoomSize); err != nil {
		return RoomInfo{}, fromRule(err)
	}
	b.lockedBroadcastInfo(r)
	return r.info(), nil
}

// Kick implements Backplane.
func (b *MemoryBackplane) Kick(_ context.Context, a Attachment, peer transport.PeerID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, s := b.lockedSeat(a)
	if s == nil {
		return ErrReplaced
	}
	if err := r.meta.Kick(a.Peer, peer); err != nil {
		return fromRule(err)
	}
	if t := r.members[peer]; t != nil {
		if t.sink != nil {
			t.sink(Event{Err: proto.ErrorFor(CodeKicked, "kicked by the owner of room %s", a.Room)})
		}
		b.lockedRemove(r, t)
	}
	return nil
}

// Unkick implements Backplane.
func (b *MemoryBackplane) Unkick(_ context.Context, a Attachment, peer transport.PeerID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, s := b.lockedSeat(a)
	if s == nil {
		return ErrReplaced
	}
	return fromRule(r.meta.Unkick(a.Peer, peer))
}

// Rooms implements Backplane.
func (b *MemoryBackplane) Rooms(context.Context) ([]RoomInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]RoomInfo, 0, len(b.rooms))
	for _, r := range b.rooms {
		out = append(out, r.info())
	}
	slices.SortFunc(out, func(x, y RoomInfo) int {
		if x.Room < y.Room {
			return -1
		}
		if x.Room > y.Room {
			return 1
		}
		return 0
	})
	return out, nil
}

// Close drops every room and stops the grace timers. Further joins fail
// with ErrShutdown.
func (b *MemoryBackplane) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, r := range b.rooms {
		for _, s := range r.members {
			if s.timer != nil {
				s.timer.Stop()
			}
		}
	}
	b.rooms = nil
	return nil
}

func (r *memRoom) peersExcept(id transport.PeerID) []PeerInfo {
	out := make([]PeerInfo, 0, len(r.members))
	for _, m := range r.members {
		if m.peer != id {
			out = append(out, PeerInfo{ID: m.peer, Name: m.name})
		}
	}
	slices.SortFunc(out, func(x, y PeerInfo) int {
		if x.ID < y.ID {
			return -1
		}
		if x.ID > y.ID {
			return 1
		}
		return 0
	})
	return out
}

// fromRule turns a rule's refusal into the *ServerError of its code.
func fromRule(err error) error {
	var r *rooms.Refusal
	if errors.As(err, &r) {
		return &ServerError{Code: Code(r.Code), Message: r.Message}
	}
	return err
}
