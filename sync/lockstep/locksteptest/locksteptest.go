package locksteptest

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Sim is the game under test: a deterministic simulation.
type Sim[I any] interface {
	// Step applies one frame's inputs, indexed by seat.
	Step(frame lockstep.Frame, inputs []I)
	// Checksum summarizes the whole game state.
	Checksum() uint64
}

// Config describes a run. Seats, Frames and NewSim are required.
type Config[I any] struct {
	// Seats is the number of players, 1..lockstep.MaxSeats.
	Seats int
	// Frames is how many frames every seat that stays must run.
	Frames int
	// Link is the impairment of every directed link (latency is one way:
	// RTT = 2·Latency).
	Link memnet.Link
	// Seed seeds the network and the input generators.
	Seed uint64
	// NewSim returns a fresh simulation for a seat.
	NewSim func(seat int) Sim[I]
	// Input returns a seat's input for a tick. nil means the zero input.
	Input func(seat, tick int, rng *rand.Rand) I
	// MaxStall fails the run when a seat goes this many consecutive ticks
	// without a step. 0 means JoinTimeout + 2·DisconnectTimeout + 2 s
	// worth of ticks: longer than any stall a player loss can cause
	// (timeout, agreement, a cut-off peer giving up), shorter than a
	// deadlock.
	MaxStall int
	// Session is the template of every seat's lockstep.Config; Run fills
	// in Seats (and leaves Now nil: the clock is synctest's).
	Session lockstep.Config
	// Leave makes seats leave during the run.
	Leave []Leave
	// Pause freezes seats' game loops during the run.
	Pause []Pause
	// Blackout cuts seats' networks during the run.
	Blackout []Blackout
	// Rejoin crashes seats (no goodbye) and restarts them with the same
	// identity (Config.Join): they catch up from seat Source's stream and
	// play on; every frame they run is checked against the others.
	Rejoin []Rejoin
	// LateJoin seats start empty (Config.Reserved) and are taken at their
	// Tick by a newcomer (Config.Join) that catches up from the stream.
	LateJoin []LateJoin
	// Spectators join at their Tick: a lockstep.Spectator following the
	// stream (from frame 0, fast-forwarded), checked frame by frame; the
	// run ends when they too reached Frames.
	Spectators []Spectate
	// Record, if set, returns the writer a seat records its replay to.
	Record func(seat int) io.Writer
	// Setup, if set, is called with the network before the first tick (to
	// set per-link impairments, say).
	Setup func(n *memnet.Network, peers []transport.PeerID)
	// OnTick, if set, is called at the start of every tick (to change the
	// network during the run: SetLink, Partition, ...).
	OnTick func(tick int, n *memnet.Network)
}

// Leave makes Seat leave at Tick: with a goodbye (Session.Close), or
// Silent: it just stops (a crash or a cut cable), and the others must
// notice by timeout.
type Leave struct {
	Seat   int
	Tick   int
	Silent bool
}

// Pause freezes Seat's game loop from Tick for Ticks ticks: it calls no
// Advance (a loading hitch, a dragged window, a debugger); its network
// stays up and datagrams queue for it. With Rejoin, a seat the others
// dropped meanwhile, once told so (a *lockstep.DroppedError), restarts
// with the same identity (Config.Join), catches up from the stream and
// plays on, as Rejoin's; the frame it was told must be the one the
// others agreed, and its frames before it must match theirs.
type Pause struct {
	Seat, Tick, Ticks int
	Rejoin            bool
}

// Blackout cuts Seat off the network from Tick for Ticks ticks
// (memnet's Isolate, then Restore); its game loop runs on.
type Blackout struct {
	Seat, Tick, Ticks int
}

// Rejoin crashes Seat at Tick (it stops without a goodbye) and restarts
// it Ticks later with the same identity.
type Rejoin struct {
	Seat, Tick, Ticks int
}

// LateJoin makes a newcomer take the reserved Seat at Tick.
type LateJoin struct {
	Seat, Tick int
}

// Spectate adds a spectator at Tick, Delay frames behind the stream.
type Spectate struct {
	Tick, Delay int
}

// Result is what a run measured.
type Result struct {
	Ticks  int                      // ticks run
	Frames []lockstep.Frame         // frames run, per seat
	Stats  []lockstep.Stats         // each seat's session stats at the end (or when it left)
	Drops  []map[int]lockstep.Frame // per seat: dropped seat -> drop frame it agreed
	Events [][]lockstep.Event       // per seat: every event its session (and its Spectator, while it caught up) reported, in order
	// Ended holds, per seat, the error that ended its match early: a
	// *lockstep.DroppedError (a majority dropped it and told it) or a
	// *lockstep.CutOffError (it heard no majority and gave up); nil for a
	// seat that played to the end or left.
	Ended []error
	// Joined holds, per seat, the frame it last (re)joined the match at
	// (its JoinFrame) and Restored the frame of the snapshot it caught
	// up from; lockstep.NoFrame for a seat that did not join, or caught
	// up by replaying from frame 0. Spectators have only Restored.
	Joined, Restored []lockstep.Frame
}

// Stalls returns the total and the longest stall over all seats.
func (r Result) Stalls() (total uint64, longest int) {
	for _, s := range r.Stats {
		total += s.Stalls
		longest = max(longest, s.LongestStall)
	}
	return total, longest
}

// Run runs cfg.Seats sessions of the simulation over a memnet network
// inside a testing/synctest bubble (so minutes of play take a fraction of
// a second of CPU) and fails t at the first checksum divergence between
// seats, the first desync a session reports, a stall longer than
// MaxStall, or survivors disagreeing on where a leaving seat was dropped.
// Each tick, every seat calls Advance, applies the steps to its own
// simulation and reports every frame's checksum.
func Run[I any](t *testing.T, cfg Config[I]) Result {
	t.Helper()
	var res Result
	var err error
	synctest.Test(t, func(*testing.T) {
		res, err = Simulate(cfg)
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// DivergenceError reports two seats whose simulations differ after the
// same frame.
type DivergenceError struct {
	Frame        lockstep.Frame
	SeatA, SeatB int
	SumA, SumB   uint64
}

func (e *DivergenceError) Error() string {
	return fmt.Sprintf("locksteptest: checksums diverge at frame %d: seat %d has %#x, seat %d has %#x",
		e.Frame, e.SeatA, e.SumA, e.SeatB, e.SumB)
}

// StallError reports a seat that made no progress for too long.
type StallError struct {
	Seat  int
	Frame lockstep.Frame // the frame it waits for
	Ticks int
	Stats lockstep.Stats
}

func (e *StallError) Error() string {
	st := e.Stats
	return fmt.Sprintf("locksteptest: seat %d stalled %d ticks at frame %d (delay %d, rtt %v, window full %d, held %v)",
		e.Seat, e.Ticks, e.Frame, st.InputDelay, st.RTT, st.WindowFull, held(st))
}

func held(st lockstep.Stats) []lockstep.Frame {
	out := make([]lockstep.Frame, len(st.Seats))
	for i, s := range st.Seats {
		out[i] = s.Held
	}
	return out
}

// PeerID returns the memnet peer ID of seat i in a run: IDs sort in seat
// order.
func PeerID(i int) transport.PeerID { return transport.PeerID(fmt.Sprintf("seat%02d", i)) }

// Simulate is Run without a testing.T. It sleeps between ticks, so call it
// inside a synctest bubble (with a real clock it takes real time).
func Simulate[I any](cfg Config[I]) (Result, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	err = r.run()
	return r.result(), err
}

type player[I any] struct {
	sess  *lockstep.Session[I]
	peer  *memnet.Peer
	sim   Sim[I]
	rng   *rand.Rand
	sums  []uint64 // checksum after each frame run
	stall int
	gone  bool
	leave *Leave
	// watched: a seat that leaves, pauses or blacks out is not the
	// reference for any frame; its checksums are checked at the end, up
	// to its drop frame.
	watched bool
	ended   error
	drops   map[int]lockstep.Frame
	events  []lockstep.Event
	stats   lockstep.Stats

	// Rejoin, late join and spectating (rejoin.go).
	ls, ctl, spec transport.Conn
	str           *lockstep.Streamer[I]
	sp            *lockstep.Spectator[I]
	down          bool // crashed, or not started yet
	spectator     bool // a seatless player
	rejoined      bool // a Pause.Rejoin seat that restarted
	joined        lockstep.Frame
	restored      lockstep.Frame
}

type runner[I any] struct {
	cfg      Config[I]
	tick     time.Duration
	maxStall int
	net      *memnet.Network
	players  []*player[I]
	ticks    int
	// ref holds, by frame, the checksum of the first seat that stays to
	// run that frame, and which seat it was.
	ref     []uint64
	refSeat []int
	ids     []transport.PeerID
	source  int // the seat whose Streamer feeds joiners and spectators (-1: none)
}

func newRunner[I any](cfg Config[I]) (*runner[I], error) {
	if cfg.Seats < 1 || cfg.Seats > lockstep.MaxSeats || cfg.Frames < 1 || cfg.NewSim == nil {
		return nil, fmt.Errorf("locksteptest: invalid config: %d seats, %d frames, NewSim set: %v",
			cfg.Seats, cfg.Frames, cfg.NewSim != nil)
	}
	tickRate := cfg.Session.TickRate
	if tickRate == 0 {
		tickRate = lockstep.DefaultTickRate
	}
	r := &runner[I]{cfg: cfg, tick: time.Second / time.Duration(tickRate), maxStall: cfg.MaxStall}
	if r.maxStall == 0 {
		join := cfg.Session.JoinTimeout
		if join == 0 {
			join = lockstep.DefaultJoinTimeout
		}
		disc := cfg.Session.DisconnectTimeout
		if disc == 0 {
			disc = lockstep.DefaultDisconnectTimeout
		}
		r.maxStall = int((join + 2*disc + 2*time.Second) / r.tick)
	}
	r.net = memnet.New(memnet.Config{Seed: cfg.Seed, Link: cfg.Link})
	ids := make([]transport.PeerID, cfg.Seats)
	for i := range ids {
		ids[i] = PeerID(i)
	}
	r.players = make([]*player[I], cfg.Seats)
	for i, id := range ids {
		r.players[i] = &player[I]{
			peer:   r.net.Join(id),
			rng:    rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			drops:  map[int]lockstep.Frame{},
			joined: lockstep.NoFrame, restored: lockstep.NoFrame,
		}
	}
	for k := range cfg.Leave {
		l := &cfg.Leave[k]
		if l.Seat < 0 || l.Seat >= cfg.Seats || r.players[l.Seat].leave != nil {
			r.close()
			return nil, fmt.Errorf("locksteptest: invalid leave of seat %d", l.Seat)
		}
		r.players[l.Seat].leave = l
		r.players[l.Seat].watched = true
	}
	for _, p := range cfg.Pause {
		if p.Seat < 0 || p.Seat >= cfg.Seats || p.Ticks < 0 {
			r.close()
			return nil, fmt.Errorf("locksteptest: invalid pause of seat %d", p.Seat)
		}
		r.players[p.Seat].watched = true
	}
	for _, b := range cfg.Blackout {
		if b.Seat < 0 || b.Seat >= cfg.Seats || b.Ticks < 0 {
			r.close()
			return nil, fmt.Errorf("locksteptest: invalid blackout of seat %d", b.Seat)
		}
		r.players[b.Seat].watched = true
	}
	if cfg.Setup != nil {
		cfg.Setup(r.net, ids)
	}
	for i, p := range r.players {
		sc := cfg.Session
		sc.Seats = ids
		if cfg.Record != nil {
			sc.Record = cfg.Record(i)
		}
		p.ls = p.peer.Channel("lockstep", transport.Unreliable)
		if r.streaming() {
			p.ctl = p.peer.Channel("control", transport.Reliable)
			p.spec = p.peer.Channel("stream", transport.Reliable)
			sc.Control = p.ctl
			for _, l := range cfg.LateJoin {
				sc.Reserved = append(sc.Reserved, ids[l.Seat])
			}
		}
		p.sim = cfg.NewSim(i)
		if r.lateSeat(i) {
			p.down, p.watched = true, true
			continue
		}
		sess, err := lockstep.NewSession[I](p.ls, sc)
		if err != nil {
			r.close()
			return nil, err
		}
		p.sess = sess
		if r.streaming() {
			if p.str, err = lockstep.NewStreamer[I](lockstep.StreamConfig{Conn: p.spec, Seats: cfg.Seats, Snapshots: r.snapshots()}); err != nil {
				r.close()
				return nil, err
			}
		}
	}
	r.ids = ids
	if err := r.setupJoins(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *runner[I]) close() {
	for _, p := range r.players {
		if p.sess != nil && !p.gone && !p.down {
			p.stats = p.sess.Stats()
			_ = p.sess.Close()
		}
	}
	_ = r.net.Close()
}

func (r *runner[I]) result() Result {
	res := Result{
		Ticks:  r.ticks,
		Frames: make([]lockstep.Frame, len(r.players)),
		Stats:  make([]lockstep.Stats, len(r.players)),
		Drops:  make([]map[int]lockstep.Frame, len(r.players)),
		Events: make([][]lockstep.Event, len(r.players)),
		Ended:  make([]error, len(r.players)),
		Joined: make([]lockstep.Frame, len(r.players)), Restored: make([]lockstep.Frame, len(r.players)),
	}
	for i, p := range r.players {
		res.Frames[i] = lockstep.Frame(len(p.sums))
		res.Stats[i] = p.stats
		if p.sess != nil && !p.gone {
			res.Stats[i] = p.sess.Stats()
		}
		res.Drops[i] = p.drops
		res.Events[i] = p.events
		res.Ended[i] = p.ended
		res.Joined[i], res.Restored[i] = lockstep.NoFrame, p.restored
		if p.sess != nil && !p.spectator && p.sess.JoinFrame() > 0 {
			res.Joined[i] = p.sess.JoinFrame()
		}
	}
	return res
}

func (r *runner[I]) run() error {
	waited := 0
	for ; ; r.ticks++ {
		if r.cfg.OnTick != nil {
			r.cfg.OnTick(r.ticks, r.net)
		}
		for _, b := range r.cfg.Blackout {
			switch r.ticks {
			case b.Tick:
				r.net.Isolate(PeerID(b.Seat))
			case b.Tick + b.Ticks:
				r.net.Restore(PeerID(b.Seat))
			}
		}
		r.joins()
		for i, p := range r.players {
			if p.gone || p.down || r.paused(i) {
				continue
			}
			if p.sp != nil {
				if err := r.catchUp(i, p); err != nil {
					return err
				}
				continue
			}
			if p.leave != nil && p.leave.Tick == r.ticks {
				r.depart(p)
				continue
			}
			if err := r.step(i, p); err != nil {
				return err
			}
		}
		done, reached := r.done()
		if done {
			break
		}
		if reached {
			// Every frame is run; waiting for a drop agreement.
			if waited++; waited > r.maxStall {
				return fmt.Errorf("locksteptest: no drop agreement %d ticks after frame %d", waited, r.cfg.Frames)
			}
		}
		time.Sleep(r.tick)
	}
	return r.checkDrops()
}

// paused reports whether seat i's loop is frozen this tick.
func (r *runner[I]) paused(i int) bool {
	for _, p := range r.cfg.Pause {
		if p.Seat == i && r.ticks >= p.Tick && r.ticks < p.Tick+p.Ticks {
			return true
		}
	}
	return false
}

// depart makes a seat leave, politely or not.
func (r *runner[I]) depart(p *player[I]) {
	p.gone = true
	p.stats = p.sess.Stats()
	if !p.leave.Silent {
		_ = p.sess.Close()
	}
	_ = p.peer.Close()
}

// step runs one tick of seat i.
func (r *runner[I]) step(i int, p *player[I]) error {
	var in I
	if r.cfg.Input != nil {
		in = r.cfg.Input(i, r.ticks, p.rng)
	}
	steps, err := p.sess.Advance(in)
	if errors.Is(err, lockstep.ErrDropped) && r.pauseRejoin(i) && !p.rejoined {
		p.events = append(p.events, p.sess.PollEvents()...)
		return r.restart(i, p, err)
	}
	if errors.Is(err, lockstep.ErrDropped) || errors.Is(err, lockstep.ErrCutOff) {
		// Out of the match, and told so: a result, not a failure (the
		// caller checks Result.Ended).
		p.events = append(p.events, p.sess.PollEvents()...)
		p.ended, p.gone, p.stats = err, true, p.sess.Stats()
		return nil
	}
	if err != nil {
		return fmt.Errorf("locksteptest: seat %d, tick %d: %w", i, r.ticks, err)
	}
	for _, st := range steps {
		if st.Frame != lockstep.Frame(len(p.sums)) {
			return fmt.Errorf("locksteptest: seat %d got frame %d, want %d", i, st.Frame, len(p.sums))
		}
		p.sim.Step(st.Frame, st.Inputs)
		sum := p.sim.Checksum()
		p.sess.ReportChecksum(st.Frame, sum)
		p.sums = append(p.sums, sum)
		if p.str != nil {
			p.str.Step(st)
			p.str.ReportChecksum(st.Frame, sum)
		}
		if !p.watched {
			if err := r.compare(i, st.Frame, sum); err != nil {
				return err
			}
		}
	}
	if p.str != nil {
		if p.str.Wanted() && len(p.sums) > 0 {
			if sn, ok := p.sim.(Snapshotter); ok {
				if err := p.str.Snapshot(sn.Snapshot()); err != nil {
					return fmt.Errorf("locksteptest: seat %d snapshot: %w", i, err)
				}
			}
		}
		p.str.Flush()
	}
	if len(steps) == 0 && len(p.sums) < r.cfg.Frames {
		if p.stall++; p.stall > r.maxStall {
			return &StallError{Seat: i, Frame: lockstep.Frame(len(p.sums)), Ticks: p.stall, Stats: p.sess.Stats()}
		}
	} else {
		p.stall = 0
	}
	for _, e := range p.sess.PollEvents() {
		p.events = append(p.events, e)
		switch e.Kind {
		case lockstep.EventPlayerDropped:
			p.drops[e.Seat] = e.Frame
		case lockstep.EventDesync:
			return fmt.Errorf("locksteptest: seat %d: %w", i, e.Err)
		}
	}
	return nil
}

func (r *runner[I]) compare(i int, f lockstep.Frame, sum uint64) error {
	switch {
	case int(f) < len(r.ref):
		if r.ref[f] != sum {
			return &DivergenceError{Frame: f, SeatA: r.refSeat[f], SumA: r.ref[f], SeatB: i, SumB: sum}
		}
	case int(f) == len(r.ref):
		r.ref = append(r.ref, sum)
		r.refSeat = append(r.refSeat, i)
	}
	return nil
}

// done reports whether every remaining seat ran every frame and dropped
// every leaving seat; reached, whether the frames alone are done.
func (r *runner[I]) done() (done, reached bool) {
	done, reached = true, true
	for i, p := range r.players {
		if p.gone {
			continue
		}
		if r.paused(i) || p.down || (p.sp != nil && !p.spectator) {
			done = false
		}
		if len(p.sums) < r.cfg.Frames {
			done, reached = false, false
		}
		for _, l := range r.cfg.Leave {
			if _, ok := p.drops[l.Seat]; !ok && !p.spectator {
				done = false
			}
		}
	}
	return done, reached
}

// checkDrops verifies that the seats that stayed dropped each leaving
// (or ended) seat at the same frame, that a seat told it was dropped was
// told that frame, and that every watched seat's own checksums match the
// others' on the frames it ran before its drop frame.
func (r *runner[I]) checkDrops() error {
	for s, w := range r.players {
		if !w.watched && w.ended == nil {
			continue
		}
		agreed, by, kept := lockstep.NoFrame, -1, -1
		for i, p := range r.players {
			if p.gone || p.spectator {
				continue // a spectator drops nobody
			}
			f, ok := p.drops[s]
			if !ok && w.leave == nil && w.ended == nil {
				kept = i // a watched seat that came back in time
				continue
			}
			if by >= 0 && f != agreed {
				return fmt.Errorf("locksteptest: seat %d dropped at frame %d by seat %d, at %d by seat %d",
					s, agreed, by, f, i)
			}
			agreed, by = f, i
		}
		if kept >= 0 && by >= 0 {
			return fmt.Errorf("locksteptest: seat %d dropped by seat %d at frame %d, but not by seat %d",
				s, by, agreed, kept)
		}
		var de *lockstep.DroppedError
		if errors.As(w.ended, &de) && by >= 0 && de.Frame != agreed {
			return fmt.Errorf("locksteptest: seat %d was told it was dropped at frame %d, the others dropped it at %d",
				s, de.Frame, agreed)
		}
		limit := len(w.sums)
		if by >= 0 {
			limit = min(limit, int(agreed))
		}
		for f := 0; f < limit && f < len(r.ref); f++ {
			if w.sums[f] != r.ref[f] {
				return &DivergenceError{Frame: lockstep.Frame(f), SeatA: r.refSeat[f], SumA: r.ref[f], SeatB: s, SumB: w.sums[f]}
			}
		}
	}
	return nil
}
