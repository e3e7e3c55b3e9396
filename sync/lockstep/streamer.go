package lockstep

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// StreamConfig configures a Streamer.
type StreamConfig struct {
	// Conn is a Reliable channel used by nothing else (e.g.
	// mesh.Channel("spectate") with transport.Reliable). Required.
	Conn transport.Conn
	// Seats is the number of seats of the match (len(Config.Seats)).
	// Required.
	Seats int
	// GameID tags every message (as the session's datagrams); 0 is a valid
	// ID. Subscribers must use the same.
	GameID uint64
	// Snapshots, when true, says the game provides state snapshots: a new
	// subscriber waits for the next Snapshot (Wanted reports true until
	// the game gives one) and the log keeps only the frames some
	// subscriber still needs. False means catch-up replays the log from
	// frame 0, which the streamer then keeps whole (up to MaxLog frames).
	Snapshots bool
	// MaxLog bounds the frames kept, in frames (the memory holds up to
	// twice as many until the next cut). 0 means 1<<18 (73 minutes at
	// 60 Hz: 3.7 MB for 4 seats of 3-byte inputs). Overflow rule: the
	// oldest frames are discarded; a subscriber that still needed them is
	// dropped (Stats: Dropped), and without snapshots, new subscribers are
	// refused from then on.
	MaxLog int
	// MaxSubscribers bounds the subscribers. 0 means 8. More are refused.
	MaxSubscribers int
	// Logger receives rare events. nil discards.
	Logger *slog.Logger
}

// StreamerStats counts what a Streamer did.
type StreamerStats struct {
	Subscribers int    // current
	Refused     uint64 // subscriptions refused (full, or no catch-up possible)
	Dropped     uint64 // subscribers dropped (their backlog left the log)
	Malformed   uint64 // messages that did not decode, or of another game
	BytesSent   uint64
	Retries     uint64 // sends that failed (slow consumer) and wait for the next Flush
}

// Streamer sends the confirmed inputs of a match, its checksums and on
// demand a state snapshot to subscribers (spectators, rejoining or late
// players) over one reliable channel: the match's players send one stream
// in all (one of them runs a Streamer), a spectator may relay it to more
// (a Spectator's steps fed into its own Streamer).
//
// The game loop drives it, as a Session: Step for each step it applies,
// ReportChecksum, Snapshot when Wanted, and Flush once per tick. It starts
// no goroutines and is not safe for concurrent use.
type Streamer[I any] struct {
	cfg   StreamConfig
	game  uint32
	n     int
	isize int
	rec   int // bytes per frame record

	log  []byte // records of frames base, base+1, ...
	base Frame
	end  Frame // the next frame to log

	snap      []byte
	snapFrame Frame
	snapSum   uint64
	snapHas   bool

	sums [checksumRing]sumEntry

	subs     []*subscriber
	finished bool
	in       streamMsg
	buf      []byte
	tmp      []byte
	st       StreamerStats
}

type subscriber struct {
	id      transport.PeerID
	want    uint8 // wantInputs or wantChecksums
	asked   uint8 // the want of its subscription (a retry repeats it)
	changes int   // subscriptions it replaced (at most maxResubscribe), less those regained
	regain  Frame // the streamer's end when it last regained one (resubscribeRegain)
	waiting bool  // for a snapshot
	next    Frame // the next frame to send
	snapOff int   // bytes of the snapshot sent (-1: none to send)
	sumNext Frame // checksums below it are sent
	ended   bool  // the end message is sent (after Finish)
}

// NewStreamer returns a Streamer for a match of cfg.Seats seats.
func NewStreamer[I any](cfg StreamConfig) (*Streamer[I], error) {
	isize, err := inputSize[I]()
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Conn == nil:
		return nil, fmt.Errorf("%w: nil stream conn", ErrInvalidConfig)
	case cfg.Seats < 1 || cfg.Seats > MaxSeats:
		return nil, fmt.Errorf("%w: %d seats", ErrInvalidConfig, cfg.Seats)
	case cfg.MaxLog < 0 || cfg.MaxSubscribers < 0:
		return nil, fmt.Errorf("%w: negative value", ErrInvalidConfig)
	}
	if cfg.MaxLog == 0 {
		cfg.MaxLog = 1 << 18
	}
	if cfg.MaxSubscribers == 0 {
		cfg.MaxSubscribers = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Streamer[I]{cfg: cfg, game: wire.GameTag(cfg.GameID), n: cfg.Seats, isize: isize,
		rec: 2 + cfg.Seats*isize, snapFrame: NoFrame, tmp: make([]byte, isize)}, nil
}

// Step logs one step the game applied; steps must come in frame order
// from frame 0 (or from the frame after a Spectator's restored snapshot).
// Steps out of order are ignored.
func (st *Streamer[I]) Step(s Step[I]) {
	if len(s.Inputs) != st.n || st.finished {
		return
	}
	if st.end == 0 && st.base == 0 && len(st.log) == 0 && s.Frame > 0 {
		st.base, st.end = s.Frame, s.Frame // a relay that started from a snapshot
		st.rebase()
	}
	if s.Frame != st.end {
		return
	}
	var mask uint16
	for t, status := range s.Status {
		if status == InputDropped {
			mask |= 1 << t
		}
	}
	st.log = binary.LittleEndian.AppendUint16(st.log, mask)
	for t := range s.Inputs {
		_, _ = binary.Encode(st.tmp, binary.LittleEndian, &s.Inputs[t])
		st.log = append(st.log, st.tmp...)
	}
	st.end++
	st.trim()
}

// rebase handles the subscribers that subscribed before the first step
// of a streamer that starts at a later frame (a relay from a snapshot, a
// restarted process): one that resumes from before the log waits for the
// next snapshot, or without snapshots is refused (its frames never
// existed here; the log used to be sliced at a negative offset:
// TestRedteamResumeBeforeFirstStep).
func (st *Streamer[I]) rebase() {
	st.subs = slices.DeleteFunc(st.subs, func(sb *subscriber) bool {
		if sb.waiting || sb.want != wantInputs || sb.next >= st.base {
			return false
		}
		if st.cfg.Snapshots {
			sb.waiting = true
			return false
		}
		st.refuse(sb.id)
		return true
	})
}

// trim discards the frames no subscriber needs (with snapshots) and
// enforces MaxLog.
func (st *Streamer[I]) trim() {
	keep := st.end - Frame(st.cfg.MaxLog)
	if st.cfg.Snapshots {
		low := st.end
		for _, sb := range st.subs {
			if !sb.waiting && sb.want == wantInputs {
				low = min(low, sb.next)
			}
		}
		keep = max(keep, low)
	}
	if keep <= st.base {
		return
	}
	for _, sb := range st.subs {
		if !sb.waiting && sb.want == wantInputs && sb.next < keep {
			st.st.Dropped++
			st.cfg.Logger.Warn("lockstep: stream subscriber too far behind, dropped", "peer", sb.id)
			sb.next = -1
		}
	}
	st.subs = slices.DeleteFunc(st.subs, func(sb *subscriber) bool { return sb.next < 0 })
	// Amortized: cut the slice only when the dead prefix is half of it
	// (so the log holds at most 2·MaxLog frames).
	if dead := int(keep-st.base) * st.rec; dead >= len(st.log)/2 {
		st.log = append(st.log[:0], st.log[dead:]...)
		st.base = keep
	}
}

// ReportChecksum gives the streamer the game's checksum after frame (as
// Session.ReportChecksum); subscribers compare their own with it.
func (st *Streamer[I]) ReportChecksum(frame Frame, sum uint64) {
	if frame < 0 {
		return
	}
	st.sums[frame%checksumRing] = sumEntry{frame: frame, sum: sum, ok: true}
	if frame == st.snapFrame {
		st.snapSum, st.snapHas = sum, true
	}
}

// Wanted reports whether a subscriber waits for a snapshot: the game
// should call Snapshot (its state after the last step it logged).
func (st *Streamer[I]) Wanted() bool {
	for _, sb := range st.subs {
		if sb.waiting {
			return true
		}
	}
	return false
}

// Snapshot gives the streamer the game's state after the last step logged
// (frame End()-1), at most MaxSnapshot bytes; it is copied. Waiting
// subscribers get it and the frames after it.
func (st *Streamer[I]) Snapshot(state []byte) error {
	if len(state) > MaxSnapshot {
		return fmt.Errorf("%w: snapshot of %d bytes, at most %d", ErrInvalidConfig, len(state), MaxSnapshot)
	}
	if st.end == 0 {
		return fmt.Errorf("%w: snapshot before the first step", ErrInvalidConfig)
	}
	st.snap = append(st.snap[:0], state...)
	st.snapFrame = st.end - 1
	e := st.sums[st.snapFrame%checksumRing]
	st.snapSum, st.snapHas = e.sum, e.ok && e.frame == st.snapFrame
	for _, sb := range st.subs {
		if sb.waiting {
			sb.waiting, sb.snapOff, sb.next, sb.sumNext = false, 0, st.end, st.end
		}
	}
	return nil
}

// End is the next frame Step expects.
func (st *Streamer[I]) End() Frame { return st.end }

// Stats returns the counters.
func (st *Streamer[I]) Stats() StreamerStats {
	s := st.st
	s.Subscribers = len(st.subs)
	return s
}

// Flush reads subscriptions and sends every subscriber what it lacks.
// Call it once per tick, after the tick's steps. Sends that fail (a slow
// subscriber) are retried at the next Flush.
func (st *Streamer[I]) Flush() {
	for range 64 {
		m, ok := st.cfg.Conn.TryRecv()
		if !ok {
			break
		}
		if decodeStream(m.Data, &st.in) != nil || st.in.game != st.game || st.in.kind != smSubscribe {
			st.st.Malformed++
			continue
		}
		st.subscribe(m.From, st.in.want, st.in.frame)
	}
	for _, sb := range st.subs {
		st.flushTo(sb)
	}
}

// maxResubscribe bounds how often one subscriber may replace its
// subscription (a spectator's source switches: a resume, a demotion to
// checksums). Overflow rule: the replacement is refused (Stats.Refused,
// a refused message), so a peer that alternates subscriptions to make
// the game snapshot its state every tick gets at most this many, and
// then one per resubscribeRegain frames.
const maxResubscribe = 16

// resubscribeRegain is how many frames the streamer logs for a
// subscriber to regain one replacement (a minute at 60 Hz): an honest
// spectator that goes back and forth between two sources now and then
// is not refused for good after maxResubscribe switches
// (TestStreamerResubscribeRegain).
const resubscribeRegain = 3600

func (st *Streamer[I]) subscribe(id transport.PeerID, want uint8, from Frame) {
	sumNext, changes, regain, slots := st.end, 0, st.end, len(st.subs)
	old := slices.IndexFunc(st.subs, func(sb *subscriber) bool { return sb.id == id })
	if old >= 0 {
		o := st.subs[old]
		if want == o.asked {
			return // a repeated subscription (the subscriber retries)
		}
		// A new kind of subscription replaces the old: a spectator that
		// switched source resumes from this one (wantResume), or demotes
		// its old source to checksums. Each may cost a snapshot or the
		// log sent again, so a subscriber has maxResubscribe of them,
		// and regains one per resubscribeRegain frames logged.
		if n := (st.end - o.regain) / resubscribeRegain; n > 0 {
			o.changes, o.regain = max(0, o.changes-int(n)), o.regain+n*resubscribeRegain
		}
		sumNext, changes, regain, slots = o.sumNext, o.changes+1, o.regain, slots-1
		if changes > maxResubscribe {
			st.refuse(id) // the old subscription stays, and with it the count
			return
		}
	}
	refuse := slots >= st.cfg.MaxSubscribers
	sb := &subscriber{id: id, want: want, asked: want, snapOff: -1, changes: changes, regain: regain}
	switch {
	case want == wantChecksums:
		sb.sumNext = min(sumNext, st.end)
	case want == wantResume && from >= st.base:
		// The log holds the frames from there (or from there is still to
		// come: a subscriber ahead of this streamer waits for it).
		sb.want, sb.next, sb.sumNext = wantInputs, from, from
	case st.cfg.Snapshots:
		sb.want, sb.waiting = wantInputs, true
	case st.base == 0:
		sb.want, sb.next = wantInputs, 0
	default:
		refuse = true
	}
	if refuse {
		// A refused replacement keeps the old subscription and its count
		// (else a refusal would reset the bound:
		// TestRedteamResubscribeRefusedResume); the change is counted.
		if old >= 0 {
			st.subs[old].changes = changes
		}
		st.refuse(id)
		return
	}
	if old >= 0 {
		st.subs = slices.Delete(st.subs, old, old+1)
	}
	st.cfg.Logger.Info("lockstep: stream subscriber", "peer", id, "want", want, "from", sb.next)
	st.subs = append(st.subs, sb)
}

func (st *Streamer[I]) refuse(id transport.PeerID) {
	st.st.Refused++
	st.buf = append(appendStreamHead(st.buf[:0], smRefused, st.game), 1)
	_ = st.cfg.Conn.Send(id, st.buf)
}

func (st *Streamer[I]) send(id transport.PeerID, b []byte) bool {
	if err := st.cfg.Conn.Send(id, b); err != nil {
		st.st.Retries++
		return false
	}
	st.st.BytesSent += uint64(len(b))
	return true
}

func (st *Streamer[I]) flushTo(sb *subscriber) {
	if sb.waiting {
		return
	}
	for sb.snapOff >= 0 {
		chunk := st.snap[sb.snapOff:min(len(st.snap), sb.snapOff+streamChunk)]
		b := appendStreamHead(st.buf[:0], smSnapshot, st.game)
		b = binary.LittleEndian.AppendUint32(b, uint32(st.snapFrame))
		b = binary.LittleEndian.AppendUint64(b, st.snapSum)
		b = append(b, boolByte(st.snapHas))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(st.snap)))
		b = binary.LittleEndian.AppendUint32(b, uint32(sb.snapOff))
		b = append(b, chunk...)
		st.buf = b
		if !st.send(sb.id, b) {
			return
		}
		sb.snapOff += len(chunk)
		if sb.snapOff >= len(st.snap) {
			sb.snapOff = -1
		}
	}
	if sb.want == wantInputs {
		per := max(1, streamChunk/st.rec)
		for sb.next < st.end {
			count := min(int(st.end-sb.next), per, 1<<16-1)
			b := appendStreamHead(st.buf[:0], smInputs, st.game)
			b = binary.LittleEndian.AppendUint32(b, uint32(sb.next))
			b = append(b, uint8(st.n), uint8(st.isize))
			b = binary.LittleEndian.AppendUint16(b, uint16(count))
			off := int(sb.next-st.base) * st.rec
			b = append(b, st.log[off:off+count*st.rec]...)
			st.buf = b
			if !st.send(sb.id, b) {
				return
			}
			sb.next += Frame(count)
		}
	}
	// Checksums of the frames sent (every frame, for checksum-only
	// subscribers), from the ring.
	upTo := st.end
	if sb.want == wantInputs {
		upTo = sb.next
	}
	for f := max(sb.sumNext, upTo-checksumRing); f < upTo; f++ {
		e := st.sums[f%checksumRing]
		if !e.ok || e.frame != f {
			continue
		}
		b := appendStreamHead(st.buf[:0], smChecksum, st.game)
		b = binary.LittleEndian.AppendUint32(b, uint32(f))
		b = binary.LittleEndian.AppendUint64(b, e.sum)
		st.buf = b
		if !st.send(sb.id, b) {
			sb.sumNext = f
			return
		}
	}
	sb.sumNext = upTo
	if st.finished && !sb.ended && sb.want == wantInputs && sb.next == st.end {
		// Every frame and checksum is out: the end, once. A subscriber
		// that lagged when Finish was called gets it from a later Flush.
		b := appendStreamHead(st.buf[:0], smEnd, st.game)
		b = binary.LittleEndian.AppendUint32(b, uint32(st.end))
		st.buf = b
		sb.ended = st.send(sb.id, b)
	}
}

// Done reports whether, after Finish, every subscriber has the whole
// stream: every frame, the checksums and the end. Until then the game
// keeps calling Flush (and Snapshot when Wanted), so that a subscriber
// that lagged (a slow link whose sends failed, a late joiner catching
// up) reaches the final frame and the final checksum. Done can stay
// false for good: a subscriber that left (its sends keep failing; the
// Streamer never forgets it) or that subscribed after Finish and waits
// for a snapshot the game no longer gives. Bound the wait with a deadline
// of the game's own (a few seconds) rather than looping until Done.
func (st *Streamer[I]) Done() bool {
	if !st.finished {
		return false
	}
	for _, sb := range st.subs {
		if sb.want == wantInputs && (sb.waiting || !sb.ended) {
			return false
		}
	}
	return true
}

// Finish ends the stream: it flushes what the subscribers lack and tells
// each, once it has every frame, that no frame will follow, so spectators
// return the frames they held back for their Delay. Step does nothing
// afterwards. Report the last frame's checksum before Finish. A
// subscriber that lags (its sends failed, or it still waits for a
// snapshot) gets the rest from later Flush calls: keep calling Flush
// until Done.
func (st *Streamer[I]) Finish() {
	st.finished = true
	st.Flush()
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
