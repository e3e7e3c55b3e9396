package replay

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// pongGame is the high half of the lockstep GameID of a pong match; the
// low 16 bits carry the win score, so a lockstep replay log (which records
// the seed and the GameID) holds the whole sim.Config.
const pongGame = uint64(0x504f4e47) << 32 // "PONG"

// LockstepGameID is the lockstep Config.GameID of a match with win score
// win. Peers with different win scores then ignore each other's frames.
func LockstepGameID(win int) uint64 { return pongGame | uint64(uint16(win)) }

// Sum is a checksum the recording peer reported for a frame: the state's
// checksum after stepping that frame.
type Sum struct {
	Frame uint32
	Sum   uint64
}

// FromLockstep reads a lockstep replay log (lockstep.Config.Record, what
// -record writes for network matches) of a pong match. Sums holds every
// checksum the log recorded, which Play then verifies frame by frame.
func FromLockstep(r io.Reader) (*Replay, error) {
	lr, err := lockstep.NewReplay[sim.Input](r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	h := lr.Header()
	if h.GameID>>32 != pongGame>>32 || len(h.Seats) != seats {
		return nil, fmt.Errorf("%w: not a pong match (game %#x, %d seats)", ErrFormat, h.GameID, len(h.Seats))
	}
	out := &Replay{Config: sim.Config{Seed: h.Seed, WinScore: int(h.GameID & 0xffff)}}
	for {
		st, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if len(out.Inputs) >= MaxFrames {
			return nil, ErrTooLong
		}
		out.Inputs = append(out.Inputs, [2]sim.Input{st.Inputs[0], st.Inputs[1]})
	}
	for f := range len(out.Inputs) {
		if s, ok := lr.Checksum(lockstep.Frame(f)); ok {
			out.Sums = append(out.Sums, Sum{Frame: uint32(f), Sum: s})
		}
	}
	// The log has no final checksum record of its own: the last reported
	// one stands for it, and Play checks all of them.
	out.Checksum = 0
	out.lockstep = true
	return out, nil
}

// LoadAny reads a replay in either format: this package's (local matches)
// or a lockstep log (network matches).
func LoadAny(path string) (*Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return nil, fmt.Errorf("%s: %w", path, ErrFormat)
	}
	if string(magic[:]) == "PPLR" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		r, err := FromLockstep(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, nil
	}
	return Load(path)
}
