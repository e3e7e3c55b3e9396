package bench

import (
	"context"
	"testing"
	"time"
)

// pingSize is the payload of a ladder ping: the size of a steady 2-player
// lockstep datagram (wire v2).
const pingSize = 64

func benchRTT(b *testing.B, p Pinger) {
	b.Helper()
	b.Cleanup(func() { _ = p.Close() })
	if _, _, err := RTT(p, pingSize, 50, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	d, lost, err := RTT(p, pingSize, 0, b.N)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	s := d.Summary()
	b.ReportMetric(Micros(s.P50), "p50-µs")
	b.ReportMetric(Micros(s.P99), "p99-µs")
	b.ReportMetric(float64(lost), "lost")
}

func newPionPair(b *testing.B, cfg PionConfig) *PionPair {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := NewPionPair(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	return p
}

// BenchmarkRTT is the loopback latency ladder: one op is one round trip of
// a 64-byte ping; p50-µs and p99-µs are its percentiles over b.N pings.
func BenchmarkRTT(b *testing.B) {
	b.Run("udp", func(b *testing.B) {
		u, err := NewUDPPinger()
		if err != nil {
			b.Fatal(err)
		}
		benchRTT(b, u)
	})
	b.Run("pion-unreliable", func(b *testing.B) {
		p := newPionPair(b, PionConfig{})
		benchRTT(b, NewChannelPinger(p.ChA, p.ChB))
	})
	b.Run("pion-reliable", func(b *testing.B) {
		p := newPionPair(b, PionConfig{Reliable: true})
		benchRTT(b, NewChannelPinger(p.ChA, p.ChB))
	})
}

// BenchmarkThroughput is bulk reliable transfer: one op is one message.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run("pion-reliable/"+sizeName(size), func(b *testing.B) {
			p := newPionPair(b, PionConfig{Reliable: true})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			t, err := PionThroughput(context.Background(), p.ChA, p.ChB, size, b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(t.MsgsPerSec(), "msgs/s")
		})
	}
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return itoa(n/1024) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
