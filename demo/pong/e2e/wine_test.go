package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWindowsBinaryUnderWine runs the Windows release binary (the windowed
// build, cross-compiled from here with no C compiler) under Debian's wine on
// an Xvfb display: a seeded headless bot match must end exactly as the
// Linux binary's does (score, frame, checksum), and each binary must replay
// the other's recording. Same source, two operating systems, one result.
//
// What it cannot do here: a networked match. Go (since 1.24) turns off
// SIO_UDP_NETRESET on every UDP socket it opens on Windows, and Debian
// bookworm's wine 8.0 answers that WSAIoctl with WSAEOPNOTSUPP, so every
// UDP socket (STUN, ICE, LAN beacons) fails to open under this wine. The
// LAN code Windows runs is checked on Linux instead (lan/sockopt_test.go).
//
// Wine 8.0 also lacks bcryptprimitives.dll, which the Go runtime loads at
// start (ProcessPrng); the test links a one-export forwarding DLL
// (ProcessPrng = advapi32.SystemFunction036, the same call with the same
// result) with binutils-mingw-w64 into the test's own wine prefix.
//
// Needs wine64, binutils-mingw-w64-x86-64 and Xvfb (.ci/packages.sh
// installs them). Without them it is skipped, except under CI=true, where
// it fails.
func TestWindowsBinaryUnderWine(t *testing.T) {
	wine := lookWine(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "pong.exe")
	cmd := exec.Command("go", "build", "-o", exe, ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go build: %v\n%s", err, b)
	}
	w := newWinePrefix(t, wine, dir)

	linux := build(t, true)
	args := []string{"-headless", "-seed", "7", "-score", "3", "-record"}
	ls, lf, lc := parseResult(t, "linux", runOK(t, linux, append(args, filepath.Join(dir, "linux.pprp"))...))
	// Relative paths: wine maps the working directory, not /tmp/... names.
	ws, wf, wc := parseResult(t, "windows", w.run(t, exe, append(args, "windows.pprp")...))
	t.Logf("linux: score %s frames %s checksum %s; windows (wine): score %s frames %s checksum %s", ls, lf, lc, ws, wf, wc)
	if ls != ws || lf != wf || lc != wc {
		t.Fatalf("the Windows binary ends the match differently from the Linux one")
	}
	rs, rf, rc := parseResult(t, "windows replays linux", w.run(t, exe, "-headless", "-replay", "linux.pprp"))
	if rs != ls || rf != lf || rc != lc {
		t.Errorf("Windows replay of the Linux recording: %s %s %s, want %s %s %s", rs, rf, rc, ls, lf, lc)
	}
	rs, rf, rc = parseResult(t, "linux replays windows", runOK(t, linux, "-headless", "-replay", filepath.Join(dir, "windows.pprp")))
	if rs != ls || rf != lf || rc != lc {
		t.Errorf("Linux replay of the Windows recording: %s %s %s, want %s %s %s", rs, rf, rc, ls, lf, lc)
	}
}

type winePaths struct{ wine, server, as, ld string }

// lookWine finds wine and the mingw binutils, or skips (fails under CI).
func lookWine(t *testing.T) winePaths {
	t.Helper()
	find := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	// Debian's wine64 package keeps its binaries in /usr/lib/wine; the
	// "wine" package adds /usr/bin wrappers.
	w := winePaths{
		wine:   find("wine64", "/usr/lib/wine/wine64", "wine"),
		server: find("wineserver", "/usr/lib/wine/wineserver"),
		as:     find("x86_64-w64-mingw32-as"),
		ld:     find("x86_64-w64-mingw32-ld"),
	}
	if w.wine == "" || w.server == "" || w.as == "" || w.ld == "" {
		msg := "needs wine64 and binutils-mingw-w64-x86-64 (apt-get install -y wine64 binutils-mingw-w64-x86-64)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return w
}

type winePrefix struct {
	paths winePaths
	dir   string // the working directory of every run
	env   []string
}

// newWinePrefix makes a wine prefix under dir (with the bcryptprimitives
// shim where wine lacks the DLL) and an Xvfb display for it; its
// wineserver is stopped at cleanup.
func newWinePrefix(t *testing.T, p winePaths, dir string) *winePrefix {
	t.Helper()
	w := &winePrefix{paths: p, dir: dir}
	prefix := filepath.Join(dir, "wineprefix")
	w.env = append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=-all", "DISPLAY="+display(t))
	// A persistent wineserver (it detaches), stopped at cleanup with the
	// services wineboot starts.
	server := func(arg string) error {
		cmd := exec.Command(p.server, arg)
		cmd.Env = w.env
		return cmd.Run()
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := server("-p"); err != nil {
		t.Fatalf("wineserver -p: %v", err)
	}
	t.Cleanup(func() {
		_ = server("-k")
		_ = server("-w")
	})
	w.run(t, "wineboot", "-i")
	sys32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	if _, err := os.Stat(filepath.Join(sys32, "bcryptprimitives.dll")); err == nil {
		return w // this wine has it
	}
	def := filepath.Join(dir, "bcryptprimitives.def")
	obj := filepath.Join(dir, "empty.o")
	src := filepath.Join(dir, "empty.s")
	if err := os.WriteFile(def, []byte("LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng = advapi32.SystemFunction036\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte("\t.text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{
		{p.as, "-o", obj, src},
		{p.ld, "--shared", "-e", "0", "-o", filepath.Join(sys32, "bcryptprimitives.dll"), obj, def},
	} {
		if b, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, b)
		}
	}
	return w
}

// run runs a Windows program under wine in w.dir and returns its stdout; a
// non-zero exit fails the test. Output goes through files, not pipes: the
// services wine starts (and the wineserver) inherit the descriptors and
// outlive the program, so a pipe would not see EOF until cleanup.
func (w *winePrefix) run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := os.CreateTemp(w.dir, "stdout-")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.CreateTemp(w.dir, "stderr-")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	cmd := exec.CommandContext(ctx, w.paths.wine, append([]string{prog}, args...)...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = out, errf
	runErr := cmd.Run()
	stdout, _ := os.ReadFile(out.Name())
	if runErr != nil {
		stderr, _ := os.ReadFile(errf.Name())
		t.Fatalf("wine %s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(prog), strings.Join(args, " "), runErr, stdout, stderr)
	}
	return string(stdout)
}
