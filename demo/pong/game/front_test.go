//go:build display

// These tests need an X display (ebiten opens it when the package loads):
// e2e's TestGameUnderXvfb runs them with `go test -tags display` on a
// fresh Xvfb.

package game

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"testing"

	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

// netMatch stands in for a networked match: bots on both seats, perTick
// frames per Tick (more than one while lockstep catches up), and, like
// netplay's, it keeps stepping after the end (the peers linger so the
// last inputs arrive; sim.State.Step then advances only Frame).
type netMatch struct {
	s       sim.State
	final   *sim.State
	perTick int
}

func (m *netMatch) Tick(sim.Input) error {
	for range m.perTick {
		m.s.Step([2]sim.Input{sim.Bot(&m.s, 0), sim.Bot(&m.s, 1)})
		if m.final == nil && m.s.Over() {
			f := m.s
			m.final = &f
		}
	}
	return nil
}
func (m *netMatch) State() *sim.State { return &m.s }
func (m *netMatch) Final() *sim.State { return m.final }
func (m *netMatch) Seat() int         { return 0 }
func (m *netMatch) Close() error      { return nil }

// netRoom is a room whose match has started.
type netRoom struct{ m play.Match }

func (r *netRoom) Code() string                      { return "TEST" }
func (r *netRoom) JoinHint() string                  { return "" }
func (r *netRoom) Players() []play.Player            { return nil }
func (r *netRoom) Poll() ([]play.ChatLine, []string) { return nil, nil }
func (r *netRoom) SetReady(bool) error               { return nil }
func (r *netRoom) Say(string) error                  { return nil }
func (r *netRoom) Match() play.Match                 { return r.m }
func (r *netRoom) Stats() []play.PeerStat            { return nil }
func (r *netRoom) Err() error                        { return nil }
func (r *netRoom) Close() error                      { return nil }

var matchOverRE = regexp.MustCompile(`pong: match over" score0=(\d+) score1=(\d+) frames=(\d+) checksum=([0-9a-f]{16})`)

// reported returns the frame and checksum of the "pong: match over" line
// (what the browser test compares with the host's result line).
func reported(t *testing.T, log *bytes.Buffer) (uint32, string) {
	t.Helper()
	m := matchOverRE.FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no match-over line in the log:\n%s", log)
	}
	f, _ := strconv.Atoi(m[3])
	return uint32(f), m[4]
}

func newTestGame(opt Options) (*Game, *bytes.Buffer) {
	var log bytes.Buffer
	opt.Logger = slog.New(slog.NewTextHandler(&log, nil))
	return New(opt), &log
}

// TestFrontReportsGameOverFrame: a networked match ticks on drive's clock,
// apart from ebiten's Update, and one tick may run several frames. Whatever
// ran between the game-over frame and the Update that notices the end, the
// front reports the game-over frame's score, frame and checksum (a browser
// once said frames 954 where its host said 953).
func TestFrontReportsGameOverFrame(t *testing.T) {
	for _, tc := range []struct {
		name    string
		perTick int
		extra   int // drive ticks after the game-over frame, before Update
	}{
		{"a drive tick after the end", 1, 1},
		{"three drive ticks after the end", 1, 3},
		{"two frames in the ending tick", 2, 0},
		{"no tick after the end", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sim.Config{Seed: 7, WinScore: 1}
			want := sim.New(cfg)
			for !want.Over() {
				want.Step([2]sim.Input{sim.Bot(&want, 0), sim.Bot(&want, 1)})
			}
			if tc.perTick == 2 && want.Frame%2 == 0 {
				cfg.Seed, want = 8, sim.New(sim.Config{Seed: 8, WinScore: 1})
				for !want.Over() {
					want.Step([2]sim.Input{sim.Bot(&want, 0), sim.Bot(&want, 1)})
				}
				if want.Frame%2 == 0 {
					t.Fatalf("seeds 7 and 8 both end on an even frame; pick another")
				}
			}
			var out bytes.Buffer
			g, log := newTestGame(Options{Out: &out})
			m := &netMatch{s: sim.New(cfg), perTick: tc.perTick}
			room := &netRoom{m: m}
			g.mu.Lock()
			g.room = room
			g.setScreen(scLobby)
			g.mu.Unlock()
			for m.final == nil {
				if !g.driveTick(room) {
					t.Fatal("driveTick ended")
				}
				if m.final == nil {
					if err := g.Update(); err != nil {
						t.Fatal(err)
					}
				}
			}
			for range tc.extra {
				g.driveTick(room)
			}
			if m.s.Frame == want.Frame && tc.extra+tc.perTick > 1 {
				t.Fatalf("the match is at frame %d: the test did not tick past the end", m.s.Frame)
			}
			if err := g.Update(); err != nil {
				t.Fatal(err)
			}
			frame, sum := reported(t, log)
			if frame != want.Frame || sum != fmt.Sprintf("%016x", want.Checksum()) {
				t.Errorf("the front reports frame %d checksum %s; the match ended at frame %d checksum %016x (the match is at frame %d now)",
					frame, sum, want.Frame, want.Checksum(), m.s.Frame)
			}
			if w := fmt.Sprintf("wins %d:%d\n", want.Score[0], want.Score[1]); !bytes.Contains(out.Bytes(), []byte(w)) {
				t.Errorf("Out = %q, want a line ending %q", out.String(), w)
			}
			// Later Updates report nothing new.
			g.driveTick(room)
			_ = g.Update()
			if n := len(matchOverRE.FindAllString(log.String(), -1)); n != 1 {
				t.Errorf("%d match-over lines, want 1", n)
			}
		})
	}
}

// TestLocalFrontReportsGameOverFrame: a local match, ticked in Update,
// reports its game-over frame too, however long the end screen stays.
func TestLocalFrontReportsGameOverFrame(t *testing.T) {
	cfg := sim.Config{Seed: 3, WinScore: 1}
	g, log := newTestGame(Options{Start: StartLocal, Bot: true, Sim: cfg})
	want := sim.New(cfg)
	for !want.Over() {
		want.Step([2]sim.Input{sim.Bot(&want, 0), sim.Bot(&want, 1)})
	}
	for i := 0; i < int(want.Frame)+10; i++ {
		if err := g.Update(); err != nil {
			t.Fatal(err)
		}
	}
	frame, sum := reported(t, log)
	if frame != want.Frame || sum != fmt.Sprintf("%016x", want.Checksum()) {
		t.Errorf("the front reports frame %d checksum %s; the match ended at frame %d checksum %016x", frame, sum, want.Frame, want.Checksum())
	}
}
