package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrTooLarge is returned (wrapped) by Feed for a message above
// Reassembler.Max: its frames are skipped, never buffered.
var ErrTooLarge = errors.New("wire: message above the size limit")

// FirstCap bounds the buffer a First frame allocates. Once the message
// outgrows it, the buffer is allocated at the announced length, once (no
// doubling: a receiver's memory budget then counts exactly what is
// allocated, including the moment both buffers are live). So a First
// frame alone cannot make the receiver allocate the announced length,
// and a message of n bytes needs n + FirstCap bytes of budget at most.
const FirstCap = 64 << 10

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
	skip  bool // inside a message above Max: drop its frames
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
	limit := r.Max
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	if len(frame) < 1 || len(frame) > ChunkSize {
		r.reset()
		return nil, false, fmt.Errorf("%w: chunk frame of %d bytes", ErrMalformed, len(frame))
	}
	if r.skip {
		switch frame[0] {
		case ChunkMiddle:
			return nil, false, nil
		case ChunkLast:
			r.skip = false
			return nil, false, nil
		}
		r.skip = false // the oversize message ended early: take this frame as it is
	}
	switch frame[0] {
	case ChunkWhole:
		if r.open {
			r.reset()
			return nil, false, fmt.Errorf("%w: whole frame inside a chunked message", ErrMalformed)
		}
		if len(frame)-1 > limit {
			return nil, false, fmt.Errorf("%w: message of %d bytes exceeds %d", ErrTooLarge, len(frame)-1, limit)
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
		if len(piece) >= total {
			return nil, false, fmt.Errorf("%w: first frame holds the whole message", ErrMalformed)
		}
		if total > limit {
			r.skip = true
			return nil, false, fmt.Errorf("%w: message of %d bytes exceeds %d", ErrTooLarge, total, limit)
		}
		r.open, r.total = true, total
		r.buf = append(make([]byte, 0, min(total, FirstCap)), piece...)
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
		if n := len(r.buf) + len(piece); n > cap(r.buf) {
			nb := make([]byte, len(r.buf), r.total)
			copy(nb, r.buf)
			r.buf = nb
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

// Held returns the bytes allocated for an unfinished message (at least
// Pending).
func (r *Reassembler) Held() int { return cap(r.buf) }

// Need returns how many bytes Feed(frame) would allocate: the whole
// message for a Whole frame, the first buffer for a First frame, the new
// buffer for a Middle or Last one that outgrows it (the old one is freed
// after: Held drops); at most that, 0 for a frame Feed refuses. A
// receiver charges it to a memory budget before Feed.
func (r *Reassembler) Need(frame []byte) int {
	limit := r.Max
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	if len(frame) < 1 || len(frame) > ChunkSize || r.skip && (frame[0] == ChunkMiddle || frame[0] == ChunkLast) {
		return 0
	}
	switch frame[0] {
	case ChunkWhole:
		if r.open || len(frame)-1 > limit {
			return 0
		}
		return len(frame) - 1
	case ChunkFirst:
		if r.open || len(frame) < firstHeader {
			return 0
		}
		total := int(binary.BigEndian.Uint32(frame[1:5]))
		if total > limit || len(frame)-firstHeader >= total {
			return 0
		}
		return min(total, FirstCap)
	case ChunkMiddle, ChunkLast:
		n := len(r.buf) + len(frame) - 1
		if !r.open || n > r.total || n <= cap(r.buf) {
			return 0
		}
		return r.total
	}
	return 0
}

// Reset drops an unfinished message (a receiver's timeout).
func (r *Reassembler) Reset() { r.reset() }

// Skip drops the message frame would have started or continued: its
// buffer is freed and its remaining frames are skipped, as for a message
// above Max (a receiver out of memory budget). frame is then not fed.
func (r *Reassembler) Skip(frame []byte) {
	r.reset()
	if len(frame) > 0 && frame[0] != ChunkWhole && frame[0] != ChunkLast {
		r.skip = true
	}
}

func (r *Reassembler) reset() { r.buf, r.open, r.total, r.skip = nil, false, 0, false }
