package lockstep_test

import (
	"testing"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// FuzzStreamMessage feeds arbitrary stream messages from the source and
// a witness to a Spectator: whatever they say (snapshots, inputs,
// checksums, refusals), Advance and ReportChecksum must not panic, and
// the spectator never returns a frame twice nor out of order. Seeds are a
// real stream: a snapshot, inputs, checksums.
func FuzzStreamMessage(f *testing.F) {
	conns := locksteptest.Loopback("a", "b", "s")
	src := &tap{Conn: conns[0]}
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: src, Seats: 2, Snapshots: true})
	if err != nil {
		f.Fatal(err)
	}
	sp, err := lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: conns[2], Source: "a"})
	if err != nil {
		f.Fatal(err)
	}
	for frame := range 40 {
		_, _ = sp.Advance()
		st.Step(lockstep.Step[input]{Frame: lockstep.Frame(frame), Inputs: []input{{1, 2}, {3, 4}},
			Status: []lockstep.InputStatus{lockstep.InputConfirmed, lockstep.InputDropped}})
		st.ReportChecksum(lockstep.Frame(frame), uint64(frame))
		if st.Wanted() {
			_ = st.Snapshot([]byte("state"))
		}
		st.Flush()
	}
	if len(src.sent) < 3 {
		f.Fatalf("seed stream of %d messages", len(src.sent))
	}
	for _, m := range src.sent {
		f.Add(m, []byte(nil))
	}
	f.Add(src.sent[0], src.sent[len(src.sent)-1])
	f.Fuzz(func(t *testing.T, m1, m2 []byte) {
		conns := locksteptest.Loopback("a", "b", "s")
		sp, err := lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: conns[2], Source: "a", Witnesses: []transport.PeerID{"b"}})
		if err != nil {
			t.Fatal(err)
		}
		last := lockstep.NoFrame
		for i := range 4 {
			_ = conns[0].Send("s", m1)
			_ = conns[1].Send("s", m2)
			_ = conns[0].Send("s", m2)
			_, _ = sp.Restore()
			steps, _ := sp.Advance()
			for _, s := range steps {
				if last != lockstep.NoFrame && s.Frame != last+1 {
					t.Fatalf("tick %d: frame %d after %d", i, s.Frame, last)
				}
				last = s.Frame
				sp.ReportChecksum(s.Frame, uint64(s.Frame))
			}
		}
	})
}
