package lan

import "errors"

var (
	// ErrBadBeacon means a datagram is not a valid beacon.
	ErrBadBeacon = errors.New("lan: not a beacon")
	// ErrInvalidConfig wraps what is wrong with a config.
	ErrInvalidConfig = errors.New("lan: invalid config")
	// ErrClosed is returned by calls on a closed Announcer or Browser.
	ErrClosed = errors.New("lan: closed")
)
