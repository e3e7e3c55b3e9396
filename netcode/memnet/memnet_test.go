package memnet_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns two connected channels of one kind on a fresh network.
func pair(t *testing.T, cfg memnet.Config, rel transport.Reliability) (n *memnet.Network, a, b *memnet.Conn) {
	t.Helper()
	n = memnet.New(cfg)
	t.Cleanup(func() { n.Close() })
	a = n.Join("a").Channel("ch", rel)
	b = n.Join("b").Channel("ch", rel)
	return n, a, b
}

func seqMsg(i int) []byte           { return binary.BigEndian.AppendUint32(nil, uint32(i)) }
func seqOf(m transport.Message) int { return int(binary.BigEndian.Uint32(m.Data)) }

// arrival is one delivered message and how long it took.
type arrival struct {
	seq   int
	delay time.Duration
}

// sendPaced sends count numbered messages a→b, one per gap, and collects
// every delivery until the network has been quiet for a second.
func sendPaced(t *testing.T, a, b *memnet.Conn, count int, gap time.Duration) []arrival {
	t.Helper()
	sentAt := make([]time.Time, count)
	var got []arrival
	drain := func() {
		for {
			m, ok := b.TryRecv()
			if !ok {
				return
			}
			s := seqOf(m)
			got = append(got, arrival{s, time.Since(sentAt[s])})
		}
	}
	for i := range count {
		sentAt[i] = time.Now()
		if err := a.Send("b", seqMsg(i)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
		time.Sleep(gap)
		drain()
	}
	for range 1000 {
		time.Sleep(time.Millisecond)
		drain()
	}
	return got
}

func TestImpairmentRatesMatchConfig(t *testing.T) {
	const count = 10000
	tests := []struct {
		name string
		link memnet.Link
	}{
		{"loss 10%", memnet.Link{Latency: 20 * time.Millisecond, Loss: 0.10}},
		{"dup 5%", memnet.Link{Latency: 20 * time.Millisecond, Duplicate: 0.05}},
		{"reorder 8%", memnet.Link{Latency: 20 * time.Millisecond, Reorder: 0.08, ReorderDelay: 5 * time.Millisecond}},
		{"all at once", memnet.Link{Latency: 20 * time.Millisecond, Loss: 0.2, Duplicate: 0.1, Reorder: 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, a, b := pair(t, memnet.Config{Seed: 42, Link: tt.link}, transport.Unreliable)
				got := sendPaced(t, a, b, count, time.Millisecond)

				seen := make(map[int]int)
				overtaken := 0
				maxSeq := -1
				for _, g := range got {
					seen[g.seq]++
					if g.seq < maxSeq && seen[g.seq] == 1 {
						overtaken++
					}
					maxSeq = max(maxSeq, g.seq)
				}
				dups := len(got) - len(seen)
				lossRate := 1 - float64(len(seen))/count
				// Duplicates of lost messages are not sent, so the observed
				// duplicate rate is Duplicate among delivered messages.
				dupRate := float64(dups) / float64(len(seen))
				reorderRate := float64(overtaken) / float64(len(seen))

				// Tolerance: 4 standard deviations of a binomial over count
				// trials, so a correct implementation fails about once in
				// 15,000 seeds, and a wrong one (rate off by >1.2 points) fails.
				tol := func(p float64) float64 { return 4*math.Sqrt(p*(1-p)/count) + 0.001 }
				check := func(what string, got, want float64) {
					t.Helper()
					if math.Abs(got-want) > tol(want) {
						t.Errorf("%s rate = %.4f, want %.4f ± %.4f", what, got, want, tol(want))
					}
				}
				check("loss", lossRate, tt.link.Loss)
				check("duplicate", dupRate, tt.link.Duplicate)
				check("reorder", reorderRate, tt.link.Reorder)
				st := a.Stats()
				if int(st.Lost) != count-len(seen) {
					t.Errorf("Stats.Lost = %d, want %d", st.Lost, count-len(seen))
				}
				if int(st.Duplicated) != dups {
					t.Errorf("Stats.Duplicated = %d, want %d", st.Duplicated, dups)
				}
			})
		})
	}
}

func TestLatencyDistribution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency, jitter = 50 * time.Millisecond, 10 * time.Millisecond
		_, a, b := pair(t, memnet.Config{Seed: 9, Link: memnet.Link{Latency: latency, Jitter: jitter}}, transport.Unreliable)
		// Send faster than the clock can separate to test the raw
		// distribution; drain with 1 ms resolution, so allow 1 ms slack.
		got := sendPaced(t, a, b, 10000, time.Millisecond)
		if len(got) != 10000 {
			t.Fatalf("delivered %d, want 10000 (no loss configured)", len(got))
		}
		delays := make([]time.Duration, len(got))
		var sum time.Duration
		for i, g := range got {
			delays[i] = g.delay
			sum += g.delay
			if g.delay < latency-jitter || g.delay > latency+jitter+time.Millisecond {
				t.Fatalf("message %d took %v, outside %v ± %v", g.seq, g.delay, latency, jitter)
			}
		}
		slices.Sort(delays)
		// Uniform on [40, 60] ms, observed with up to 1 ms of drain delay
		// (mean +0.5 ms): quartiles near 45.5 and 55.5 ms, median near 50.5.
		near := func(what string, got, want time.Duration) {
			t.Helper()
			if d := got - want; d < -700*time.Microsecond || d > 700*time.Microsecond {
				t.Errorf("%s = %v, want %v ± 0.7ms", what, got, want)
			}
		}
		near("mean", sum/time.Duration(len(delays)), 50500*time.Microsecond)
		near("p25", delays[len(delays)/4], 45500*time.Microsecond)
		near("p50", delays[len(delays)/2], 50500*time.Microsecond)
		near("p75", delays[3*len(delays)/4], 55500*time.Microsecond)
	})
}

func TestReliableIsExactAndOrdered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Heavy impairment settings must not touch a Reliable channel
		// beyond delay.
		link := memnet.Link{Latency: 30 * time.Millisecond, Jitter: 25 * time.Millisecond, Loss: 0.5, Duplicate: 0.5, Reorder: 0.5}
		_, a, b := pair(t, memnet.Config{Seed: 3, Link: link}, transport.Reliable)
		got := sendPaced(t, a, b, 1000, time.Millisecond)
		if len(got) != 1000 {
			t.Fatalf("delivered %d, want 1000", len(got))
		}
		for i, g := range got {
			if g.seq != i {
				t.Fatalf("delivery %d is message %d, want in order", i, g.seq)
			}
		}
	})
}

func TestPartition(t *testing.T) {
	for _, rel := range []transport.Reliability{transport.Unreliable, transport.Reliable} {
		t.Run(rel.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n, a, b := pair(t, memnet.Config{Link: memnet.Link{Latency: 10 * time.Millisecond}}, rel)
				send := func(from, to int) {
					for i := from; i < to; i++ {
						if err := a.Send("b", seqMsg(i)); err != nil {
							t.Fatal(err)
						}
						time.Sleep(time.Millisecond)
					}
				}
				send(0, 10)
				n.Partition("a", "b")
				send(10, 30)
				time.Sleep(100 * time.Millisecond)
				n.Heal("a", "b")
				send(30, 40)
				time.Sleep(100 * time.Millisecond)
				var got []int
				for {
					m, ok := b.TryRecv()
					if !ok {
						break
					}
					got = append(got, seqOf(m))
				}
				var want []int
				for i := range 40 {
					if rel == transport.Reliable || i < 10 || i >= 30 {
						want = append(want, i)
					}
				}
				if rel == transport.Reliable {
					// Held messages go out at Heal, before the later sends.
					if !slices.Equal(got, want) {
						t.Fatalf("got %v, want %v", got, want)
					}
					return
				}
				if !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
				if p := a.Stats().Partitioned; p != 20 {
					t.Errorf("Stats.Partitioned = %d, want 20", p)
				}
			})
		})
	}
}

func TestIsolateCutsOnlyThatPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{})
		defer n.Close()
		conns := map[transport.PeerID]*memnet.Conn{}
		for _, id := range []transport.PeerID{"a", "b", "c"} {
			conns[id] = n.Join(id).Channel("x", transport.Unreliable)
		}
		n.Isolate("c")
		for _, from := range []transport.PeerID{"a", "b", "c"} {
			if err := conns[from].Broadcast([]byte(from)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Millisecond)
		count := func(id transport.PeerID) []string {
			var froms []string
			for {
				m, ok := conns[id].TryRecv()
				if !ok {
					slices.Sort(froms)
					return froms
				}
				froms = append(froms, string(m.From))
			}
		}
		if got := count("a"); !slices.Equal(got, []string{"b"}) {
			t.Errorf("a got from %v, want [b]", got)
		}
		if got := count("b"); !slices.Equal(got, []string{"a"}) {
			t.Errorf("b got from %v, want [a]", got)
		}
		if got := count("c"); len(got) != 0 {
			t.Errorf("isolated c got from %v, want nothing", got)
		}
		n.Restore("c")
		if err := conns["c"].Send("a", []byte("back")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
		if got := count("a"); !slices.Equal(got, []string{"c"}) {
			t.Errorf("after Restore a got from %v, want [c]", got)
		}
	})
}

func TestPeerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		a := n.Join("a").Channel("x", transport.Reliable)
		bp := n.Join("b")
		b := bp.Channel("x", transport.Reliable)
		n.Join("c")
		if got := a.Peers(); !slices.Equal(got, []transport.PeerID{"b", "c"}) {
			t.Fatalf("Peers = %v", got)
		}
		if err := a.Send("b", []byte("in flight")); err != nil {
			t.Fatal(err)
		}
		bp.Close()
		if got := a.Peers(); !slices.Equal(got, []transport.PeerID{"c"}) {
			t.Errorf("Peers after leave = %v, want [c]", got)
		}
		if err := a.Send("b", []byte("late")); !errors.Is(err, transport.ErrUnknownPeer) {
			t.Errorf("Send to departed peer: %v, want ErrUnknownPeer", err)
		}
		if _, err := b.Recv(context.Background()); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Recv on departed peer: %v, want ErrClosed", err)
		}
		if err := b.Send("a", nil); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Send from departed peer: %v, want ErrClosed", err)
		}
		if got := b.Peers(); got != nil {
			t.Errorf("departed peer sees %v", got)
		}
	})
}

func TestOverflow(t *testing.T) {
	t.Run("unreliable drops and counts", func(t *testing.T) {
		_, a, b := pair(t, memnet.Config{QueueLen: 4}, transport.Unreliable)
		for i := range 10 {
			if err := a.Send("b", seqMsg(i)); err != nil {
				t.Fatal(err)
			}
		}
		if o := b.Stats().Overflow; o != 6 {
			t.Errorf("Overflow = %d, want 6", o)
		}
		for i := range 4 {
			m, ok := b.TryRecv()
			if !ok || seqOf(m) != i {
				t.Fatalf("message %d: %v %v", i, m, ok)
			}
		}
	})
	t.Run("reliable fails loudly", func(t *testing.T) {
		_, a, b := pair(t, memnet.Config{QueueLen: 4}, transport.Reliable)
		for i := range 4 {
			if err := a.Send("b", seqMsg(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Send("b", seqMsg(4)); !errors.Is(err, transport.ErrSlowConsumer) {
			t.Fatalf("5th Send: %v, want ErrSlowConsumer", err)
		}
		b.TryRecv()
		if err := a.Send("b", seqMsg(4)); err != nil {
			t.Fatalf("Send after drain: %v", err)
		}
	})
}

func TestSizeLimits(t *testing.T) {
	tests := []struct {
		rel  transport.Reliability
		size int
		want error
	}{
		{transport.Unreliable, 1150, nil},
		{transport.Unreliable, 1151, transport.ErrTooLarge},
		{transport.Reliable, 1 << 20, nil},
		{transport.Reliable, 16<<20 + 1, transport.ErrTooLarge},
	}
	for _, tt := range tests {
		_, a, _ := pair(t, memnet.Config{}, tt.rel)
		if err := a.Send("b", make([]byte, tt.size)); !errors.Is(err, tt.want) {
			t.Errorf("%v Send(%d bytes) = %v, want %v", tt.rel, tt.size, err, tt.want)
		}
	}
}

func TestBandwidthCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 1 Mbit/s: 100 messages of 1250 bytes = 1 Mbit take one second.
		_, a, b := pair(t, memnet.Config{Link: memnet.Link{Bandwidth: 1_000_000}}, transport.Reliable)
		start := time.Now()
		for range 100 {
			if err := a.Send("b", make([]byte, 1250)); err != nil {
				t.Fatal(err)
			}
		}
		var last time.Duration
		for range 100 {
			if _, err := b.Recv(context.Background()); err != nil {
				t.Fatal(err)
			}
			last = time.Since(start)
		}
		if last != time.Second {
			t.Errorf("last message after %v, want 1s", last)
		}
	})
}

func TestSameSeedSameDeliveries(t *testing.T) {
	run := func(seed uint64) []arrival {
		var got []arrival
		synctest.Test(t, func(t *testing.T) {
			link := memnet.Link{Latency: 20 * time.Millisecond, Jitter: 15 * time.Millisecond, Loss: 0.1, Duplicate: 0.1, Reorder: 0.1}
			_, a, b := pair(t, memnet.Config{Seed: seed, Link: link}, transport.Unreliable)
			got = sendPaced(t, a, b, 500, time.Millisecond)
		})
		return got
	}
	first, again, other := run(5), run(5), run(6)
	if !slices.Equal(first, again) {
		t.Error("same seed gave different deliveries")
	}
	if slices.Equal(first, other) {
		t.Error("different seeds gave identical deliveries")
	}
}

func TestRecvWaitsAndUnblocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := pair(t, memnet.Config{Link: memnet.Link{Latency: 30 * time.Millisecond}}, transport.Unreliable)
		start := time.Now()
		go func() {
			time.Sleep(10 * time.Millisecond)
			a.Send("b", []byte("x"))
		}()
		m, err := b.Recv(context.Background())
		if err != nil || string(m.Data) != "x" || m.From != "a" {
			t.Fatalf("Recv = %v, %v", m, err)
		}
		if d := time.Since(start); d != 40*time.Millisecond {
			t.Errorf("Recv returned after %v, want 40ms", d)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		if _, err := b.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Recv with deadline: %v", err)
		}

		done := make(chan error)
		go func() {
			_, err := b.Recv(context.Background())
			done <- err
		}()
		synctest.Wait()
		b.Close()
		if err := <-done; !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Recv after Close: %v, want ErrClosed", err)
		}
	})
}

func TestInvalidConfigPanics(t *testing.T) {
	for _, l := range []memnet.Link{{Loss: 1.5}, {Latency: -1}, {Bandwidth: -1}} {
		if err := l.Validate(); !errors.Is(err, memnet.ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig", l, err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("New with %+v did not panic", l)
				}
			}()
			memnet.New(memnet.Config{Link: l})
		}()
	}
}
