package netcode

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

var (
	// ErrInvalidConfig wraps every Config validation error from Join.
	ErrInvalidConfig = errors.New("netcode: invalid config")
	// ErrClosed is returned by calls on a closed Mesh. It is
	// transport.ErrClosed, so channel and mesh errors match the same way.
	ErrClosed = transport.ErrClosed
	// ErrRefused is matched (errors.Is) by every *RefusedError.
	ErrRefused = errors.New("netcode: peer refused")
	// ErrSignaling wraps a failure to reach the signaling server in Join.
	ErrSignaling = errors.New("netcode: signaling")
)

// RefusedError tells why the handshake with a peer failed. It is carried
// by EventRefused and matches ErrRefused.
type RefusedError struct {
	Peer transport.PeerID
	// ByRemote is true when the remote peer sent the refusal, false when
	// this side refused.
	ByRemote bool
	// Reason is a short fixed phrase ("game ID or build mismatch", "protocol
	// version mismatch", "channel table mismatch", "bad handshake",
	// "handshake timeout").
	Reason string
	// Detail says what differed, e.g. the two game IDs.
	Detail string
}

func (e *RefusedError) Error() string {
	who := "refused peer"
	if e.ByRemote {
		who = "refused by peer"
	}
	if e.Detail == "" {
		return fmt.Sprintf("netcode: %s %s: %s", who, e.Peer, e.Reason)
	}
	return fmt.Sprintf("netcode: %s %s: %s (%s)", who, e.Peer, e.Reason, e.Detail)
}

// Is makes errors.Is(err, ErrRefused) true, and errors.Is(err,
// ErrBlocked) for a refusal because of Mesh.Block (either side's).
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused || target == ErrBlocked && e.Reason == wire.ReasonBlocked.String()
}

var (
	// ErrTURN is matched (errors.Is) by every *TURNError: a TURN server
	// gave this side no relay allocation.
	ErrTURN = errors.New("netcode: TURN allocation failed")
	// ErrTURNAuth is matched by a *TURNError whose server refused the
	// credentials (STUN error 401 Unauthorized or 441 Wrong Credentials):
	// they are missing, wrong or expired.
	ErrTURNAuth = errors.New("netcode: TURN server refused the credentials")
)

// TURNError says that a TURN server did not give this side a relay
// allocation for a peer, so no relayed path to that peer exists. It is
// logged when it happens and, when the peer then fails (EventFailed), its
// error wraps the *TURNError: errors.Is(ev.Err, ErrTURNAuth) for expired
// or wrong credentials, errors.As for the details. See "TURN failures" in
// the package doc for how it is detected.
type TURNError struct {
	// Server is the TURN server's address (host:port) as ICE dialled it;
	// URL the ICE server URL it came from ("turn:host:port?transport=udp"),
	// when known.
	Server, URL string
	// Code is the STUN error code of the server's refusal (401
	// Unauthorized, 403 Forbidden, 441 Wrong Credentials, 486 Allocation
	// Quota Reached, 508 Insufficient Capacity, ...); 0 when the server
	// gave no answer (Err says what happened instead).
	Code int
	// Reason is the server's reason phrase, e.g. "Unauthorized".
	Reason string
	// Err is the underlying error from pion, if any.
	Err error
}

func (e *TURNError) Error() string {
	where := e.Server
	if where == "" {
		where = e.URL
	}
	if where == "" {
		where = "(unknown)"
	}
	if e.Code == 0 {
		if e.Err == nil {
			return fmt.Sprintf("netcode: TURN allocation on %s failed", where)
		}
		return fmt.Sprintf("netcode: TURN allocation on %s failed: %v", where, e.Err)
	}
	s := fmt.Sprintf("netcode: TURN server %s refused the allocation: %d %s", where, e.Code, e.Reason)
	if e.auth() {
		s += " (credentials missing, wrong or expired)"
	}
	return s
}

func (e *TURNError) auth() bool { return e.Code == 401 || e.Code == 441 }

// Is makes errors.Is(err, ErrTURN) true, and errors.Is(err, ErrTURNAuth)
// when the server refused the credentials.
func (e *TURNError) Is(target error) bool {
	return target == ErrTURN || target == ErrTURNAuth && e.auth()
}

// Unwrap returns Err.
func (e *TURNError) Unwrap() error { return e.Err }

var (
	// ErrIdentity wraps a bad Config.Identity or a key that cannot be an
	// identity (MarshalIdentity, ParseIdentity, IdentityFromKey).
	ErrIdentity = errors.New("netcode: bad identity")
	// ErrImpersonation is matched (errors.Is) by every *IdentityError.
	ErrImpersonation = errors.New("netcode: peer claimed an ID its key does not prove")
	// ErrBlocked is matched by the *RefusedError of a peer refused because
	// Mesh.Block blocked it.
	ErrBlocked = errors.New("netcode: peer blocked")
	// ErrKicked: the room's owner had the signaling server remove this
	// mesh from the room (Mesh.Block on the owner's side). It comes with
	// EventSignalingLost; the mesh does not re-join.
	ErrKicked = sigclient.CodeKicked.Sentinel()
)

// IdentityError says that a peer claimed a mesh ID (in its signaling
// messages) that the certificate it presented in the DTLS handshake does
// not prove. EventRefused carries it, with Event.Peer = Actual: the ID the
// peer's key does prove, i.e. who it really is.
type IdentityError struct {
	// Claimed is the ID the peer claimed; Actual the ID of its key (empty
	// if it presented no usable certificate); Seat the signaling ID it
	// spoke from.
	Claimed, Actual, Seat transport.PeerID
	// Err is the certificate problem, if any.
	Err error
}

func (e *IdentityError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("netcode: peer at signaling seat %s claimed ID %s: %v", e.Seat, e.Claimed, e.Err)
	}
	return fmt.Sprintf("netcode: peer %s (signaling seat %s) claimed ID %s", e.Actual, e.Seat, e.Claimed)
}

// Is makes errors.Is(err, ErrImpersonation) true.
func (e *IdentityError) Is(target error) bool { return target == ErrImpersonation }

// Unwrap returns Err.
func (e *IdentityError) Unwrap() error { return e.Err }
