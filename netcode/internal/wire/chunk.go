package wire

import (
	"encoding/binary"
	"fmt"
)

// ChunkSize is the largest chunk frame on a reliable user channel: 16 KiB,
// the message size every browser's data channel accepts.
const ChunkSize = 16 << 10

// Chunk frame kinds (first byte of every frame on a reliable user channel).
const (
	ChunkWhole  = 0
	ChunkFirst  = 1
	ChunkMiddle = 2
	ChunkLast   = 3
)

// firstHeader is the size of a First frame's header.
const firstHeader = 5

// Chunks splits p into chunk frames of at most ChunkSize bytes and calls
// emit for each, in order, with a frame built in scratch (grown as
// needed). emit must not keep the frame. Chunks stops at emit's first
// error and returns it, with scratch for reuse.
func Chunks(scratch, p []byte, emit func(frame []byte) error) ([]byte, error) {
	if len(p) < ChunkSize {
		scratch = append(append(scratch[:0], ChunkWhole), p...)
		return scratch, emit(scratch)
	}
	first := true
	for len(p) > 0 {
		var f []byte
		if first {
			f = binary.BigEndian.AppendUint32(append(scratch[:0], ChunkFirst), uint32(len(p)))
		} else {
			f = append(scratch[:0], ChunkMiddle)
		}
		n := min(ChunkSize-len(f), len(p))
		if !first && n == len(p) {
			f[0] = ChunkLast
		}
		f = append(f, p[:n]...)
		scratch = f
		if err := emit(f); err != nil {
			return scratch, err
		}
		p = p[n:]
		first = false
	}
	return scratch, nil
}

// Reassembler rebuilds messages from the chunk frames of one reliable
// channel from one peer. The zero value accepts messages up to
// DefaultMaxMessage bytes. Not safe for concurrent use.
type Reassembler struct {
	// Max is the largest message accepted; 0 means DefaultMaxMessage.
	Max int

	buf   []byte
	total int
	open  bool
}

// DefaultMaxMessage is the default message size limit of a reliable
// channel.
const DefaultMaxMessage = 16 << 20

// Feed consumes one frame. It returns a complete message (owned by the
// caller) and done=true when the frame finishes one, done=false when more
// frames are needed, or an error wrapping ErrMalformed for a frame that breaks the
// framing; after an error the partial message is dropped and the next
// First or Whole frame starts afresh.
func (r *Reassembler) Feed(frame []byte) (msg []byte, done bool, err error) {
	max := r.Max
	if max <= 0 {
		max = DefaultMaxMessage
	}
	if len(frame) < 1 || len(frame) > ChunkSize {
		r.reset()
		return nil, false, fmt.Errorf("%w: chunk frame of %d bytes", ErrMalformed, len(frame))
	}
	switch frame[0] {
	case ChunkWhole:
		if r.open {
			r.reset()
			return nil, false, fmt.Errorf("%w: whole frame inside a chunked message", ErrMalformed)
		}
		if len(frame)-1 > max {
			return nil, false, fmt.Errorf("%w: message of %d bytes exceeds %d", ErrMalformed, len(frame)-1, max)
		}
		return append(make([]byte, 0, len(frame)-1), frame[1:]...), true, nil
	case ChunkFirst:
		if r.open {
			r.reset()
			return nil, false, fmt.Errorf("%w: first frame inside a chunked message", ErrMalformed)
		}
		if len(frame) < firstHeader {
			return nil, false, fmt.Errorf("%w: short first frame", ErrMalformed)
		}
		total := int(binary.BigEndian.Uint32(frame[1:5]))
		piece := frame[firstHeader:]
		if total > max {
			return nil, false, fmt.Errorf("%w: message of %d bytes exceeds %d", ErrMalformed, total, max)
		}
		if len(piece) >= total {
			return nil, false, fmt.Errorf("%w: first frame holds the whole message", ErrMalformed)
		}
		r.open, r.total = true, total
		r.buf = append(make([]byte, 0, min(total, 1<<20)), piece...) // grow as pieces arrive: a First frame alone cannot make us allocate Max
		return nil, false, nil
	case ChunkMiddle, ChunkLast:
		if !r.open {
			return nil, false, fmt.Errorf("%w: continuation without a first frame", ErrMalformed)
		}
		piece := frame[1:]
		if len(r.buf)+len(piece) > r.total {
			r.reset()
			return nil, false, fmt.Errorf("%w: chunks overrun the announced length", ErrMalformed)
		}
		r.buf = append(r.buf, piece...)
		last := frame[0] == ChunkLast
		switch {
		case last && len(r.buf) == r.total:
			msg = r.buf
			r.buf, r.open, r.total = nil, false, 0
			return msg, true, nil
		case last || len(r.buf) == r.total:
			r.reset()
			return nil, false, fmt.Errorf("%w: last frame and announced length disagree", ErrMalformed)
		}
		return nil, false, nil
	default:
		r.reset()
		return nil, false, fmt.Errorf("%w: unknown chunk kind %d", ErrMalformed, frame[0])
	}
}

// Pending returns the bytes held for an unfinished message.
func (r *Reassembler) Pending() int { return len(r.buf) }

func (r *Reassembler) reset() { r.buf, r.open, r.total = nil, false, 0 }
