//go:build netlab

package netlab_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

// TestConnectTimes measures (and logs; no timed assertion) how long two
// labpeers take from start to EventConnected through two NATs, zero added
// delay, five runs each: port-restricted on both sides (a direct link)
// and symmetric on both sides (relayed through TURN), with netcode's ICE
// settings (acceptance waits host 0, srflx/prflx 100 ms, relay 200 ms) and with pion's
// acceptance waits (labpeer -pion-waits: the before of #20).
// It asserts only the link types: fast ICE must not settle for a relay
// where a direct path exists. Issue #20's figures come from its log.
func TestConnectTimes(t *testing.T) {
	connectRE := regexp.MustCompile(`^connect (\S+) (\S+)$`)
	linkRE := regexp.MustCompile(`^link (\S+) (\S+) (\S+) `)
	for _, fast := range []bool{true, false} {
		for _, nat := range []netlab.NAT{netlab.NATRestricted, netlab.NATSymmetric} {
			want := direct
			if nat == netlab.NATSymmetric {
				want = []string{"relay"}
			}
			name := fmt.Sprintf("%v/fast=%v", nat, fast)
			var times []time.Duration
			for run := range 5 {
				t.Run(fmt.Sprintf("%s/%d", name, run), func(t *testing.T) {
					lab := netlab.New(t, netlab.Config{})
					hosts := []*netlab.Host{
						lab.AddRouter("ra", nat).AddHost("a"),
						lab.AddRouter("rb", nat).AddHost("b"),
					}
					startSignald(t, lab)
					var procs []*netlab.Proc
					for _, h := range hosts {
						args := []string{"mesh", "-signal", signalURL, "-room", "connect", "-name", h.Name(), "-peers", "2", "-timeout", "30s"}
						if !fast {
							args = append(args, "-pion-waits")
						}
						procs = append(procs, startPeer(t, h, args...))
					}
					for _, p := range procs {
						if err := p.Wait(waitCtx(t, 60*time.Second)); err != nil {
							t.Fatalf("%s: %v\n%s", p.Name(), err, p.Output())
						}
						for _, l := range p.Lines() {
							if m := connectRE.FindStringSubmatch(l); m != nil {
								d, err := time.ParseDuration(m[2])
								if err != nil {
									t.Fatalf("%s: %q: %v", p.Name(), l, err)
								}
								times = append(times, d)
							}
							if m := linkRE.FindStringSubmatch(l); m != nil {
								t.Log(l)
								if !slices.Contains(want, m[3]) {
									t.Errorf("%s: link %s, want one of %v", p.Name(), m[3], want)
								}
							}
						}
					}
				})
			}
			slices.Sort(times)
			if len(times) > 0 {
				t.Logf("%s: start to EventConnected, both ends of 5 runs: median %v, min %v, max %v (%s)",
					name, times[len(times)/2], times[0], times[len(times)-1], strings.Trim(fmt.Sprint(times), "[]"))
			}
		}
	}
}

// TestMeshFormation forms meshes of 4 and 8 labpeers, each behind a NAT
// of its own (port-restricted and symmetric alternately, so some links
// are direct and some relayed), and logs when the last link connected
// (each peer counts from its own start) and the wall time from the first
// peer's start until every peer had finished its message checks.
func TestMeshFormation(t *testing.T) {
	connectRE := regexp.MustCompile(`^connect (\S+) (\S+)$`)
	for _, n := range []int{4, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			lab := netlab.New(t, netlab.Config{})
			startSignald(t, lab)
			var hosts []*netlab.Host
			for i := range n {
				nat := netlab.NATRestricted
				if i%2 == 1 {
					nat = netlab.NATSymmetric
				}
				hosts = append(hosts, lab.AddRouter(fmt.Sprintf("r%d", i), nat).AddHost(fmt.Sprintf("p%d", i)))
			}
			start := time.Now()
			var procs []*netlab.Proc
			for _, h := range hosts {
				procs = append(procs, startPeer(t, h, "mesh", "-signal", signalURL, "-room", "formation", "-name", h.Name(),
					"-peers", fmt.Sprint(n), "-timeout", "60s"))
			}
			var last time.Duration
			links := 0
			for _, p := range procs {
				waitLine(t, p, 60*time.Second, `^ok$`)
			}
			wall := time.Since(start)
			for _, p := range procs {
				for _, l := range p.Lines() {
					if m := connectRE.FindStringSubmatch(l); m != nil {
						d, err := time.ParseDuration(m[2])
						if err != nil {
							t.Fatalf("%s: %q: %v", p.Name(), l, err)
						}
						last = max(last, d)
						links++
					}
				}
			}
			if links != n*(n-1) {
				t.Errorf("%d connect lines, want %d", links, n*(n-1))
			}
			t.Logf("mesh of %d peers behind NATs: last link connected %v after its peer started; all checks done %v after the first start", n, last, wall)
		})
	}
}
