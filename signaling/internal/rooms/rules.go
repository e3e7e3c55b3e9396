package rooms

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"

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
	Max      int
	Password bool
	State    string
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
}

// Create decides whether req may create its room while others rooms
// exist (not counting req.Room), and returns the new room's state.
func Create(req Join, others int) (Meta, error) {
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
// has members seats: the password, the game (an empty game on either side
// matches) and the size.
func (m *Meta) Admit(req Join, members int) error {
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

// Apply merges u into m: empty strings and a zero Max keep the current
// value; Max is clamped to maxRoomSize (0 = unlimited).
func (m *Meta) Apply(u Update, maxRoomSize int) {
	if u.Name != "" {
		m.Name = u.Name
	}
	if u.Game != "" {
		m.Game = u.Game
	}
	if u.State != "" {
		m.State = u.State
	}
	if u.Max > 0 {
		m.Max = u.Max
		if maxRoomSize > 0 && m.Max > maxRoomSize {
			m.Max = maxRoomSize
		}
	}
}

// Listing is m's listing entry with players members.
func (m *Meta) Listing(players int) Listing {
	return Listing{
		Room: m.Room, Name: m.Name, Game: m.Game, Players: players, Max: m.Max,
		Password: len(m.Hash) > 0, State: m.State, Private: m.Private,
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
