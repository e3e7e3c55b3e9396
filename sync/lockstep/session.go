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

	// Checksums: the local ring, and the newest ones with how many more
	// Frame datagrams carry each (checksumSends after it is reported).
	local    [checksumRing]sumEntry
	recent   [wire.MaxChecksums]wire.Checksum
	sendsFor [wire.MaxChecksums]int
	errQueue error // the first undelivered *DesyncError

	// Adaptive delay and time sync.
	lowSince  time.Time
	ahead     float64
	slowAfter uint64 // tick before which SlowDown stays 0

	enc     *wire.Encoder
	dec     wire.Decoder
	in, out wire.Packet
	game    uint32 // wire.GameTag(GameID)
	seq     uint16 // of the next Frame datagram
	pings   [pingRing]pingSent
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

	// Replay filter on its Frame datagrams: highest sequence number seen
	// (serial arithmetic) and a bitmap of the 64 below it.
	maxSeq  uint16
	seqMask uint64
	anySeq  bool
	// loss estimates the fraction of its Frame datagrams lost on the way
	// here, from sequence gaps (a gap counts as a loss until the overtaken
	// datagram arrives): the mean of the last lossN outcomes at first,
	// then an exponential average over lossWindow datagrams.
	loss  float64
	lossN int

	// RTT: its last ping, to echo in our next Frame, and our estimate.
	echoDue  bool
	echoSeq  uint16
	echoAt   time.Time
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

// pingSent is a ping this peer sent: the Frame datagram's seq and clock.
type pingSent struct {
	seq uint16
	at  uint32 // micros
	ok  bool
}

const (
	checksumRing = 32
	minRing      = 256
	// pingEvery: every pingEvery-th Frame datagram is a ping (the others
	// carry no timing data), so each link gets an RTT sample every
	// pingEvery ticks (15 a second at 60 Hz). Until every link has
	// minSamples samples, every datagram is a ping: the adaptive delay
	// waits for them, stalling meanwhile if the starting delay is short.
	pingEvery = 4
	// pingRing remembers the send times of the pings among the last
	// pingRing Frame datagrams (about 4 s at 60 Hz): echoes of older ones
	// give no sample.
	pingRing = 256
	// checksumSends is how many consecutive Frame datagrams carry each
	// checksum, so that a lost datagram rarely costs a comparison.
	checksumSends = 3
	// lossWindow is the weight, in datagrams, of the loss average.
	lossWindow = 256
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
		game:    wire.GameTag(st.GameID),
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
	measuring := s.measuring()
	p := &s.out
	*p = wire.Packet{
		Kind: wire.KindFrame, Game: s.game, Seat: uint8(s.me), InputSize: uint8(s.isize), Seq: s.seq,
		Ping: s.seq%pingEvery == 0 || measuring, Frame: int32(s.next), Seats: s.n,
	}
	if s.publishLost() {
		p.Lost = uint16(s.lost)
	}
	me := &s.seats[s.me]
	start := s.minAck() + 1
	count := min(int(me.hold-start+1), s.cfg.window)
	p.Start = int32(start)
	p.Inputs = s.copyInputs(s.me, start, count)
	// Each ping is echoed once; while this peer is still measuring its
	// own links (start-up: its peers are too), the newest ping is echoed
	// in every datagram until a newer one arrives, so that a lost echo
	// does not cost a sample.
	for t := range s.seats {
		sd := &s.seats[t]
		p.Acks[t] = int32(sd.hold)
		if !sd.echoDue {
			continue
		}
		sd.echoDue = measuring
		if hold := now.Sub(sd.echoAt) / (wire.HoldUnit * time.Microsecond); s.survivor(t) && hold <= wire.MaxHold {
			p.Echoes[p.NumEchoes] = wire.Echo{Seat: uint8(t), Seq: sd.echoSeq, Hold: uint16(hold)}
			p.NumEchoes++
		}
	}
	for i, c := range s.recent {
		if s.sendsFor[i] > 0 {
			s.sendsFor[i]--
			p.Checksums[p.NumChecksums] = c
			p.NumChecksums++
		}
	}
	if p.Ping {
		s.pings[s.seq%pingRing] = pingSent{seq: s.seq, at: s.micros(now), ok: true}
	}
	s.seq++
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
				Kind: wire.KindRelay, Game: s.game, Seat: uint8(s.me), InputSize: uint8(s.isize), Seq: s.seq - 1,
				LostSeat: uint8(l), Start: int32(start), Inputs: s.copyInputs(l, start, count),
			}
			s.stats.Relayed++
			s.transmit(p, v)
		}
	}
}

// measuring reports whether some survivor's link has fewer RTT samples
// than the adaptive delay waits for.
func (s *Session[I]) measuring() bool {
	for v := range s.seats {
		if s.survivor(v) && s.seats[v].rtt.samples < minSamples {
			return true
		}
	}
	return false
}

// publishLost reports whether Frame datagrams carry the lost mask: while
// an agreement is pending here, and then until every survivor has
// reported running past every agreed drop frame (running it needed the
// decision, so that survivor needs the mask no more). In steady state,
// and once a loss is settled, the mask costs nothing.
func (s *Session[I]) publishLost() bool {
	if s.lost == 0 {
		return false
	}
	if s.lost&^s.dropped != 0 {
		return true
	}
	last := NoFrame
	for d := s.dropped; d != 0; d &= d - 1 {
		last = max(last, s.dropFrame[bits.TrailingZeros32(d)])
	}
	for v := range s.seats {
		if sd := &s.seats[v]; s.survivor(v) && (!sd.hasFrame || sd.frame <= last+1) {
			return true
		}
	}
	return false
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

// transmit encodes p and sends it to seat to, or to every survivor if
// to < 0.
func (s *Session[I]) transmit(p *wire.Packet, to int) {
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
	case p.Game != s.game:
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
	// Only Frame datagrams pass the replay filter (and count for loss):
	// they alone go to every seat with consecutive numbers. A Relay or Bye
	// repeats the last Frame's number, and applying one twice is harmless.
	newest := false
	if p.Kind == wire.KindFrame {
		var ok bool
		if newest, ok = s.acceptSeq(from, p.Seq); !ok {
			return
		}
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
// as in DTLS, over 16-bit sequence numbers compared in serial arithmetic
// (RFC 1982: a number up to 32767 ahead is newer). It reports whether seq
// is new, and whether it is the newest; it also feeds the loss estimate.
func (s *Session[I]) acceptSeq(from int, seq uint16) (newest, ok bool) {
	sd := &s.seats[from]
	d := &s.stats.Dropped
	if !sd.anySeq {
		sd.anySeq, sd.maxSeq, sd.seqMask = true, seq, 1
		sd.lossSample(0)
		return true, true
	}
	if diff := int16(seq - sd.maxSeq); diff > 0 {
		shift := uint16(diff)
		for range min(shift-1, lossWindow) {
			sd.lossSample(1)
		}
		sd.lossSample(0)
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
	// Counted as lost when overtaken: take that sample back.
	sd.loss = max(0, sd.loss-1/float64(sd.lossN))
	return false, true
}

// lossSample adds one outcome (1: lost, 0: arrived) to the loss estimate.
func (sd *seat) lossSample(lost float64) {
	sd.lossN = min(sd.lossN+1, lossWindow)
	sd.loss += (lost - sd.loss) / float64(sd.lossN)
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
		for _, e := range p.Echoes[:p.NumEchoes] {
			if int(e.Seat) != s.me {
				continue
			}
			if ps := s.pings[e.Seq%pingRing]; ps.ok && ps.seq == e.Seq {
				if rtt := int32(s.micros(now) - ps.at - uint32(e.Hold)*wire.HoldUnit); rtt >= 0 {
					sd.rtt.add(time.Duration(rtt) * time.Microsecond)
				}
			}
		}
		if p.Ping {
			sd.echoDue, sd.echoSeq, sd.echoAt = true, p.Seq, now
		}
		sd.frame, sd.frameAt, sd.hasFrame = Frame(p.Frame), now, true
	}
	for i := range p.NumChecksums {
		c := p.Checksums[i]
		s.remoteSum(from, Frame(c.Frame), c.Sum)
	}
	lost := uint32(p.Lost) & s.all
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
		*p = wire.Packet{Kind: wire.KindBye, Game: s.game, Seat: uint8(s.me),
			InputSize: uint8(s.isize), Seq: s.seq - 1, Frame: int32(s.next)}
		s.transmit(p, -1)
	}
	if s.rec != nil {
		return s.rec.close()
	}
	return nil
}
