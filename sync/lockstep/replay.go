package lockstep

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Replay file format, version 1 (all integers little endian):
//
//	header:  "PPLR" | version u16 = 1 | input size u16 | tick rate u32 |
//	         seed u64 | game ID u64 | seats u8 | local seat u8 |
//	         seats × (length u16 | PeerID bytes)
//	records: 0x01 | frame u32 | seats × input bytes   (a Step; frames 0, 1, 2, ... in order)
//	         0x02 | frame u32 | checksum u64           (ReportChecksum of an earlier frame)
//
// The file ends after any whole record. A dropped seat's input is recorded
// as zero bytes, the encoding of the zero value.
const (
	replayMagic   = "PPLR"
	replayVersion = 1
	recStep       = 0x01
	recChecksum   = 0x02
	maxPeerIDLen  = 256
)

// ReplayHeader describes a recorded session.
type ReplayHeader struct {
	Version   int
	InputSize int // encoded bytes per input
	TickRate  int
	Seed      uint64
	GameID    uint64
	Seats     []transport.PeerID
	LocalSeat int // the seat of the peer that recorded
}

func (s *Session[I]) header() ReplayHeader {
	return ReplayHeader{
		Version: replayVersion, InputSize: s.isize, TickRate: s.cfg.TickRate,
		Seed: s.cfg.Seed, GameID: s.cfg.GameID, Seats: s.Seats(), LocalSeat: s.me,
	}
}

func (h ReplayHeader) marshal() ([]byte, error) {
	b := []byte(replayMagic)
	b = binary.LittleEndian.AppendUint16(b, uint16(h.Version))
	b = binary.LittleEndian.AppendUint16(b, uint16(h.InputSize))
	b = binary.LittleEndian.AppendUint32(b, uint32(h.TickRate))
	b = binary.LittleEndian.AppendUint64(b, h.Seed)
	b = binary.LittleEndian.AppendUint64(b, h.GameID)
	b = append(b, uint8(len(h.Seats)), uint8(h.LocalSeat))
	for _, id := range h.Seats {
		if len(id) == 0 || len(id) > maxPeerIDLen {
			return nil, fmt.Errorf("%w: peer ID %q: length must be 1..%d", ErrRecord, id, maxPeerIDLen)
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(len(id)))
		b = append(b, id...)
	}
	return b, nil
}

// recorder buffers the replay log, flushing about once a second of frames
// and on Close. After the first write error it stops.
type recorder struct {
	w   *bufio.Writer
	buf [13]byte
	err error
}

func newRecorder(w io.Writer, h ReplayHeader) (*recorder, error) {
	hb, err := h.marshal()
	if err != nil {
		return nil, err
	}
	r := &recorder{w: bufio.NewWriterSize(w, 32<<10)}
	if _, err := r.w.Write(hb); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecord, err)
	}
	return r, nil
}

func (r *recorder) close() error {
	if r.err != nil {
		return r.err
	}
	return r.w.Flush()
}

// recordFailed stops recording and reports err once.
func (s *Session[I]) recordFailed(err error) {
	s.rec.err = fmt.Errorf("lockstep: recording: %w", err)
	s.cfg.Logger.Warn("lockstep: recording stopped", "err", err)
	s.event(Event{Kind: EventRecordError, Err: s.rec.err})
}

func (s *Session[I]) recordStep(f Frame) {
	r := s.rec
	if r.err != nil {
		return
	}
	r.buf[0] = recStep
	binary.LittleEndian.PutUint32(r.buf[1:], uint32(f))
	if _, err := r.w.Write(r.buf[:5]); err != nil {
		s.recordFailed(err)
		return
	}
	for t := range s.seats {
		in := s.slot(t, f)
		if s.seats[t].hold < f {
			in = s.scratch[:s.isize]
			clear(in)
		}
		if _, err := r.w.Write(in); err != nil {
			s.recordFailed(err)
			return
		}
	}
	// Flush about once a second, so a crash loses little of the log.
	if int(f)%s.cfg.TickRate == s.cfg.TickRate-1 {
		if err := r.w.Flush(); err != nil {
			s.recordFailed(err)
		}
	}
}

func (s *Session[I]) recordChecksum(f Frame, sum uint64) {
	r := s.rec
	if r.err != nil {
		return
	}
	r.buf[0] = recChecksum
	binary.LittleEndian.PutUint32(r.buf[1:], uint32(f))
	binary.LittleEndian.PutUint64(r.buf[5:], sum)
	if _, err := r.w.Write(r.buf[:13]); err != nil {
		s.recordFailed(err)
	}
}

// Replay reads a replay log written through Config.Record and yields the
// same Steps the recording session returned. It is not safe for
// concurrent use.
type Replay[I any] struct {
	r      *bufio.Reader
	h      ReplayHeader
	isize  int
	next   Frame
	raw    []byte
	inputs []I
	sums   map[Frame]uint64
	buf    [8]byte // record fields (a field, not a local: it would escape)
}

// NewReplay reads the header of a replay log. The input type must have
// the recorded size (ErrInputType otherwise); a malformed header yields
// ErrBadReplay.
func NewReplay[I any](r io.Reader) (*Replay[I], error) {
	isize, err := inputSize[I]()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	var fixed [30]byte
	if _, err := io.ReadFull(br, fixed[:]); err != nil {
		return nil, badReplay("header", err)
	}
	le := binary.LittleEndian
	h := ReplayHeader{
		Version:   int(le.Uint16(fixed[4:])),
		InputSize: int(le.Uint16(fixed[6:])),
		TickRate:  int(le.Uint32(fixed[8:])),
		Seed:      le.Uint64(fixed[12:]),
		GameID:    le.Uint64(fixed[20:]),
		LocalSeat: int(fixed[29]),
	}
	n := int(fixed[28])
	switch {
	case string(fixed[:4]) != replayMagic:
		return nil, fmt.Errorf("%w: not a replay (magic %q)", ErrBadReplay, fixed[:4])
	case h.Version != replayVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadReplay, h.Version, replayVersion)
	case n == 0 || n > MaxSeats || h.LocalSeat >= n:
		return nil, fmt.Errorf("%w: %d seats, local seat %d", ErrBadReplay, n, h.LocalSeat)
	case h.InputSize != isize:
		return nil, fmt.Errorf("%w: recorded inputs are %d bytes, %T is %d", ErrInputType, h.InputSize, *new(I), isize)
	}
	for range n {
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, badReplay("seat", err)
		}
		size := int(le.Uint16(l[:]))
		if size == 0 || size > maxPeerIDLen {
			return nil, fmt.Errorf("%w: peer ID length %d", ErrBadReplay, size)
		}
		id := make([]byte, size)
		if _, err := io.ReadFull(br, id); err != nil {
			return nil, badReplay("seat", err)
		}
		h.Seats = append(h.Seats, transport.PeerID(id))
	}
	return &Replay[I]{
		r: br, h: h, isize: isize,
		raw:    make([]byte, n*isize),
		inputs: make([]I, n),
		sums:   make(map[Frame]uint64),
	}, nil
}

func badReplay(what string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %s: %w", ErrBadReplay, what, err)
}

// Header returns the recorded session's header.
func (r *Replay[I]) Header() ReplayHeader { return r.h }

// Next returns the next recorded Step, reading the checksum records on the
// way (see Checksum). It returns io.EOF after the last step, and an error
// wrapping ErrBadReplay for a malformed or truncated log. The Step's
// Inputs are reused: valid until the next call.
func (r *Replay[I]) Next() (Step[I], error) {
	le := binary.LittleEndian
	for {
		tag, err := r.r.ReadByte()
		if err == io.EOF {
			return Step[I]{}, io.EOF
		}
		if err != nil {
			return Step[I]{}, badReplay("record", err)
		}
		if _, err := io.ReadFull(r.r, r.buf[:4]); err != nil {
			return Step[I]{}, badReplay("record", err)
		}
		f := Frame(le.Uint32(r.buf[:4]))
		switch tag {
		case recStep:
			if f != r.next {
				return Step[I]{}, fmt.Errorf("%w: step for frame %d, want %d", ErrBadReplay, f, r.next)
			}
			if _, err := io.ReadFull(r.r, r.raw); err != nil {
				return Step[I]{}, badReplay("step", err)
			}
			for t := range r.inputs {
				if _, err := binary.Decode(r.raw[t*r.isize:(t+1)*r.isize], le, &r.inputs[t]); err != nil {
					return Step[I]{}, badReplay("input", err)
				}
			}
			r.next++
			return Step[I]{Frame: f, Inputs: r.inputs}, nil
		case recChecksum:
			if _, err := io.ReadFull(r.r, r.buf[:8]); err != nil {
				return Step[I]{}, badReplay("checksum", err)
			}
			if f < 0 || f >= r.next {
				return Step[I]{}, fmt.Errorf("%w: checksum for frame %d before its step", ErrBadReplay, f)
			}
			r.sums[f] = le.Uint64(r.buf[:8])
		default:
			return Step[I]{}, fmt.Errorf("%w: unknown record %#x", ErrBadReplay, tag)
		}
	}
}

// Checksum returns the checksum the recording peer reported for frame,
// if it has been read yet (checksum records follow their step).
func (r *Replay[I]) Checksum(f Frame) (uint64, bool) {
	sum, ok := r.sums[f]
	return sum, ok
}
