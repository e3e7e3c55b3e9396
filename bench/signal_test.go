package bench

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// loadServer is the signaling server configured for load: no per-client
// rate limit, no per-IP cap (every load client is 127.0.0.1).
func loadServer() *signaling.Server {
	return &signaling.Server{MaxConns: 30000, MaxConnsPerIP: 30000, MaxRooms: 30000,
		MessagesPerSecond: 1e9, Burst: 1 << 30, SendQueueLen: 4096,
		JoinsPerMinute: -1, RoomsPerMinute: -1, MaxRoomsPerIP: -1} // #14's per-address limits off
}

// BenchmarkSignalRelay offers 2,000 signals/s through the signaling
// server (in process, 20 client pairs on loopback) for b.N/2000 s (at
// least 100 ms). One op is one offered signal. The comparison with the
// PeerJS server, and the 10,000 idle connections, run only in
// bench/cmd/report, with both servers as separate processes.
func BenchmarkSignalRelay(b *testing.B) {
	srv := loadServer()
	ts := httptest.NewServer(srv)
	b.Cleanup(func() { _ = srv.Close(); ts.Close() })
	step := max(100*time.Millisecond, time.Duration(b.N)*time.Second/2000)
	b.ResetTimer()
	steps, err := RelaySweep(context.Background(), Peerplay{}, ts.URL, RelayConfig{
		Pairs: 20, Rates: []float64{2000}, Step: step, SLO: time.Second})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	s := steps[0]
	b.ReportMetric(s.Achieved, "signals/s")
	b.ReportMetric(Micros(s.P50), "p50-µs")
	b.ReportMetric(Micros(s.P99), "p99-µs")
}
