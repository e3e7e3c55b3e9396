//go:build netlab

package netlab_test

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

const probeTimeout = 3 * time.Second

// natprobe returns the path of the UDP helper.
func natprobe(t *testing.T) string {
	t.Helper()
	return bins.Build(t, "internal/cmd/natprobe")
}

// startEcho runs natprobe echo on h for the given addresses.
func startEcho(t *testing.T, h *netlab.Host, addrs ...string) {
	t.Helper()
	p := h.Start(t, h.Name()+"/echo", natprobe(t), "echo", "-listen", strings.Join(addrs, ","))
	waitLine(t, p, 10*time.Second, `^ready$`)
}

// runProbe runs natprobe to completion on h and returns its output lines
// and exit error.
func runProbe(t *testing.T, h *netlab.Host, args ...string) ([]string, error) {
	t.Helper()
	p := h.Start(t, h.Name()+"/"+args[0], natprobe(t), args...)
	err := p.Wait(waitCtx(t, 20*time.Second))
	return p.Lines(), err
}

// TestNATMapping shows the mapping behaviour of both NAT types with real
// packets: one socket behind the router asks three echo servers (two ports
// of one address, and a second address) which source address they see.
func TestNATMapping(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	inet := lab.Internet()
	echoes := []string{"203.0.113.1:7001", "203.0.113.1:7002", "198.51.100.1:7001"}
	startEcho(t, inet, echoes...)
	tests := []struct {
		nat netlab.NAT
		// stable: one mapping for every destination (endpoint-independent)
		stable bool
	}{
		{netlab.NATRestricted, true},
		{netlab.NATSymmetric, false},
	}
	for _, tt := range tests {
		r := lab.AddRouter("r"+tt.nat.String(), tt.nat)
		h := r.AddHost("h" + tt.nat.String())
		t.Run(tt.nat.String(), func(t *testing.T) {
			lines, err := runProbe(t, h, "probe", "-bind", "0.0.0.0:40000", "-to", strings.Join(echoes, ","), "-timeout", probeTimeout.String())
			if err != nil {
				t.Fatalf("probe: %v\n%s", err, strings.Join(lines, "\n"))
			}
			mapped := map[string]netip.AddrPort{}
			re := regexp.MustCompile(`^mapped (\S+) (\S+)$`)
			for _, l := range lines {
				if m := re.FindStringSubmatch(l); m != nil {
					mapped[m[1]] = netip.MustParseAddrPort(m[2])
				}
			}
			if len(mapped) != len(echoes) {
				t.Fatalf("got %d mappings, want %d: %v", len(mapped), len(echoes), lines)
			}
			ports := map[uint16]bool{}
			for dst, m := range mapped {
				if m.Addr() != r.Addr() {
					t.Errorf("%s saw %v, want the router's WAN address %v", dst, m.Addr(), r.Addr())
				}
				ports[m.Port()] = true
			}
			if tt.stable {
				want := netip.AddrPortFrom(r.Addr(), 40000)
				for dst, m := range mapped {
					if m != want {
						t.Errorf("%s saw %v, want %v (port kept, same for every destination)", dst, m, want)
					}
				}
			} else if len(ports) < 2 {
				// Three random ports from ~64k all equal: ~1e-9.
				t.Errorf("every destination saw the same port %v; want a mapping per destination", mapped)
			}
			t.Logf("mappings: %v", mapped)
		})
	}
}

// TestNATFiltering shows that both NAT types only admit answers from the
// exact address and port a host sent to: the echo server answers a poke
// from the port it arrived on ("direct") and from another port ("other").
// A public host, without NAT, gets both, which shows "other" is really sent.
func TestNATFiltering(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	startEcho(t, lab.Internet(), "203.0.113.1:7001", "203.0.113.1:7002")
	tests := []struct {
		name      string
		host      *netlab.Host
		wantOther bool
	}{
		{"restricted", lab.AddRouter("rr", netlab.NATRestricted).AddHost("hr"), false},
		{"symmetric", lab.AddRouter("rs", netlab.NATSymmetric).AddHost("hs"), false},
		{"public", lab.AddPublicHost("pub"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := runProbe(t, tt.host, "poke", "-bind", "0.0.0.0:40001", "-to", "203.0.113.1:7001")
			if err != nil {
				t.Fatalf("poke: %v\n%s", err, strings.Join(lines, "\n"))
			}
			gotDirect := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "recv direct ") })
			gotOther := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "recv other ") })
			if !gotDirect {
				t.Errorf("the answer from the address it sent to did not arrive: %v", lines)
			}
			if gotOther != tt.wantOther {
				t.Errorf("answer from another port arrived = %v, want %v: %v", gotOther, tt.wantOther, lines)
			}
		})
	}
}

// TestHolePunch: two hosts behind NATs learn each other's mapped address
// from a rendezvous on the internet and send to it. Two restricted NATs
// let that through; a symmetric NAT on either side does not.
func TestHolePunch(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	startEcho(t, lab.Internet(), "203.0.113.1:7001")
	r1 := lab.AddRouter("ra", netlab.NATRestricted).AddHost("a")
	r2 := lab.AddRouter("rb", netlab.NATRestricted).AddHost("b")
	s1 := lab.AddRouter("sc", netlab.NATSymmetric).AddHost("c")
	s2 := lab.AddRouter("sd", netlab.NATSymmetric).AddHost("d")
	tests := []struct {
		name string
		x, y *netlab.Host
		port string
		ok   bool
	}{
		{"restricted-restricted", r1, r2, "40010", true},
		{"symmetric-symmetric", s1, s2, "40011", false},
		{"restricted-symmetric", r1, s2, "40012", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := func(self, peer string) []string {
				return []string{"punch", "-bind", "0.0.0.0:" + tt.port, "-rv", "203.0.113.1:7001",
					"-name", tt.name + self, "-peer", tt.name + peer, "-timeout", "4s"}
			}
			px := tt.x.Start(t, tt.x.Name()+"/punch", natprobe(t), args("x", "y")...)
			py := tt.y.Start(t, tt.y.Name()+"/punch", natprobe(t), args("y", "x")...)
			ex := px.Wait(waitCtx(t, 15*time.Second))
			ey := py.Wait(waitCtx(t, 15*time.Second))
			if got := ex == nil && ey == nil; got != tt.ok {
				t.Errorf("both punched = %v, want %v\nx: %v\n%s\ny: %v\n%s", got, tt.ok, ex, px.Output(), ey, py.Output())
			}
		})
	}
}

// TestSegments checks reachability: hosts behind one router reach each
// other's private address; an isolated LAN reaches only itself; nobody on
// the internet reaches a private address.
func TestSegments(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	startEcho(t, lab.Internet(), "203.0.113.1:7001")
	home := lab.AddRouter("home", netlab.NATRestricted)
	h1, h2 := home.AddHost("h1"), home.AddHost("h2")
	lan := lab.AddLAN("lan")
	l1, l2 := lan.AddHost("l1"), lan.AddHost("l2")
	pub := lab.AddPublicHost("pub")
	startEcho(t, h2, h2.Addr().String()+":7001")
	startEcho(t, l2, l2.Addr().String()+":7001")

	wantAddrs := map[*netlab.Host]string{
		h1: "192.168.1.11", h2: "192.168.1.12", l1: "10.10.1.11", l2: "10.10.1.12", pub: "203.0.113.101",
	}
	for h, want := range wantAddrs {
		if got := h.Addr().String(); got != want {
			t.Errorf("%s: address %s, want %s", h.Name(), got, want)
		}
	}

	tests := []struct {
		name string
		from *netlab.Host
		to   string
		ok   bool
		saw  string // source address the echo must see, when ok
	}{
		{"same LAN, direct", h1, h2.Addr().String() + ":7001", true, h1.Addr().String()},
		{"LAN host to internet", h1, "203.0.113.1:7001", true, home.Addr().String()},
		{"public host to internet", pub, "203.0.113.1:7001", true, pub.Addr().String()},
		{"isolated LAN, direct", l1, l2.Addr().String() + ":7001", true, l1.Addr().String()},
		{"isolated LAN to internet", l1, "203.0.113.1:7001", false, ""},
		{"internet to private address", pub, h2.Addr().String() + ":7001", false, ""},
		{"other LAN to private address", l1, h2.Addr().String() + ":7001", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := runProbe(t, tt.from, "probe", "-to", tt.to, "-timeout", "1500ms")
			if got := err == nil; got != tt.ok {
				t.Fatalf("reached %s = %v, want %v: %v", tt.to, got, tt.ok, lines)
			}
			if tt.ok && !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, " "+tt.saw+":") }) {
				t.Errorf("echo saw %v, want source %s", lines, tt.saw)
			}
		})
	}
}

// TestCleanup: a lab removes every namespace (and with them every veth,
// bridge and iptables rule) and kills its processes when the test ends,
// leaves the root namespace as it was, and a fatally failing test cleans
// up the same way.
func TestCleanup(t *testing.T) {
	rootLinks := func() []string {
		out, err := exec.Command("ip", "-o", "link", "show").Output()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(l); len(f) > 1 {
				names = append(names, f[1])
			}
		}
		return names
	}
	before := rootLinks()
	var nss []string
	var pid int
	t.Run("lab", func(t *testing.T) {
		lab := netlab.New(t, netlab.Config{})
		r := lab.AddRouter("home", netlab.NATSymmetric)
		h := r.AddHost("alice")
		lab.AddLAN("lan").AddHost("bob")
		lab.AddPublicHost("pub")
		p := h.Start(t, "sleeper", "sleep", "300")
		pid = p.Pid()
		nss = lab.Namespaces()
		if len(nss) != 6 {
			t.Errorf("namespaces %v, want 6", nss)
		}
		for _, ns := range nss {
			if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
				t.Errorf("namespace %s: %v", ns, err)
			}
		}
	})
	for _, ns := range nss {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); !os.IsNotExist(err) {
			t.Errorf("namespace %s still exists after cleanup (stat: %v)", ns, err)
		}
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d started in the lab survived its cleanup", pid)
	}
	if after := rootLinks(); !slices.Equal(before, after) {
		t.Errorf("root namespace links changed:\nbefore %v\nafter  %v", before, after)
	}

	t.Run("fatal", func(t *testing.T) {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(waitCtx(t, 60*time.Second), self)
		cmd.Env = append(os.Environ(), childEnv+"=fail")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "deliberate failure") {
			t.Fatalf("child: err %v, want exit 1 after the deliberate failure:\n%s", err, out)
		}
		m := regexp.MustCompile(`lab ([0-9a-f]{8}) pid (\d+)`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("child printed no lab id:\n%s", out)
		}
		if left, _ := filepath.Glob(filepath.Join("/run/netns", childPrefix+"-"+m[1]+"-*")); len(left) > 0 {
			t.Errorf("namespaces left after a failed test: %v\n%s", left, out)
		}
	})
}

// TestSweep: a test process killed with SIGKILL leaves its namespaces; the
// next Sweep removes them and their processes, and leaves live runs alone.
func TestSweep(t *testing.T) {
	live := netlab.New(t, netlab.Config{Prefix: childPrefix})
	live.AddLAN("lan")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"=hang")
	cmd.Stdout = &lineWriter{ch: make(chan string, 100)}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var id string
	var sleeper int
	re := regexp.MustCompile(`lab ([0-9a-f]{8}) pid (\d+)`)
	timeout := time.After(30 * time.Second)
	for id == "" {
		select {
		case l := <-cmd.Stdout.(*lineWriter).ch:
			if m := re.FindStringSubmatch(l); m != nil {
				id = m[1]
				sleeper = atoi(t, m[2])
			}
		case <-timeout:
			t.Fatal("child printed no lab id in 30s")
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	pattern := filepath.Join("/run/netns", childPrefix+"-"+id+"-*")
	left, _ := filepath.Glob(pattern)
	if len(left) != 3 {
		t.Fatalf("after SIGKILL the child left %v, want its 3 namespaces (else this test proves nothing)", left)
	}
	removed, err := netlab.Sweep(childPrefix)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	slices.Sort(left)
	for i := range left {
		left[i] = filepath.Base(left[i])
	}
	if !slices.Equal(removed, left) {
		t.Errorf("Sweep removed %v, want %v", removed, left)
	}
	if again, _ := filepath.Glob(pattern); len(again) > 0 {
		t.Errorf("namespaces left after Sweep: %v", again)
	}
	// The sleeper had Pdeathsig; Sweep kills what might still be inside.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(sleeper, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if syscall.Kill(sleeper, 0) == nil {
		t.Errorf("process %d of the killed run survived", sleeper)
	}
	for _, ns := range live.Namespaces() {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
			t.Errorf("Sweep touched the live run's namespace %s: %v", ns, err)
		}
	}
}

// TestNeedsRoot runs this test binary as an unprivileged user: every test
// must fail and say it needs root.
func TestNeedsRoot(t *testing.T) {
	if err := netlab.CheckPrivileges(); err != nil {
		t.Fatal(err) // dropping privileges needs them first
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "netlab-noroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netlab.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed to drop root: %v", err)
	}
	cmd := exec.CommandContext(waitCtx(t, 60*time.Second), setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "-test.run", "^(TestNATMapping|TestSegments)$", "-test.v")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("unprivileged run: %v, want exit status 1:\n%s", err, out)
	}
	for _, want := range []string{"--- FAIL: TestNATMapping", "--- FAIL: TestSegments", "needs root", "sudo go test -tags netlab"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("unprivileged output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "SKIP") {
		t.Errorf("unprivileged run skipped instead of failing:\n%s", out)
	}
}
