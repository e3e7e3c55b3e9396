package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// input is one player's input for a frame.
type input struct {
	V int32
}

// sim is a tiny deterministic game: a 64-bit state mixed with every
// frame's inputs. Equal checksums mean equal inputs in every frame.
type sim struct{ state uint64 }

func (s *sim) step(f lockstep.Frame, in []input) {
	x := s.state ^ uint64(uint32(f))<<32
	for i, v := range in {
		x ^= uint64(uint32(v.V)) << (8 * uint(i%8))
		x = splitmix(x)
	}
	s.state = splitmix(x)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// runGame plays o.frames lockstep frames with every peer of the room over
// the mesh, at o.tps ticks per second, printing:
//
//	start seats=<names in seat order>
//	progress frame=<f> checksum=<x>                   every 60 frames
//	lockstep player-lost|player-dropped <name> frame=<f>
//	final frames=<n> checksum=<x>
//	ok                                                after every remaining player is done
func runGame(ctx context.Context, o options) error {
	m, err := netcode.Join(ctx, meshConfig(o, []netcode.ChannelSpec{
		{Label: "ctl", Reliability: transport.Reliable},
		{Label: "lockstep", Reliability: transport.Unreliable},
	}))
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Printf("joined %s\n", m.Local())
	if err := m.WaitPeers(ctx, o.peers-1); err != nil {
		return fmt.Errorf("waiting for %d peers: %w (have %d)", o.peers-1, err, len(m.Peers()))
	}
	seats := append(m.Peers(), m.Local())
	slices.Sort(seats)
	nm := names(m)
	nm[m.Local()] = o.name
	seatNames := make([]string, len(seats))
	for i, id := range seats {
		seatNames[i] = nm[id]
	}
	fmt.Printf("start seats=%v\n", seatNames)

	sess, err := lockstep.NewSession[input](m.Channel("lockstep"), lockstep.Config{
		Seats: seats, TickRate: o.tps, GameID: 0x6e65746c6162, Logger: logger(o),
	})
	if err != nil {
		return err
	}
	defer sess.Close()
	ctl := m.Channel("ctl")

	h := fnv.New64a()
	h.Write([]byte(o.name))
	inSeed := h.Sum64()
	var g sim
	var applied lockstep.Frame // frames applied
	final := false
	done := map[transport.PeerID]bool{}
	dropped := map[transport.PeerID]bool{}
	tick := time.NewTicker(time.Second / time.Duration(o.tps))
	defer tick.Stop()
	for t := uint64(0); ; t++ {
		select {
		case <-ctx.Done():
			st := sess.Stats()
			return fmt.Errorf("timeout at frame %d (applied %d), stalls %d, peers %d", st.Frame, applied, st.Stalls, len(m.Peers()))
		case <-tick.C:
		}
		if err := printEvents(m, false); err != nil {
			return err
		}
		steps, err := sess.Advance(input{V: int32(splitmix(inSeed+t) % 5)})
		if err != nil {
			return err
		}
		for _, st := range steps {
			if st.Frame >= lockstep.Frame(o.frames) {
				break
			}
			g.step(st.Frame, st.Inputs)
			sess.ReportChecksum(st.Frame, g.state)
			applied = st.Frame + 1
			if st.Frame%60 == 0 {
				fmt.Printf("progress frame=%d checksum=%016x\n", st.Frame, g.state)
			}
		}
		for _, ev := range sess.PollEvents() {
			switch ev.Kind {
			case lockstep.EventPlayerLost, lockstep.EventPlayerDropped:
				fmt.Printf("lockstep %s %s frame=%d\n", ev.Kind, nm[ev.Peer], ev.Frame)
				if ev.Kind == lockstep.EventPlayerDropped {
					dropped[ev.Peer] = true
				}
			case lockstep.EventDesync:
				fmt.Printf("desync %v\n", ev.Err)
				return ev.Err
			}
		}
		if !final && applied == lockstep.Frame(o.frames) {
			final = true
			fmt.Printf("final frames=%d checksum=%016x\n", applied, g.state)
		}
		if final {
			// Tell the others every tick (cheap; a peer that joined the
			// barrier late still hears it), keep advancing so they get our
			// inputs, and stop once every remaining player is done.
			_ = ctl.Broadcast([]byte("done"))
		}
		for msg, ok := ctl.TryRecv(); ok; msg, ok = ctl.TryRecv() {
			if string(msg.Data) == "done" {
				done[msg.From] = true
			}
		}
		if final && allDone(seats, m.Local(), done, dropped) {
			// Linger so our own "done" reaches everyone.
			end := time.Now().Add(500 * time.Millisecond)
			for time.Now().Before(end) {
				<-tick.C
				_, _ = sess.Advance(input{})
			}
			fmt.Println("ok")
			return nil
		}
	}
}

func allDone(seats []transport.PeerID, self transport.PeerID, done, dropped map[transport.PeerID]bool) bool {
	for _, id := range seats {
		if id != self && !done[id] && !dropped[id] {
			return false
		}
	}
	return true
}
