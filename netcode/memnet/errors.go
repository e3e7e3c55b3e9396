package memnet

import "errors"

// ErrInvalidConfig wraps every configuration error New reports.
var ErrInvalidConfig = errors.New("memnet: invalid config")
