package proto

import (
	"errors"
	"fmt"
	"github.com/coder/websocket"
	"maps"
	"slices"
)

// Code is a stable, machine-readable error code carried by the protocol's
// error message (and by the WebSocket close reason). Codes never change
// meaning; new ones may be added.
type Code string

// Error codes. The string values are part of the wire protocol.
const (
	CodeBadRequest   Code = "bad_request"          // malformed JSON, unknown type, missing or invalid field
	CodeVersion      Code = "version"              // the server does not speak the client's protocol version
	CodeTooLarge     Code = "too_large"            // a message above the server's size limit
	CodeRateLimited  Code = "rate_limited"         // more messages per second than the server allows
	CodeRoomFull     Code = "room_full"            // the room has reached its size limit
	CodeBadPassword  Code = "bad_password"         // wrong or missing room password
	CodeBadToken     Code = "bad_token"            // missing, malformed or forged join token, or one for another room or name
	CodeTokenExpired Code = "token_expired"        // a join token past its expiry
	CodeTooManyRooms Code = "too_many_rooms"       // the server's room limit is reached
	CodeTooManyConns Code = "too_many_connections" // per-IP or total connection limit
	CodeOrigin       Code = "origin"               // the Origin header is not allowed
	CodeTimeout      Code = "timeout"              // no join within the join timeout
	CodeIdle         Code = "idle"                 // nothing (not even a pong) heard within the idle timeout
	CodeUnknownPeer  Code = "unknown_peer"         // a signal to a peer that is not in the room (not fatal)
	CodeResumeFailed Code = "resume_failed"        // the seat to resume is gone (grace period over) or the token is wrong
	CodeSlowConsumer Code = "slow_consumer"        // the client did not read fast enough; its queue overflowed
	CodeReplaced     Code = "replaced"             // the seat was resumed by a newer connection
	CodeWrongGame    Code = "wrong_game"           // the room plays another game
	CodeShutdown     Code = "shutdown"             // the server is shutting down; reconnect later
	CodeUnavailable  Code = "unavailable"          // the server cannot reach its backplane (e.g. NATS); retry later
	CodeInternal     Code = "internal"             // a server-side failure
	CodeNotOwner     Code = "not_owner"            // a room update or kick from a member that does not own the room (not fatal)
	CodeKicked       Code = "kicked"               // the room's owner kicked this member
)

// Sentinel errors. A *ServerError matches the sentinel of its code with
// errors.Is, so callers write errors.Is(err, signaling.ErrRoomFull).
var (
	ErrBadRequest    = errors.New("signaling: bad request")
	ErrVersion       = errors.New("signaling: protocol version not supported")
	ErrTooLarge      = errors.New("signaling: message too large")
	ErrRateLimited   = errors.New("signaling: rate limited")
	ErrRoomFull      = errors.New("signaling: room full")
	ErrBadPassword   = errors.New("signaling: bad room password")
	ErrBadToken      = errors.New("signaling: bad join token")
	ErrTokenExpired  = errors.New("signaling: join token expired")
	ErrTooManyRooms  = errors.New("signaling: too many rooms")
	ErrTooManyConns  = errors.New("signaling: too many connections")
	ErrOrigin        = errors.New("signaling: origin not allowed")
	ErrTimeout       = errors.New("signaling: timed out")
	ErrIdle          = errors.New("signaling: idle timeout")
	ErrUnknownPeer   = errors.New("signaling: unknown peer")
	ErrResumeFailed  = errors.New("signaling: resume failed")
	ErrSlowConsumer  = errors.New("signaling: slow consumer")
	ErrReplaced      = errors.New("signaling: connection replaced")
	ErrWrongGame     = errors.New("signaling: room plays another game")
	ErrShutdown      = errors.New("signaling: server shutting down")
	ErrUnavailable   = errors.New("signaling: backplane unavailable")
	ErrInternal      = errors.New("signaling: internal server error")
	ErrNotOwner      = errors.New("signaling: not the room's owner")
	ErrKicked        = errors.New("signaling: kicked by the room's owner")
	ErrClosed        = errors.New("signaling: closed")
	ErrSendQueueFull = errors.New("signaling: send queue full")
	ErrNotMember     = errors.New("signaling: not a member of the room")
	ErrInvalidConfig = errors.New("signaling: invalid config")
	// ErrServerSilent: the server stopped answering the client's pings
	// (the Disconnected event's error wraps it); the client reconnects.
	ErrServerSilent = errors.New("signaling: server did not answer a ping")
	// ErrServerClosed is returned by ServeSTUN and ServeTURN after Close or
	// Shutdown, like http.ErrServerClosed.
	ErrServerClosed = errors.New("signaling: server closed")
)

var codeSentinels = map[Code]error{
	CodeBadRequest:   ErrBadRequest,
	CodeVersion:      ErrVersion,
	CodeTooLarge:     ErrTooLarge,
	CodeRateLimited:  ErrRateLimited,
	CodeRoomFull:     ErrRoomFull,
	CodeBadPassword:  ErrBadPassword,
	CodeBadToken:     ErrBadToken,
	CodeTokenExpired: ErrTokenExpired,
	CodeTooManyRooms: ErrTooManyRooms,
	CodeTooManyConns: ErrTooManyConns,
	CodeOrigin:       ErrOrigin,
	CodeTimeout:      ErrTimeout,
	CodeIdle:         ErrIdle,
	CodeUnknownPeer:  ErrUnknownPeer,
	CodeResumeFailed: ErrResumeFailed,
	CodeSlowConsumer: ErrSlowConsumer,
	CodeReplaced:     ErrReplaced,
	CodeWrongGame:    ErrWrongGame,
	CodeShutdown:     ErrShutdown,
	CodeUnavailable:  ErrUnavailable,
	CodeInternal:     ErrInternal,
	CodeNotOwner:     ErrNotOwner,
	CodeKicked:       ErrKicked,
}

// Sentinel returns the sentinel error of c, or nil for an unknown code.
func (c Code) Sentinel() error { return codeSentinels[c] }

// Known reports whether c is one of the codes this package defines.
func (c Code) Known() bool { _, ok := codeSentinels[c]; return ok }

// ServerError is an error reported by the server (an "error" message, a
// close reason, or an HTTP rejection before the upgrade). It matches the
// sentinel of its Code with errors.Is.
type ServerError struct {
	Code    Code
	Message string
	// MinVersion and MaxVersion are the protocol versions the server
	// speaks; set with CodeVersion.
	MinVersion, MaxVersion int
}

func (e *ServerError) Error() string {
	if e.Code == CodeVersion && e.MaxVersion > 0 {
		return fmt.Sprintf("signaling: server error %s: %s (server speaks versions %d..%d, this client %d)",
			e.Code, e.Message, e.MinVersion, e.MaxVersion, ProtocolVersion)
	}
	if e.Message == "" {
		return fmt.Sprintf("signaling: server error %s", e.Code)
	}
	return fmt.Sprintf("signaling: server error %s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, ErrRoomFull) true for a *ServerError with
// CodeRoomFull, and so on for every code.
func (e *ServerError) Is(target error) bool {
	s := e.Code.Sentinel()
	return s != nil && s == target
}

// ErrorFor builds the error a server-side check returns.
func ErrorFor(code Code, format string, args ...any) *ServerError {
	return &ServerError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsServerError turns err into a *ServerError, using CodeInternal for
// errors that are not one already.
func AsServerError(err error) *ServerError {
	var se *ServerError
	if errors.As(err, &se) {
		return se
	}
	for _, code := range slices.Sorted(maps.Keys(codeSentinels)) { // one answer every run
		if s := codeSentinels[code]; errors.Is(err, s) {
			return &ServerError{Code: code, Message: err.Error()}
		}
	}
	return &ServerError{Code: CodeInternal, Message: "internal error"}
}

// Codes returns every code this package defines, sorted.
func Codes() []Code { return slices.Sorted(maps.Keys(codeSentinels)) }

// ServerErrorOf is the error an "error" message reports.
func ServerErrorOf(f *Frame) *ServerError {
	return &ServerError{Code: f.Code, Message: f.Message, MinVersion: f.MinVersion, MaxVersion: f.MaxVersion}
}

// CloseError maps a WebSocket close to the server's error: the reason if
// it is a known code, else the 44xx/45xx close code of a refusal (see
// Server). It is the same under js/wasm, where a browser reports only the
// close code and reason of a refused connection. nil if err is not such
// a close.
func CloseError(err error) *ServerError {
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		return nil
	}
	if Code(ce.Reason).Known() {
		return &ServerError{Code: Code(ce.Reason), Message: "connection closed by the server"}
	}
	code := map[websocket.StatusCode]Code{
		CloseForbidden: CodeOrigin, CloseTooMany: CodeRateLimited, CloseUnavailable: CodeTooManyConns,
	}[ce.Code]
	if code == "" {
		return nil
	}
	return &ServerError{Code: code, Message: fmt.Sprintf("connection refused by the server (close %d)", ce.Code)}
}
