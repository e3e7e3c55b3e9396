package netplay

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Stream channel limits: a lockstep stream message is at most a 16 KiB
// chunk plus its header; control messages are a few dozen bytes.
const (
	streamMaxMessage  = 32 << 10
	controlMaxMessage = 1 << 10
)

// errSnapshot: a snapshot that is not a pong state.
var errSnapshot = errors.New("netplay: not a pong state")

// encodeState is the snapshot a player's Streamer sends to a watcher or to
// a player catching up: sim.State's AppendBinary (sim.StateSize bytes,
// little-endian).
func encodeState(s *sim.State) []byte {
	return s.AppendBinary(make([]byte, 0, sim.StateSize))
}

// decodeState reads a snapshot written by encodeState, from a peer: it
// checks the size and that every field is one the simulation can reach
// (a liar's state is caught at the next checksum by the witnesses; this
// only keeps the front from drawing nonsense or indexing out of range).
func decodeState(b []byte) (sim.State, error) {
	var s sim.State
	if len(b) != sim.StateSize {
		return s, fmt.Errorf("%w: %d bytes, want %d", errSnapshot, len(b), sim.StateSize)
	}
	le := binary.LittleEndian
	u32 := func() int32 {
		v := int32(le.Uint32(b))
		b = b[4:]
		return v
	}
	s.Frame = uint32(u32())
	s.Rng = le.Uint64(b)
	b = b[8:]
	s.WinScore = u32()
	s.Score[0], s.Score[1] = u32(), u32()
	s.PaddleY[0], s.PaddleY[1] = u32(), u32()
	for _, p := range []*int32{&s.BallX, &s.BallY, &s.BallVX, &s.BallVY, &s.Serve, &s.ServeTo, &s.Hits, &s.Winner} {
		*p = u32()
	}
	const maxY = (sim.FieldH - sim.PaddleH) * sim.Unit
	switch {
	case s.Rng == 0:
		return s, fmt.Errorf("%w: random state 0", errSnapshot)
	case s.WinScore < 1 || s.WinScore > 99:
		return s, fmt.Errorf("%w: win score %d", errSnapshot, s.WinScore)
	case s.Score[0] < 0 || s.Score[1] < 0 || s.Score[0] > s.WinScore || s.Score[1] > s.WinScore:
		return s, fmt.Errorf("%w: score %d:%d", errSnapshot, s.Score[0], s.Score[1])
	case s.PaddleY[0] < 0 || s.PaddleY[1] < 0 || s.PaddleY[0] > maxY || s.PaddleY[1] > maxY:
		return s, fmt.Errorf("%w: paddle off the field", errSnapshot)
	case s.BallX < -sim.FieldW*sim.Unit || s.BallX > 2*sim.FieldW*sim.Unit ||
		s.BallY < -sim.FieldH*sim.Unit || s.BallY > 2*sim.FieldH*sim.Unit:
		return s, fmt.Errorf("%w: ball off the field", errSnapshot)
	case s.ServeTo < 0 || s.ServeTo > 1 || s.Winner < -1 || s.Winner > 1:
		return s, fmt.Errorf("%w: seat out of range", errSnapshot)
	}
	return s, nil
}
