package natsbackplane

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

// wireVersion is the version of every JSON value this package puts in the
// registry or on a subject. A node refuses values of another version (a
// rolling upgrade that changes it needs a new Bucket and Subject).
const wireVersion = 1

// Limits of decoded values, so that a corrupt or hostile value cannot make
// a node allocate without bound.
const (
	maxIDLen      = 64
	maxTextLen    = 256
	maxMembers    = 1024
	maxSignalData = 1 << 20
	maxHeld       = 1024
)

// record is a room in the registry: the value of key room.<token(room)>.
// The room's own fields (room, name, game, max, state, private, salt,
// hash) are rooms.Meta's, embedded so that the rules decide on it in
// place.
type record struct {
	V int `json:"v"`
	rooms.Meta
	Members map[transport.PeerID]member `json:"members"`
}

// member is one seat of a room.
type member struct {
	Name string `json:"name,omitempty"`
	// Token is the SHA-256 of the seat's resume token.
	Token []byte `json:"token"`
	// Node holds the seat (its connection, or its grace period); "" for a
	// seat orphaned by a node that shut down while the seat was held:
	// any node removes it after HeldUntil.
	Node   string `json:"node,omitempty"`
	Attach uint64 `json:"attach"`
	// HeldUntil is a Unix time in milliseconds (orphaned seats only).
	HeldUntil int64 `json:"held_until,omitempty"`
	// Seq is the seat's join order in the room (rooms.Meta.Seq).
	Seq uint64 `json:"seq,omitempty"`
	// Held is set while the seat waits for a resume (its connection
	// dropped): the listing counts it as held, not as a player.
	Held bool `json:"held,omitempty"`
}

func (r *record) clone() *record {
	c := *r
	c.Members = maps.Clone(r.Members)
	if c.Members == nil {
		c.Members = make(map[transport.PeerID]member)
	}
	return &c
}

func (r *record) info() signaling.RoomInfo {
	held := 0
	for _, m := range r.Members {
		if m.Held || m.Node == "" {
			held++
		}
	}
	return signaling.RoomInfo(r.Listing(len(r.Members)-held, held))
}

// seqs yields every member's peer ID and seat sequence number (for
// rooms.Meta.Left).
func (r *record) seqs(yield func(transport.PeerID, uint64) bool) {
	for p, m := range r.Members {
		if !yield(p, m.Seq) {
			return
		}
	}
}

// remove deletes peer's seat, passing ownership on by the room rules.
func (r *record) remove(peer transport.PeerID) {
	delete(r.Members, peer)
	r.Left(peer, r.seqs)
}

// peersExcept returns the members but id, sorted by ID.
func (r *record) peersExcept(id transport.PeerID) []signaling.PeerInfo {
	out := make([]signaling.PeerInfo, 0, len(r.Members))
	for p, m := range r.Members {
		if p != id {
			out = append(out, signaling.PeerInfo{ID: p, Name: m.Name})
		}
	}
	slices.SortFunc(out, func(a, b signaling.PeerInfo) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

func encodeRecord(r *record) []byte {
	b, _ := json.Marshal(r) // a record always marshals
	return b
}

// decodeRecord is total: any input gives a valid record or an error.
func decodeRecord(b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: room record: %v", errMalformed, err)
	}
	switch {
	case r.V != wireVersion:
		return nil, fmt.Errorf("%w: room record version %d, want %d", errMalformed, r.V, wireVersion)
	case r.Room == "" || len(r.Room) > maxIDLen:
		return nil, fmt.Errorf("%w: room record without a valid room", errMalformed)
	case len(r.Name) > maxTextLen || len(r.Game) > maxTextLen || len(r.State) > maxTextLen:
		return nil, fmt.Errorf("%w: room record text too long", errMalformed)
	case r.Max < 0 || len(r.Members) > maxMembers:
		return nil, fmt.Errorf("%w: room record size out of range", errMalformed)
	}
	if r.Members == nil {
		r.Members = make(map[transport.PeerID]member)
	}
	for p, m := range r.Members {
		if !validPeer(p) || len(m.Name) > maxTextLen || len(m.Node) > maxIDLen {
			return nil, fmt.Errorf("%w: room record member %q", errMalformed, truncate(string(p), 32))
		}
	}
	return &r, nil
}

// Kinds of seatMsg.
const (
	kindJoined = "joined"
	kindLeft   = "left"
	kindSignal = "signal"
	kindRoom   = "room"
	// kindKicked ends the seat's attachment with kicked (Backplane.Kick).
	kindKicked = "kicked"
)

// seatMsg is one event for one seat, published on the seat's subject.
type seatMsg struct {
	V    int                 `json:"v"`
	Kind string              `json:"k"`
	ID   string              `json:"id"` // unique per message (node.sequence)
	Peer transport.PeerID    `json:"p,omitempty"`
	Name string              `json:"n,omitempty"`
	Data []byte              `json:"d,omitempty"`
	Info *signaling.RoomInfo `json:"i,omitempty"`
}

func encodeSeatMsg(m *seatMsg) []byte {
	m.V = wireVersion
	b, _ := json.Marshal(m)
	return b
}

// decodeSeatMsg is total.
func decodeSeatMsg(b []byte) (seatMsg, error) {
	var m seatMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return seatMsg{}, fmt.Errorf("%w: seat message: %v", errMalformed, err)
	}
	if err := m.check(); err != nil {
		return seatMsg{}, err
	}
	return m, nil
}

func (m *seatMsg) check() error {
	if m.V != wireVersion {
		return fmt.Errorf("%w: seat message version %d, want %d", errMalformed, m.V, wireVersion)
	}
	if m.ID == "" || len(m.ID) > 2*maxIDLen || len(m.Name) > maxTextLen || len(m.Data) > maxSignalData {
		return fmt.Errorf("%w: seat message fields out of range", errMalformed)
	}
	switch m.Kind {
	case kindJoined, kindLeft, kindSignal, kindKicked:
		if !validPeer(m.Peer) {
			return fmt.Errorf("%w: seat message %s without a valid peer", errMalformed, m.Kind)
		}
	case kindRoom:
		if m.Info == nil {
			return fmt.Errorf("%w: room message without info", errMalformed)
		}
	default:
		return fmt.Errorf("%w: seat message kind %q", errMalformed, truncate(m.Kind, 16))
	}
	return nil
}

// event converts a checked message into what a Sink gets.
func (m *seatMsg) event() signaling.Event {
	switch m.Kind {
	case kindJoined:
		return signaling.Event{Kind: signaling.EventPeerJoined, Peer: m.Peer, Name: m.Name}
	case kindLeft:
		return signaling.Event{Kind: signaling.EventPeerLeft, Peer: m.Peer}
	case kindSignal:
		return signaling.Event{Kind: signaling.EventSignal, Peer: m.Peer, Data: m.Data}
	case kindKicked:
		return kickedEvent()
	default:
		info := *m.Info
		return signaling.Event{Kind: signaling.EventRoomUpdated, Room: &info}
	}
}

// takeover asks the node that held a seat to give it up (a resume on
// another node); the answer carries the signals it held for the seat.
type takeover struct {
	V      int              `json:"v"`
	Room   string           `json:"room"`
	Peer   transport.PeerID `json:"peer"`
	Attach uint64           `json:"attach"` // the new attachment
}

type takeoverReply struct {
	V    int       `json:"v"`
	Held []seatMsg `json:"held,omitempty"`
}

func decodeTakeover(b []byte) (takeover, error) {
	var t takeover
	if err := json.Unmarshal(b, &t); err != nil {
		return takeover{}, fmt.Errorf("%w: takeover: %v", errMalformed, err)
	}
	if t.V != wireVersion || t.Room == "" || len(t.Room) > maxIDLen || !validPeer(t.Peer) {
		return takeover{}, fmt.Errorf("%w: takeover fields out of range", errMalformed)
	}
	return t, nil
}

func decodeTakeoverReply(b []byte) (takeoverReply, error) {
	var r takeoverReply
	if err := json.Unmarshal(b, &r); err != nil {
		return takeoverReply{}, fmt.Errorf("%w: takeover reply: %v", errMalformed, err)
	}
	if r.V != wireVersion || len(r.Held) > maxHeld {
		return takeoverReply{}, fmt.Errorf("%w: takeover reply out of range", errMalformed)
	}
	for i := range r.Held {
		if err := r.Held[i].check(); err != nil {
			return takeoverReply{}, err
		}
	}
	return r, nil
}

// validPeer: what signaling's peer IDs look like (and safe in a subject).
func validPeer(p transport.PeerID) bool { return validName(string(p), maxIDLen) }

// token makes s safe as one NATS subject token and KV key token: bytes
// outside [A-Za-z0-9-] become _xx (hex), so "lobby.1" is "lobby_2e1".
// The mapping is one to one.
func token(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

func roomKey(room string) string { return "room." + token(room) }
func nodeKey(node string) string { return "node." + node }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// kickedEvent ends a seat's attachment with kicked.
func kickedEvent() signaling.Event {
	return signaling.Event{Err: &signaling.ServerError{Code: signaling.CodeKicked, Message: "kicked by the room's owner"}}
}
