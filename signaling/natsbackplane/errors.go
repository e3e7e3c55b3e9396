package natsbackplane

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/signaling"
)

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by New's errors about its Config.
	ErrInvalidConfig = errors.New("natsbackplane: invalid config")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("natsbackplane: closed")
	// errMalformed reports bytes from NATS that do not decode.
	errMalformed = errors.New("natsbackplane: malformed message")
)

// unavailable is the error of an operation that needs NATS while it cannot
// be reached: a *signaling.ServerError with code unavailable, so that the
// Server tells clients to retry (they do, with backoff).
func unavailable(format string, args ...any) error {
	return &signaling.ServerError{Code: signaling.CodeUnavailable, Message: fmt.Sprintf(format, args...)}
}

// refuse is an admission error with code c.
func refuse(c signaling.Code, format string, args ...any) error {
	return &signaling.ServerError{Code: c, Message: fmt.Sprintf(format, args...)}
}
