package signaling

import (
	"context"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Backplane is the room registry and message bus behind a Server: it admits
// members to rooms, holds their seats, delivers signals and membership
// events between members, and lists rooms. Servers that share one Backplane
// serve the same rooms: that is how several signald nodes form one service.
// The zero Server uses NewMemoryBackplane (one process); a NATS
// implementation lives outside this package so that it does not pull NATS
// into the library.
//
// The clustered implementation is package signaling/natsbackplane: the
// registry (room info, password hash, seats with name, resume token hash
// and node) is a JetStream KV bucket with a TTL, changed by
// compare-and-set on the revision so that size limits hold when joins
// race on different nodes; each node delivers to its seats from one
// subject per seat, so events a node publishes for one member keep their
// order; live nodes heartbeat and refresh their rooms, so a dead node's
// entries expire by TTL. Resume works from any node because the seat and
// its token live in the registry. Attachment.ID must then be unique
// cluster-wide.
//
// Implementations are safe for concurrent use. Ordering rule: the events
// and signals delivered to one member arrive in the order the backplane
// decided them, so a peer-joined always precedes that peer's signals, and a
// Join or Resume result's peer list is consistent with the events that
// follow it.
type Backplane interface {
	// Join admits a new member (creating the room if it does not exist),
	// enforcing the room's password, size, game and the room-count limit,
	// and attaches sink to the new seat. The other members get a
	// PeerJoined event.
	Join(ctx context.Context, req JoinRequest, sink Sink) (JoinResult, error)
	// Resume re-attaches sink to the seat of peer in room if token is the
	// seat's resume token and the seat still exists (attached or held).
	// The result carries a new resume token: the old one is void. A
	// previous attachment of the seat is replaced: its sink gets an
	// EventKindUnknown event with Err = ErrReplaced, and nothing more.
	// Signals that arrived while the seat was held are delivered to sink
	// right after.
	Resume(ctx context.Context, room string, peer transport.PeerID, token string, sink Sink) (JoinResult, error)
	// Detach ends attachment a because its connection was lost: the seat
	// is held for grace (signals to it are buffered, bounded) and then
	// removed, announcing PeerLeft. A stale attachment is ignored.
	Detach(ctx context.Context, a Attachment, grace time.Duration) error
	// Leave removes a's seat now, announcing PeerLeft. A stale attachment
	// is ignored.
	Leave(ctx context.Context, a Attachment) error
	// Signal delivers data from a's seat to the member to. It returns an
	// error matching ErrUnknownPeer if to is not a member of the room, and
	// ErrReplaced if a is no longer the seat's attachment. The backplane
	// owns data after the call.
	Signal(ctx context.Context, a Attachment, to transport.PeerID, data []byte) error
	// UpdateRoom applies meta to a's room (empty strings and zero Max keep
	// the current value; Max is clamped to maxRoomSize) and broadcasts the
	// new info to every member as a RoomUpdated event. Only the room's
	// owner may: others get an error matching ErrNotOwner.
	UpdateRoom(ctx context.Context, a Attachment, meta RoomMeta, maxRoomSize int) (RoomInfo, error)
	// Kick removes peer's seat from a's room at once (no grace; its sink
	// gets an Event with Err matching ErrKicked) and refuses peer in that
	// room until Unkick or the room ends. Only the owner may (ErrNotOwner).
	Kick(ctx context.Context, a Attachment, peer transport.PeerID) error
	// Unkick lets peer come back to a's room. Owner only.
	Unkick(ctx context.Context, a Attachment, peer transport.PeerID) error
	// Rooms returns every room, private ones included (Private set),
	// sorted by Room.
	Rooms(ctx context.Context) ([]RoomInfo, error)
	// Close releases the backplane. Servers never close a Backplane they
	// were given; the default one is closed by the Server.
	Close() error
}

// Sink receives what the backplane delivers to one attached member. It is
// called from backplane goroutines, possibly under backplane locks, so it
// must not block and must not call the Backplane: it queues or drops (the
// Server's sink closes a connection whose queue is full). The sink owns
// ev.Data. An event of kind EventKindUnknown with Err set ends the
// attachment: ErrReplaced (the seat was resumed elsewhere), or another
// error, ideally a *ServerError, that the Server sends to the client
// before closing (e.g. resume_failed when a clustered backplane lost the
// seat). Nothing more is delivered to that sink.
type Sink func(ev Event)

// JoinRequest is what Backplane.Join needs to admit a member.
type JoinRequest struct {
	Room     string
	Name     string
	Game     string
	Password string
	// Private and Max apply when the join creates the room. Max 0 or above
	// MaxRoomSize means MaxRoomSize.
	Private bool
	Max     int
	// MaxRooms and MaxRoomSize are the Server's limits (0 = unlimited).
	MaxRooms    int
	MaxRoomSize int
	// TokenID identifies the join token the join carries ("" = none) and
	// TokenExpiry is its expiry: a token takes one seat until it expires,
	// so the backplane remembers it in the room.
	TokenID     string
	TokenExpiry time.Time
	// NoCreate refuses to create the room (too_many_rooms): the
	// joiner's address holds the Server's MaxRoomsPerIP already.
	NoCreate bool
}

// JoinResult is an admitted member's seat.
type JoinResult struct {
	Attachment
	// ResumeToken lets a new connection resume this seat (Backplane.Resume).
	ResumeToken string
	// Peers are the other members, sorted by ID.
	Peers []PeerInfo
	// Info is the room's current listing entry.
	Info RoomInfo
	// Resumed is true for the result of Resume.
	Resumed bool
	// Created is true if this join created the room.
	Created bool
}

// Attachment identifies one connection's hold on a seat: a resumed seat gets
// a new attachment, and calls with the old one are ignored or refused.
type Attachment struct {
	Room string
	Peer transport.PeerID
	ID   uint64
}
