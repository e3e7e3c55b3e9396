package lockstep

// Frame numbers the steps of the simulation, from 0.
type Frame int32

// NoFrame is the Frame before the first: "none yet".
const NoFrame Frame = -1

// Step is one frame of the game with every seat's input, ready to apply.
type Step[I any] struct {
	Frame  Frame
	Inputs []I // indexed by seat; a dropped seat's input is the zero value
	// Status says, per seat, where its input comes from (the same on every
	// peer for the seats' own inputs and drops; InputDisconnecting is this
	// peer's view of a connection in trouble): a game shows a dropped
	// seat's paddle idle. Reused like Inputs.
	Status []InputStatus
}

// InputStatus says where a seat's input in a Step comes from (as GGRS's
// InputStatus; lockstep never predicts).
type InputStatus uint8

const (
	// InputUnknown is the zero InputStatus; no Step carries it.
	InputUnknown InputStatus = iota
	// InputConfirmed: the seat's own input, and the seat is connected.
	InputConfirmed
	// InputDisconnecting: the seat's own input, but this peer suspects the
	// seat (silent or stalling) or the seats are agreeing on its drop: its
	// input may soon turn to InputDropped.
	InputDisconnecting
	// InputDropped: the seat is out of the match; its input is the zero
	// value.
	InputDropped
)

// String returns "confirmed", "disconnecting", "dropped", "predicted" or
// "unknown".
func (st InputStatus) String() string {
	switch st {
	case InputConfirmed:
		return "confirmed"
	case InputDisconnecting:
		return "disconnecting"
	case InputDropped:
		return "dropped"
	case InputPredicted:
		return "predicted"
	default:
		return "unknown"
	}
}
