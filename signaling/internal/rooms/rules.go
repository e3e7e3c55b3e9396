package rooms

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Codes of the refusals, equal to the signaling protocol's codes of the
// same name (a test in package signaling checks it).
const (
	CodeRoomFull     = "room_full"
	CodeBadPassword  = "bad_password"
	CodeWrongGame    = "wrong_game"
	CodeTooManyRooms = "too_many_rooms"
	CodeResumeFailed = "resume_failed"
	CodeBadToken     = "bad_token"
	CodeNotOwner     = "not_owner"
	CodeKicked       = "kicked"
	CodeBadRequest   = "bad_request"
)

// Bounds of a room's lists, so that a record stays small whatever its
// members do. Overflow rules: the oldest used join token is forgotten
// (it has the nearest expiry of those kept, and tokens are short-lived);
// a kick beyond MaxKicked is refused with bad_request.
const (
	MaxUsedTokens = 256
	MaxKicked     = 64
)

// Refusal is a rule's "no": Code is a signaling protocol code.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return "rooms: " + r.Code + ": " + r.Message }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Join is a join request (identical to signaling.JoinRequest).
type Join struct {
	Room     string
	Name     string
	Game     string
	Password string
	// Private and Max apply when the join creates the room. Max 0 or above
	// MaxRoomSize means MaxRoomSize.
	Private bool
	Max     int
	// MaxRooms and MaxRoomSize are the server's limits (0 = unlimited).
	MaxRooms    int
	MaxRoomSize int
	// TokenID identifies the join token the join carries ("" = none),
	// TokenExpiry its expiry: a token admits one seat until it expires.
	TokenID     string
	TokenExpiry time.Time
	// NoCreate refuses to create the room (with too_many_rooms): the
	// joiner's address holds its share of rooms already.
	NoCreate bool
}

// Update is a listing metadata change (identical to signaling.RoomMeta):
// empty strings and a zero Max keep the current value.
type Update struct {
	Name  string
	Game  string
	State string
	Max   int
}

// Listing is a room as listed (identical to signaling.RoomInfo).
type Listing struct {
	Room     string
	Name     string
	Game     string
	Players  int
	Held     int
	Max      int
	Password bool
	State    string
	Owner    transport.PeerID
	Private  bool
}

// Meta is a room's state but its members: what the rules read and
// change. The JSON names are those of natsbackplane's registry record,
// which embeds Meta.
type Meta struct {
	Room    string `json:"room"`
	Name    string `json:"name,omitempty"`
	Game    string `json:"game,omitempty"`
	Max     int    `json:"max"`
	State   string `json:"state,omitempty"`
	Private bool   `json:"private,omitempty"`
	// Salt and Hash are the password's salt and SHA-256 (PasswordHash);
	// nil for a room without a password.
	Salt []byte `json:"salt,omitempty"`
	Hash []byte `json:"hash,omitempty"`
	// Owner is the member who may change the listing and kick: the
	// room's creator, then the oldest remaining member (lowest Seq).
	Owner transport.PeerID `json:"owner,omitempty"`
	// Seq is the sequence number of the room's latest seat: seats are
	// numbered in join order, so the oldest member has the lowest.
	Seq uint64 `json:"seq,omitempty"`
	// Kicked are the peer IDs the owner kicked: refused until unkicked
	// or the room ends. At most MaxKicked.
	Kicked []transport.PeerID `json:"kicked,omitempty"`
	// Used are the join tokens that took a seat, until they expire. At
	// most MaxUsedTokens, oldest first.
	Used []UsedToken `json:"used,omitempty"`
}

// UsedToken is a join token that took a seat: its ID and expiry (Unix
// seconds).
type UsedToken struct {
	ID  string `json:"id"`
	Exp int64  `json:"exp"`
}

// Create decides whether req may create its room while others rooms
// exist (not counting req.Room), and returns the new room's state.
func Create(req Join, others int) (Meta, error) {
	if req.NoCreate {
		return Meta{}, refuse(CodeTooManyRooms, "this address created its limit of rooms")
	}
	if req.MaxRooms > 0 && others >= req.MaxRooms {
		return Meta{}, refuse(CodeTooManyRooms, "the server holds its limit of %d rooms", req.MaxRooms)
	}
	size := req.Max
	if size <= 0 || (req.MaxRoomSize > 0 && size > req.MaxRoomSize) {
		size = req.MaxRoomSize
	}
	m := Meta{Room: req.Room, Game: req.Game, Max: size, Private: req.Private}
	if req.Password != "" {
		m.Salt = randomBytes(16)
		m.Hash = PasswordHash(m.Salt, req.Password)
	}
	return m, nil
}

// Admit decides whether req may take a seat in the existing room m, which
// has members seats (held ones included): the join token's single use,
// the password, the game (an empty game on either side matches) and the
// size.
func (m *Meta) Admit(req Join, members int, now time.Time) error {
	if req.TokenID != "" && m.tokenUsed(req.TokenID, now) {
		return refuse(CodeBadToken, "this join token already took a seat in room %s", req.Room)
	}
	if m.Hash != nil && subtle.ConstantTimeCompare(PasswordHash(m.Salt, req.Password), m.Hash) != 1 {
		return refuse(CodeBadPassword, "wrong password for room %s", req.Room)
	}
	if m.Game != "" && req.Game != "" && m.Game != req.Game {
		return refuse(CodeWrongGame, "room %s plays %q, not %q", req.Room, m.Game, req.Game)
	}
	if m.Max > 0 && members >= m.Max {
		return refuse(CodeRoomFull, "room %s is full (%d of %d)", req.Room, members, m.Max)
	}
	return nil
}

func (m *Meta) tokenUsed(id string, now time.Time) bool {
	for _, u := range m.Used {
		if u.ID == id && u.Exp > now.Unix() {
			return true
		}
	}
	return false
}

// Seat records that req took seat peer of m (a room Create made, or one
// Admit admitted) and returns the seat's sequence number: the first seat
// makes its peer the owner; the join token is marked used.
func (m *Meta) Seat(req Join, peer transport.PeerID, now time.Time) uint64 {
	m.Seq++
	if m.Owner == "" {
		m.Owner = peer
	}
	if req.TokenID != "" {
		m.Used = slices.DeleteFunc(m.Used, func(u UsedToken) bool { return u.Exp <= now.Unix() })
		if len(m.Used) >= MaxUsedTokens {
			m.Used = slices.Delete(m.Used, 0, len(m.Used)-MaxUsedTokens+1)
		}
		m.Used = append(m.Used, UsedToken{ID: req.TokenID, Exp: req.TokenExpiry.Unix()})
	}
	return m.Seq
}

// Resume decides whether peer may resume its seat.
func (m *Meta) Resume(peer transport.PeerID) error {
	if slices.Contains(m.Kicked, peer) {
		return refuse(CodeResumeFailed, "%s was kicked from room %s", peer, m.Room)
	}
	return nil
}

// Left records that peer's seat is gone; remaining are the seats left
// (peer ID and sequence number). If peer owned the room, the oldest
// remaining member owns it now ("" if none).
func (m *Meta) Left(peer transport.PeerID, remaining iter.Seq2[transport.PeerID, uint64]) {
	if m.Owner != peer {
		return
	}
	m.Owner = ""
	var best uint64
	for p, seq := range remaining {
		if p == peer {
			continue
		}
		if m.Owner == "" || seq < best || seq == best && p < m.Owner {
			m.Owner, best = p, seq
		}
	}
}

// Update applies u for member peer: only the owner may change the
// listing (a room without an owner, written by an older version, lets any
// member).
func (m *Meta) Update(peer transport.PeerID, u Update, maxRoomSize int) error {
	if m.Owner != "" && m.Owner != peer {
		return refuse(CodeNotOwner, "only the owner of room %s may change it", m.Room)
	}
	m.Apply(u, maxRoomSize)
	return nil
}

// Kick decides whether by may kick peer, a member or not (a kicked peer
// that is not seated is refused when it comes), and records it.
func (m *Meta) Kick(by, peer transport.PeerID) error {
	switch {
	case m.Owner != by:
		return refuse(CodeNotOwner, "only the owner of room %s may kick", m.Room)
	case peer == by || peer == "":
		return refuse(CodeBadRequest, "the owner cannot kick itself")
	case slices.Contains(m.Kicked, peer):
		return nil
	case len(m.Kicked) >= MaxKicked:
		return refuse(CodeBadRequest, "room %s has kicked %d peers already", m.Room, MaxKicked)
	}
	m.Kicked = append(m.Kicked, peer)
	return nil
}

// Unkick lets peer come back; only the owner may.
func (m *Meta) Unkick(by, peer transport.PeerID) error {
	if m.Owner != by {
		return refuse(CodeNotOwner, "only the owner of room %s may unkick", m.Room)
	}
	m.Kicked = slices.DeleteFunc(m.Kicked, func(p transport.PeerID) bool { return p == peer })
	if len(m.Kicked) == 0 {
		m.Kicked = nil
	}
	return nil
}

// IsKicked reports whether peer is kicked from m.
func (m *Meta) IsKicked(peer transport.PeerID) bool { return slices.Contains(m.Kicked, peer) }

// Apply merges u into m: empty strings and a zero Max keep the current
// value; Max is clamped to maxRoomSize (0 = unlimited).
func (m *Meta) Apply(u Update, maxRoomSize int) {
	cur := Update{Name: m.Name, Game: m.Game, State: m.State, Max: m.Max}
	cur.Merge(u)
	m.Name, m.Game, m.State, m.Max = cur.Name, cur.Game, cur.State, cur.Max
	if u.Max > 0 && maxRoomSize > 0 && m.Max > maxRoomSize {
		m.Max = maxRoomSize
	}
}

// Merge applies v to u: empty strings and a zero Max keep u's value. The
// one merge of listing metadata (the server's Apply, and a client's
// pending update through signaling.RoomMeta.Merge).
func (u *Update) Merge(v Update) {
	if v.Name != "" {
		u.Name = v.Name
	}
	if v.Game != "" {
		u.Game = v.Game
	}
	if v.State != "" {
		u.State = v.State
	}
	if v.Max > 0 {
		u.Max = v.Max
	}
}

// Listing is m's listing entry with players attached members and held
// seats (resume grace) held.
func (m *Meta) Listing(players, held int) Listing {
	return Listing{
		Room: m.Room, Name: m.Name, Game: m.Game, Players: players, Held: held, Max: m.Max,
		Password: len(m.Hash) > 0, State: m.State, Owner: m.Owner, Private: m.Private,
	}
}

var peerIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewPeerID returns 16 random lowercase base32 characters (80 bits).
func NewPeerID() transport.PeerID {
	return transport.PeerID(peerIDEncoding.EncodeToString(randomBytes(10)))
}

// NewToken returns a new 128-bit random resume token and its hash (what
// a backplane stores).
func NewToken() (token string, hash []byte) {
	token = base64.RawURLEncoding.EncodeToString(randomBytes(16))
	return token, TokenHash(token)
}

// TokenHash is the SHA-256 of a resume token.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// TokenMatches reports, in constant time, whether token hashes to hash.
func TokenMatches(hash []byte, token string) bool {
	return len(hash) > 0 && subtle.ConstantTimeCompare(TokenHash(token), hash) == 1
}

// TokenID is the ID a join token is remembered by: its SHA-256, hex.
func TokenID(joinToken string) string {
	h := sha256.Sum256([]byte(joinToken))
	var b strings.Builder
	for _, c := range h[:12] {
		fmt.Fprintf(&b, "%02x", c)
	}
	return b.String()
}

// PasswordHash is the salted SHA-256 of a room password.
func PasswordHash(salt []byte, pw string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return h.Sum(nil)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return b
}
