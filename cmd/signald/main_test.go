package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

func TestMain(m *testing.M) {
	// Re-executed as the signald binary by TestSignalTERM.
	if os.Getenv("SIGNALD_TEST_AS_MAIN") == "1" {
		os.Args = append([]string{"signald"}, strings.Fields(os.Getenv("SIGNALD_TEST_ARGS"))...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs signald in-process with args and returns its addresses; the
// returned stop cancels it and returns run's error.
func start(t *testing.T, args []string, env map[string]string) (addrs, *syncBuffer, func() error) {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	readyc := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, logs, func(a addrs) { readyc <- a })
	}()
	var a addrs
	select {
	case a = <-readyc:
	case err := <-done:
		cancel()
		t.Fatalf("signald did not start: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("signald did not start")
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return a, logs, stop
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSignald(t *testing.T) {
	a, logs, stop := start(t, []string{
		"-addr", "127.0.0.1:0", "-stun-addr", "127.0.0.1:0",
		"-turn-addr", "127.0.0.1:0", "-turn-relay-ip", "127.0.0.1", "-turn-relay-bind", "127.0.0.1",
		"-turn-url", "turn:127.0.0.1:3479", "-stun-url", "stun:127.0.0.1:3478",
		"-max-room-size", "2",
	}, map[string]string{"SIGNALD_TURN_SECRET": "from-env", "SIGNALD_LOG_LEVEL": "debug"})
	base := "http://" + a.HTTP
	if code, body := get(t, http.DefaultClient, base+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz: %d %q", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws://" + a.HTTP + "/ws"
	c1, err := sigclient.Dial(ctx, url, "room", sigclient.DialOptions{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := sigclient.Dial(ctx, url, "room", sigclient.DialOptions{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := sigclient.Dial(ctx, url, "room", sigclient.DialOptions{}); !errors.Is(err, signaling.ErrRoomFull) {
		t.Fatalf("third join with -max-room-size 2: %v", err)
	}
	ice := c1.ICEServers()
	if len(ice) != 2 || ice[1].Username == "" || !strings.HasSuffix(ice[1].Username, ":"+string(c1.Local())+"@room") {
		t.Fatalf("ICE servers %+v", ice)
	}
	// The TURN credential verifies with the secret from the environment:
	// recompute it from the username's expiry.
	exp, user, _ := strings.Cut(ice[1].Username, ":")
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, want := signaling.TURNCredentials("from-env", user, 0, time.Unix(sec, 0)); ice[1].Credential != want {
		t.Fatalf("TURN credential %q does not verify with the env secret (want %q)", ice[1].Credential, want)
	}

	// STUN answers on its port.
	uc, err := net.Dial("udp4", a.STUN)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := stun.NewClient(uc)
	if err != nil {
		t.Fatal(err)
	}
	var mapped stun.XORMappedAddress
	if err := sc.Do(stun.MustBuild(stun.TransactionID, stun.BindingRequest), func(ev stun.Event) {
		if ev.Error == nil {
			_ = mapped.GetFrom(ev.Message)
		}
	}); err != nil {
		t.Fatal(err)
	}
	_ = sc.Close()
	if mapped.Port == 0 {
		t.Fatal("no XOR-MAPPED-ADDRESS from signald's STUN")
	}

	// The refused third connection is counted until its handler returns,
	// which may be a moment after its Dial did: poll until the gauges settle.
	wantMetrics := []string{
		"signald_connections 2", "signald_members 2", `signald_rooms{visibility="public"} 1`,
		`signald_joins_total{kind="join"} 2`, `signald_rejects_total{reason="room_full"} 1`,
		"signald_stun_requests_total 1", `signald_messages_total{direction="in"}`, "go_goroutines",
	}
	var missing []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := get(t, http.DefaultClient, base+"/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		missing = missing[:0]
		for _, want := range wantMetrics {
			if !strings.Contains(body, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, m := range missing {
		t.Errorf("/metrics lacks %q", m)
	}
	if code, body := get(t, http.DefaultClient, base+"/rooms"); code != 200 || !strings.Contains(body, `"players":2`) {
		t.Fatalf("/rooms: %d %s", code, body)
	}

	// Graceful shutdown: the clients hear "shutdown", run returns nil.
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	ev := <-c1.Events()
	for ev.Kind == sigclient.EventPeerJoined {
		ev = <-c1.Events()
	}
	if ev.Kind != sigclient.EventDisconnected || !errors.Is(ev.Err, signaling.ErrShutdown) {
		t.Fatalf("client event %v %v, want Disconnected with ErrShutdown", ev.Kind, ev.Err)
	}
	// Logs are JSON lines.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"signald: stopped"`) {
		t.Fatalf("no stop log:\n%s", logs.String())
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string // error substring; "" = ok
	}{
		{nil, nil, ""},
		{[]string{"-tls-cert", "x"}, nil, "go together"},
		{[]string{"-turn-addr", ":0"}, nil, "needs -turn-secret"},
		{[]string{"-turn-url", "turn:x"}, nil, "needs -turn-secret"},
		{nil, map[string]string{"SIGNALD_MAX_ROOMS": "many"}, "SIGNALD_MAX_ROOMS"},
		{[]string{"-max-rooms", "3"}, map[string]string{"SIGNALD_MAX_ROOMS": "5"}, ""},
		{[]string{"extra"}, nil, "unexpected arguments"},
		{[]string{"-nope"}, nil, "not defined"},
		{[]string{"-nats-creds", "x.creds"}, nil, "needs -nats"},
		{[]string{"-nats", "nats://127.0.0.1:4222", "-node", "a", "-nats-ttl", "3s"}, nil, ""},
	} {
		_, err := parseFlags(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("parseFlags(%v, %v) = %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
	c, _ := parseFlags([]string{"-max-rooms", "3"}, func(k string) string {
		return map[string]string{"SIGNALD_MAX_ROOMS": "5", "SIGNALD_BURST": "7"}[k]
	}, io.Discard)
	if c.maxRooms != 3 || c.burst != 7 {
		t.Fatalf("flag over env: max-rooms %d (want 3), burst %d (want 7)", c.maxRooms, c.burst)
	}
	// A bad config fails at start, not later.
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-stun-addr", "", "-max-message-bytes", "10"}, func(string) string { return "" }, io.Discard, nil)
	if !errors.Is(err, signaling.ErrInvalidConfig) {
		t.Fatalf("tiny -max-message-bytes: %v, want ErrInvalidConfig", err)
	}
}

// TestTLS: with -tls-cert/-tls-key signald serves HTTPS and WSS.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	a, _, stop := start(t, []string{"-addr", "127.0.0.1:0", "-stun-addr", "", "-tls-cert", certFile, "-tls-key", keyFile}, nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	if code, _ := get(t, client, "https://"+a.HTTP+"/healthz"); code != 200 {
		t.Fatalf("https /healthz: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sigclient.Dial(ctx, "wss://"+a.HTTP+"/ws", "r", sigclient.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestSignalTERM: the real binary (this test binary re-executed as
// signald) shuts down cleanly on SIGTERM, exit status 0.
func TestSignalTERM(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "SIGNALD_TEST_AS_MAIN=1", "SIGNALD_TEST_ARGS=-addr 127.0.0.1:0 -stun-addr 127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var httpAddr string
	var all strings.Builder
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "signald: serving" {
			httpAddr, _ = m["http"].(string)
			break
		}
	}
	if httpAddr == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no serving log:\n%s", all.String())
	}
	if code, _ := get(t, http.DefaultClient, "http://"+httpAddr+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	all.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("signald exited with %v after SIGTERM:\n%s", err, all.String())
	}
	if !strings.Contains(all.String(), "signald: stopped") {
		t.Fatalf("no clean stop:\n%s", all.String())
	}
}
