package lockstep_test

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// snapshot encodes the sim's whole state.
func (h *hashSim) snapshot() []byte {
	b := binary.LittleEndian.AppendUint64(nil, h.state)
	for _, p := range h.pos {
		b = binary.LittleEndian.AppendUint64(b, uint64(p))
	}
	return b
}

func (h *hashSim) restore(b []byte) error {
	if len(b) < 8+8*len(h.pos) { // a test may pad it (a big state)
		return fmt.Errorf("snapshot of %d bytes", len(b))
	}
	h.state = binary.LittleEndian.Uint64(b)
	for i := range h.pos {
		h.pos[i] = int64(binary.LittleEndian.Uint64(b[8+8*i:]))
	}
	return nil
}

// specMatch is a match of seats players over memnet, each with a Session
// on "ls" and a Streamer on "spec", and spectators joining on "spec".
type specMatch struct {
	t        *testing.T
	net      *memnet.Network
	ids      []transport.PeerID
	peers    []*memnet.Peer
	conns    []*memnet.Conn            // the "spec" channels
	crashed  []bool                    // seats whose process is gone
	noFlush  func(seat, tick int) bool // a stalling streamer (nil: none)
	sess     []*lockstep.Session[input]
	str      []*lockstep.Streamer[input]
	sims     []*hashSim
	sums     map[lockstep.Frame]uint64 // seat 0's checksums
	snapshot func(seat int, sim *hashSim) []byte
	// streamSum is the checksum seat reports to its streamer (the honest
	// one unless a test lies).
	streamSum func(seat int, st lockstep.Step[input], honest uint64) uint64
	// streamEvery is the frames between the checksums the seats report to
	// their streamers (0: specInterval).
	streamEvery int
	// restarted: per seat, the seat whose steps feed its streamer after
	// restart (-1: not restarted).
	restarted []int
}

const specInterval = 30

func newSpecMatch(t *testing.T, seats int, snapshots bool) *specMatch {
	return newSpecMatchWith(t, seats, func(i int) bool { return snapshots && i == 0 })
}

// newSpecMatchWith is newSpecMatch where snapshots says which seats'
// streamers give snapshots; opts change the seats' Config.
func newSpecMatchWith(t *testing.T, seats int, snapshots func(seat int) bool, opts ...func(*lockstep.Config)) *specMatch {
	m := &specMatch{t: t, net: memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{Latency: 30 * time.Millisecond, Jitter: 5 * time.Millisecond}}),
		sums: map[lockstep.Frame]uint64{}}
	for i := range seats {
		m.ids = append(m.ids, transport.PeerID(fmt.Sprintf("p%d", i)))
	}
	for i, id := range m.ids {
		p := m.net.Join(id)
		cfg := lockstep.Config{Seats: m.ids, InputDelay: 4, GameID: 9}
		for _, o := range opts {
			o(&cfg)
		}
		s, err := lockstep.NewSession[input](p.Channel("ls", transport.Unreliable), cfg)
		if err != nil {
			t.Fatal(err)
		}
		conn := p.Channel("spec", transport.Reliable)
		st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conn, Seats: seats, GameID: 9, Snapshots: snapshots(i)})
		if err != nil {
			t.Fatal(err)
		}
		m.peers, m.conns, m.crashed = append(m.peers, p), append(m.conns, conn), append(m.crashed, false)
		m.restarted = append(m.restarted, -1)
		m.sess, m.str, m.sims = append(m.sess, s), append(m.str, st), append(m.sims, newHashSim(seats))
	}
	m.snapshot = func(_ int, sim *hashSim) []byte { return sim.snapshot() }
	m.streamSum = func(_ int, _ lockstep.Step[input], honest uint64) uint64 { return honest }
	return m
}

// tick runs one tick of every player (play false: only the streamers).
func (m *specMatch) tick(tick int, play bool) {
	for i, s := range m.sess {
		if m.crashed[i] {
			continue
		}
		if play {
			steps, err := s.Advance(input{Buttons: uint8(tick + i), Dx: int16(tick%5 - i)})
			if err != nil {
				m.t.Fatalf("seat %d: %v", i, err)
			}
			for _, st := range steps {
				m.sims[i].Step(st.Frame, st.Inputs)
				sum := m.sims[i].Checksum()
				s.ReportChecksum(st.Frame, sum)
				m.str[i].Step(st)
				every := lockstep.Frame(cmp.Or(m.streamEvery, specInterval))
				if ss := m.streamSum(i, st, sum); st.Frame%every == 0 {
					m.str[i].ReportChecksum(st.Frame, ss)
				}
				for r, from := range m.restarted {
					if from == i {
						m.str[r].Step(st)
						if st.Frame%every == 0 {
							m.str[r].ReportChecksum(st.Frame, sum)
						}
					}
				}
				if _, ok := m.sums[st.Frame]; !ok {
					m.sums[st.Frame] = sum // the first seat's to run it
				}
			}
			if len(steps) > 0 && m.str[i].Wanted() {
				if err := m.str[i].Snapshot(m.snapshot(i, m.sims[i])); err != nil {
					m.t.Fatal(err)
				}
			}
			for r, from := range m.restarted {
				if from == i && len(steps) > 0 && m.str[r].Wanted() {
					if err := m.str[r].Snapshot(m.snapshot(r, m.sims[i])); err != nil {
						m.t.Fatal(err)
					}
				}
			}
		}
		if m.noFlush == nil || !m.noFlush(i, tick) {
			m.str[i].Flush()
		}
	}
	for r, from := range m.restarted {
		if from >= 0 && (m.noFlush == nil || !m.noFlush(r, tick)) {
			m.str[r].Flush()
		}
	}
}

// restart brings crashed seat i's process back as a streamer only (its
// Session is gone; the match dropped it): a new peer and a Streamer with
// snapshots fed the steps seat from runs (its game state is that seat's),
// from the next one.
func (m *specMatch) restart(i, from int) {
	p := m.net.Join(m.ids[i])
	conn := p.Channel("spec", transport.Reliable)
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conn, Seats: len(m.ids), GameID: 9, Snapshots: true})
	if err != nil {
		m.t.Fatal(err)
	}
	m.peers[i], m.conns[i], m.str[i], m.restarted[i] = p, conn, st, from
}

// crash stops seat i's process: no goodbye, its peer leaves the network.
func (m *specMatch) crash(i int) {
	m.crashed[i] = true
	_ = m.peers[i].Close()
}

func (m *specMatch) close() {
	for _, s := range m.sess {
		_ = s.Close()
	}
	_ = m.net.Close()
}

// watcher is one spectator with its own sim.
type watcher struct {
	sp       *lockstep.Spectator[input]
	sim      *hashSim
	sums     map[lockstep.Frame]uint64
	last     lockstep.Frame
	err      error
	from     lockstep.Frame // first frame stepped
	restores int
	events   []lockstep.Event
	longest  int // the most consecutive ticks without a step
	idle     int
	// desyncs counts the *DesyncErrors when keepOnDesync (a test that
	// feeds forged inputs); else the first ends the watcher.
	desyncs      int
	keepOnDesync bool
}

func (m *specMatch) watch(id transport.PeerID, cfg lockstep.SpectatorConfig) *watcher {
	cfg.Conn = m.net.Join(id).Channel("spec", transport.Reliable)
	cfg.GameID = 9
	sp, err := lockstep.NewSpectator[input](cfg)
	if err != nil {
		m.t.Fatal(err)
	}
	return &watcher{sp: sp, sim: newHashSim(len(m.ids)), sums: map[lockstep.Frame]uint64{}, last: lockstep.NoFrame, from: lockstep.NoFrame}
}

func (w *watcher) tick() {
	if w.err != nil {
		return
	}
	if c, ok := w.sp.Restore(); ok {
		if err := w.sim.restore(c.State); err != nil {
			w.err = err
			return
		}
		w.restores++
	}
	steps, err := w.sp.Advance()
	w.events = append(w.events, w.sp.PollEvents()...)
	if _, ok := errors.AsType[*lockstep.DesyncError](err); ok && w.keepOnDesync {
		w.desyncs++
		err = nil
	}
	if err != nil {
		w.err = err
		return
	}
	if len(steps) == 0 && !w.sp.Ended() && w.last != lockstep.NoFrame {
		w.idle++
		w.longest = max(w.longest, w.idle)
	} else {
		w.idle = 0
	}
	for _, st := range steps {
		if w.from == lockstep.NoFrame {
			w.from = st.Frame
		}
		w.sim.Step(st.Frame, st.Inputs)
		sum := w.sim.Checksum()
		w.sums[st.Frame], w.last = sum, st.Frame
		if st.Frame%specInterval == 0 {
			w.sp.ReportChecksum(st.Frame, sum)
		}
	}
}

// TestSpectatorJoinsAtFrame1000: a spectator joins a running 3-seat
// match at frame 1000, restores seat 0's snapshot, fast-forwards and
// follows 30 frames behind; seats 1 and 2 witness its checksums. Every
// frame it runs has the players' checksum, including the last (the
// source finishes the stream), and a majority of the sources verified
// its state. A second spectator without snapshots
// replays from frame 0 and reaches the same.
func TestSpectatorJoinsAtFrame1000(t *testing.T) {
	for _, snapshots := range []bool{true, false} {
		t.Run(fmt.Sprint("snapshots=", snapshots), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newSpecMatch(t, 3, snapshots)
				defer m.close()
				var w *watcher
				for tick := range 1800 {
					if tick == 1000 {
						w = m.watch("spectator", lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}, Delay: 30})
					}
					if tick == 1700 {
						m.str[0].Finish() // the match is over
					}
					m.tick(tick, tick < 1700)
					if w != nil {
						w.tick()
					}
					time.Sleep(time.Second / 60)
				}
				if w.err != nil {
					t.Fatal(w.err)
				}
				final := m.str[0].End() - 1
				if w.last != final || !w.sp.Ended() {
					t.Fatalf("spectator at frame %d (ended %v), the match ended at %d", w.last, w.sp.Ended(), final)
				}
				for f, sum := range w.sums {
					if m.sums[f] != sum {
						t.Fatalf("frame %d: spectator %x, players %x", f, sum, m.sums[f])
					}
				}
				if snapshots && w.from < 990 {
					t.Errorf("with snapshots the spectator started at frame %d, want a snapshot near 1000", w.from)
				}
				if !snapshots && w.from != 0 {
					t.Errorf("without snapshots the spectator started at frame %d, want 0", w.from)
				}
				st := w.sp.Stats()
				if st.Verified < final-specInterval || st.Compared == 0 {
					t.Errorf("verified up to %d (%d comparisons), want about %d", st.Verified, st.Compared, final)
				}
				t.Logf("spectator from frame %d to %d, %d bytes received, verified at %d (%d comparisons); source sent %d bytes",
					w.from, w.last, st.BytesRecv, st.Verified, st.Compared, m.str[0].Stats().BytesSent)
			})
		})
	}
}

// TestSpectatorForgedSnapshot is the lying source: seat 0 streams a
// snapshot of a state it made up, and reports its checksums as if that
// state were the match's (self-consistent, so the spectator's own
// comparison with the source passes). The honest witnesses' checksums
// expose it: the spectator reports a *DesyncError naming a witness, and
// never counts the forged state as verified.
func TestSpectatorForgedSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newSpecMatch(t, 3, true)
		defer m.close()
		// The liar's streamer gets the forged state, and its checksums come
		// from a forged sim that follows the same inputs.
		var forged *hashSim
		m.snapshot = func(_ int, sim *hashSim) []byte {
			forged = newHashSim(3)
			_ = forged.restore(sim.snapshot())
			forged.pos[1] += 1000 // seat 1 "scored"
			return forged.snapshot()
		}
		m.streamSum = func(seat int, st lockstep.Step[input], honest uint64) uint64 {
			if seat != 0 || forged == nil {
				return honest
			}
			forged.Step(st.Frame, st.Inputs)
			return forged.Checksum()
		}
		var w *watcher
		for tick := range 1400 {
			if tick == 1000 {
				w = m.watch("spectator", lockstep.SpectatorConfig{Source: "p0", Witnesses: []transport.PeerID{"p1", "p2"}})
			}
			m.tick(tick, true)
			if w != nil {
				w.tick()
				if w.err != nil {
					break
				}
			}
			time.Sleep(time.Second / 60)
		}
		var de *lockstep.DesyncError
		if !errors.As(w.err, &de) || de.Seat == 0 {
			t.Fatalf("spectator error %v, want a desync against a witness", w.err)
		}
		if v := w.sp.Stats().Verified; v >= w.from {
			t.Errorf("forged state verified at frame %d", v)
		}
		t.Logf("forged snapshot detected: %v", de)
	})
}

// TestStreamerLogBound: without snapshots the log is bounded by MaxLog;
// once frame 0 is gone, a new subscriber cannot catch up and is refused
// (ErrStreamRefused) instead of being sent a stream with a hole.
func TestStreamerLogBound(t *testing.T) {
	conns := locksteptest.Loopback("a", "s")
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conns[0], Seats: 1, MaxLog: 100})
	if err != nil {
		t.Fatal(err)
	}
	for f := range 300 {
		st.Step(lockstep.Step[input]{Frame: lockstep.Frame(f), Inputs: []input{{}}, Status: []lockstep.InputStatus{lockstep.InputConfirmed}})
	}
	sp, err := lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: conns[1], Source: "a"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = sp.Advance() // subscribes
	st.Flush()
	if _, err := sp.Advance(); !errors.Is(err, lockstep.ErrStreamRefused) {
		t.Fatalf("subscriber after the log lost frame 0: %v, want ErrStreamRefused", err)
	}
	if st.Stats().Refused != 1 {
		t.Errorf("refused %d", st.Stats().Refused)
	}
}
