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

// TestJoinMistakes: a wrong code, a host where no game runs and a host
// that never answers each give the player a plain sentence within 10 s,
// and a code typed in lower case joins.
func TestJoinMistakes(t *testing.T) {
	bin := build(t, true)
	host := start(t, "host", bin, nil, "-headless", "-bot", "-host", "-listen", "127.0.0.1:0", "-lan=false", "-name", "ann", "-for", "5s")
	m := waitOutput(t, host, regexp.MustCompile(`-join (127\.0\.0\.1:\d+)/([A-Z0-9]+)`), 30*time.Second)
	addr, code := m[1], m[2]

	// Nothing listens on a port that was free a moment ago.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	// A listener that accepts and never answers: a wrong address that
	// swallows packets, without sending any beyond loopback.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	wrong := "ZZZZ"
	if code == wrong {
		wrong = "YYYY"
	}
	for _, tc := range []struct{ name, target, want string }{
		{"wrong code", addr + "/" + strings.ToLower(wrong), "pong: no room " + wrong + " on " + addr + " (check the code; the host's lobby shows it)"},
		{"host not running", closed + "/" + code, "pong: no game is hosted at " + closed + " (nothing listens there; is the host's game still open?)"},
		{"wrong host", silent.Addr().String() + "/" + code, "pong: nothing answers at " + silent.Addr().String() + " (a wrong address, or a firewall?)"},
		{"not a code", "K7Q2!", `pong: "K7Q2!" is not a room code (like K7Q2) nor HOST:PORT/CODE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			p := start(t, "joiner", bin, nil, "-headless", "-bot", "-join", tc.target, "-name", "bob")
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("no answer within 10 s\nstderr:\n%s", p.stderr.String())
			}
			took := time.Since(begin)
			got := strings.TrimSpace(p.stderr.String())
			t.Logf("after %v: %s", took.Round(time.Millisecond), got)
			if got != tc.want {
				t.Errorf("stderr = %q, want %q", got, tc.want)
			}
			p.done <- nil
		})
	}
	t.Run("lower-case code", func(t *testing.T) {
		p := start(t, "joiner", bin, nil, "-headless", "-bot", "-join", addr+"/"+strings.ToLower(code), "-name", "bob", "-for", "3s")
		out := p.wait(t, 60*time.Second)
		if !strings.Contains(out, "lockstep ticks=") {
			t.Errorf("the joiner did not play:\n%s", out)
		}
	})
}
