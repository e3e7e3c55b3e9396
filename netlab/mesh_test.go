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

// signalURL is where the signaling server listens in the internet
// namespace; STUN and TURN sit next to it.
const (
	signalURL  = "ws://203.0.113.1:8080/ws"
	turnSecret = "netlab-secret"
)

// startSignald runs cmd/signald in the internet namespace, with STUN on
// :3478 and TURN on :3479 (relaying from 203.0.113.1), and waits until it
// serves.
func startSignald(t *testing.T, lab *netlab.Lab, args ...string) *netlab.Proc {
	t.Helper()
	bin := bins.Build(t, "../cmd/signald")
	p := lab.Internet().Start(t, "signald", bin, append([]string{
		"-addr", "203.0.113.1:8080",
		"-stun-addr", "203.0.113.1:3478", "-stun-url", "stun:203.0.113.1:3478",
		"-turn-addr", "203.0.113.1:3479", "-turn-relay-ip", "203.0.113.1",
		"-turn-url", "turn:203.0.113.1:3479?transport=udp", "-turn-secret", turnSecret,
	}, args...)...)
	waitLine(t, p, 20*time.Second, `signald: serving`)
	return p
}

// startPeer runs labpeer on h.
func startPeer(t *testing.T, h *netlab.Host, args ...string) *netlab.Proc {
	t.Helper()
	bin := bins.Build(t, "internal/cmd/labpeer")
	return h.Start(t, h.Name()+"/labpeer", bin, args...)
}

// pairKey names an unordered pair.
func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "-" + b
}

// direct is what netcode reports for a link straight through two NATs
// (no relay). pion gathers server-reflexive candidates on sockets of their
// own, while the pair ICE selects runs between the host sockets, whose NAT
// mappings each side learns from the other's connectivity checks: so the
// selected pair is host -> prflx on both ends, LinkPrflx. Either kind
// proves the NATs were traversed without TURN.
var direct = []string{"srflx", "prflx"}

// TestConnectivityMatrix puts five peers into one room, one full mesh of
// ten links, and checks the link type netcode reports on both ends of each:
//
//	a1, a2  behind restricted router ra (one LAN)   a1-a2: host
//	b       behind restricted router rb              a*-b:  srflx/prflx (direct)
//	c       behind symmetric router sc               *-c, *-d: relay
//	d       behind symmetric router sd               (restricted-symmetric and
//	                                                  symmetric-symmetric)
func TestConnectivityMatrix(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	ra := lab.AddRouter("ra", netlab.NATRestricted)
	hosts := []*netlab.Host{
		ra.AddHost("a1"), ra.AddHost("a2"),
		lab.AddRouter("rb", netlab.NATRestricted).AddHost("b"),
		lab.AddRouter("sc", netlab.NATSymmetric).AddHost("c"),
		lab.AddRouter("sd", netlab.NATSymmetric).AddHost("d"),
	}
	want := map[string][]string{
		pairKey("a1", "a2"): {"host"},
		pairKey("a1", "b"):  direct, pairKey("a2", "b"): direct,
	}
	for _, x := range []string{"a1", "a2", "b", "c"} {
		for _, y := range []string{"c", "d"} {
			if x != y {
				want[pairKey(x, y)] = []string{"relay"}
			}
		}
	}
	startSignald(t, lab)
	procs := make([]*netlab.Proc, len(hosts))
	for i, h := range hosts {
		procs[i] = startPeer(t, h, "mesh", "-signal", signalURL, "-room", "matrix", "-name", h.Name(),
			"-peers", fmt.Sprint(len(hosts)), "-timeout", "60s")
	}
	linkRE := regexp.MustCompile(`^link (\S+) (\S+) (\S+) `)
	got := map[string][]string{} // pair -> link type seen from each end
	for _, p := range procs {
		if err := p.Wait(waitCtx(t, 90*time.Second)); err != nil {
			t.Fatalf("%s: %v\n%s", p.Name(), err, p.Output())
		}
		for _, l := range p.Lines() {
			if m := linkRE.FindStringSubmatch(l); m != nil {
				got[pairKey(m[1], m[2])] = append(got[pairKey(m[1], m[2])], m[3])
				t.Log(l)
			}
		}
	}
	for pair, w := range want {
		g := got[pair]
		if len(g) != 2 || !slices.Contains(w, g[0]) || !slices.Contains(w, g[1]) {
			t.Errorf("link %s: the two ends report %v, want %v on both", pair, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d links, want %d: %v", len(got), len(want), got)
	}
}

// TestTURNExpired: two peers behind symmetric NATs need TURN; their TURN
// credentials expired an hour ago. Each must give up within a bound, on a
// peer event (not on the test peer's own timeout), and the error of that
// EventFailed must itself say that the TURN server refused the
// credentials (netcode wraps a *TURNError, errors.Is ErrTURNAuth, into
// it): the line labpeer prints for the failure names TURN and the 401.
func TestTURNExpired(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	c := lab.AddRouter("sc", netlab.NATSymmetric).AddHost("c")
	d := lab.AddRouter("sd", netlab.NATSymmetric).AddHost("d")
	startSignald(t, lab)
	var procs []*netlab.Proc
	for _, h := range []*netlab.Host{c, d} {
		procs = append(procs, startPeer(t, h, "mesh", "-signal", signalURL, "-room", "expired", "-name", h.Name(),
			"-peers", "2", "-timeout", "45s", "-fail-fast", "-turn-expired-secret", turnSecret))
	}
	turnRefused := regexp.MustCompile(`(?m)^error: peer \S+ failed: .*\bTURN\b.*\b401\b`)
	for _, p := range procs {
		start := time.Now()
		err := p.Wait(waitCtx(t, 60*time.Second))
		out := p.Output()
		switch {
		case err == nil:
			t.Errorf("%s connected without a usable TURN server:\n%s", p.Name(), out)
		case !regexp.MustCompile(`(?m)^error: peer \S+ (failed|left)`).MatchString(out):
			t.Errorf("%s did not fail on a peer event (a hang until its own timeout?):\n%s", p.Name(), out)
		case !turnRefused.MatchString(out):
			t.Errorf("%s's peer error does not say that TURN refused the credentials (401):\n%s", p.Name(), out)
		default:
			t.Logf("%s gave up after %v: %s", p.Name(), time.Since(start).Round(100*time.Millisecond), lastLine(out))
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
