package meshtest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo is the smallest app: Poll returns what arrived as "from:text".
type echo struct{ conn transport.Conn }

func (e *echo) Poll() []string {
	var out []string
	for {
		m, ok := e.conn.TryRecv()
		if !ok {
			return out
		}
		out = append(out, string(m.From)+":"+string(m.Data))
	}
}

func newEcho(t *testing.T) *meshtest.Cluster[*echo, string] {
	return meshtest.New(t, meshtest.Config[*echo, string]{Seed: 1, Label: "echo", Poll: (*echo).Poll,
		Describe: func(nd *meshtest.Node[*echo, string]) string { return fmt.Sprintf("events=%d", len(nd.Events)) }})
}

// recorder is a testing.TB whose failures are recorded, not reported;
// Fatal ends the goroutine as testing's does.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.errs = append(r.errs, fmt.Sprint(args...)); runtime.Goexit() }

// failures runs f with a recorder and returns what it reported.
func failures(t *testing.T, f func(tb testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.errs
}

func TestCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newEcho(t)
		var opened []int
		nodes := c.AddN(3, func(i int, conn transport.Conn) (*echo, error) {
			opened = append(opened, i)
			return &echo{conn}, nil
		})
		if got := []transport.PeerID{nodes[0].ID, nodes[1].ID, nodes[2].ID}; !slices.Equal(got, []transport.PeerID{"p0", "p1", "p2"}) || !slices.Equal(opened, []int{0, 1, 2}) {
			t.Fatalf("IDs %v, opened %v", got, opened)
		}
		if nodes[1].Conn.Label() != "echo" || nodes[1].Conn.Reliability() != transport.Reliable {
			t.Errorf("channel %q %v, want echo Reliable", nodes[1].Conn.Label(), nodes[1].Conn.Reliability())
		}
		heard := func(nd *meshtest.Node[*echo, string], ev string) func() bool {
			return func() bool { return slices.Contains(nd.Events, ev) }
		}
		start := time.Now()
		nodes[0].Conn.Broadcast([]byte("hi"))
		c.Until("p2 heard hi", time.Second, heard(nodes[2], "p0:hi"))
		if !slices.Equal(nodes[1].Events, []string{"p0:hi"}) {
			t.Errorf("p1 events %v", nodes[1].Events)
		}
		if d := time.Since(start); d != meshtest.Tick {
			t.Errorf("delivered after %v, want one step of %v", d, meshtest.Tick)
		}

		// A paused node is not polled: what arrives waits in its channel.
		nodes[2].Paused = true
		nodes[0].Conn.Broadcast([]byte("again"))
		c.Run(100 * time.Millisecond)
		if !heard(nodes[1], "p0:again")() || heard(nodes[2], "p0:again")() {
			t.Errorf("after a pause: p1 %v, p2 %v", nodes[1].Events, nodes[2].Events)
		}
		nodes[2].Paused = false
		c.Step()
		if !heard(nodes[2], "p0:again")() {
			t.Errorf("unpaused p2 %v", nodes[2].Events)
		}

		// A dropped node leaves the network and the loop.
		c.Drop(nodes[1])
		if live := c.Live(); len(live) != 2 || live[0] != nodes[0] || live[1] != nodes[2] {
			t.Errorf("Live() = %v", live)
		}
		if got := nodes[0].Conn.Peers(); !slices.Equal(got, []transport.PeerID{"p2"}) {
			t.Errorf("p0 sees %v after p1 dropped", got)
		}
		want := "  p0 gone=false events=0\n  p1 gone=true events=2\n  p2 gone=false events=2\n"
		if got := c.Dump(); got != want {
			t.Errorf("Dump:\n%s\nwant\n%s", got, want)
		}
	})
}

func TestClusterFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errs := failures(t, func(tb testing.TB) {
			c := meshtest.New(tb, meshtest.Config[*echo, string]{Label: "echo", Poll: (*echo).Poll})
			c.Add("a", func(conn transport.Conn) (*echo, error) { return &echo{conn}, nil })
			c.Until("never", 50*time.Millisecond, func() bool { return false })
			tb.Errorf("Until returned")
		})
		if len(errs) != 1 || errs[0] != "never: not reached within 50ms\n  a gone=false\n" {
			t.Errorf("Until failures %q", errs)
		}
		errs = failures(t, func(tb testing.TB) {
			c := meshtest.New(tb, meshtest.Config[*echo, string]{Label: "echo", Poll: (*echo).Poll})
			c.Add("a", func(transport.Conn) (*echo, error) { return nil, fmt.Errorf("no") })
			tb.Errorf("Add returned")
		})
		if len(errs) != 1 || errs[0] != "New(a): no" {
			t.Errorf("Add failures %q", errs)
		}
	})
}

// RandomLinks draws each direction's latency and jitter in turn, the
// same way for the same seed.
func TestRandomLinks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newEcho(t)
		peers := []transport.PeerID{"a", "b", "c"}
		conns := map[transport.PeerID]transport.Conn{}
		for _, id := range peers {
			conns[id] = c.Add(id, func(conn transport.Conn) (*echo, error) { return &echo{conn}, nil }).Conn
		}
		const maxJitter = time.Millisecond // jitter below 1 ms: none, so that delivery times are exact
		c.RandomLinks(rand.New(rand.NewPCG(9, 9)), peers, 200*time.Millisecond, maxJitter)
		want := map[[2]transport.PeerID]time.Duration{}
		rng := rand.New(rand.NewPCG(9, 9))
		for _, x := range peers {
			for _, y := range peers {
				if x != y {
					want[[2]transport.PeerID{x, y}] = time.Duration(1+rng.IntN(200)) * time.Millisecond
					rng.IntN(int(maxJitter / time.Millisecond)) // the jitter's draw
				}
			}
		}
		for dir, lat := range want {
			start := time.Now()
			if err := conns[dir[0]].Send(dir[1], []byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := conns[dir[1]].Recv(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != lat {
				t.Errorf("%s->%s: latency %v, want %v", dir[0], dir[1], got, lat)
			}
		}
	})
}

func TestSeeds(t *testing.T) {
	var seeds []uint64
	var bubbled bool
	meshtest.Seeds(t, 3, func(t *testing.T, seed uint64) {
		seeds = append(seeds, seed)
		start := time.Now()
		time.Sleep(time.Hour) // instant on the bubble's fake clock
		bubbled = time.Since(start) == time.Hour
	})
	if !slices.Equal(seeds, []uint64{1, 2, 3}) || !bubbled {
		t.Errorf("seeds %v, in a bubble %v", seeds, bubbled)
	}
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "testdata", "golden.txt")
	wires := []meshtest.Wire{{Name: "a", Bytes: []byte{1, 2}}, {Name: "b", Bytes: []byte("PPLB")}}
	if errs := failures(t, func(tb testing.TB) { meshtest.Golden(tb, path, true, wires) }); len(errs) != 0 {
		t.Fatalf("update: %q", errs)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "a 0102\nb 50504c42\n" {
		t.Fatalf("golden file %q, %v", b, err)
	}
	tests := []struct {
		name  string
		wires []meshtest.Wire
		want  []string
	}{
		{"same", wires, nil},
		{"changed", []meshtest.Wire{wires[0], {Name: "b", Bytes: []byte("PPLC")}}, []string{"b:\n got  50504c43\n want 50504c42"}},
		{"missing", wires[:1], []string{"golden file has 2 kinds, want 1"}},
		{"new", append(slices.Clone(wires), meshtest.Wire{Name: "c", Bytes: []byte{0}}), []string{"golden file has 2 kinds, want 3", "c:\n got  00\n want "}},
	}
	for _, tt := range tests {
		if got := failures(t, func(tb testing.TB) { meshtest.Golden(tb, path, false, tt.wires) }); !slices.Equal(got, tt.want) {
			t.Errorf("%s: failures %q, want %q", tt.name, got, tt.want)
		}
	}
	errs := failures(t, func(tb testing.TB) { meshtest.Golden(tb, filepath.Join(t.TempDir(), "none.txt"), false, wires) })
	if len(errs) != 1 || !strings.Contains(errs[0], "no such file") {
		t.Errorf("missing file: %q", errs)
	}
}
