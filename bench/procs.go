package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PeerJSVersion is the PeerJS server (npm "peer") the report runs.
const PeerJSVersion = "1.0.2"

// Proc is a server under test running as its own process.
type Proc struct {
	Name string
	Base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	done chan error
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pinned prefixes argv with `taskset -c cpu` when taskset exists and the
// machine has that CPU; it reports whether it did.
func pinned(cpu int, argv []string) ([]string, bool) {
	if cpu < 0 {
		return argv, false
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return argv, false
	}
	return append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...), true
}

func startProc(ctx context.Context, name string, argv []string, env []string, base string, ready func() bool) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &out // PeerJS logs every connection to stdout: discard it
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	p := &Proc{Name: name, Base: base, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("bench: %s exited: %v: %s", name, err, lastLines(out.String(), 5))
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("bench: %s not ready in 30 s: %s", name, lastLines(out.String(), 5))
		}
	}
	return p, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

func httpOK(url string) func() bool {
	return func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode < 500
	}
}

// Pid is the server's process ID (taskset execs in place, so it is the
// server's own).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// RSS is the server's resident set size in bytes (VmRSS).
func (p *Proc) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("bench: no VmRSS")
}

// CPU is the server's user+system CPU time so far.
func (p *Proc) CPU() (time.Duration, error) {
	return procCPU(p.Pid())
}

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the ")" of the command name: utime is field 14, stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, errors.New("bench: short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and waits.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// StartSignald builds cmd/signald into dir and runs it on a free
// loopback port, pinned to cpu (-1: not pinned), with the limits lifted
// for load: no per-IP cap, no rate limit, 30,000 connections and rooms.
func StartSignald(ctx context.Context, moduleDir, dir string, cpu int) (*Proc, bool, error) {
	bin := filepath.Join(dir, "signald")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/signald")
	build.Dir = moduleDir
	if out, err := build.CombinedOutput(); err != nil {
		return nil, false, fmt.Errorf("bench: build signald: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, false, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	argv, pin := pinned(cpu, []string{bin, "-addr", addr, "-stun-addr", "",
		"-max-conns", "30000", "-max-conns-per-ip", "30000", "-max-rooms", "30000",
		"-max-msgs-per-sec", "1000000000", "-burst", "1000000000", "-log-level", "error",
		// Every load client is 127.0.0.1: no per-address limits (#14).
		"-max-tcp-per-ip", "0", "-joins-per-min", "-1", "-rooms-per-min", "-1", "-max-rooms-per-ip", "-1"})
	p, err := startProc(ctx, "signald", argv, nil, "http://"+addr, httpOK("http://"+addr+"/healthz"))
	return p, pin, err
}

// peerjsPackage is the npm project that pins the PeerJS server and every
// dependency (bench/peerjs: package.json and its lockfile, with integrity
// hashes).
//
//go:embed peerjs/package.json peerjs/package-lock.json
var peerjsPackage embed.FS

// InstallPeerJS installs the pinned PeerJS server (bench/peerjs, `npm ci`
// from its lockfile) into dir and returns the path of its command. With
// dir "" it installs into the user's cache directory
// (os.UserCacheDir()/peerplay/peerjs-VERSION-LOCKHASH), where it is kept
// between runs: npm reaches the registry only the first time, or when the
// lockfile changes.
func InstallPeerJS(ctx context.Context, dir string) (string, error) {
	pkg, _ := peerjsPackage.ReadFile("peerjs/package.json")
	lock, _ := peerjsPackage.ReadFile("peerjs/package-lock.json")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(lock)
		dir = filepath.Join(cache, "peerplay", fmt.Sprintf("peerjs-%s-%x", PeerJSVersion, sum[:4]))
	}
	rel := filepath.Join("node_modules", "peer", "dist", "bin", "peerjs.js")
	bin := filepath.Join(dir, rel)
	if b, err := os.ReadFile(filepath.Join(dir, "package-lock.json")); err == nil && bytes.Equal(b, lock) {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("bench: the PeerJS comparison needs node and npm (Debian: apt-get install nodejs npm; .ci/packages.sh lists them)")
	}
	// Install beside dir, then rename: a concurrent or interrupted
	// install never leaves a half-filled dir behind.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := errors.Join(os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o644),
		os.WriteFile(filepath.Join(tmp, "package-lock.json"), lock, 0o644)); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--omit=dev")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: npm ci (peer@%s): %v: %s", PeerJSVersion, err, lastLines(string(out), 5))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "package-lock.json")); err != nil || !bytes.Equal(b, lock) {
		_ = os.RemoveAll(dir) // a stale install (another lockfile), or a broken one
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(bin); serr != nil { // not another install winning the race
			return "", err
		}
	}
	return bin, nil
}

// StartPeerJS runs the PeerJS server on a free loopback port, pinned to
// cpu (-1: not pinned), with its connection limit raised to 30,000 and
// its idle check at 10 minutes (the bench's idle clients send no
// heartbeats).
func StartPeerJS(ctx context.Context, bin string, cpu int) (*Proc, bool, error) {
	port, err := freePort()
	if err != nil {
		return nil, false, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	argv, pin := pinned(cpu, []string{"node", bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--concurrent_limit", "30000", "--alive_timeout", "600000"})
	p, err := startProc(ctx, "peerjs", argv, nil, "http://"+addr, httpOK("http://"+addr+"/"))
	return p, pin, err
}

// NodeVersion is `node --version`, or "" if node is missing.
func NodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// CPUModel is the "model name" of /proc/cpuinfo.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// GoMetrics reads a Go server's Prometheus /metrics (the Go collector):
// heap in use, stack in use and goroutines.
func GoMetrics(base string) (heap, stack, goroutines float64, err error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	found := 0
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) != 2 {
			continue
		}
		v, perr := strconv.ParseFloat(f[1], 64)
		if perr != nil {
			continue
		}
		switch f[0] {
		case "go_memstats_heap_inuse_bytes":
			heap, found = v, found+1
		case "go_memstats_stack_inuse_bytes":
			stack, found = v, found+1
		case "go_goroutines":
			goroutines, found = v, found+1
		}
	}
	if found != 3 {
		return 0, 0, 0, errors.New("bench: /metrics lacks the Go collector")
	}
	return heap, stack, goroutines, s.Err()
}

// PromValue reads one sample of a Prometheus text /metrics page, by its
// full series name as printed (e.g. `signald_rejects_total{reason="slow_consumer"}`).
func PromValue(base, series string) (float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("bench: no series %s", series)
}
