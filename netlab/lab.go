package netlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Addresses of the lab. They exist only inside the namespaces a Lab
// creates; nothing outside them is ever a target.
var (
	// InternetPrefix is the "public internet": documentation range
	// TEST-NET-3, one bridge in the internet namespace.
	InternetPrefix = netip.MustParsePrefix("203.0.113.0/24")
	// InternetAddr is the internet namespace's own address on that bridge;
	// servers (signald) listen here, and it is every public host's and
	// router's default gateway.
	InternetAddr = netip.MustParseAddr("203.0.113.1")
	// InternetAddr2 is a second server address of the internet namespace in
	// another documentation range (TEST-NET-2), reached through
	// InternetAddr: a second "server on another network" for NAT probes.
	InternetAddr2 = netip.MustParseAddr("198.51.100.1")
)

// DefaultPrefix names every namespace a Lab creates:
// "<prefix>-<run id>-<name>". Sweeps only touch names with this prefix.
const DefaultPrefix = "pplab"

// cmdTimeout bounds each ip/iptables/sysctl invocation.
const cmdTimeout = 15 * time.Second

// lockDir holds one flock'ed file per live run; a run whose lock nobody
// holds is stale. /run is a tmpfs, like /run/netns, so both vanish together
// on reboot.
var lockDir = "/run/netlab"

// Config configures a Lab. The zero value is the default.
type Config struct {
	// Prefix names the namespaces; "" means DefaultPrefix. It must be
	// lower-case letters and digits, at most 12 of them.
	Prefix string
}

// Lab is one topology of network namespaces: an internet namespace with a
// bridge, and whatever routers, hosts and isolated LANs a test adds.
// Everything it creates lives inside its namespaces (veth pairs are created
// directly in them, iptables rules are per namespace), so deleting the
// namespaces removes every interface, bridge and rule; New registers that
// with tb.Cleanup.
//
// A Lab's methods call tb.Fatal on failure, so call them from the test's
// goroutine. It is not safe for concurrent use.
type Lab struct {
	tb     testing.TB
	prefix string
	id     string // run id, 8 hex digits
	lock   *os.File

	mu  sync.Mutex // guards nss
	nss []string   // namespaces created, in order

	inet     *Host
	routers  int
	publics  int
	lans     int
	lans6    int
	names    map[string]bool
	teardown bool
}

var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// New builds the internet namespace of a new lab after sweeping namespaces
// left by earlier runs with the same prefix whose process is gone. It fails
// the test with ErrNeedRoot when not run as root, and with ErrMissingTool
// when ip, iptables or sysctl is missing. Teardown runs in tb.Cleanup, even
// when the test fails.
func New(tb testing.TB, cfg Config) *Lab {
	tb.Helper()
	if err := CheckPrivileges(); err != nil {
		tb.Fatal(err)
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !prefixRE.MatchString(prefix) {
		tb.Fatalf("netlab: invalid prefix %q (want %s)", prefix, prefixRE)
	}
	if removed, err := Sweep(prefix); err != nil {
		tb.Fatalf("netlab: sweeping stale namespaces: %v", err)
	} else if len(removed) > 0 {
		tb.Logf("netlab: removed %d stale namespaces of aborted runs: %s", len(removed), strings.Join(removed, " "))
	}
	l := &Lab{tb: tb, prefix: prefix, names: map[string]bool{}}
	if err := l.acquire(); err != nil {
		tb.Fatalf("netlab: %v", err)
	}
	tb.Cleanup(l.close)

	ns := l.addNS("inet")
	l.must(ipCmd("-n", ns, "link", "add", "inet0", "type", "bridge", "forward_delay", "0"))
	l.must(ipCmd("-n", ns, "addr", "add", InternetAddr.String()+"/24", "dev", "inet0"))
	l.must(ipCmd("-n", ns, "addr", "add", InternetAddr2.String()+"/24", "dev", "inet0"))
	l.must(ipCmd("-n", ns, "link", "set", "inet0", "up"))
	l.inet = &Host{lab: l, name: "inet", ns: ns, addr: InternetAddr}
	return l
}

// CheckPrivileges returns ErrNeedRoot unless the process runs as root, and
// ErrMissingTool (naming the tool) when ip, iptables or sysctl is missing.
func CheckPrivileges() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w (running as uid %d)", ErrNeedRoot, os.Geteuid())
	}
	for _, tool := range []string{"ip", "iptables", "sysctl"} {
		if _, err := lookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found", ErrMissingTool, tool)
		}
	}
	return nil
}

// lookPath also searches the sbin directories, which a non-login root
// shell may lack in PATH.
func lookPath(tool string) (string, error) {
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, tool)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// ID is the run id shared by every namespace of the lab.
func (l *Lab) ID() string { return l.id }

// Namespaces lists the namespaces the lab created so far, in order.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.nss...)
}

// Internet is the internet namespace as a host: it has InternetAddr and
// InternetAddr2, and is where servers such as signald run.
func (l *Lab) Internet() *Host { return l.inet }

func (l *Lab) nsName(name string) string { return l.prefix + "-" + l.id + "-" + name }

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

func (l *Lab) checkName(name string) {
	l.tb.Helper()
	if !nameRE.MatchString(name) || name == "inet" {
		l.tb.Fatalf("netlab: invalid name %q (want %s, not \"inet\")", name, nameRE)
	}
	if l.names[name] {
		l.tb.Fatalf("netlab: name %q used twice", name)
	}
	l.names[name] = true
}

// addNS creates a namespace with lo up and IPv6 off (the lab is IPv4 only,
// which keeps ICE candidate lists short and deterministic).
func (l *Lab) addNS(name string) string {
	l.tb.Helper()
	ns := l.nsName(name)
	l.must(ipCmd("netns", "add", ns))
	l.mu.Lock()
	l.nss = append(l.nss, ns)
	l.mu.Unlock()
	l.must(ipCmd("-n", ns, "link", "set", "lo", "up"))
	l.must(nsCmd(ns, "sysctl", "-q", "-w",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"))
	return ns
}

// veth creates a veth pair with one end in each namespace, created there
// directly: no interface ever appears in the root namespace.
func (l *Lab) veth(nsA, nameA, nsB, nameB string) {
	l.tb.Helper()
	l.must(ipCmd("link", "add", "name", nameA, "netns", nsA, "type", "veth", "peer", "name", nameB, "netns", nsB))
}

func (l *Lab) must(out []byte, err error) []byte {
	l.tb.Helper()
	if err != nil {
		l.tb.Fatalf("netlab: %v", err)
	}
	return out
}

// ipCmd runs ip(8) with a bounded timeout; the error carries its output.
func ipCmd(args ...string) ([]byte, error) { return run("ip", args...) }

// nsCmd runs a command inside a namespace with a bounded timeout.
func nsCmd(ns string, args ...string) ([]byte, error) {
	return run("ip", append([]string{"netns", "exec", ns}, args...)...)
}

func run(tool string, args ...string) ([]byte, error) {
	path, err := lookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found", ErrMissingTool, tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = toolEnv()
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// toolEnv is the environment for ip/iptables/sysctl: the caller's, with the
// sbin directories on PATH (ip netns exec looks its command up in PATH).
func toolEnv() []string {
	env := os.Environ()
	for i, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			env[i] = "PATH=" + p + ":/usr/sbin:/sbin"
			return env
		}
	}
	return append(env, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
}

// acquire picks a run id and publishes its lock file. The file is created
// under a temporary name, flock'ed, then renamed into place, so any lock
// file a sweeper can see is already held by its live owner.
func (l *Lab) acquire() error {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return err
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	l.id = hex.EncodeToString(b[:])
	tmp, err := os.CreateTemp(lockDir, ".tmp-*")
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("locking %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), lockPath(l.prefix, l.id)); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	l.lock = tmp
	return nil
}

func lockPath(prefix, id string) string {
	return filepath.Join(lockDir, prefix+"-"+id+".lock")
}

// close kills every process left in the lab's namespaces and deletes them
// (which removes their interfaces, bridges and iptables rules), then
// releases the run lock. Failures fail the test.
func (l *Lab) close() {
	if l.teardown {
		return
	}
	l.teardown = true
	if l.tb.Failed() {
		l.dump()
	}
	nss := l.Namespaces()
	var errs []error
	for i := len(nss) - 1; i >= 0; i-- {
		if err := removeNS(nss[i]); err != nil {
			errs = append(errs, err)
		}
	}
	if l.lock != nil {
		os.Remove(lockPath(l.prefix, l.id))
		l.lock.Close()
	}
	if err := errors.Join(errs...); err != nil {
		l.tb.Errorf("netlab: teardown: %v", err)
	}
	// Prove it: nothing with our run id may remain.
	if left := listNS(l.prefix + "-" + l.id + "-"); len(left) > 0 {
		l.tb.Errorf("netlab: teardown left namespaces: %v", left)
	}
}

// dump logs addresses, routes and NAT rules of every namespace, for a
// failed test's log.
func (l *Lab) dump() {
	for _, ns := range l.Namespaces() {
		addr, _ := ipCmd("-n", ns, "-br", "-4", "addr")
		nat, _ := nsCmd(ns, "iptables", "-t", "nat", "-S", "POSTROUTING")
		ct, _ := nsCmd(ns, "cat", "/proc/net/nf_conntrack")
		l.tb.Logf("netlab: %s:\n%s%s%s", ns, addr, nat, ct)
	}
}

// removeNS kills the processes inside ns, then deletes it.
func removeNS(ns string) error {
	if out, err := ipCmd("netns", "pids", ns); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if _, err := ipCmd("netns", "del", ns); err != nil {
		if _, statErr := os.Stat(filepath.Join("/run/netns", ns)); os.IsNotExist(statErr) {
			return nil
		}
		return err
	}
	return nil
}

// listNS lists the named namespaces starting with prefix.
func listNS(prefix string) []string {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// Sweep deletes the namespaces "<prefix>-<id>-*" of every run whose lock
// file is gone or no longer held, i.e. whose test process died without
// cleaning up (SIGKILL, a machine reset of the test binary, a timeout
// panic). Live runs of parallel test processes hold their lock and are left
// alone. It returns the namespaces it removed.
func Sweep(prefix string) ([]string, error) {
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("netlab: invalid prefix %q", prefix)
	}
	idRE := regexp.MustCompile(`^` + prefix + `-([0-9a-f]{8})-`)
	runs := map[string][]string{}
	for _, ns := range listNS(prefix + "-") {
		if m := idRE.FindStringSubmatch(ns); m != nil {
			runs[m[1]] = append(runs[m[1]], ns)
		}
	}
	// Lock files without namespaces (a run that died before creating any)
	// are swept too.
	if entries, err := os.ReadDir(lockDir); err == nil {
		for _, e := range entries {
			if id, ok := strings.CutSuffix(strings.TrimPrefix(e.Name(), prefix+"-"), ".lock"); ok && len(id) == 8 && strings.HasPrefix(e.Name(), prefix+"-") {
				if _, seen := runs[id]; !seen {
					runs[id] = nil
				}
			}
		}
	}
	var removed []string
	var errs []error
	for id, nss := range runs {
		f, stale := staleLock(lockPath(prefix, id))
		if !stale {
			continue
		}
		for _, ns := range nss {
			if err := removeNS(ns); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, ns)
		}
		if f != nil {
			os.Remove(f.Name())
			f.Close()
		}
	}
	return removed, errors.Join(errs...)
}

// staleLock reports whether the run owning path is gone. When the file
// exists and we got its lock, the open file is returned (locked) so the
// caller can remove it while still holding it.
func staleLock(path string) (*os.File, bool) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, os.IsNotExist(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false // held: a live run
	}
	return f, true
}
