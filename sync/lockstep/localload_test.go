package lockstep_test

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// tickerPair plays two adaptive sessions on memnet (zero latency: a
// loopback RTT) inside a synctest bubble, each peer in its own goroutine
// driven by a 60 Hz time.Ticker, as a game loop is. Peer 0's loop waits
// late(k) after its k-th tick before calling Advance (a loop starved of
// CPU: the ticker keeps its grid, the Advance comes late). It returns
// each peer's median input delay and its final RTT and jitter estimates
// over the last measure ticks, after warm ticks.
func tickerPair(t *testing.T, warm, measure int, late func(k int) time.Duration) (delay [2]int, st [2]lockstep.Stats) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 3})
		defer n.Close()
		ids := []transport.PeerID{"a", "b"}
		var ss [2]*lockstep.Session[input]
		for i, id := range ids {
			s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable),
				lockstep.Config{Seats: ids, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ss[i] = s
		}
		var (
			wg     sync.WaitGroup
			ran    [2][]input
			delays [2][]int
			errs   [2]error
		)
		for p, s := range ss {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if p == 1 {
					time.Sleep(tick60 / 2)
				}
				tk := time.NewTicker(tick60)
				defer tk.Stop()
				for k := range warm + measure {
					<-tk.C
					if p == 0 {
						time.Sleep(late(k))
					}
					steps, err := s.Advance(input{Buttons: uint8(k), Dx: int16(p)})
					if err != nil {
						errs[p] = err
						return
					}
					for _, st := range steps {
						ran[p] = append(ran[p], st.Inputs...)
					}
					if k >= warm {
						delays[p] = append(delays[p], s.Stats().InputDelay)
					}
				}
			}()
		}
		wg.Wait()
		for p := range 2 {
			if errs[p] != nil {
				t.Fatalf("peer %d: %v", p, errs[p])
			}
			d := slices.Sorted(slices.Values(delays[p]))
			delay[p] = d[len(d)/2]
			st[p] = ss[p].Stats()
		}
		m := min(len(ran[0]), len(ran[1]))
		if m < warm || !slices.Equal(ran[0][:m], ran[1][:m]) {
			t.Fatalf("peers ran %d and %d steps, identical: %v", len(ran[0]), len(ran[1]), slices.Equal(ran[0][:m], ran[1][:m]))
		}
	})
	return delay, st
}

// TestAdaptiveDelayUnderLocalLoad: a peer whose loop is starved of CPU
// (its Advance comes up to 30 ms after its ticker fired, on a third of
// the ticks) must not read its own lateness as network time: its RTT and
// jitter estimates of a jitter-free loopback link stay near the
// unloaded run's, and neither its adaptive delay nor its peer's (whose
// pings it echoes) rises by more than a frame.
func TestAdaptiveDelayUnderLocalLoad(t *testing.T) {
	const warm, measure = 600, 1800
	base, bst := tickerPair(t, warm, measure, func(int) time.Duration { return 0 })
	rng := rand.New(rand.NewPCG(1, 2))
	lateness := make([]time.Duration, warm+measure)
	for k := range lateness {
		if rng.IntN(3) == 0 {
			lateness[k] = time.Duration(rng.IntN(30000)) * time.Microsecond
		}
	}
	loaded, lst := tickerPair(t, warm, measure, func(k int) time.Duration { return lateness[k] })
	for p := range 2 {
		t.Logf("peer %d: input delay %d unloaded, %d loaded; RTT %v / %v, jitter %v / %v", p, base[p], loaded[p],
			bst[p].RTT, lst[p].RTT, bst[p].Jitter, lst[p].Jitter)
		if loaded[p] > base[p]+1 {
			t.Errorf("peer %d: input delay %d with a starved loop on peer 0, want at most %d (unloaded %d + 1)", p, loaded[p], base[p]+1, base[p])
		}
	}
	// The link has no jitter: what peer 0 measures beyond the unloaded
	// run is its own lateness (without the discount: RTT 21.2 ms, jitter
	// 11.9 ms).
	if got, want := lst[0].RTT, bst[0].RTT+2*time.Millisecond; got > want {
		t.Errorf("peer 0's RTT estimate under its own lateness = %v, want at most %v (unloaded + 2 ms)", got, want)
	}
	if got, want := lst[0].Jitter, 8*time.Millisecond; got > want {
		t.Errorf("peer 0's jitter estimate under its own lateness = %v, want at most %v", got, want)
	}
}
