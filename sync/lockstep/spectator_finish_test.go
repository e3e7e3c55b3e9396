package lockstep_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// gatedConn fails every Send while blocked, as a Reliable channel does
// for a slow consumer whose queue is full.
type gatedConn struct {
	transport.Conn
	blocked bool
}

func (g *gatedConn) Send(to transport.PeerID, p []byte) error {
	if g.blocked {
		return errors.New("slow consumer")
	}
	return g.Conn.Send(to, p)
}

// TestSpectatorLaggingAtFinish (#15): a spectator 30 frames behind
// (Delay) whose link lags when the match ends: the source's sends fail
// for the last 100 frames and at Finish. Once the link drains, the
// source's later Flush calls send the rest, the final checksum and the
// end, so the spectator returns every frame to the last, verified by
// the final checksum, and ends. Before, Finish sent the end only to
// subscribers that already had every frame: this one stayed 30 frames
// short of the end for good.
func TestSpectatorLaggingAtFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const frames, lagFrom = 600, 500
		net := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 30 * time.Millisecond}})
		defer net.Close()
		src := &gatedConn{Conn: net.Join("src").Channel("spec", transport.Reliable)}
		str, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: src, Seats: 2, GameID: 9})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := lockstep.NewSpectator[input](lockstep.SpectatorConfig{
			Conn: net.Join("w").Channel("spec", transport.Reliable), Source: "src", GameID: 9, Delay: 30})
		if err != nil {
			t.Fatal(err)
		}
		played, watched := newHashSim(2), newHashSim(2)
		last := lockstep.NoFrame
		var finalSum uint64
		status := []lockstep.InputStatus{lockstep.InputConfirmed, lockstep.InputConfirmed}
		watch := func() {
			steps, err := sp.Advance()
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				if st.Frame != last+1 {
					t.Fatalf("spectator got frame %d after %d", st.Frame, last)
				}
				watched.Step(st.Frame, st.Inputs)
				sp.ReportChecksum(st.Frame, watched.Checksum())
				last = st.Frame
			}
		}
		for f := range lockstep.Frame(frames) {
			in := []input{{Buttons: uint8(f), Dx: 1}, {Buttons: uint8(f >> 3), Dx: -2}}
			played.Step(f, in)
			str.Step(lockstep.Step[input]{Frame: f, Inputs: in, Status: status})
			if f%30 == 0 || f == frames-1 {
				finalSum = played.Checksum()
				str.ReportChecksum(f, finalSum)
			}
			src.blocked = f >= lagFrom
			if f == frames-1 {
				str.Finish()
			} else {
				str.Flush()
			}
			watch()
			time.Sleep(time.Second / 60)
		}
		if str.Done() {
			t.Fatal("Done while the spectator lags")
		}
		src.blocked = false
		for range 120 { // the game keeps flushing after Finish
			str.Flush()
			watch()
			if sp.Ended() && str.Done() {
				break
			}
			time.Sleep(time.Second / 60)
		}
		if !sp.Ended() || last != frames-1 {
			t.Fatalf("spectator at frame %d (ended %v), want %d", last, sp.Ended(), frames-1)
		}
		if v := sp.Stats().Verified; v != frames-1 || watched.Checksum() != finalSum {
			t.Errorf("verified up to %d, final checksum %#x vs %#x", v, watched.Checksum(), finalSum)
		}
		if !str.Done() {
			t.Error("streamer not Done after the spectator ended")
		}
	})
}
