package bench

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestQuantiles(t *testing.T) {
	d := Durations{5, 1, 4, 2, 3, 10, 9, 8, 7, 6} // 1..10 shuffled
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.1, 1}, {0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}} {
		if got := d.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	s := d.Summary()
	if s.N != 10 || s.P50 != 5 || s.P90 != 9 || s.P99 != 10 || s.Max != 10 {
		t.Errorf("Summary = %+v", s)
	}
	if d[0] != 5 {
		t.Errorf("Quantile sorted its receiver")
	}
	if got := (Durations{}).Summary(); got != (Summary{}) {
		t.Errorf("empty Summary = %+v", got)
	}
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{4, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// memnetPair is one Unreliable channel between two memnet peers whose
// links have the given one-way latency.
func memnetPair(t *testing.T, latency time.Duration) (a, b transport.Conn) {
	t.Helper()
	n := memnet.New(memnet.Config{Seed: 1, Link: memnet.Link{Latency: latency}})
	t.Cleanup(func() { _ = n.Close() })
	return n.Join("a").Channel(LabelInput, transport.Unreliable), n.Join("b").Channel(LabelInput, transport.Unreliable)
}

// The harness measures what it claims: on a fake clock with a 3 ms
// one-way link, every round trip is exactly 6 ms.
func TestConnPingerMeasuresRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memnetPair(t, 3*time.Millisecond)
		p := NewConnPinger(a, b)
		d, lost, err := RTT(p, 32, 5, 50)
		if cerr := p.Close(); cerr != nil {
			t.Fatal(cerr)
		}
		if err != nil || lost != 0 {
			t.Fatalf("RTT: lost %d, err %v", lost, err)
		}
		if len(d) != 50 {
			t.Fatalf("%d samples, want 50", len(d))
		}
		for i, v := range d {
			if v != 6*time.Millisecond {
				t.Fatalf("sample %d = %v, want 6ms", i, v)
			}
		}
	})
}

func TestLockstepRTTMeasuresRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memnetPair(t, 5*time.Millisecond)
		d, lost, err := LockstepRTT(a, b, 10, 100)
		if err != nil || lost != 0 {
			t.Fatalf("LockstepRTT: lost %d, err %v", lost, err)
		}
		if len(d) != 100 {
			t.Fatalf("%d samples, want 100", len(d))
		}
		if s := d.Summary(); s.P50 != 10*time.Millisecond || s.Max != 10*time.Millisecond {
			t.Fatalf("summary %+v, want every round trip 10ms", s)
		}
	})
}

func TestConnThroughputDeliversAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 1, QueueLen: 64, Link: memnet.Link{Latency: time.Millisecond}})
		defer n.Close()
		a := n.Join("a").Channel(LabelBulk, transport.Reliable)
		b := n.Join("b").Channel(LabelBulk, transport.Reliable)
		// 1000 messages through a 64-message queue: the sender must back
		// off on ErrSlowConsumer and still deliver every one.
		tp, err := ConnThroughput(t.Context(), a, b, 100, 1000, 100*time.Microsecond)
		if err != nil {
			t.Fatal(err)
		}
		if tp.Messages != 1000 || tp.Elapsed <= 0 {
			t.Fatalf("got %+v", tp)
		}
	})
}
