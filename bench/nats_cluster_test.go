package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// Signaling at scale (issue 10): joins and signals per second with one
// in-memory node, one node on NATS and three nodes on one NATS, and the
// latency the NATS backplane adds to a relayed signal. Every setup runs on
// this machine's loopback (nats-server from Debian, started per
// benchmark), so the figures measure the software, not a network.

// natsSetup is one way to run signaling: nodes > 0 with NATS, or one
// in-memory node.
type natsSetup struct {
	name  string
	nodes int // 0 = one node, in memory
}

var natsSetups = []natsSetup{{"memory-1node", 0}, {"nats-1node", 1}, {"nats-3nodes", 3}}

// natsStart runs the setup's nodes and returns their WebSocket URLs.
func natsStart(b *testing.B, s natsSetup) []string {
	b.Helper()
	newServer := func(bp signaling.Backplane) string {
		srv := &signaling.Server{Backplane: bp, MaxConnsPerIP: 1 << 20, MaxConns: 1 << 20,
			MessagesPerSecond: 1e6, Burst: 1e6, MaxRooms: 1 << 20,
			JoinsPerMinute: -1, RoomsPerMinute: -1, MaxRoomsPerIP: -1} // all clients are 127.0.0.1 (#14's per-address limits off)
		hs := httptest.NewServer(srv)
		b.Cleanup(func() {
			_ = srv.Close()
			hs.Close()
		})
		return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	}
	if s.nodes == 0 {
		return []string{newServer(nil)}
	}
	ns := natstest.Start(b)
	var urls []string
	for i := range s.nodes {
		bp, err := natsbackplane.New(natsbackplane.Config{URL: ns.URL(), Node: fmt.Sprint("bench", i), MemoryStorage: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = bp.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = bp.Ready(ctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		urls = append(urls, newServer(bp))
	}
	return urls
}

func natsDial(b *testing.B, url, room string) *sigclient.Client {
	b.Helper()
	c, err := natsTryDial(url, room)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func natsTryDial(url, room string) (*sigclient.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return sigclient.Dial(ctx, url, room, sigclient.DialOptions{})
}

// BenchmarkNATSJoins: 16 clients at a time join rooms of 8 (a WebSocket
// dial, a join, the welcome), spread round robin over the nodes.
func BenchmarkNATSJoins(b *testing.B) {
	for _, s := range natsSetups {
		b.Run(s.name, func(b *testing.B) {
			urls := natsStart(b, s)
			var mu sync.Mutex
			var clients []*sigclient.Client
			b.Cleanup(func() {
				for _, c := range clients {
					_ = c.Close()
				}
			})
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						c, err := natsTryDial(urls[i%len(urls)], fmt.Sprint("room", i/8))
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						clients = append(clients, c)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "joins/s")
		})
	}
}

// BenchmarkNATSSignals: 8 pairs of members relay signals (200 bytes, an
// ICE candidate's size) as fast as they can with 32 in flight per pair;
// with several nodes, sender and receiver are on different nodes.
func BenchmarkNATSSignals(b *testing.B) {
	const pairs = 8
	payload := make([]byte, 200)
	for _, s := range natsSetups {
		b.Run(s.name, func(b *testing.B) {
			urls := natsStart(b, s)
			type pair struct{ from, to *sigclient.Client }
			var ps []pair
			for i := range pairs {
				room := fmt.Sprint("pair", i)
				from := natsDial(b, urls[i%len(urls)], room)
				to := natsDial(b, urls[(i+1)%len(urls)], room)
				b.Cleanup(func() { _ = from.Close(); _ = to.Close() })
				natsExpect(b, from, sigclient.EventPeerJoined)
				ps = append(ps, pair{from, to})
			}
			per := (b.N + pairs - 1) / pairs
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for _, p := range ps {
				// At most window signals in flight per pair, so that no
				// queue overflows (the server would cut the receiver as
				// a slow consumer, and a held seat keeps only 64).
				const window = 32
				var got atomic.Int64
				done := make(chan struct{})
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						for int64(i)-got.Load() >= window {
							select {
							case <-done:
								return
							case <-time.After(20 * time.Microsecond):
							}
						}
						for p.from.Signal(p.to.Local(), payload) != nil {
							time.Sleep(50 * time.Microsecond) // send queue full: wait
						}
					}
				}()
				go func() {
					defer wg.Done()
					defer close(done)
					for got.Load() < int64(per) {
						if err := natsNext(p.to, sigclient.EventSignal); err != nil {
							b.Error(err)
							return
						}
						got.Add(1)
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(per*pairs)/el.Seconds(), "signals/s")
		})
	}
}

// BenchmarkNATSRelayLatency: one member pings another with a signal and
// waits for the signal back, on one in-memory node, on one NATS node, and
// across two NATS nodes, in the same run; it reports each one-way relay
// latency (half the round trip) and the NATS cross-node latency as a ratio
// to the in-memory node and as time added.
func BenchmarkNATSRelayLatency(b *testing.B) {
	rounds := max(b.N, 50)
	measure := func(urls []string) time.Duration {
		x := natsDial(b, urls[0], "lat")
		y := natsDial(b, urls[len(urls)-1], "lat")
		defer x.Close()
		defer y.Close()
		natsExpect(b, x, sigclient.EventPeerJoined)
		ping := func() time.Duration {
			t0 := time.Now()
			if err := x.Signal(y.Local(), []byte("ping")); err != nil {
				b.Fatal(err)
			}
			natsExpect(b, y, sigclient.EventSignal)
			if err := y.Signal(x.Local(), []byte("pong")); err != nil {
				b.Fatal(err)
			}
			natsExpect(b, x, sigclient.EventSignal)
			return time.Since(t0)
		}
		for range 10 { // warm up
			ping()
		}
		var d Durations
		for range rounds {
			d = append(d, ping())
		}
		return d.Quantile(0.5) / 2
	}
	mem := measure(natsStart(b, natsSetups[0]))
	one := measure(natsStart(b, natsSetups[1]))
	cross := measure(natsStart(b, natsSetup{"nats-2nodes", 2}))
	b.ReportMetric(float64(mem.Microseconds()), "mem-µs")
	b.ReportMetric(float64(one.Microseconds()), "nats1-µs")
	b.ReportMetric(float64(cross.Microseconds()), "nats-cross-µs")
	b.ReportMetric(float64(cross)/float64(mem), "ratio")
	b.ReportMetric(float64((cross - mem).Microseconds()), "added-µs")
}

// natsExpect waits for the next event of c of kind k (others are
// skipped), failing after a hang guard.
func natsExpect(b *testing.B, c *sigclient.Client, k sigclient.EventKind) {
	b.Helper()
	if err := natsNext(c, k); err != nil {
		b.Fatal(err)
	}
}

func natsNext(c *sigclient.Client, k sigclient.EventKind) error {
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return fmt.Errorf("%s: events closed", c.Local())
			}
			if ev.Kind == k {
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("%s: no %v within 30 s", c.Local(), k)
		}
	}
}
