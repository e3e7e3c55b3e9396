package signaling

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"crypto/sha1" //nolint:gosec // coturn's use-auth-secret scheme is HMAC-SHA1 by definition.
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// TokenClaims is what a join token grants: joining Room, as Name (empty =
// any name), until Expiry.
type TokenClaims struct {
	Room   string
	Name   string
	Expiry time.Time
}

type tokenPayload struct {
	Room string `json:"room"`
	Name string `json:"name,omitempty"`
	Exp  int64  `json:"exp"`
}

const tokenPrefix = "v1."

// MintToken returns a join token for the claims, signed with secret
// (HMAC-SHA256). A game backend that decides who may join which room mints
// tokens with the same secret as the server's TokenSecret and hands them to
// players, who pass them in DialOptions.Token.
//
// The format is "v1." + base64url(JSON {room, name, exp}) + "." +
// base64url(HMAC-SHA256(secret, everything before the last dot)).
func MintToken(secret []byte, c TokenClaims) (string, error) {
	if len(secret) == 0 {
		return "", fmt.Errorf("%w: empty token secret", ErrInvalidConfig)
	}
	if err := proto.CheckID("room", c.Room, proto.MaxRoomLen, true); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if err := proto.CheckText("name", c.Name, proto.MaxNameLen); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if c.Expiry.IsZero() {
		return "", fmt.Errorf("%w: token without expiry", ErrInvalidConfig)
	}
	p, _ := json.Marshal(tokenPayload{Room: c.Room, Name: c.Name, Exp: c.Expiry.Unix()})
	head := tokenPrefix + base64.RawURLEncoding.EncodeToString(p)
	return head + "." + base64.RawURLEncoding.EncodeToString(tokenMAC(secret, head)), nil
}

// VerifyToken checks token's signature against secret and its expiry
// against now, and returns its claims. Errors match ErrBadToken or
// ErrTokenExpired. It is total on any input.
func VerifyToken(secret []byte, token string, now time.Time) (TokenClaims, error) {
	bad := func(why string) (TokenClaims, error) {
		return TokenClaims{}, proto.ErrorFor(CodeBadToken, "%s", why)
	}
	if len(token) > proto.MaxTokenLen || !strings.HasPrefix(token, tokenPrefix) {
		return bad("malformed token")
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(tokenPrefix) {
		return bad("malformed token")
	}
	head, sig := token[:dot], token[dot+1:]
	mac, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(mac, tokenMAC(secret, head)) {
		return bad("token signature does not verify")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(head[len(tokenPrefix):])
	if err != nil {
		return bad("malformed token payload")
	}
	var p tokenPayload
	if err := json.Unmarshal(raw, &p); err != nil || p.Room == "" || p.Exp == 0 {
		return bad("malformed token payload")
	}
	c := TokenClaims{Room: p.Room, Name: p.Name, Expiry: time.Unix(p.Exp, 0)}
	if !now.Before(c.Expiry) {
		return c, proto.ErrorFor(CodeTokenExpired, "token expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	}
	return c, nil
}

func tokenMAC(secret []byte, head string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(head))
	return m.Sum(nil)
}

// TURNCredentials returns time-limited TURN credentials in the scheme
// coturn calls use-auth-secret (the TURN REST API draft): username =
// "<unix expiry>:<user>", password = base64(HMAC-SHA1(secret, username)).
// coturn started with --use-auth-secret --static-auth-secret=SECRET, and
// the TURN server of ServeTURN with the same secret, both accept them until
// now+ttl.
func TURNCredentials(secret, user string, ttl time.Duration, now time.Time) (username, password string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + user
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(m.Sum(nil))
}
