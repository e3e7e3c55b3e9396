package signaling_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// Two players meet in a room on a loopback server and exchange a signal.
func Example() {
	srv := &signaling.Server{}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, err := signaling.Dial(ctx, url, "lobby-1", signaling.DialOptions{Name: "alice", GameID: "pong", MaxPlayers: 2})
	if err != nil {
		panic(err)
	}
	defer alice.Close()
	bob, err := signaling.Dial(ctx, url, "lobby-1", signaling.DialOptions{Name: "bob", GameID: "pong"})
	if err != nil {
		panic(err)
	}
	defer bob.Close()

	ev := <-alice.Events()
	fmt.Println(ev.Kind, ev.Name)
	_ = alice.Signal(ev.Peer, []byte(`{"type":"offer"}`))
	ev = <-bob.Events()
	fmt.Println(ev.Kind, ev.Peer == alice.Local(), string(ev.Data))

	_, err = signaling.Dial(ctx, url, "lobby-1", signaling.DialOptions{Name: "carol"})
	fmt.Println(errors.Is(err, signaling.ErrRoomFull))
	// Output:
	// peer-joined bob
	// signal true {"type":"offer"}
	// true
}

// A game backend mints join tokens for a server with a TokenSecret.
func ExampleMintToken() {
	secret := []byte("shared with signald -token-secret")
	tok, err := signaling.MintToken(secret, signaling.TokenClaims{
		Room: "ranked-42", Name: "alice", Expiry: time.Now().Add(5 * time.Minute),
	})
	if err != nil {
		panic(err)
	}
	c, err := signaling.VerifyToken(secret, tok, time.Now())
	fmt.Println(c.Room, c.Name, err)
	// Output: ranked-42 alice <nil>
}

// Credentials for coturn started with --use-auth-secret
// --static-auth-secret=SECRET (the welcome carries such credentials). The
// expected password was checked with openssl:
// printf 1700003600:alice | openssl dgst -sha1 -hmac SECRET -binary | base64
func ExampleTURNCredentials() {
	user, pass := signaling.TURNCredentials("SECRET", "alice", time.Hour, time.Unix(1700000000, 0))
	fmt.Println(user, pass)
	// Output: 1700003600:alice Xdia5EbwnaNEFMOeKTdMGz/dLw0=
}
