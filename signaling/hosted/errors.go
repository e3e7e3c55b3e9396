package hosted

import "errors"

var (
	// ErrInvalidConfig wraps what is wrong with a Config.
	ErrInvalidConfig = errors.New("hosted: invalid config")
	// ErrListen wraps a failure to listen on the TCP or UDP port.
	ErrListen = errors.New("hosted: listen")
)
