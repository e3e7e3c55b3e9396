package signaling

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// The benchmarks run their WebSocket clients in a child process (this test
// binary, started with benchClientEnv set; see TestMain), so that the
// benchmark process holds only the server: allocs/op, the CPU time per
// relayed signal and the memory per idle connection are the server's.

const benchClientEnv = "SIGNALING_BENCH_CLIENT"

// benchCandidate is a trickled ICE candidate as netcode sends it (its
// signalMsg JSON), the typical relayed signal.
var benchCandidate = []byte(`{"v":1,"t":"cand","s":"8286418163361290","id":"abcdefghijklmnop","c":{"candidate":"candidate:1467250027 1 udp 2122260223 192.168.1.23 54321 typ host generation 0 ufrag Xk2a network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Xk2a"}}`)

// BenchmarkRelay relays signals between client pairs (each its own room;
// the second member sends to the first) through a default Server on
// loopback. One op is one relayed signal. srv-µs/op is the server
// process's CPU time (user + system) per signal; allocs/op and B/op are
// the server's. window=16 lets 16 signals per pair be in flight, so the
// server batches reads and writes; window=1 waits for each signal before
// the next, the unbatched cost of a lightly loaded server.
func BenchmarkRelay(b *testing.B) {
	for _, bc := range []struct{ pairs, window int }{{16, 16}, {64, 1}} {
		b.Run(fmt.Sprintf("pairs=%d,window=%d", bc.pairs, bc.window), func(b *testing.B) {
			benchRelay(b, bc.pairs, bc.window)
		})
	}
}

func benchRelay(b *testing.B, pairs, window int) {
	srv := &Server{MaxConnsPerIP: 1000, MessagesPerSecond: 1e9, Burst: 1 << 30}
	ts := httptest.NewServer(srv)
	defer func() { _ = srv.Close(); ts.Close() }()
	cl := startBenchClient(b, "relay", ts.Listener.Addr().String(), pairs, window, b.N)
	defer cl.wait(b)
	b.ReportAllocs()
	b.ResetTimer()
	u0 := cpuTime()
	cl.send(b, "go")
	cl.expect(b, "done")
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-u0)/float64(time.Microsecond)/float64(b.N), "srv-µs/op")
}

// BenchmarkIdleConnections opens 2,000 connections (b.N is ignored: run
// it with -benchtime=1x), each joined to a room of its own, and reports
// the server's heap + stack bytes (B/conn, and each apart) and goroutines
// per connection once they are idle. "joined" connections only joined;
// "active" ones then sent a ping message, a room update and a signal (to
// themselves: an unknown_peer error) and read the answers.
func BenchmarkIdleConnections(b *testing.B) {
	b.Run("joined", func(b *testing.B) { benchIdle(b, 0) })
	b.Run("active", func(b *testing.B) { benchIdle(b, 1) })
}

func benchIdle(b *testing.B, active int) {
	const n = 2000
	srv := &Server{MaxConnsPerIP: n + 10, MaxRooms: n + 10}
	ts := httptest.NewServer(srv)
	defer func() { _ = srv.Close(); ts.Close() }()
	h0, s0, g0 := liveBytes()
	cl := startBenchClient(b, "idle", ts.Listener.Addr().String(), n, active, 0)
	defer cl.wait(b)
	for deadline := time.Now().Add(30 * time.Second); srv.Stats().Members < n; {
		if time.Now().After(deadline) {
			b.Fatalf("server holds %d members, want %d", srv.Stats().Members, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // handshake garbage and goroutine stacks settle
	h1, s1, g1 := liveBytes()
	b.ReportMetric(float64(h1+s1-h0-s0)/n, "B/conn")
	b.ReportMetric(float64(h1-h0)/n, "heap-B/conn")
	b.ReportMetric(float64(s1-s0)/n, "stack-B/conn")
	b.ReportMetric(float64(g1-g0)/n, "goroutines/conn")
	cl.send(b, "quit")
}

// liveBytes returns the heap in use after a full GC, the goroutine
// stacks, and the number of goroutines.
func liveBytes() (heap, stacks uint64, goroutines int) {
	for range 3 {
		runtime.GC()
	}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64(), runtime.NumGoroutine()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClient is the child process, driven by lines on its stdin and
// stdout.
type benchClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startBenchClient(b *testing.B, mode, addr string, n, window, count int) *benchClient {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d,%d,%d", benchClientEnv, mode, addr, n, window, count))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &benchClient{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	c.expect(b, "ready")
	return c
}

func (c *benchClient) send(b *testing.B, line string) {
	b.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		b.Fatal(err)
	}
}

func (c *benchClient) expect(b *testing.B, want string) {
	b.Helper()
	if !c.out.Scan() {
		b.Fatalf("bench client: no %q: %v", want, c.out.Err())
	}
	if got := c.out.Text(); got != want {
		b.Fatalf("bench client: got %q, want %q", got, want)
	}
}

func (c *benchClient) wait(b *testing.B) {
	_ = c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		b.Errorf("bench client: %v", err)
	}
}

// runBenchClient is the child process's main: mode,addr,n,window,count.
func runBenchClient(spec string) int {
	f := strings.Split(spec, ",")
	if len(f) != 5 {
		fmt.Fprintln(os.Stderr, "bad spec", spec)
		return 2
	}
	n, _ := strconv.Atoi(f[2])
	window, _ := strconv.Atoi(f[3])
	count, _ := strconv.Atoi(f[4])
	in := bufio.NewScanner(os.Stdin)
	var err error
	switch f[0] {
	case "relay":
		err = benchRelayClient(in, f[1], n, window, count)
	case "idle":
		err = benchIdleClient(in, f[1], n, window == 1)
	default:
		err = errors.New("bad mode " + f[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench client:", err)
		return 1
	}
	return 0
}

func benchRelayClient(in *bufio.Scanner, addr string, pairs, window, count int) error {
	type pair struct {
		from, to *rawWS
		msg      []byte
	}
	ps := make([]pair, pairs)
	for i := range ps {
		room := "bench-" + strconv.Itoa(i)
		a, _, err := rawJoin(addr, room)
		if err != nil {
			return err
		}
		b, w, err := rawJoin(addr, room)
		if err != nil {
			return err
		}
		if len(w.Peers) != 1 {
			return fmt.Errorf("welcome with %d peers", len(w.Peers))
		}
		if _, err := a.expect(proto.TypePeerJoined); err != nil {
			return err
		}
		ps[i] = pair{from: b, to: a, msg: appendClientFrame(nil, proto.EncodeFrame(&proto.Frame{Type: proto.TypeSignal, To: w.Peers[0].ID, Data: benchCandidate}))}
	}
	fmt.Println("ready")
	if !in.Scan() || in.Text() != "go" {
		return errors.New("no go")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*pairs)
	for i, p := range ps {
		k := count / pairs
		if i < count%pairs {
			k++
		}
		credits := make(chan struct{}, window)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range k {
				credits <- struct{}{}
				if _, err := p.from.c.Write(p.msg); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range k {
				f, err := p.to.expect(proto.TypeSignal)
				if err != nil {
					errs <- err
					return
				}
				if len(f) < len(benchCandidate) {
					errs <- fmt.Errorf("short signal %q", f)
					return
				}
				<-credits
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Println("done")
	for in.Scan() {
	}
	return nil
}

func benchIdleClient(in *bufio.Scanner, addr string, n int, active bool) error {
	conns := make([]*rawWS, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, w, err := rawJoin(addr, "idle-"+strconv.Itoa(i))
			if err != nil {
				errs <- err
				return
			}
			if active {
				if err := c.activity(w.Peer); err != nil {
					errs <- err
					return
				}
			}
			c.br = nil
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Println("ready")
	for in.Scan() {
	}
	return nil
}

// rawWS is a minimal WebSocket client over a TCP connection: it sends
// masked frames built by appendClientFrame and reads unmasked server
// frames, so that the load costs the server as little as possible.
type rawWS struct {
	c   net.Conn
	br  *bufio.Reader
	buf []byte
}

func rawJoin(addr, room string) (*rawWS, *proto.Frame, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil, nil, err
	}
	r := &rawWS{c: c, br: bufio.NewReaderSize(c, 64<<10)}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, nil, fmt.Errorf("upgrade: %s", resp.Status)
	}
	join := proto.EncodeFrame(&proto.Frame{Type: proto.TypeJoin, Version: ProtocolVersion, Room: room})
	if _, err := c.Write(appendClientFrame(nil, join)); err != nil {
		return nil, nil, err
	}
	b, err := r.expect(proto.TypeWelcome)
	if err != nil {
		return nil, nil, err
	}
	var w proto.Frame
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, nil, err
	}
	return r, &w, nil
}

// activity sends a ping message, a room update and a signal to self, and
// reads the answers.
func (r *rawWS) activity(self transport.PeerID) error {
	for _, m := range []struct{ msg, answer string }{
		{`{"type":"ping"}`, proto.TypePong},
		{`{"type":"room","meta":{"state":"lobby"}}`, proto.TypeRoom},
		{string(proto.EncodeFrame(&proto.Frame{Type: proto.TypeSignal, To: self, Data: benchCandidate})), proto.TypeError},
	} {
		if _, err := r.c.Write(appendClientFrame(nil, []byte(m.msg))); err != nil {
			return err
		}
		for {
			_, p, err := r.read()
			if err != nil {
				return err
			}
			if strings.HasPrefix(string(p), `{"type":"`+m.answer+`"`) {
				break
			}
		}
	}
	return nil
}

// appendClientFrame appends p as one masked text frame (mask key 0, so
// the payload is sent as is).
func appendClientFrame(dst, p []byte) []byte {
	dst = append(dst, 0x81)
	switch {
	case len(p) < 126:
		dst = append(dst, 0x80|byte(len(p)))
	case len(p) < 1<<16:
		dst = append(dst, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(len(p)))
	}
	return append(append(dst, 0, 0, 0, 0), p...)
}

// expect reads text frames until one whose type is typ, and returns it
// (valid until the next read).
func (r *rawWS) expect(typ string) ([]byte, error) {
	for {
		op, p, err := r.read()
		if err != nil {
			return nil, err
		}
		if op == 0x8 {
			return nil, fmt.Errorf("closed while waiting for %s", typ)
		}
		if op != 0x1 {
			continue
		}
		// A cheap type check: the server writes "type" first.
		if strings.HasPrefix(string(p), `{"type":"`+typ+`"`) {
			return p, nil
		}
		if strings.HasPrefix(string(p), `{"type":"error"`) {
			return nil, fmt.Errorf("server error %s", p)
		}
	}
}

// read reads one frame (a ping is answered with its pong).
func (r *rawWS) read() (op byte, p []byte, err error) {
	var h [10]byte
	if _, err := io.ReadFull(r.br, h[:2]); err != nil {
		return 0, nil, err
	}
	op, n := h[0]&0x0f, uint64(h[1]&0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(r.br, h[2:4]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		if _, err := io.ReadFull(r.br, h[2:10]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(h[2:10])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	p = r.buf[:n]
	if _, err := io.ReadFull(r.br, p); err != nil {
		return 0, nil, err
	}
	if op == 0x9 {
		if _, err := r.c.Write(append([]byte{0x8a, 0x80 | byte(n), 0, 0, 0, 0}, p...)); err != nil {
			return 0, nil, err
		}
	}
	return op, p, nil
}
