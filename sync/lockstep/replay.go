package lockstep

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Replay file format, version 3 (all integers little endian):
//
//	header:  "PPLR" | version u16 = 3 | input size u16 | tick rate u32 |
//	         seed u64 | game ID u64 | seats u8 | local seat u8 |
//	         seats × (length u16 | PeerID bytes) |
//	         input delay u16 | adaptive u8 | checksum interval i32 |
//	         disconnect timeout ms u32 | settings length u32 | settings bytes |
//	         start frame i32 | start state length u32 | start state bytes
//	records: 0x01 | frame u32 | seats × input bytes   (a Step; frames S, S+1, ... in order)
//	         0x02 | frame u32 | checksum u64           (ReportChecksum of an earlier frame)
//
// The start frame S is 0 for a session that started with the match, and
// R (its JoinFrame) for one that joined a running match (Config.Join),
// whose log holds no frame before R; -1 (NoFrame) for a joiner never
// admitted (no steps). The start state is the game's state of frame S
// (after S-1) as the game encoded it (Session.RecordStart), empty when
// the game gave none: such a log can be read but not verified
// (ErrReplayNoStart). A joiner's header is written once it is admitted,
// before its first step.
//
// Versions 1 (without the fields after the seats) and 2 (without the
// start) are read as starting at frame 0. The file ends after any whole
// record. A dropped seat's input is recorded as zero bytes, the encoding
// of the zero value.
const (
	replayMagic   = "PPLR"
	replayVersion = 3
	recStep       = 0x01
	recChecksum   = 0x02
	maxPeerIDLen  = 256
	// MaxReplaySettings bounds Config.Settings (and what NewReplay reads).
	MaxReplaySettings = 64 << 10
	// MaxReplayStart bounds the start state of a joiner's replay
	// (RecordStart, and what NewReplay reads).
	MaxReplayStart = 64 << 20
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

	// StartFrame is the first frame of the log (version 3): 0 for a
	// session that started with the match, its JoinFrame R for one that
	// joined a running match, NoFrame for a joiner never admitted.
	// StartState is the game's state of StartFrame as the recording game
	// encoded it (Session.RecordStart); nil when it gave none. A replay
	// starting after frame 0 without it cannot be verified: restore
	// StartState, then apply the steps.
	StartFrame Frame
	StartState []byte
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

// RecordStart gives the replay log of a session that joined a running
// match (Config.Join) the game's state of its JoinFrame R (the match's
// state after R-1, which the game reached by its catch-up), encoded as
// the game likes, at most MaxReplayStart bytes; the session copies it.
// Call it once admitted (JoinFrame is not NoFrame) and before the next
// Advance: the session writes the header then, before the step of R.
// Without it the log starts at R with no state, and Replay.Verify
// reports ErrReplayNoStart. Errors: no Record, not a joining session,
// not admitted yet, already written, or too large.
func (s *Session[I]) RecordStart(state []byte) error {
	switch {
	case s.rec == nil || !s.rec.deferred:
		return fmt.Errorf("%w: RecordStart without a joining session's replay", ErrRecord)
	case s.joining:
		return fmt.Errorf("%w: RecordStart before admission (JoinFrame)", ErrRecord)
	case s.rec.started:
		return fmt.Errorf("%w: RecordStart after the log started", ErrRecord)
	case len(state) > MaxReplayStart:
		return fmt.Errorf("%w: start state of %d bytes, above %d", ErrRecord, len(state), MaxReplayStart)
	}
	s.rec.start = append([]byte{}, state...)
	return nil
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
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(h.StartFrame)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(h.StartState)))
	b = append(b, h.StartState...)
	return b, nil
}

// recorder buffers the replay log, flushing about once a second of frames
// and on Close. After the first write error it stops.
type recorder struct {
	w   *bufio.Writer
	buf [13]byte
	err error

	// A joining session's header waits for its admission (begin).
	h        ReplayHeader
	deferred bool   // a Config.Join session: the header waits
	started  bool   // the header is written
	start    []byte // RecordStart's state
}

func newRecorder(w io.Writer, h ReplayHeader, join bool) (*recorder, error) {
	if join {
		h.StartFrame = NoFrame
	}
	if _, err := h.marshal(); err != nil { // check the header now, write it later
		return nil, err
	}
	r := &recorder{w: bufio.NewWriterSize(w, 32<<10), h: h, deferred: join}
	if !join {
		if err := r.begin(0); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRecord, err)
		}
	}
	return r, nil
}

// begin writes the header: the log starts at frame start.
func (r *recorder) begin(start Frame) error {
	r.started = true
	r.h.StartFrame, r.h.StartState = start, r.start
	hb, err := r.h.marshal()
	if err == nil {
		_, err = r.w.Write(hb)
	}
	return err
}

func (r *recorder) close() error {
	if r.err != nil {
		return r.err
	}
	if !r.started {
		if err := r.begin(NoFrame); err != nil { // a joiner never admitted: a header, no steps
			return fmt.Errorf("lockstep: recording: %w", err)
		}
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
	if !r.started {
		if err := r.begin(f); err != nil {
			s.recordFailed(err)
			return
		}
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
	if r.err != nil || !r.started {
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
	case h.Version < 1 || h.Version > replayVersion:
		return nil, fmt.Errorf("%w: version %d, want 1 to %d", ErrBadReplay, h.Version, replayVersion)
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
	if h.Version >= 3 {
		var s [8]byte
		if _, err := io.ReadFull(br, s[:]); err != nil {
			return nil, badReplay("start", err)
		}
		h.StartFrame = Frame(int32(le.Uint32(s[0:])))
		size := le.Uint32(s[4:])
		switch {
		case h.StartFrame < NoFrame || h.StartFrame >= maxStreamFrame:
			return nil, fmt.Errorf("%w: start frame %d", ErrBadReplay, h.StartFrame)
		case size > MaxReplayStart:
			return nil, fmt.Errorf("%w: %d bytes of start state", ErrBadReplay, size)
		case size > 0 && h.StartFrame <= 0:
			return nil, fmt.Errorf("%w: start state for start frame %d", ErrBadReplay, h.StartFrame)
		}
		if size > 0 {
			// Grown as the bytes arrive, not allocated as claimed: a short
			// log cannot make it allocate MaxReplayStart
			// (TestReplayStartClaimAllocates).
			var st bytes.Buffer
			if _, err := io.CopyN(&st, br, int64(size)); err != nil {
				return nil, badReplay("start", err)
			}
			h.StartState = st.Bytes()
		}
	}
	rp := &Replay[I]{
		r: br, h: h, isize: isize, next: max(h.StartFrame, 0),
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
//
// A log that starts after frame 0 (a joiner's, Header().StartFrame)
// without a start state cannot be verified: no game can hold the state
// its first step applies to. Verify then compares nothing and the next
// Next returns ErrReplayNoStart, so a test cannot read it as a pass.
func (r *Replay[I]) Verify(f Frame, sum uint64) {
	if r.h.StartFrame > 0 && r.h.StartState == nil {
		if r.mismatch == nil {
			r.mismatch = fmt.Errorf("%w: the log starts at frame %d", ErrReplayNoStart, r.h.StartFrame)
		}
		return
	}
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
