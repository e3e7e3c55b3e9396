//go:build netlab

package netlab_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

// forward7700 makes r forward TCP and UDP port 7700 to h, as a player does
// on a home router: DNAT on the WAN side, and the forwarded traffic let
// through the router's firewall. openInput also removes the router's
// WAN-input drop (a router without that firewall).
func forward7700(t *testing.T, r *netlab.Router, h *netlab.Host, openInput bool) {
	t.Helper()
	to := h.Addr().String() + ":7700"
	rules := [][]string{
		{"-t", "nat", "-A", "PREROUTING", "-i", "wan0", "-p", "tcp", "--dport", "7700", "-j", "DNAT", "--to-destination", to},
		{"-t", "nat", "-A", "PREROUTING", "-i", "wan0", "-p", "udp", "--dport", "7700", "-j", "DNAT", "--to-destination", to},
		{"-I", "FORWARD", "-i", "wan0", "-o", "lan0", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT"},
	}
	if openInput {
		rules = append(rules, []string{"-D", "INPUT", "-i", "wan0", "-j", "DROP"})
	}
	for _, rule := range rules {
		if out, err := r.Run(context.Background(), "iptables", append([]string{"-w", "5"}, rule...)...); err != nil {
			t.Fatalf("%s: iptables %v: %v\n%s", r.Name(), rule, err, out)
		}
	}
}

var linkRE = regexp.MustCompile(`^link peer=\S+ type=\S+ local=\S+ remote=\S+ relayed=\S+$`)

// TestPongHostedForward is the README's internet play, exactly: the host
// is behind a home router (port-restricted NAT) that forwards TCP+UDP 7700
// to it and runs `pong -host -public-addr ROUTER_WAN_IP`; the friend runs
// the join command the host printed. No other server exists. The friend is
// behind a port-restricted NAT, then a symmetric one; and each again with
// the host's router lacking a WAN-input firewall: four matches at once,
// each with equal result lines on both sides. The link type each side
// used is logged.
func TestPongHostedForward(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	cases := []struct {
		name      string
		joinNAT   netlab.NAT
		openInput bool
	}{
		{"restricted", netlab.NATRestricted, false},
		{"symmetric", netlab.NATSymmetric, false},
		{"restricted/no-input-firewall", netlab.NATRestricted, true},
		{"symmetric/no-input-firewall", netlab.NATSymmetric, true},
	}
	common := []string{"-headless", "-bot", "-score", "1", "-tps", pongTPS, "-timeout", "120"}
	joinRE := `-join (203\.0\.113\.\d+:7700/[A-Z0-9]+)\s+\(internet`
	var matches []match
	for i, c := range cases {
		hr := lab.AddRouter("hr"+string(rune('1'+i)), netlab.NATRestricted)
		h := hr.AddHost("host" + string(rune('1'+i)))
		j := lab.AddRouter("jr"+string(rune('1'+i)), c.joinNAT).AddHost("join" + string(rune('1'+i)))
		forward7700(t, hr, h, c.openInput)
		host := startPong(t, h, h.Name()+"/pong", append([]string{"-host", "-public-addr", hr.Addr().String(), "-name", h.Name()}, common...)...)
		target := waitLine(t, host, 30*time.Second, joinRE)[1]
		t.Logf("%s: the host printed `pong -join %s`", c.name, target)
		join := startPong(t, j, j.Name()+"/pong", append([]string{"-join", target, "-name", j.Name()}, common...)...)
		matches = append(matches, match{name: c.name, host: host, join: join})
	}
	for _, m := range matches {
		m.check(t)
		for _, p := range []*netlab.Proc{m.host, m.join} {
			_, l, err := p.WaitLine(waitCtx(t, time.Second), 0, linkRE)
			if err != nil {
				t.Errorf("%s: %s logged no link line: %v", m.name, p.Name(), err)
				continue
			}
			t.Logf("%s: %s: %s", m.name, p.Name(), l[0])
		}
	}
}
