package e2e

import (
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

var (
	roomRE = regexp.MustCompile(`(?m)^host room=([A-Z0-9]+)$`)
	addrRE = regexp.MustCompile(` -join (127\.0\.0\.1:\d+/[A-Z0-9]+)`)
)

// waitOutput polls p's stdout until re matches, for up to d.
func waitOutput(t *testing.T, p *proc, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m := re.FindStringSubmatch(p.stdout.String())
		if m != nil {
			return m
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited (%v) before printing %v\nstderr:\n%s", p.name, err, re, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s printed no %v within %v\nstderr:\n%s", p.name, re, d, p.stderr.String())
	return nil
}

// TestTwoHeadlessBotsOverLoopback runs a host and a joiner as separate
// processes (bots on both paddles, WebRTC over loopback only, signaling
// embedded in the host). Both must print the same score, end frame and
// checksum; both lockstep replay logs must replay to that result.
// "lan" joins by room code found through LAN discovery (beacons on a
// loopback address); "address" joins by HOST:PORT/CODE.
func TestTwoHeadlessBotsOverLoopback(t *testing.T) {
	bin := build(t, true)
	for _, mode := range []string{"lan", "address"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			common := []string{"-headless", "-bot", "-loopback", "-tps", "240", "-timeout", "150"}
			lanArgs := []string{"-lan=false"}
			if mode == "lan" {
				lanArgs = []string{"-lan=true", "-lan-addr", "127.0.0.1:" + strconv.Itoa(freeUDPPort(t))}
			}
			hostRec, joinRec := filepath.Join(dir, "host.pplr"), filepath.Join(dir, "join.pplr")
			host := start(t, "host", bin, nil, append(append([]string{"-host", "-name", "ann", "-listen", "127.0.0.1:0",
				"-score", "2", "-record", hostRec}, common...), lanArgs...)...)
			var target string
			if mode == "lan" {
				target = waitOutput(t, host, roomRE, 30*time.Second)[1]
			} else {
				target = waitOutput(t, host, addrRE, 30*time.Second)[1]
			}
			join := start(t, "join", bin, nil, append(append([]string{"-join", target, "-name", "bob", "-record", joinRec}, common...), lanArgs...)...)

			hostOut := host.wait(t, 160*time.Second)
			joinOut := join.wait(t, 160*time.Second)
			hs, hf, hc := parseResult(t, "host", hostOut)
			js, jf, jc := parseResult(t, "join", joinOut)
			t.Logf("host: score %s frames %s checksum %s; join: score %s frames %s checksum %s", hs, hf, hc, js, jf, jc)
			if hs != js || hf != jf || hc != jc {
				t.Fatalf("host and joiner disagree:\nhost: %s\njoin: %s", hostOut, joinOut)
			}
			if !strings.Contains(hs, "2") {
				t.Errorf("score %s: nobody reached the host's win score 2", hs)
			}
			for _, rec := range []string{hostRec, joinRec} {
				out := runOK(t, bin, "-headless", "-replay", rec)
				rs, rf, rc := parseResult(t, "replay "+filepath.Base(rec), out)
				if rs != hs || rf != hf || rc != hc {
					t.Errorf("replay of %s: score %s frames %s checksum %s; the match ended %s, %s, %s", filepath.Base(rec), rs, rf, rc, hs, hf, hc)
				}
			}
		})
	}
}
