package bench_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// lsInput is a typical small game input: 3 bytes on the wire.
type lsInput struct {
	Buttons uint8
	Axis    int16
}

type lsClock struct{ t time.Time }

func (c *lsClock) now() time.Time { return c.t }

// lsCluster is N sessions over locksteptest.Loopback (instant, lossless,
// allocation-free), ticked together by a fake clock: what is measured is
// the session's own work (receive, decode, emit, stamp, encode, send).
type lsCluster struct {
	sess  []*lockstep.Session[lsInput]
	clock *lsClock
	ticks int
	sent  *lsSizes // what seat 0 hands to Conn.Send
}

// lsSizes wraps a Conn and tallies the datagrams sent through it.
type lsSizes struct {
	transport.Conn
	count, bytes, smallest int
}

func (c *lsSizes) Send(to transport.PeerID, p []byte) error {
	c.count++
	c.bytes += len(p)
	if c.smallest == 0 || len(p) < c.smallest {
		c.smallest = len(p)
	}
	return c.Conn.Send(to, p)
}

func newLSCluster(b *testing.B, seats int, rec io.Writer) *lsCluster {
	b.Helper()
	ids := make([]transport.PeerID, seats)
	for i := range ids {
		ids[i] = locksteptest.PeerID(i)
	}
	c := &lsCluster{clock: &lsClock{t: time.Unix(1e9, 0)}}
	for i, lc := range locksteptest.Loopback(ids...) {
		var conn transport.Conn = lc
		cfg := lockstep.Config{Seats: ids, Now: c.clock.now, ChecksumInterval: 30, Adaptive: lockstep.AdaptiveDelay{Enabled: true}}
		if i == 0 {
			cfg.Record = rec
			c.sent = &lsSizes{Conn: lc}
			conn = c.sent
		}
		s, err := lockstep.NewSession[lsInput](conn, cfg)
		if err != nil {
			b.Fatal(err)
		}
		c.sess = append(c.sess, s)
	}
	for range 300 { // warm up: steady state, buffers grown
		c.tick(b)
	}
	*c.sent = lsSizes{Conn: c.sent.Conn}
	return c
}

func (c *lsCluster) tick(b *testing.B) {
	c.clock.t = c.clock.t.Add(time.Second / 60)
	c.ticks++
	for i, s := range c.sess {
		steps, err := s.Advance(lsInput{Buttons: uint8(c.ticks), Axis: int16(i)})
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range steps {
			s.ReportChecksum(st.Frame, uint64(st.Frame)*2654435761)
		}
	}
}

// BenchmarkLockstepAdvance: one op is one tick of every seat of an
// N-seat game (N Advance calls, N datagrams encoded, N·(N-1) delivered and
// decoded). ns/advance is the cost of one seat's Advance per tick;
// allocs/op must be 0.
//
// B/datagram is the input payload: the mean size of the lockstep datagram
// seat 0 hands to Conn.Send, that is the FlatBuffers bytes and nothing
// else (a data channel adds about 93 B of DTLS, SCTP, UDP and IPv4
// headers per packet), in steady state: 3-byte inputs, an instant
// lossless network (so one unacknowledged input per datagram), a ping
// every 4 datagrams, a checksum every 30 frames (sent in 3 datagrams).
// B/datagram-min is the smallest of them, one input and the acks, which
// is what most ticks send. Both are measured over the benchmark's own
// ticks; TestDatagramSize in sync/lockstep pins them exactly.
func BenchmarkLockstepAdvance(b *testing.B) {
	for _, seats := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("seats=%d", seats), func(b *testing.B) {
			c := newLSCluster(b, seats, nil)
			st0 := c.sess[0].Stats()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.tick(b)
			}
			b.StopTimer()
			st := c.sess[0].Stats()
			if st.Frame-st0.Frame < lockstep.Frame(b.N)*9/10 {
				b.Fatalf("not in steady state: %d frames in %d ticks", st.Frame-st0.Frame, b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*seats), "ns/advance")
			if sent := int(st.DatagramsSent - st0.DatagramsSent); sent != c.sent.count {
				b.Fatalf("Stats counted %d datagrams, the Conn %d", sent, c.sent.count)
			}
			b.ReportMetric(float64(c.sent.bytes)/float64(c.sent.count), "B/datagram")
			b.ReportMetric(float64(c.sent.smallest), "B/datagram-min")
		})
	}
}

// BenchmarkLockstepStall: the cost of an Advance that returns no step
// (the other seat is silent): one datagram encoded and sent, nothing
// received.
func BenchmarkLockstepStall(b *testing.B) {
	ids := []transport.PeerID{"a", "b"}
	conns := locksteptest.Loopback(ids...)
	clock := &lsClock{t: time.Unix(1e9, 0)}
	s, err := lockstep.NewSession[lsInput](conns[0], lockstep.Config{Seats: ids, Now: clock.now, JoinTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Advance(lsInput{}); err != nil { // warm up the encoder
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		clock.t = clock.t.Add(time.Millisecond)
		if steps, err := s.Advance(lsInput{}); err != nil || len(steps) != 0 {
			b.Fatalf("Advance = %d steps, %v; want a stall", len(steps), err)
		}
		for { // drain so the loopback inbox never fills
			if _, ok := conns[1].TryRecv(); !ok {
				break
			}
		}
	}
}

// BenchmarkLockstepRecord: BenchmarkLockstepAdvance with seat 0 recording
// its replay log (buffered, to memory); B/frame is the log's growth.
func BenchmarkLockstepRecord(b *testing.B) {
	var log bytes.Buffer
	c := newLSCluster(b, 2, &log)
	n0 := log.Len()
	b.ReportAllocs()
	for b.Loop() {
		c.tick(b)
		if log.Len() > 64<<20 {
			log.Reset()
			n0 = 0
		}
	}
	b.ReportMetric(float64(log.Len()-n0)/float64(b.N), "B/frame")
}

// BenchmarkLockstepReplay: one op is one Step read back from a replay log.
func BenchmarkLockstepReplay(b *testing.B) {
	var log bytes.Buffer
	c := newLSCluster(b, 4, &log)
	for range 10_000 {
		c.tick(b)
	}
	if err := c.sess[0].Close(); err != nil {
		b.Fatal(err)
	}
	data := log.Bytes()
	b.ReportAllocs()
	var r *lockstep.Replay[lsInput]
	for b.Loop() {
		if r == nil {
			var err error
			if r, err = lockstep.NewReplay[lsInput](bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.Next(); err == io.EOF {
			r = nil
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
