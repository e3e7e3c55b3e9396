// Package predict is the hook between sync/lockstep's engine and
// sync/rollback: it lets the rollback session run the lockstep engine in
// predicting mode without a public lockstep API.
//
// In predicting mode the engine works as in lockstep (datagrams, acks,
// redundancy, checksums, player loss, time sync and replays are the same
// code), with three differences: the local input is stamped for frame
// Head+delay, where Head is the rollback session's next frame to simulate
// (not the next confirmed frame); the local input is stamped only while
// Head is less than MaxPrediction frames ahead of the next confirmed frame
// (Run reports it); and time sync compares the seats' own input frames
// (where each seat's simulation is) instead of their confirmed frames.
package predict

// Hook is one engine's predicting-mode state. The rollback session sets
// Head before each Advance of the engine and reads Run after it.
type Hook struct {
	// MaxPrediction is how many frames Head may run ahead of the next
	// confirmed frame.
	MaxPrediction int32
	// Head is the next frame the rollback session simulates.
	Head int32
	// Run is set by the engine's Advance: the local input was stamped, so
	// the rollback session simulates Head this tick.
	Run bool

	// Next returns the next frame to confirm (every frame before it has
	// every seat's input, final).
	Next func() int32
	// Held returns the last frame of seat's inputs held here (-1: none).
	Held func(seat int) int32
	// Raw returns the encoded input of seat for frame f, f <= Held(seat)
	// and f no older than the last confirmed frame (valid until the next
	// Advance of the engine).
	Raw func(seat int, f int32) []byte
	// Status returns the lockstep.InputStatus of seat for frame f, as a
	// confirmed Step would give it; for a frame not held, the status a
	// prediction carries.
	Status func(seat int, f int32) uint8
}

// Attach puts a *lockstep.Session[I] (given as sess) into predicting mode
// with the local input delay given, before its first Advance, and returns
// its hook; nil if sess is not a fresh session. Set by package lockstep.
var Attach func(sess any, delay, maxPrediction int) *Hook
