package lockstep

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/peerplay/peerplay/internal/drain"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// SpectatorConfig configures a Spectator.
type SpectatorConfig struct {
	// Conn is a Reliable channel used by nothing else, the one the
	// Streamers use. Required.
	Conn transport.Conn
	// Source is the peer whose Streamer sends the inputs (a player or a
	// relaying spectator), until a failover moves the spectator to a
	// witness (Failover). Required.
	Source transport.PeerID
	// Witnesses are further peers running a Streamer (e.g. the other
	// seats) that send only their checksums (12 bytes per checksum
	// frame). The spectator's state counts as verified at a frame when
	// more than half of the sources (Source and Witnesses) report the
	// checksum the game reported; a state that a majority of the sources
	// contradicts is a desync (a lying source, see "Spectators and
	// catch-up" in the package doc). nil: Source alone is trusted.
	Witnesses []transport.PeerID
	// GameID must be the Streamers' StreamConfig.GameID.
	GameID uint64
	// Delay is how many frames the spectator stays behind the newest frame
	// received (a buffer against jitter, or a broadcast delay), until the
	// source finishes the stream (Streamer.Finish). 0 means none;
	// negative is invalid.
	Delay int
	// CatchUp is the most frames one Advance returns while behind (the
	// fast-forward of a late join). 0 means 600 (10 s at 60 Hz per tick).
	CatchUp int
	// MaxBuffer bounds the frames received and not yet returned. 0 means
	// 1<<18. Overflow rule: beyond it the spectator stops with
	// ErrStreamOverflow (a game that does not call Advance).
	MaxBuffer int
	// Failover bounds how long the stream may lag behind the match
	// before the spectator switches to another source (a witness): the
	// source (its link down, or a majority of the witnesses reporting
	// a frame it has not sent) delivers nothing that closes the gap for
	// Failover. See "Source failover" in the package doc. 0 means
	// DefaultFailover; negative disables failover (the spectator waits
	// for its source for good).
	Failover time.Duration
	// Now is the spectator's only clock (for Failover). nil means
	// time.Now.
	Now func() time.Time
	// Logger receives rare events. nil discards.
	Logger *slog.Logger
}

// DefaultFailover is SpectatorConfig.Failover's default.
const DefaultFailover = 3 * time.Second

// Catchup is a snapshot to restore before the next steps: the game state
// after Frame, as the source's game encoded it (Snapshot).
type Catchup struct {
	Frame Frame
	State []byte
	Sum   uint64 // the source's checksum after Frame, if HasSum
	// HasSum reports whether the source had reported Frame's checksum.
	HasSum bool
}

// SpectatorStats counts what a Spectator received.
type SpectatorStats struct {
	Malformed uint64 // messages that did not decode, of another game or from another peer
	Frames    uint64 // frames received
	BytesRecv uint64
	Verified  Frame // the newest frame a majority of the sources confirmed (NoFrame: none)
	Compared  int   // checksum comparisons with sources
	// Failovers counts the source switches (EventSourceSwitched).
	Failovers     uint64
	EventsDropped uint64 // events dropped from a full queue (PollEvents not called)
}

// Spectator follows a match without a seat: it receives the confirmed
// inputs of every seat from one Streamer (Source), optionally checksums
// from others (Witnesses), and returns the same Steps the players ran.
// A spectator that joins mid-match starts from a snapshot (Restore) or
// from frame 0, and fast-forwards (CatchUp frames per Advance) until it
// is Delay frames behind the stream.
//
// The game loop drives it: Advance once per tick, ReportChecksum after
// each step. It starts no goroutines and is not safe for concurrent use.
type Spectator[I any] struct {
	cfg     SpectatorConfig
	game    uint32
	isize   int
	n       int // seats, from the stream (0: unknown yet)
	sources []transport.PeerID
	subbed  []bool

	restore   *Catchup
	snapBuf   []byte
	snapFrame Frame
	snapGot   int
	started   bool // restore taken (or none needed)
	// preNext, preStarted: next and started before the latest resume
	// snapshot (the game's position while its restore is pending).
	preNext    Frame
	preStarted bool
	gotAny     bool
	ended      bool // the source finished the stream at end

	buf    []byte // records of frames base...
	base   Frame
	end    Frame
	next   Frame // the next frame to return
	rec    int
	steps  []Step[I]
	in     []I
	status []InputStatus

	// Checksums: local by frame, remote by source and frame.
	local  [checksumRing]sumEntry
	remote []map[Frame]uint64 // bounded: see remoteSum

	err      error // sticky
	errQueue error
	msg      streamMsg
	st       SpectatorStats

	fo     failover
	events drain.Queue[Event]
}

// NewSpectator subscribes to cfg.Source (and cfg.Witnesses for
// checksums). Subscriptions are sent (and retried) by Advance.
func NewSpectator[I any](cfg SpectatorConfig) (*Spectator[I], error) {
	isize, err := inputSize[I]()
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Conn == nil:
		return nil, fmt.Errorf("%w: nil spectator conn", ErrInvalidConfig)
	case cfg.Source == "":
		return nil, fmt.Errorf("%w: no source", ErrInvalidConfig)
	case cfg.Delay < 0 || cfg.CatchUp < 0 || cfg.MaxBuffer < 0:
		return nil, fmt.Errorf("%w: negative value", ErrInvalidConfig)
	case len(cfg.Witnesses) >= MaxSeats:
		return nil, fmt.Errorf("%w: %d witnesses", ErrInvalidConfig, len(cfg.Witnesses))
	}
	sources := append([]transport.PeerID{cfg.Source}, cfg.Witnesses...)
	if len(slices.Compact(slices.Sorted(slices.Values(sources)))) != len(sources) {
		return nil, fmt.Errorf("%w: duplicate source in %v", ErrInvalidConfig, sources)
	}
	if cfg.CatchUp == 0 {
		cfg.CatchUp = 600
	}
	if cfg.MaxBuffer == 0 {
		cfg.MaxBuffer = 1 << 18
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Failover == 0 {
		cfg.Failover = DefaultFailover
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sp := &Spectator[I]{cfg: cfg, game: wire.GameTag(cfg.GameID), isize: isize, sources: sources,
		subbed: make([]bool, len(sources)), remote: make([]map[Frame]uint64, len(sources)),
		snapFrame: NoFrame, next: 0}
	for i := range sp.remote {
		sp.remote[i] = make(map[Frame]uint64)
	}
	sp.st.Verified = NoFrame
	sp.fo.init(len(sources))
	return sp, nil
}

func (sp *Spectator[I]) sourceOf(id transport.PeerID) int {
	return slices.Index(sp.sources, id)
}

// Restore returns the snapshot the game must load before the next steps,
// once; Advance returns no steps while one is pending.
func (sp *Spectator[I]) Restore() (Catchup, bool) {
	if sp.restore == nil || sp.restore.Frame > sp.fo.ceil {
		return Catchup{}, false
	}
	c := *sp.restore
	sp.restore = nil
	sp.started = true
	return c, true
}

// Ended reports whether the source finished the stream and every frame
// of it was returned.
func (sp *Spectator[I]) Ended() bool { return sp.ended && sp.next == sp.end }

// Seats is the number of seats of the match (0 until the stream says).
func (sp *Spectator[I]) Seats() int { return sp.n }

// Stats returns the counters.
func (sp *Spectator[I]) Stats() SpectatorStats { return sp.st }

// Advance reads what arrived and returns the frames ready: every frame
// more than Delay behind the newest received, at most CatchUp. The slice
// and each Step's Inputs are reused until the next Advance. Errors: a
// *DesyncError when the game's checksum disagrees with a source's (Seat
// is the source's index: 0 Source, 1.. Witnesses), once per mismatch;
// ErrStreamOverflow and ErrStreamRefused (every source refused) end the
// spectator.
func (sp *Spectator[I]) Advance() ([]Step[I], error) {
	if sp.err != nil {
		return nil, sp.err
	}
	sp.subscribe()
	sp.receive()
	if sp.err != nil {
		return nil, sp.err
	}
	sp.checkFailover()
	if err := sp.errQueue; err != nil {
		sp.errQueue = nil
		return nil, err
	}
	if !sp.started || sp.n == 0 {
		return nil, nil
	}
	ready := int(sp.end - sp.next)
	if !sp.ended {
		ready -= sp.cfg.Delay
	}
	ready = min(ready, int(sp.fo.ceil)+1-int(sp.next)) // held back: checkAhead
	k := min(ready, sp.cfg.CatchUp)
	if k <= 0 {
		return sp.steps[:0], nil
	}
	if cap(sp.steps) < k {
		sp.steps = make([]Step[I], 0, k)
		sp.in = make([]I, k*sp.n)
		sp.status = make([]InputStatus, k*sp.n)
	}
	steps := sp.steps[:0]
	for i := range k {
		f := sp.next
		off := int(f-sp.base) * sp.rec
		r := sp.buf[off : off+sp.rec]
		mask := binary.LittleEndian.Uint16(r)
		in, status := sp.in[i*sp.n:(i+1)*sp.n], sp.status[i*sp.n:(i+1)*sp.n]
		for t := range sp.n {
			status[t] = InputConfirmed
			if mask&(1<<t) != 0 {
				status[t] = InputDropped
			}
			_, _ = binary.Decode(r[2+t*sp.isize:2+(t+1)*sp.isize], binary.LittleEndian, &in[t])
		}
		steps = append(steps, Step[I]{Frame: f, Inputs: in, Status: status})
		sp.next++
	}
	// Drop what was returned (amortized).
	if dead := int(sp.next-sp.base) * sp.rec; dead > len(sp.buf)/2 {
		sp.buf = append(sp.buf[:0], sp.buf[dead:]...)
		sp.base = sp.next
	}
	return steps, nil
}

func (sp *Spectator[I]) subscribe() {
	for i, id := range sp.sources {
		if sp.subbed[i] {
			continue
		}
		want := wantChecksums
		if i == sp.fo.cur {
			want = wantInputs
		}
		b := append(appendStreamHead(nil, smSubscribe, sp.game), want)
		if i == sp.fo.cur && sp.fo.resume {
			b = binary.LittleEndian.AppendUint32(append(b[:len(b)-1], wantResume), uint32(sp.end))
		}
		sp.subbed[i] = sp.cfg.Conn.Send(id, b) == nil
	}
}

func (sp *Spectator[I]) receive() {
	for range 1024 {
		m, ok := sp.cfg.Conn.TryRecv()
		if !ok {
			return
		}
		sp.st.BytesRecv += uint64(len(m.Data))
		src := sp.sourceOf(m.From)
		p := &sp.msg
		if src < 0 || decodeStream(m.Data, p) != nil || p.game != sp.game {
			sp.st.Malformed++
			continue
		}
		cur := src == sp.fo.cur
		switch {
		case p.kind == smRefused && cur:
			if !sp.refusedSwitch() {
				sp.err = ErrStreamRefused
				return
			}
		case p.kind == smChecksum:
			sp.fo.heard(src, p.frame, sp.cfg.Now())
			sp.remoteSum(src, p.frame, p.sum)
		case p.kind == smSnapshot && cur:
			sp.onSnapshot(p)
		case p.kind == smInputs && cur && !sp.ended:
			sp.onInputs(p)
		case p.kind == smEnd && cur && p.frame == sp.end && sp.gotAny:
			sp.ended = true
		case !cur && (p.kind == smInputs || p.kind == smSnapshot || p.kind == smEnd || p.kind == smRefused):
			// From a source the spectator left (its stream was in flight,
			// or it still streams): not an error, not used.
		default:
			sp.st.Malformed++
		}
		if sp.err != nil {
			return
		}
	}
}

func (sp *Spectator[I]) onSnapshot(p *streamMsg) {
	if sp.fo.resumeSnap && p.frame >= sp.end-1 && sp.snapFrame == NoFrame && p.offset == 0 {
		// The new source no longer holds the log from the frame the
		// spectator reached: its snapshot (of a frame not before it)
		// replaces the state. Frames received and not returned are
		// superseded (and come back if it is held and dropped: dropAhead).
		sp.preNext, sp.preStarted = sp.next, sp.started
		sp.gotAny, sp.started = false, false
	}
	if sp.gotAny || (sp.snapFrame != NoFrame && (p.frame != sp.snapFrame || p.total != len(sp.snapBuf))) ||
		p.offset != sp.snapGot {
		sp.st.Malformed++ // a second snapshot, or chunks out of order
		return
	}
	if sp.snapFrame == NoFrame {
		sp.snapFrame = p.frame
		sp.snapBuf = make([]byte, p.total)
	}
	sp.snapGot += copy(sp.snapBuf[p.offset:], p.data)
	if sp.snapGot == len(sp.snapBuf) {
		sp.restore = &Catchup{Frame: p.frame, State: sp.snapBuf, Sum: p.sum, HasSum: p.hasSum}
		sp.base, sp.end, sp.next = p.frame+1, p.frame+1, p.frame+1
		sp.buf = sp.buf[:0]
		sp.gotAny = true
		sp.fo.resumeSnap = false
		sp.fo.progress(sp.cfg.Now())
		if p.hasSum {
			sp.remoteSum(sp.fo.cur, p.frame, p.sum)
		}
	}
}

func (sp *Spectator[I]) onInputs(p *streamMsg) {
	if p.isize != sp.isize || (sp.n != 0 && p.seats != sp.n) {
		sp.st.Malformed++
		return
	}
	if !sp.gotAny {
		if sp.snapFrame != NoFrame || p.frame != sp.end {
			sp.st.Malformed++ // inputs before the snapshot is complete
			return
		}
		sp.gotAny, sp.started = true, true
	}
	if p.frame != sp.end {
		sp.st.Malformed++ // a reliable stream has no gaps: a liar or a bug
		return
	}
	if int(sp.end-sp.next)+p.count > sp.cfg.MaxBuffer {
		sp.err = ErrStreamOverflow
		return
	}
	if sp.n == 0 {
		sp.n, sp.rec = p.seats, 2+p.seats*p.isize
	}
	sp.buf = append(sp.buf, p.data...)
	sp.end += Frame(p.count)
	sp.st.Frames += uint64(p.count)
	sp.fo.resumeSnap = false
	sp.fo.progress(sp.cfg.Now())
}

// ReportChecksum gives the spectator the game's checksum after frame; it
// is compared with every source's.
func (sp *Spectator[I]) ReportChecksum(frame Frame, sum uint64) {
	if frame < 0 {
		return
	}
	sp.local[frame%checksumRing] = sumEntry{frame: frame, sum: sum, ok: true}
	for src := range sp.sources {
		sp.compare(src, frame)
	}
}

// maxRemoteSums bounds the checksums kept per source (received ahead of
// the spectator's own). Overflow rule: those already compared or older
// than the spectator's position are discarded first; then new ones are
// dropped and counted as malformed.
const maxRemoteSums = 4096

func (sp *Spectator[I]) remoteSum(src int, frame Frame, sum uint64) {
	m := sp.remote[src]
	if len(m) >= maxRemoteSums {
		for f := range m {
			if f < sp.next-checksumRing {
				delete(m, f)
			}
		}
		if len(m) >= maxRemoteSums {
			sp.st.Malformed++
			return
		}
	}
	if _, dup := m[frame]; dup {
		return // a source repeats nothing honest; keep the first
	}
	m[frame] = sum
	sp.compare(src, frame)
}

func (sp *Spectator[I]) compare(src int, frame Frame) {
	l := sp.local[frame%checksumRing]
	r, ok := sp.remote[src][frame]
	if !l.ok || !ok || l.frame != frame {
		return
	}
	sp.st.Compared++
	if l.sum != r {
		err := &DesyncError{Frame: frame, Seat: src, Peer: sp.sources[src], Local: l.sum, Remote: r}
		sp.cfg.Logger.Warn("lockstep: spectated state differs from a source", "frame", frame, "source", sp.sources[src])
		if sp.errQueue == nil {
			sp.errQueue = err
		}
		return
	}
	agree := 0
	for s := range sp.sources {
		if v, ok := sp.remote[s][frame]; ok && v == l.sum {
			agree++
		}
	}
	if 2*agree > len(sp.sources) {
		sp.st.Verified = max(sp.st.Verified, frame)
	}
}
