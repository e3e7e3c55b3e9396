// Package natstest runs a real NATS server (Debian's nats-server binary,
// with JetStream) on a loopback port for tests and benchmarks: start,
// kill, and restart it on the same port and store.
//
//	ns := natstest.Start(t)          // fails the test if nats-server is missing
//	bp, _ := natsbackplane.New(natsbackplane.Config{URL: ns.URL()})
//	ns.Kill()                        // NATS goes away (SIGKILL)
//	ns.Restart()                     // and comes back, same port, same store
package natstest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallHint says how to get the server.
const InstallHint = "install Debian's nats-server package (apt-get install nats-server; .ci/packages.sh lists it)"

// Binary returns the path of nats-server, or an error with InstallHint.
func Binary() (string, error) {
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nats-server", "/usr/bin/nats-server"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("natstest: nats-server not found in PATH, /usr/sbin or /usr/bin: %s", InstallHint)
}

// Server is one nats-server process. Its methods are safe for concurrent
// use.
type Server struct {
	tb    testing.TB
	bin   string
	dir   string
	name  string
	noJS  bool
	extra []string // more command-line arguments (cluster)

	mu   sync.Mutex // guards all following fields
	port int
	cmd  *exec.Cmd
	done chan struct{}
	logs *strings.Builder
}

var listenRE = regexp.MustCompile(`Listening for client connections on [^\s]*:(\d+)`)

// Start runs nats-server with JetStream on 127.0.0.1 (a free port) and a
// store in a temporary directory, and stops it at the end of the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), name: "natstest", port: -1}
	tb.Cleanup(s.Kill)
	if err := s.start(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// StartCore is Start without JetStream: core NATS only, as a
// misconfigured deployment would have it.
func StartCore(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), name: "natstest", port: -1, noJS: true}
	tb.Cleanup(s.Kill)
	if err := s.start(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// StartCluster runs n servers with JetStream as one NATS cluster on
// loopback (routes between all of them), like a production deployment
// in miniature. URLs joins their client URLs with commas.
func StartCluster(tb testing.TB, n int) []*Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	ports, routes := make([]int, n), make([]string, n)
	for i := range n {
		ports[i] = freePort(tb)
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", freePort(tb))
	}
	out := make([]*Server, n)
	for i := range n {
		out[i] = &Server{tb: tb, bin: bin, dir: tb.TempDir(), name: fmt.Sprintf("natstest-%d", i), port: ports[i],
			extra: []string{"--cluster_name", "natstest", "--cluster", routes[i], "--routes", strings.Join(routes, ",")}}
		tb.Cleanup(out[i].Kill)
	}
	errs := make(chan error, n)
	for _, s := range out {
		go func() { errs <- s.start() }()
	}
	for range n {
		if err := <-errs; err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// URLs joins the client URLs of servers with commas (a NATS client's
// server list).
func URLs(servers []*Server) string {
	var u []string
	for _, s := range servers {
		u = append(u, s.URL())
	}
	return strings.Join(u, ",")
}

// Run is Start outside a test (examples, benchmarks' helpers): the caller
// must Close the server, which also removes its store.
func Run() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "natstest")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, name: "natstest", port: -1}
	if err := s.start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Close kills the server and removes its store (for Run).
func (s *Server) Close() {
	s.Kill()
	_ = os.RemoveAll(s.dir)
}

// Reserve returns a loopback address nothing listens on yet (for "NATS is
// not there at start"); StartOn then brings a server up on it.
func Reserve(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), name: "natstest", port: freePort(tb)}
	tb.Cleanup(s.Kill)
	return s
}

// URL is the server's client URL.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("nats://127.0.0.1:%d", s.port)
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ {
		if err := s.startLocked(); err != nil {
			lastErr = err
			time.Sleep(100 * time.Millisecond) // the old socket may linger a moment
			continue
		}
		return nil
	}
	return fmt.Errorf("natstest: %v", lastErr)
}

func (s *Server) startLocked() error {
	args := []string{"-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-n", s.name}
	if !s.noJS {
		args = append(args, "-js", "-sd", s.dir)
	}
	args = append(args, s.extra...)
	cmd := exec.Command(s.bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	logs := &strings.Builder{}
	portc := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		// Read the log to the end: the port, then drain until exit.
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			if logs.Len() < 1<<16 {
				logs.WriteString(line + "\n")
			}
			s.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				var p int
				fmt.Sscan(m[1], &p)
				select {
				case portc <- p:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Unlock()
	var port int
	var err2 error
	select {
	case port = <-portc:
		// JetStream is up after the client listener; wait for "Server is ready".
		err2 = waitReady(&s.mu, logs, 10*time.Second)
	case <-done:
		err2 = fmt.Errorf("nats-server exited at start")
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		err2 = fmt.Errorf("nats-server did not start within 10 s")
	}
	s.mu.Lock()
	if err2 != nil {
		return fmt.Errorf("%w:\n%s", err2, logs.String())
	}
	s.port, s.cmd, s.done, s.logs = port, cmd, done, logs
	return nil
}

func waitReady(mu *sync.Mutex, logs *strings.Builder, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		mu.Lock()
		ok := strings.Contains(logs.String(), "Server is ready")
		mu.Unlock()
		if ok {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("nats-server not ready within %v", d)
}

// Kill stops the server at once (SIGKILL), like a crash. Idempotent.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

// Stop stops the server gracefully (SIGTERM). Idempotent.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts the server again (after Kill or Stop, or the first time
// after Reserve) on the same port with the same store. It fails the test
// if the server does not come up.
func (s *Server) Restart() {
	if err := s.start(); err != nil {
		if s.tb == nil {
			panic(err) // Run's servers are not restarted by their users
		}
		s.tb.Helper()
		s.tb.Fatal(err)
	}
}

// Logs returns the server's log so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logs == nil {
		return ""
	}
	return s.logs.String()
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
