package rollback

import "errors"

var (
	// ErrInvalidConfig wraps every configuration error of NewSession and
	// NewSyncTest.
	ErrInvalidConfig = errors.New("rollback: invalid config")
	// ErrInputs: SyncTest.Advance was given other than one input per seat.
	ErrInputs = errors.New("rollback: one input per seat")
)
