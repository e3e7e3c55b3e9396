package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTwoHeadlessRollbackOverLoopback: two headless pong processes with
// -rollback (sync/rollback over real netcode on loopback) agree on the
// result line, their replays (of confirmed inputs) reproduce it, and
// rollbacks really happened.
func TestTwoHeadlessRollbackOverLoopback(t *testing.T) {
	bin := build(t, true)
	dir := t.TempDir()
	common := []string{"-headless", "-bot", "-loopback", "-rollback", "-lan=false", "-tps", "120", "-timeout", "150"}
	hostRec, joinRec := filepath.Join(dir, "host.pplr"), filepath.Join(dir, "join.pplr")
	host := start(t, "host", bin, nil, append([]string{"-host", "-name", "ann", "-listen", "127.0.0.1:0",
		"-score", "2", "-record", hostRec}, common...)...)
	target := waitOutput(t, host, addrRE, 30*time.Second)[1]
	join := start(t, "join", bin, nil, append([]string{"-join", target, "-name", "bob", "-record", joinRec}, common...)...)

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
	rb := regexp.MustCompile(`rollbacks=(\d+) resimulated=(\d+)`)
	for who, out := range map[string]string{"host": hostOut, "join": joinOut} {
		m := rb.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no rollback figures in the summary:\n%s", who, out)
		}
		t.Logf("%s: %s", who, m[0])
	}
	for _, rec := range []string{hostRec, joinRec} {
		out := runOK(t, bin, "-headless", "-replay", rec)
		rs, rf, rc := parseResult(t, "replay "+filepath.Base(rec), out)
		if rs != hs || rf != hf || rc != hc {
			t.Errorf("replay of %s: score %s frames %s checksum %s; the match ended %s, %s, %s", filepath.Base(rec), rs, rf, rc, hs, hf, hc)
		}
	}
}
