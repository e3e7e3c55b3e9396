package lockstep_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// splitConn is a lying coordinator's control channel: admissions toward
// victim carry R+delta instead of R, and the victim's acknowledgements of
// R+delta are shown to the coordinator's session as acknowledgements of R,
// so that its own gate opens as if everyone agreed.
type splitConn struct {
	transport.Conn
	victim transport.PeerID
	delta  int32
}

func shiftR(b []byte, kind byte, d int32) []byte {
	if len(b) < 14 || string(b[:3]) != "PPR" || b[4] != kind {
		return b
	}
	b = append([]byte(nil), b...)
	r := int32(binary.LittleEndian.Uint32(b[10:]))
	binary.LittleEndian.PutUint32(b[10:], uint32(r+d))
	return b
}

func (c *splitConn) Send(to transport.PeerID, p []byte) error {
	if to == c.victim {
		p = shiftR(p, 2, c.delta)
	}
	return c.Conn.Send(to, p)
}

func (c *splitConn) TryRecv() (transport.Message, bool) {
	m, ok := c.Conn.TryRecv()
	if ok && m.From == c.victim {
		m.Data = shiftR(m.Data, 3, -c.delta)
	}
	return m, ok
}

// TestRedteamRejoinSplit: the coordinator (seat 0) of a 4-seat match lies
// about R: it admits the newcomer in reserved seat 3 at R toward seat 1
// and the newcomer, at R+10 toward seat 2, and opens its own gate. Before
// the fix seat 1 ran frames R..R+9 with seat 3's inputs and seat 2
// without them: two honest peers simulated different frames. Now every
// survivor gates at R-1 until every other survivor acknowledged the same
// (seat, R): honest seats never run a frame differently, and the match
// does not freeze (an honest seat that stalls on the void admission may be
// voted out, but the others play on).
func TestRedteamRejoinSplit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 5, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1", "p2", "p3"}
		type rec struct {
			status []lockstep.InputStatus
			in     []input
		}
		ss := make([]*lockstep.Session[input], 4)
		runs := make([]map[lockstep.Frame]rec, 4)
		ended := make([]error, 4)
		last := make([]lockstep.Frame, 4)
		lastTick := make([]int, 4)
		stall := make([]int, 4) // longest run of ticks without a step
		var events [4][]lockstep.Event
		start := func(i int, join bool) {
			peer := n.Join(ids[i])
			var ctl transport.Conn = peer.Channel("ctl", transport.Reliable)
			if i == 0 {
				ctl = &splitConn{Conn: ctl, victim: "p2", delta: 10}
			}
			s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable),
				lockstep.Config{Seats: ids, Reserved: ids[3:], GameID: 9, Control: ctl, Join: join, InputDelay: 2})
			if err != nil {
				t.Fatal(err)
			}
			ss[i], runs[i] = s, map[lockstep.Frame]rec{}
		}
		for i := range 3 {
			start(i, false)
		}
		for tick := range 1800 {
			if tick == 60 {
				start(3, true)
			}
			for i, s := range ss {
				if s == nil || ended[i] != nil {
					continue
				}
				steps, err := s.Advance(input{Buttons: uint8(tick + i), Dx: int16(i)})
				if errors.Is(err, lockstep.ErrDropped) {
					ended[i] = err
					continue
				}
				if err != nil {
					t.Fatalf("seat %d: %v", i, err)
				}
				for _, st := range steps {
					status := slices.Clone(st.Status)
					for k, v := range status {
						if v == lockstep.InputDisconnecting { // a local view
							status[k] = lockstep.InputConfirmed
						}
					}
					runs[i][st.Frame] = rec{status, slices.Clone(st.Inputs)}
					if lastTick[i] > 0 {
						stall[i] = max(stall[i], tick-lastTick[i])
					}
					last[i], lastTick[i] = st.Frame, tick
				}
				events[i] = append(events[i], s.PollEvents()...)
			}
			time.Sleep(time.Second / 60)
		}
		r := ss[3].JoinFrame()
		for _, pair := range [][2]int{{1, 2}, {1, 3}, {2, 3}} {
			split := 0
			for f, a := range runs[pair[0]] {
				b, ok := runs[pair[1]][f]
				if ok && (!slices.Equal(a.status, b.status) || !slices.Equal(a.in, b.in)) {
					if split == 0 {
						t.Errorf("frame %d: seat %d ran %v %+v, seat %d %v %+v", f, pair[0], a.status, a.in, pair[1], b.status, b.in)
					}
					split++
				}
			}
			if split > 0 {
				t.Errorf("honest seats %d and %d ran %d frames differently (newcomer admitted at %d)", pair[0], pair[1], split, r)
			}
		}
		playing := 0
		for i := 1; i <= 3; i++ {
			for _, e := range events[i] {
				if e.Kind == lockstep.EventDesync {
					t.Errorf("seat %d: %+v", i, e)
				}
			}
			switch {
			case lastTick[i] >= 1500 && last[i] > r+300:
				playing++
			case ended[i] == nil && (i < 3 || r != lockstep.NoFrame):
				t.Errorf("seat %d froze at frame %d (tick %d) without being dropped", i, last[i], lastTick[i])
			}
		}
		if playing == 0 {
			t.Errorf("no honest seat plays on: frames %v, ended %v", last, ended)
		}
		t.Logf("R at the newcomer %d, frames %v, ended %v, longest stalls %v ticks, refused at 1: %d, at 2: %d", r, last, ended, stall,
			ss[1].Stats().Dropped.Refused, ss[2].Stats().Dropped.Refused)
	})
}
