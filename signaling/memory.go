package signaling

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"slices"
	"sync"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
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
	info    RoomInfo
	pwSalt  []byte
	pwHash  []byte
	members map[transport.PeerID]*memSeat
}

type memSeat struct {
	peer   transport.PeerID
	name   string
	token  string
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
	if r == nil {
		if req.MaxRooms > 0 && len(b.rooms) >= req.MaxRooms {
			return JoinResult{}, errorFor(CodeTooManyRooms, "the server holds its limit of %d rooms", req.MaxRooms)
		}
		size := req.Max
		if size <= 0 || (req.MaxRoomSize > 0 && size > req.MaxRoomSize) {
			size = req.MaxRoomSize
		}
		r = &memRoom{
			info:    RoomInfo{Room: req.Room, Game: req.Game, Max: size, Private: req.Private, Password: req.Password != ""},
			members: make(map[transport.PeerID]*memSeat),
		}
		if req.Password != "" {
			r.pwSalt = randomBytes(16)
			r.pwHash = passwordHash(r.pwSalt, req.Password)
		}
		b.rooms[req.Room] = r
	} else {
		if r.pwHash != nil && subtle.ConstantTimeCompare(passwordHash(r.pwSalt, req.Password), r.pwHash) != 1 {
			return JoinResult{}, errorFor(CodeBadPassword, "wrong password for room %s", req.Room)
		}
		if r.info.Game != "" && req.Game != "" && r.info.Game != req.Game {
			return JoinResult{}, errorFor(CodeWrongGame, "room %s plays %q, not %q", req.Room, r.info.Game, req.Game)
		}
		if r.info.Max > 0 && len(r.members) >= r.info.Max {
			return JoinResult{}, errorFor(CodeRoomFull, "room %s is full (%d of %d)", req.Room, len(r.members), r.info.Max)
		}
	}
	var id transport.PeerID
	for id == "" || r.members[id] != nil {
		id = newPeerID()
	}
	b.nextID++
	s := &memSeat{peer: id, name: req.Name, token: newToken(), attach: b.nextID, sink: sink}
	for _, m := range r.members {
		if m.sink != nil {
			m.sink(Event{Kind: PeerJoined, Peer: id, Name: req.Name})
		}
	}
	res := JoinResult{
		Attachment:  Attachment{Room: req.Room, Peer: id, ID: s.attach},
		ResumeToken: s.token,
		Peers:       r.peersExcept(id),
	}
	r.members[id] = s
	r.info.Players = len(r.members)
	res.Info = r.info
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
	if s == nil || subtle.ConstantTimeCompare([]byte(s.token), []byte(token)) != 1 {
		return JoinResult{}, errorFor(CodeResumeFailed, "no seat %s in room %s to resume", peer, room)
	}
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
		ResumeToken: s.token,
		Peers:       r.peersExcept(peer),
		Info:        r.info,
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
	r.info.Players = len(r.members)
	if len(r.members) == 0 {
		if b.rooms[r.info.Room] == r {
			delete(b.rooms, r.info.Room)
		}
		return
	}
	for _, m := range r.members {
		if m.sink != nil {
			m.sink(Event{Kind: PeerLeft, Peer: s.peer})
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
		return errorFor(CodeUnknownPeer, "no peer %s in room %s", to, a.Room)
	}
	ev := Event{Kind: Signal, Peer: a.Peer, Data: data}
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
	if meta.Name != "" {
		r.info.Name = meta.Name
	}
	if meta.Game != "" {
		r.info.Game = meta.Game
	}
	if meta.State != "" {
		r.info.State = meta.State
	}
	if meta.Max > 0 {
		r.info.Max = meta.Max
		if maxRoomSize > 0 && r.info.Max > maxRoomSize {
			r.info.Max = maxRoomSize
		}
	}
	info := r.info
	for _, m := range r.members {
		if m.sink != nil {
			i := info
			m.sink(Event{Kind: RoomUpdated, Room: &i})
		}
	}
	return info, nil
}

// Rooms implements Backplane.
func (b *MemoryBackplane) Rooms(context.Context) ([]RoomInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]RoomInfo, 0, len(b.rooms))
	for _, r := range b.rooms {
		out = append(out, r.info)
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

var peerIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newPeerID returns 16 random lowercase base32 characters (80 bits).
func newPeerID() transport.PeerID {
	return transport.PeerID(peerIDEncoding.EncodeToString(randomBytes(10)))
}

// newToken returns a 128-bit random resume token.
func newToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(16)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return b
}

func passwordHash(salt []byte, pw string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return h.Sum(nil)
}
