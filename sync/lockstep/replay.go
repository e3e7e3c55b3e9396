package lockstep

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Replay file format, version 2 (all integers little endian):
//
//	header:  "PPLR" | version u16 = 2 | input size u16 | tick rate u32 |
//	         seed u64 | game ID u64 | seats u8 | local seat u8 |
//	         seats × (length u16 | PeerID bytes) |
//	         input delay u16 | adaptive u8 | checksum interval i32 |
//	         disconnect timeout ms u32 | settings length u32 | settings bytes
//	records: 0x01 | frame u32 | seats × input bytes   (a Step; frames 0, 1, 2, ... in order)
//	         0x02 | frame u32 | checksum u64           (ReportChecksum of an earlier frame)
//
// Version 1 is the same without the fields after the seats; NewReplay
// reads both. The file ends after any whole record. A dropped seat's
// input is recorded as zero bytes, the encoding of the zero value.
const (
	replayMagic   = "PPLR"
	replayVersion = 2
	recStep       = 0x01
	recChecksum   = 0x02
	maxPeerIDLen  = 256
	// MaxReplaySettings bounds Config.Settings (and what NewReplay reads).
	MaxReplaySettings = 64 << 10
	// verifyRing: Verify remembers this many frames whose recorded
	// checksum has not been read yet (the recording session writes a
	// checksum a few frames after its step at most).
	verifyRing = 64
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

	// The match settings (version 2; zero in version 1 files): the
	// session's starting input delay, whether it adapted, the checksum
	// interval and disconnect timeout, and the game's Config.Settings.
	InputDelay        int
	Adaptive          bool
	ChecksumInterval  int
	DisconnectTimeout time.Duration
	Settings          []byte
}

func (s *Session[I]) header() ReplayHeader {
	return ReplayHeader{
		Version: replayVersion, InputSize: s.isize, TickRate: s.cfg.TickRate,
		Seed: s.cfg.Seed, GameID: s.cfg.GameID, Seats: s.Seats(), LocalSeat: s.me,
		InputDelay: s.cfg.InputDelay, Adaptive: s.cfg.Adaptive.Enabled,
		ChecksumInterval: s.cfg.ChecksumInterval, DisconnectTimeout: s.cfg.DisconnectTimeout,
		Settings: s.cfg.Settings,
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
	b = binary.LittleEndian.AppendUint16(b, uint16(h.InputDelay))
	adaptive := byte(0)
	if h.Adaptive {
		adaptive = 1
	}
	b = append(b, adaptive)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(h.ChecksumInterval)))
	b = binary.LittleEndian.AppendUint32(b, uint32(h.DisconnectTimeout/time.Millisecond))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Settings)))
	b = append(b, h.Settings...)
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
	status []InputStatus
	sums   map[Frame]uint64
	buf    [8]byte // record fields (a field, not a local: it would escape)

	// Verify: the game's checksums not compared yet, by frame mod
	// verifyRing; how many were compared; the first mismatch.
	mine     [verifyRing]sumEntry
	checked  int
	mismatch error
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
	case h.Version != 1 && h.Version != replayVersion:
		return nil, fmt.Errorf("%w: version %d, want 1 or %d", ErrBadReplay, h.Version, replayVersion)
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
	if h.Version >= 2 {
		var s [15]byte
		if _, err := io.ReadFull(br, s[:]); err != nil {
			return nil, badReplay("settings", err)
		}
		h.InputDelay = int(le.Uint16(s[0:]))
		h.Adaptive = s[2] != 0
		h.ChecksumInterval = int(int32(le.Uint32(s[3:])))
		h.DisconnectTimeout = time.Duration(le.Uint32(s[7:])) * time.Millisecond
		size := le.Uint32(s[11:])
		if size > MaxReplaySettings {
			return nil, fmt.Errorf("%w: %d bytes of settings", ErrBadReplay, size)
		}
		if size > 0 {
			h.Settings = make([]byte, size)
			if _, err := io.ReadFull(br, h.Settings); err != nil {
				return nil, badReplay("settings", err)
			}
		}
	}
	rp := &Replay[I]{
		r: br, h: h, isize: isize,
		raw:    make([]byte, n*isize),
		inputs: make([]I, n),
		status: make([]InputStatus, n),
		sums:   make(map[Frame]uint64),
	}
	for i := range rp.status {
		rp.status[i] = InputConfirmed
	}
	for i := range rp.mine {
		rp.mine[i].frame = NoFrame
	}
	return rp, nil
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
// way: those before it, and those right after it (so that Checksum of the
// step's frame is known when it is returned, as a session records it with
// CatchUp 1). It returns io.EOF after the last step, an error wrapping
// ErrBadReplay for a malformed or truncated log, and a *DesyncError
// (errors.Is ErrDesync) once Verify found a mismatch. The Step's Inputs
// and Status are reused: valid until the next call; Status says
// InputConfirmed for every seat (the log does not record drops: a dropped
// seat's input is the zero value).
func (r *Replay[I]) Next() (Step[I], error) {
	if r.mismatch != nil {
		return Step[I]{}, r.mismatch
	}
	for {
		step, err := r.record()
		if err != nil {
			return Step[I]{}, err
		}
		if step {
			break
		}
	}
	// Read ahead the checksum records that follow the step.
	for {
		if b, err := r.r.Peek(1); err != nil || b[0] != recChecksum {
			break
		}
		if _, err := r.record(); err != nil {
			return Step[I]{}, err
		}
	}
	if r.mismatch != nil {
		return Step[I]{}, r.mismatch
	}
	return Step[I]{Frame: r.next - 1, Inputs: r.inputs, Status: r.status}, nil
}

// record reads one record: a step (into r.inputs; step is true) or a
// checksum.
func (r *Replay[I]) record() (step bool, err error) {
	le := binary.LittleEndian
	tag, err := r.r.ReadByte()
	if err == io.EOF {
		return false, io.EOF
	}
	if err != nil {
		return false, badReplay("record", err)
	}
	if _, err := io.ReadFull(r.r, r.buf[:4]); err != nil {
		return false, badReplay("record", err)
	}
	f := Frame(le.Uint32(r.buf[:4]))
	switch tag {
	case recStep:
		if f != r.next {
			return false, fmt.Errorf("%w: step for frame %d, want %d", ErrBadReplay, f, r.next)
		}
		if _, err := io.ReadFull(r.r, r.raw); err != nil {
			return false, badReplay("step", err)
		}
		for t := range r.inputs {
			if _, err := binary.Decode(r.raw[t*r.isize:(t+1)*r.isize], le, &r.inputs[t]); err != nil {
				return false, badReplay("input", err)
			}
		}
		r.next++
		return true, nil
	case recChecksum:
		if _, err := io.ReadFull(r.r, r.buf[:8]); err != nil {
			return false, badReplay("checksum", err)
		}
		if f < 0 || f >= r.next {
			return false, fmt.Errorf("%w: checksum for frame %d before its step", ErrBadReplay, f)
		}
		sum := le.Uint64(r.buf[:8])
		r.sums[f] = sum
		if m := &r.mine[f%verifyRing]; m.ok && m.frame == f {
			m.ok = false
			r.compare(f, m.sum, sum)
		}
		return false, nil
	default:
		return false, fmt.Errorf("%w: unknown record %#x", ErrBadReplay, tag)
	}
}

// Checksum returns the checksum the recording peer reported for frame,
// if it has been read yet (checksum records follow their step; Next reads
// those right after it). A test should rather call Verify after each step
// and check Checked at the end: a checksum not read yet is then compared
// later, never skipped.
func (r *Replay[I]) Checksum(f Frame) (uint64, bool) {
	sum, ok := r.sums[f]
	return sum, ok
}

// Verify compares the replaying game's checksum after frame f with the
// recorded one: at once if it has been read, or when Next reads it (within
// the next 64 frames; later ones are not compared). A mismatch makes the
// next Next return a *DesyncError (Seat: the recording seat, Local: sum,
// Remote: the recorded checksum). Frames the recording peer reported no
// checksum for (see Config.ChecksumInterval) are never counted.
func (r *Replay[I]) Verify(f Frame, sum uint64) {
	if rec, ok := r.sums[f]; ok {
		r.compare(f, sum, rec)
		return
	}
	if f >= 0 {
		r.mine[f%verifyRing] = sumEntry{frame: f, sum: sum, ok: true}
	}
}

// Checked returns how many frames Verify compared with a recorded
// checksum. A replay test asserts it is above zero, so that a log without
// checksums, or checksums read at the wrong time, fail instead of passing
// with nothing compared.
func (r *Replay[I]) Checked() int { return r.checked }

// Recorded returns how many checksum records have been read so far.
func (r *Replay[I]) Recorded() int { return len(r.sums) }

func (r *Replay[I]) compare(f Frame, local, recorded uint64) {
	r.checked++
	if local != recorded && r.mismatch == nil {
		r.mismatch = &DesyncError{Frame: f, Seat: r.h.LocalSeat, Peer: r.h.Seats[r.h.LocalSeat], Local: local, Remote: recorded}
	}
}
