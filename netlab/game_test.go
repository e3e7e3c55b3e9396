//go:build netlab

package netlab_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

var (
	finalRE    = regexp.MustCompile(`^final frames=(\d+) checksum=([0-9a-f]{16})$`)
	droppedRE  = regexp.MustCompile(`^lockstep player-dropped (\S+) frame=(\d+)$`)
	progressRE = regexp.MustCompile(`^progress frame=(\d+) `)
)

// startGame runs labpeer game on every host, in one room.
func startGame(t *testing.T, room string, frames int, hosts ...*netlab.Host) []*netlab.Proc {
	t.Helper()
	procs := make([]*netlab.Proc, len(hosts))
	for i, h := range hosts {
		procs[i] = startPeer(t, h, "game", "-signal", signalURL, "-room", room, "-name", h.Name(),
			"-peers", fmt.Sprint(len(hosts)), "-frames", fmt.Sprint(frames), "-timeout", "90s")
	}
	return procs
}

// waitFrame waits until p has applied frame f.
func waitFrame(t *testing.T, p *netlab.Proc, f int) {
	t.Helper()
	waitLine(t, p, 60*time.Second, fmt.Sprintf(`^progress frame=%d `, f))
}

// finish waits for every game process to exit 0 and returns their final
// checksums, failing the test unless they are equal.
func finish(t *testing.T, frames int, procs ...*netlab.Proc) string {
	t.Helper()
	sums := map[string]string{}
	for _, p := range procs {
		if err := p.Wait(waitCtx(t, 120*time.Second)); err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		_, m, err := p.WaitLine(waitCtx(t, time.Second), 0, finalRE)
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		if m[1] != fmt.Sprint(frames) {
			t.Errorf("%s ran %s frames, want %d", p.Name(), m[1], frames)
		}
		sums[p.Name()] = m[2]
	}
	first := sums[procs[0].Name()]
	for _, s := range sums {
		if s != first {
			t.Fatalf("final checksums differ: %v", sums)
		}
	}
	t.Logf("final checksum %s on %d peers", first, len(sums))
	return first
}

// TestGamePeerKilled: four peers (two on one LAN, one behind another
// restricted NAT, one behind a symmetric NAT: host, direct and relayed
// links) play in lockstep; one is SIGKILLed mid-game. The three survivors
// must drop it at the same frame and play on to equal final checksums.
func TestGamePeerKilled(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	ra := lab.AddRouter("ra", netlab.NATRestricted)
	hosts := []*netlab.Host{
		ra.AddHost("a1"), ra.AddHost("a2"),
		lab.AddRouter("rb", netlab.NATRestricted).AddHost("b"),
		lab.AddRouter("sc", netlab.NATSymmetric).AddHost("c"),
	}
	startSignald(t, lab)
	const frames = 600
	procs := startGame(t, "kill", frames, hosts...)
	victim, survivors := procs[2], []*netlab.Proc{procs[0], procs[1], procs[3]}

	waitFrame(t, victim, 180)
	victim.Kill()
	if err := victim.Wait(waitCtx(t, 10*time.Second)); err == nil {
		t.Fatal("the victim exited 0 after SIGKILL")
	}

	finish(t, frames, survivors...)
	drops := map[string]string{}
	for _, p := range survivors {
		_, m, err := p.WaitLine(waitCtx(t, time.Second), 0, droppedRE)
		if err != nil {
			t.Fatalf("%s never dropped the victim: %v", p.Name(), err)
		}
		if m[1] != "b" {
			t.Errorf("%s dropped %s, want b", p.Name(), m[1])
		}
		drops[p.Name()] = m[2]
	}
	first := drops[survivors[0].Name()]
	for _, f := range drops {
		if f != first {
			t.Errorf("drop frames differ: %v", drops)
			break
		}
	}
	t.Logf("survivors agree: b dropped at frame %s", first)
}

// TestGameSignaldKilled: three peers on direct links (one LAN pair and a
// peer behind another restricted NAT) play; signald is SIGKILLed mid-game
// and the match goes on; once it is restarted, the peers' meshes re-join
// it and two new peers form a new room and connect.
//
// The peers are on direct links on purpose: TURN runs inside signald, so a
// relayed link dies with it (an operator who needs relayed matches to
// survive a signald restart runs TURN separately, e.g. coturn).
func TestGameSignaldKilled(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	ra := lab.AddRouter("ra", netlab.NATRestricted)
	rb := lab.AddRouter("rb", netlab.NATRestricted)
	rc := lab.AddRouter("rc", netlab.NATSymmetric)
	a1, a2, b := ra.AddHost("a1"), ra.AddHost("a2"), rb.AddHost("b")
	n1, n2 := rb.AddHost("n1"), rc.AddHost("n2")
	sig := startSignald(t, lab)
	const frames = 900
	procs := startGame(t, "outage", frames, a1, a2, b)

	waitFrame(t, procs[0], 120)
	sig.Kill()
	if err := sig.Wait(waitCtx(t, 10*time.Second)); err == nil {
		t.Fatal("signald exited 0 after SIGKILL")
	}
	for _, p := range procs {
		waitLine(t, p, 30*time.Second, `^event signaling-lost`)
	}
	at := progressOf(t, procs[0])
	waitFrame(t, procs[0], at+120) // two more seconds of play without signald

	startSignald(t, lab)
	fresh := []*netlab.Proc{}
	for _, h := range []*netlab.Host{n1, n2} {
		fresh = append(fresh, startPeer(t, h, "mesh", "-signal", signalURL, "-room", "after-restart", "-name", h.Name(),
			"-peers", "2", "-timeout", "40s", "-fail-fast"))
	}
	for _, p := range fresh {
		if err := p.Wait(waitCtx(t, 60*time.Second)); err != nil {
			t.Fatalf("new room after the restart: %s: %v", p.Name(), err)
		}
	}
	// The mesh re-joins the restarted server, so new peers could join it.
	for _, p := range procs {
		waitLine(t, p, 30*time.Second, `^event signaling-restored`)
	}
	finish(t, frames, procs...)
	for _, p := range procs {
		if _, _, err := p.WaitLine(waitCtx(t, time.Second), 0, droppedRE); err == nil {
			t.Errorf("%s dropped a player during the signald outage", p.Name())
		}
	}
}

// progressOf returns the last frame p reported.
func progressOf(t *testing.T, p *netlab.Proc) int {
	t.Helper()
	last := -1
	for _, l := range p.Lines() {
		if m := progressRE.FindStringSubmatch(l); m != nil {
			last = atoi(t, m[1])
		}
	}
	if last < 0 {
		t.Fatalf("%s reported no progress", p.Name())
	}
	return last
}
