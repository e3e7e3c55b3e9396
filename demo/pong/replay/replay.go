package replay

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Version is the format version MarshalBinary writes.
const Version = 1

// MaxFrames bounds the frames of a replay: about 77 hours at 60 frames per
// second, and 32 MiB of inputs.
const MaxFrames = 1 << 24

const (
	magic      = "PPRP"
	headerSize = 22
	seats      = 2
)

// Replay is a recorded match. The zero value is an empty replay.
type Replay struct {
	Config   sim.Config
	Inputs   [][2]sim.Input // one entry per frame, by seat
	Checksum uint64         // checksum of the state after the last frame (not for lockstep logs)
	// Sums are checksums recorded along the way (lockstep logs only).
	Sums []Sum

	lockstep bool // read from a lockstep log: Checksum is not recorded
}

// MarshalBinary encodes r in the version-1 format.
func (r *Replay) MarshalBinary() ([]byte, error) {
	if len(r.Inputs) > MaxFrames {
		return nil, ErrTooLong
	}
	if r.Config.WinScore < 0 || r.Config.WinScore > 0xffff {
		return nil, fmt.Errorf("%w: win score %d", ErrFormat, r.Config.WinScore)
	}
	le := binary.LittleEndian
	b := make([]byte, 0, headerSize+2*len(r.Inputs)+8)
	b = append(b, magic...)
	b = le.AppendUint16(b, Version)
	b = le.AppendUint16(b, seats)
	b = le.AppendUint64(b, r.Config.Seed)
	b = le.AppendUint16(b, uint16(r.Config.WinScore))
	b = le.AppendUint32(b, uint32(len(r.Inputs)))
	for _, in := range r.Inputs {
		b = append(b, in[0].Buttons, in[1].Buttons)
	}
	b = le.AppendUint64(b, r.Checksum)
	return b, nil
}

// UnmarshalBinary decodes a version-1 replay. It never panics: any input that
// is not exactly a replay returns an error wrapping ErrFormat, ErrVersion or
// ErrTooLong, and leaves r unchanged.
func (r *Replay) UnmarshalBinary(b []byte) error {
	le := binary.LittleEndian
	if len(b) < headerSize+8 || string(b[:4]) != magic {
		return ErrFormat
	}
	if v := le.Uint16(b[4:]); v != Version {
		return fmt.Errorf("%w: %d", ErrVersion, v)
	}
	if n := le.Uint16(b[6:]); n != seats {
		return fmt.Errorf("%w: %d seats, want %d", ErrFormat, n, seats)
	}
	frames := le.Uint32(b[18:])
	if frames > MaxFrames {
		return fmt.Errorf("%w: %d", ErrTooLong, frames)
	}
	if want := headerSize + 2*int(frames) + 8; len(b) != want {
		return fmt.Errorf("%w: %d bytes for %d frames, want %d", ErrFormat, len(b), frames, want)
	}
	out := Replay{
		Config: sim.Config{Seed: le.Uint64(b[8:]), WinScore: int(le.Uint16(b[16:]))},
		Inputs: make([][2]sim.Input, frames),
	}
	p := b[headerSize:]
	for i := range out.Inputs {
		out.Inputs[i] = [2]sim.Input{{Buttons: p[2*i]}, {Buttons: p[2*i+1]}}
	}
	out.Checksum = le.Uint64(b[len(b)-8:])
	*r = out
	return nil
}

// Play steps a fresh match through every recorded frame and returns the
// state at the end of the match (the frame a seat won; after it only the
// frame counter moves) or, if nobody won, after the last frame. The error
// wraps ErrChecksum if a recorded checksum differs from the one stepped.
func (r *Replay) Play() (sim.State, error) {
	s := sim.New(r.Config)
	var end *sim.State
	sums := r.Sums
	for _, in := range r.Inputs {
		s.Step(in)
		if len(sums) > 0 && sums[0].Frame+1 == s.Frame {
			if got := s.Checksum(); got != sums[0].Sum {
				return s, fmt.Errorf("%w: frame %d: got %#016x, recorded %#016x", ErrChecksum, sums[0].Frame, got, sums[0].Sum)
			}
			sums = sums[1:]
		}
		if s.Over() && end == nil {
			e := s
			end = &e
		}
	}
	if !r.lockstep {
		if got := s.Checksum(); got != r.Checksum {
			return s, fmt.Errorf("%w: got %#016x, recorded %#016x", ErrChecksum, got, r.Checksum)
		}
	} else if len(r.Sums) == 0 {
		return s, fmt.Errorf("%w: the log has no checksum to verify", ErrChecksum)
	}
	if end != nil {
		return *end, nil
	}
	return s, nil
}

// Save writes r to path.
func (r *Replay) Save(path string) error {
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Load reads a replay from path.
func Load(path string) (*Replay, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := new(Replay)
	if err := r.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
