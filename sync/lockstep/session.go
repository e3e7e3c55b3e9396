package lockstep

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// Frame numbers the steps of the simulation, from 0.
type Frame int32

// NoFrame is the Frame before the first: "none yet".
const NoFrame Frame = -1

// Step is one frame of the game with every seat's input, ready to apply.
type Step[I any] struct {
	Frame  Frame
	Inputs []I // indexed by seat; a dropped seat's input is the zero value
}

// Session runs deterministic lockstep for one peer over a transport.Conn
// (an unreliable channel: inputs carry their own redundancy). It starts no
// goroutines and reads the clock only through Config.Now; the game loop
// drives it by calling Advance once per tick.
//
// A Session is not safe for concurrent use: call it from the game loop
// only.
type Session[I any] struct {
	conn  transport.Conn
	cfg   settings
	n     int // seats
	me    int // local seat
	isize int // encoded input size
	rcap  Frame
	all   uint32 // bit per seat
	start time.Time

	seats []seat

	next  Frame // the next frame to return
	delay int   // current input delay

	lost      uint32 // seats lost or dropped (never me)
	dropped   uint32 // seats whose drop frame is agreed
	dropFrame [MaxSeats]Frame

	// Checksums.
	local    [checksumRing]sumEntry
	recent   [wire.MaxChecksums]wire.Checksum
	nrecent  int
	errQueue error // the first undelivered *DesyncError

	// Adaptive delay and time sync.
	lowSince  time.Time
	ahead     float64
	slowAfter uint64 // tick before which SlowDown stays 0

	enc     *wire.Encoder
	dec     wire.Decoder
	in, out wire.Packet
	seq     uint32
	scratch []byte
	tmp     I
	zero    I

	steps  []Step[I]
	stepIn []I

	events, polled []Event
	stats          Stats
	stall          int
	lastNow        time.Time

	rec    *recorder
	closed bool
}

// seat is what this peer knows about one seat.
type seat struct {
	id   transport.PeerID
	ring []byte // rcap inputs: frame f at f mod rcap
	hold Frame  // every input up to hold is held (-1: none)

	// The seat's own reports (max-merged, so reordering cannot regress).
	acks     [MaxSeats]Frame // acks[t]: the seat holds t's inputs up to acks[t]
	lostView uint32          // seats it considers lost

	lastHeard time.Time
	heard     bool

	// Replay filter: highest sequence number seen and a bitmap of the 64
	// below it.
	maxSeq  uint32
	seqMask uint64
	anySeq  bool
	// loss estimates the fraction of its datagrams lost on the way here
	// (an exponential average over about 256 datagrams; sequence gaps
	// count as losses until the overtaken datagram arrives).
	loss float64

	// RTT: its last ping, to echo, and our estimate.
	ping     uint32
	pingAt   time.Time
	hasPing  bool
	rtt      rttStats
	frame    Frame // its next frame, as last reported
	frameAt  time.Time
	hasFrame bool

	// Remote checksums not yet compared, by frame.
	sums         [checksumRing]sumEntry
	lastCompared Frame
}

type sumEntry struct {
	frame Frame
	sum   uint64
	ok    bool
}

const (
	checksumRing = 32
	minRing      = 256
)

// NewSession starts a lockstep session for the local peer of conn. conn
// should be an unreliable channel (SCTP unordered, maxRetransmits 0) used
// by nothing else; the session does not close it.
//
// I is the game's input: any type encoding/binary encodes as a fixed
// number of bytes (integers, bools, floats, arrays and structs of those,
// exported fields), at most MaxInputSize bytes; otherwise ErrInputType.
func NewSession[I any](conn transport.Conn, cfg Config) (*Session[I], error) {
	if conn == nil {
		return nil, fmt.Errorf("%w: nil conn", ErrInvalidConfig)
	}
	isize, err := inputSize[I]()
	if err != nil {
		return nil, err
	}
	st, err := cfg.normalize(conn.Local(), isize)
	if err != nil {
		return nil, err
	}
	n := len(st.Seats)
	rcap := minRing
	for rcap < 4*st.window+2*st.MaxInputDelay {
		rcap *= 2
	}
	s := &Session[I]{
		conn:    conn,
		cfg:     st,
		n:       n,
		isize:   isize,
		rcap:    Frame(rcap),
		all:     uint32(1)<<n - 1,
		start:   st.Now(),
		seats:   make([]seat, n),
		delay:   st.InputDelay,
		enc:     wire.NewEncoder(),
		scratch: make([]byte, max(st.window, st.relay)*isize),
		steps:   make([]Step[I], 0, st.CatchUp),
		stepIn:  make([]I, st.CatchUp*n),
		events:  make([]Event, 0, maxEvents),
		polled:  make([]Event, 0, maxEvents),
	}
	s.lastNow = s.start
	for t := range s.seats {
		sd := &s.seats[t]
		sd.id = st.Seats[t]
		if sd.id == conn.Local() {
			s.me = t
		}
		sd.ring = make([]byte, rcap*isize)
		sd.hold = NoFrame
		sd.lastHeard = s.start
		sd.lastCompared = NoFrame
		for u := range sd.acks {
			sd.acks[u] = NoFrame
		}
	}
	for t := range s.dropFrame {
		s.dropFrame[t] = NoFrame
	}
	// Frames 0..delay-1 carry the zero input: the delay's head start. They
	// are ordinary inputs, sent like any other, so peers need not agree on
	// the delay.
	s.seats[s.me].hold = Frame(s.delay) - 1
	if st.Record != nil {
		if s.rec, err = newRecorder(st.Record, s.header()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// inputSize returns the encoded size of I, after checking that a value
// survives an encode/decode round trip (binary.Size accepts structs with
// unexported fields, which Decode cannot set).
func inputSize[I any]() (n int, err error) {
	var v I
	n = binary.Size(&v)
	if n <= 0 {
		return 0, fmt.Errorf("%w: %T", ErrInputType, v)
	}
	if n > MaxInputSize {
		return 0, fmt.Errorf("%w: %T is %d bytes, at most %d", ErrInputType, v, n, MaxInputSize)
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: %T: %v", ErrInputType, v, r)
		}
	}()
	buf := make([]byte, n)
	if _, err := binary.Encode(buf, binary.LittleEndian, &v); err != nil {
		return 0, fmt.Errorf("%w: %T: %v", ErrInputType, v, err)
	}
	if _, err := binary.Decode(buf, binary.LittleEndian, &v); err != nil {
		return 0, fmt.Errorf("%w: %T: %v", ErrInputType, v, err)
	}
	return n, nil
}

// LocalSeat returns this peer's seat: its index in the sorted seat list.
func (s *Session[I]) LocalSeat() int { return s.me }

// Seats returns the seated peers in seat order (a copy).
func (s *Session[I]) Seats() []transport.PeerID {
	out := make([]transport.PeerID, s.n)
	for t := range s.seats {
		out[t] = s.seats[t].id
	}
	return out
}

// Advance is called once per game tick with the local player's input. It
// reads every datagram that has arrived, sends this peer's datagram, and
// returns the frames now ready, oldest first (at most Config.CatchUp, by
// default one), each with every seat's input. An empty slice is a stall
// (some seat's input is late), not an error: call Advance again next tick.
//
// The local input is used only when the session has a frame for it, which
// is exactly when Advance returns steps (at a constant delay): on a stall
// it is discarded (Stats.InputsUnused). A game with one-shot inputs
// (a button press) should keep them pending until a call returns steps.
// While the adaptive delay rises, the input fills several frames; while
// it falls, some inputs are discarded although steps are returned.
//
// The returned slice, and each Step's Inputs, are reused: valid until the
// next Advance. Errors: ErrClosed; *DesyncError (errors.Is ErrDesync),
// returned once per detected mismatch with no steps — the session goes on
// and the next Advance returns the frames.
func (s *Session[I]) Advance(local I) ([]Step[I], error) {
	if s.closed {
		return nil, ErrClosed
	}
	now := s.cfg.Now()
	s.lastNow = now
	s.stats.Ticks++
	s.receive(now)
	s.checkLoss(now)
	s.adaptDelay(now)
	if err := s.errQueue; err != nil {
		s.errQueue = nil
		s.stats.InputsUnused++
		s.send(now)
		s.countStall(0)
		return nil, err
	}
	steps := s.emit()
	s.tmp = local
	s.stamp()
	s.send(now)
	s.timeSync(now)
	s.countStall(len(steps))
	return steps, nil
}

func (s *Session[I]) countStall(n int) {
	if n > 0 {
		s.stall = 0
		return
	}
	s.stats.Stalls++
	s.stall++
	s.stats.LongestStall = max(s.stats.LongestStall, s.stall)
}

// slot returns the ring bytes of seat t's input for frame f.
func (s *Session[I]) slot(t int, f Frame) []byte {
	i := int(f&(s.rcap-1)) * s.isize
	return s.seats[t].ring[i : i+s.isize]
}

// survivor reports whether seat t is a remote seat still in the game.
func (s *Session[I]) survivor(t int) bool {
	return t != s.me && s.lost&(1<<t) == 0
}

// floor returns the oldest frame of seat t's inputs this peer must keep:
// frames not yet run here, and frames some survivor has not acknowledged
// (it may need them relayed if t is lost).
func (s *Session[I]) floor(t int) Frame {
	f := s.next
	for v := range s.seats {
		if v != t && s.survivor(v) {
			f = min(f, s.seats[v].acks[t]+1)
		}
	}
	return f
}

// minAck returns the oldest local frame some survivor still lacks, minus
// one; with no survivor, everything counts as acknowledged.
func (s *Session[I]) minAck() Frame {
	a := s.seats[s.me].hold
	for v := range s.seats {
		if s.survivor(v) {
			a = min(a, s.seats[v].acks[s.me])
		}
	}
	return a
}

// emit collects the ready frames.
func (s *Session[I]) emit() []Step[I] {
	steps := s.steps[:0]
	for len(steps) < cap(steps) {
		f := s.next
		for t := range s.seats {
			if s.seats[t].hold < f && !(s.dropped&(1<<t) != 0 && f > s.dropFrame[t]) {
				return steps
			}
		}
		k := len(steps)
		inputs := s.stepIn[k*s.n : (k+1)*s.n]
		for t := range s.seats {
			if s.seats[t].hold < f {
				inputs[t] = s.zero
				continue
			}
			// Cannot fail: the slot has exactly binary.Size(I) bytes and
			// I round-tripped in NewSession.
			_, _ = binary.Decode(s.slot(t, f), binary.LittleEndian, &inputs[t])
		}
		steps = append(steps, Step[I]{Frame: f, Inputs: inputs})
		if s.rec != nil {
			s.recordStep(f)
		}
		s.next++
	}
	return steps
}

// stamp writes the local input (s.tmp) into every frame up to
// next+delay-1 not yet filled: none on a stall or while the delay falls,
// one normally, several while the delay rises. Frames are never skipped
// nor written twice, so all peers see one input per frame.
func (s *Session[I]) stamp() {
	me := &s.seats[s.me]
	target := s.next + Frame(s.delay) - 1
	var first []byte
	for me.hold < target {
		f := me.hold + 1
		if int(f-s.minAck()) > s.cfg.window {
			s.stats.WindowFull++
			break
		}
		dst := s.slot(s.me, f)
		if first == nil {
			_, _ = binary.Encode(dst, binary.LittleEndian, &s.tmp)
			first = dst
		} else {
			copy(dst, first)
		}
		me.hold = f
	}
	if first == nil {
		s.stats.InputsUnused++
	}
}

// micros is the session clock sent in pings.
func (s *Session[I]) micros(now time.Time) uint32 {
	return uint32(now.Sub(s.start) / time.Microsecond)
}

// send transmits this tick's Frame datagram to every survivor, and relays
// lost seats' inputs to survivors that lack them.
func (s *Session[I]) send(now time.Time) {
	if s.lost|1<<s.me == s.all {
		return // alone
	}
	p := &s.out
	*p = wire.Packet{
		Kind: wire.KindFrame, Game: s.cfg.GameID, Seat: uint8(s.me), InputSize: uint16(s.isize),
		Frame: int32(s.next), Ping: s.micros(now), Lost: s.lost, Seats: s.n,
	}
	me := &s.seats[s.me]
	start := s.minAck() + 1
	count := min(int(me.hold-start+1), s.cfg.window)
	p.Start = int32(start)
	p.Inputs = s.copyInputs(s.me, start, count)
	for t := range s.seats {
		sd := &s.seats[t]
		p.Acks[t] = int32(sd.hold)
		p.Echoes[t] = wire.Echo{Hold: wire.NoHold}
		if t != s.me && sd.hasPing {
			p.Echoes[t] = wire.Echo{Ping: sd.ping, Hold: uint32(now.Sub(sd.pingAt) / time.Microsecond)}
		}
	}
	// Checksums: the newest, sent in every datagram until the next one,
	// which is redundancy enough; with intervals under 4 frames, enough
	// of the latest to cover 4 frames.
	p.NumChecksums = min(s.nrecent, (3+s.cfg.ChecksumInterval)/max(s.cfg.ChecksumInterval, 1))
	p.Checksums = s.recent
	s.transmit(p, -1)

	// Relays: survivors agree on a lost seat's drop frame only once they
	// all hold the same inputs, so whoever holds more passes them on.
	for l := range s.seats {
		if s.lost&(1<<l) == 0 || s.seats[l].hold < 0 {
			continue
		}
		hold := s.seats[l].hold
		for v := range s.seats {
			a := s.seats[v].acks[l]
			if !s.survivor(v) || a >= hold {
				continue
			}
			start := a + 1
			count := min(int(hold-a), s.cfg.relay)
			*p = wire.Packet{
				Kind: wire.KindRelay, Game: s.cfg.GameID, Seat: uint8(s.me), InputSize: uint16(s.isize),
				LostSeat: uint8(l), Start: int32(start), Inputs: s.copyInputs(l, start, count),
			}
			s.stats.Relayed++
			s.transmit(p, v)
		}
	}
}

// copyInputs copies count inputs of seat t from frame start into scratch
// (the ring may wrap).
func (s *Session[I]) copyInputs(t int, start Frame, count int) []byte {
	out := s.scratch[:count*s.isize]
	for k := range count {
		copy(out[k*s.isize:], s.slot(t, start+Frame(k)))
	}
	return out
}

// transmit encodes p with the next sequence number and sends it to seat
// to, or to every survivor if to < 0.
func (s *Session[I]) transmit(p *wire.Packet, to int) {
	p.Seq = s.seq
	s.seq++
	buf, err := s.enc.Encode(p)
	if err != nil {
		// Unreachable by construction (sizes are bounded in NewSession);
		// counted rather than fatal.
		s.stats.SendErrors++
		return
	}
	s.stats.LargestSent = max(s.stats.LargestSent, len(buf))
	for v := range s.seats {
		if (to >= 0 && v != to) || !s.survivor(v) {
			continue
		}
		if err := s.conn.Send(s.seats[v].id, buf); err != nil {
			s.stats.SendErrors++
			continue
		}
		s.stats.DatagramsSent++
		s.stats.BytesSent += uint64(len(buf))
	}
}

// receive drains the Conn, at most a bounded number of datagrams per call
// (the rest waits in the Conn's own bounded inbox for the next tick).
func (s *Session[I]) receive(now time.Time) {
	for range 64 * s.n {
		m, ok := s.conn.TryRecv()
		if !ok {
			return
		}
		s.handle(now, m)
	}
}

func (s *Session[I]) seatOf(id transport.PeerID) int {
	for t := range s.seats {
		if s.seats[t].id == id {
			return t
		}
	}
	return -1
}

// handle validates one datagram and applies it. Nothing a peer sends can
// make it fail: invalid datagrams are dropped and counted.
func (s *Session[I]) handle(now time.Time, m transport.Message) {
	s.stats.DatagramsRecv++
	s.stats.BytesRecv += uint64(len(m.Data))
	d := &s.stats.Dropped
	from := s.seatOf(m.From)
	if from < 0 || from == s.me {
		d.Spoofed++
		return
	}
	p := &s.in
	switch err := s.dec.Decode(m.Data, p); err {
	case nil:
	case wire.ErrTooLarge:
		d.Oversize++
		return
	default:
		d.Malformed++
		return
	}
	switch {
	case int(p.Seat) != from:
		d.Spoofed++
		return
	case p.Game != s.cfg.GameID:
		d.Foreign++
		return
	case int(p.InputSize) != s.isize || (p.Kind == wire.KindFrame && p.Seats != s.n) ||
		(p.Kind == wire.KindRelay && (int(p.LostSeat) >= s.n || int(p.LostSeat) == from)):
		d.Malformed++
		return
	case s.lost&(1<<from) != 0:
		d.FromLost++
		return
	case s.farFuture(from, p):
		d.FarFuture++
		return
	}
	newest, ok := s.acceptSeq(from, p.Seq)
	if !ok {
		return
	}
	sd := &s.seats[from]
	sd.lastHeard = now
	sd.heard = true
	switch p.Kind {
	case wire.KindFrame:
		s.onFrame(now, from, p, newest)
	case wire.KindRelay:
		l := int(p.LostSeat)
		if l != s.me {
			s.store(l, Frame(p.Start), p.Inputs)
		}
	case wire.KindBye:
		s.markLost(from, "left")
	}
}

// farFuture rejects frame numbers no honest peer can have reached: far
// beyond this peer's position (a peer cannot run more than about
// 2·(MaxInputDelay+1) frames ahead of another, and acks cannot exceed what
// exists).
func (s *Session[I]) farFuture(from int, p *wire.Packet) bool {
	limit := s.next + s.rcap
	if Frame(p.Frame) > limit || Frame(p.Start) > limit {
		return true
	}
	if p.Kind == wire.KindFrame {
		if Frame(p.Acks[s.me]) > s.seats[s.me].hold {
			return true
		}
		for t := range s.n {
			if Frame(p.Acks[t]) > limit {
				return true
			}
		}
		for i := range p.NumChecksums {
			if Frame(p.Checksums[i].Frame) > limit {
				return true
			}
		}
	}
	return false
}

// acceptSeq is the replay filter: a 64-datagram sliding window per sender,
// as in DTLS. It reports whether seq is new, and whether it is the newest.
func (s *Session[I]) acceptSeq(from int, seq uint32) (newest, ok bool) {
	sd := &s.seats[from]
	d := &s.stats.Dropped
	switch {
	case !sd.anySeq:
		sd.anySeq, sd.maxSeq, sd.seqMask = true, seq, 1
		return true, true
	case seq > sd.maxSeq:
		shift := seq - sd.maxSeq
		for range min(shift-1, 256) {
			sd.loss += (1 - sd.loss) / 256
		}
		sd.loss -= sd.loss / 256
		if shift >= 64 {
			sd.seqMask = 1
		} else {
			sd.seqMask = sd.seqMask<<shift | 1
		}
		sd.maxSeq = seq
		return true, true
	}
	back := sd.maxSeq - seq
	if back >= 64 {
		d.Stale++
		return false, false
	}
	if sd.seqMask&(1<<back) != 0 {
		d.Replayed++
		return false, false
	}
	sd.seqMask |= 1 << back
	sd.loss = max(0, sd.loss-1.0/256) // counted as lost when overtaken
	return false, true
}

func (s *Session[I]) onFrame(now time.Time, from int, p *wire.Packet, newest bool) {
	sd := &s.seats[from]
	s.store(from, Frame(p.Start), p.Inputs)
	for t := range s.n {
		sd.acks[t] = max(sd.acks[t], Frame(p.Acks[t]))
	}
	if newest {
		// RTT samples from in-order datagrams only: one overtaken on the
		// way (jitter, a route change) adds nothing but noise.
		if e := p.Echoes[s.me]; e.Hold != wire.NoHold {
			if rtt := int32(s.micros(now) - e.Ping - e.Hold); rtt >= 0 {
				sd.rtt.add(time.Duration(rtt) * time.Microsecond)
			}
		}
		sd.ping, sd.pingAt, sd.hasPing = p.Ping, now, true
		sd.frame, sd.frameAt, sd.hasFrame = Frame(p.Frame), now, true
	}
	for i := range p.NumChecksums {
		c := p.Checksums[i]
		s.remoteSum(from, Frame(c.Frame), c.Sum)
	}
	lost := p.Lost & s.all
	sd.lostView |= lost
	// Contagion: a seat any survivor lost is lost for all, so survivors
	// converge on one set (never ourselves: a peer that thinks we are gone
	// stops sending to us and times out here).
	for adopt := lost &^ s.lost &^ (1 << s.me); adopt != 0; adopt &= adopt - 1 {
		s.markLost(bits.TrailingZeros32(adopt), "reported by "+string(sd.id))
	}
}

// store appends seat t's inputs from frame start: only the frame after the
// last held one extends the run (datagrams always start at or before it);
// frames already held are compared, and a difference counted.
func (s *Session[I]) store(t int, start Frame, raw []byte) {
	sd := &s.seats[t]
	oldest := s.floor(t) // ring slots from here to hold are valid
	limit := oldest + s.rcap
	if s.dropped&(1<<t) != 0 {
		limit = min(limit, s.dropFrame[t]+1)
	}
	f := start
	for k := 0; k+s.isize <= len(raw); k, f = k+s.isize, f+1 {
		in := raw[k : k+s.isize]
		if f <= sd.hold {
			if f >= oldest && !bytes.Equal(s.slot(t, f), in) {
				s.stats.Dropped.Conflicts++
			}
			continue
		}
		if f != sd.hold+1 || f >= limit {
			return
		}
		copy(s.slot(t, f), in)
		sd.hold = f
	}
}

// Close sends a goodbye to the other seats (so they drop this seat without
// waiting for DisconnectTimeout) and flushes the replay log, returning its
// error. Close is idempotent; it does not close the Conn.
func (s *Session[I]) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.lost|1<<s.me != s.all {
		p := &s.out
		*p = wire.Packet{Kind: wire.KindBye, Game: s.cfg.GameID, Seat: uint8(s.me),
			InputSize: uint16(s.isize), Frame: int32(s.next)}
		s.transmit(p, -1)
	}
	if s.rec != nil {
		return s.rec.close()
	}
	return nil
}
