// Command report runs Peerplay's full benchmark comparison on this machine
// and writes bench/REPORT.md with PNG plots beside it. Run it from the
// module root:
//
//	go run ./bench/cmd/report            # about 13 minutes on 2 cores
//	go run ./bench/cmd/report -quick     # a few seconds per section, to try the command
//
// It needs Go, node and npm (the PeerJS server pinned by bench/peerjs's
// lockfile is installed with npm ci into the user cache directory, once),
// taskset (util-linux) to pin the signaling servers and their load
// generators (section sigsat: about 5 minutes more), and
// only loopback networking. Every comparison is measured in this run;
// figures are medians over -repeats repeats.
package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/peerplay/peerplay/bench"
)

type report struct {
	quick   bool
	repeats int
	out     string // bench/
	module  string
	// noRTSSweep skips the rts section's memnet sweep (-rts-nosweep).
	noRTSSweep bool
	md         bytes.Buffer
	targets    []target

	// From the codec section, for the wire section: the steady 2-seat
	// datagram's size, FlatBuffers and hand-written (0 if not run).
	steadyFB, steadyBase float64

	satWorkloads string // section sigsat: "relay,offer,churn", or some of them
}

// target is one line of the targets table.
type target struct {
	what, goal, got string
	met             bool
	why             string
}

func (r *report) printf(format string, a ...any) { fmt.Fprintf(&r.md, format, a...) }

func (r *report) target(what, goal, got string, met bool, why string) {
	r.targets = append(r.targets, target{what, goal, got, met, why})
}

func main() {
	quick := flag.Bool("quick", false, "small sizes: check that the command works, not a measurement")
	repeats := flag.Int("repeats", 5, "repeats of each comparison (figures are medians)")
	only := flag.String("only", "", "comma-separated sections to run (rtt,throughput,codec,wire,mesh,sweep,signaling,sigsat,cpu,rts,load); empty = all")
	// The report starts itself once per peer for the multi-process CPU
	// run (section 8) with these flags.
	peerURL := flag.String("peer-url", "", "internal: run as one peer process of the CPU run, joining this signaling URL")
	peerName := flag.String("peer-name", "", "internal: the peer's name")
	peerN := flag.Int("peer-n", 0, "internal: peers in the game")
	peerMeasure := flag.Duration("peer-measure", 0, "internal: measured window")
	peerSend := flag.Duration("peer-send", 0, "internal: lockstep send interval (>0: the RTS profile)")
	peerCommands := flag.Bool("peer-commands", false, "internal: play bench.RTSInput (a command every 20 ticks)")
	peerChecksum := flag.Int("peer-checksum", 0, "internal: lockstep checksum interval (0: default)")
	noRTSSweep := flag.Bool("rts-nosweep", false, "rts section: only the peer processes, not the memnet RTT sweep")
	outFile := flag.String("o", "", "write the report here instead of bench/REPORT.md")
	hog := flag.Bool("hog", false, "internal: spin as the CPU hog of the load section until killed")
	satWorkloads := flag.String("sigsat-workloads", "relay,offer,churn", "section sigsat: the workloads to run (relay, offer, churn)")
	siggen := flag.Bool("siggen", false, "internal: run as a signaling load generator process (section sigsat)")
	flag.Parse()
	if *siggen {
		os.Exit(bench.SigGenMain())
	}
	if *hog {
		os.Exit(runHog())
	}
	log.SetFlags(log.Ltime)
	if *peerURL != "" {
		os.Exit(runPeerProcess(*peerURL, *peerName, *peerN, *peerMeasure, *peerSend, *peerCommands, *peerChecksum))
	}

	raiseNoFile()
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(mod)) == 0 {
		log.Fatalf("report: run it inside the module (go env GOMOD: %v)", err)
	}
	r := &report{quick: *quick, repeats: *repeats, module: filepath.Dir(string(bytes.TrimSpace(mod))), satWorkloads: *satWorkloads}
	r.out = filepath.Join(r.module, "bench")
	r.noRTSSweep = *noRTSSweep
	if r.quick && *repeats == 5 {
		r.repeats = 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	sections := []struct {
		name string
		run  func(context.Context) error
	}{
		{"rtt", r.rtt},
		{"throughput", r.throughput},
		{"codec", r.codec},
		{"wire", r.wire},
		{"mesh", r.mesh},
		{"sweep", r.sweep},
		{"signaling", r.signaling},
		{"sigsat", r.sigsat},
		{"cpu", r.cpu},
		{"rts", r.rts},
		{"load", r.load},
	}
	start := time.Now()
	r.header()
	body := r.md.Len()
	for _, s := range sections {
		if *only != "" && !strings.Contains(","+*only+",", ","+s.name+",") {
			continue
		}
		t0 := time.Now()
		log.Printf("section %s", s.name)
		if err := s.run(ctx); err != nil {
			log.Printf("section %s FAILED: %v", s.name, err)
			r.printf("\n**Section %s failed in this run:** `%v`\n", s.name, err)
		}
		log.Printf("section %s done in %s", s.name, time.Since(t0).Round(time.Second))
	}
	sectionsMD := append([]byte(nil), r.md.Bytes()[body:]...)
	r.md.Truncate(body)
	r.targetTable()
	r.md.Write(sectionsMD)
	r.printf("\n---\nFull run took %s. Load average at the end: %s (other work on the machine shows here; it widens the spread of latency tails between repeats).\n", time.Since(start).Round(time.Second), loadAvg())
	file := cmp.Or(*outFile, filepath.Join(r.out, "REPORT.md"))
	if err := os.WriteFile(file, r.md.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s in %s", file, time.Since(start).Round(time.Second))
}

// raiseNoFile lifts the open-file limit to its hard maximum for this
// process and the servers it starts (10,000 WebSocket connections).
func raiseNoFile() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	l.Cur = l.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}

func (r *report) header() {
	var u syscall.Utsname
	_ = syscall.Uname(&u)
	rel := utsString(u.Release[:])
	sha, _ := exec.Command("git", "-C", r.module, "rev-parse", "--short", "HEAD").Output()
	var lim syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	r.printf("# Peerplay benchmark report\n\n")
	if r.quick {
		r.printf("> **-quick run: sizes too small to be measurements.**\n\n")
	}
	r.printf("Generated by `go run ./bench/cmd/report` on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	r.printf("| Machine | |\n|---|---|\n")
	r.printf("| CPU | %s, %d cores (`nproc`) |\n", bench.CPUModel(), runtime.NumCPU())
	r.printf("| OS | Linux %s, %s/%s |\n", rel, runtime.GOOS, runtime.GOARCH)
	r.printf("| Go | %s (GOMAXPROCS %d) |\n", runtime.Version(), runtime.GOMAXPROCS(0))
	r.printf("| Node | %s (PeerJS server only) |\n", bench.NodeVersion())
	r.printf("| Commit | %s |\n", strings.TrimSpace(string(sha)))
	r.printf("| Open files limit | %d |\n", lim.Cur)
	r.printf("| Load average at start | %s (1, 5, 15 min; 2 cores) |\n", loadAvg())
	r.printf("| pion | webrtc/v4 v4.2.26, datachannel v1.6.4, sctp v1.12.1 |\n\n")
	r.printf("Method: every comparison below is measured in this run, on this machine, with both sides in the same conditions; "+
		"a ratio is computed within each repeat and the median over %d repeats is reported (min–max in brackets where useful). "+
		"Latency figures are percentiles of individual round trips (nearest rank). "+
		"The machine is shared (other processes may run), which shows as spread between repeats; ratios are more stable than absolute figures. "+
		"Everything runs on loopback (127.0.0.1) — no real network delay, so the figures show software cost, not internet latency.\n\n", r.repeats)
}

func utsString(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func (r *report) targetTable() {
	r.printf("## Targets (issue 8)\n\n| Target | Goal | This run | Met |\n|---|---|---|---|\n")
	for _, t := range r.targets {
		met := "yes"
		if !t.met {
			met = "**no**"
		}
		r.printf("| %s | %s | %s | %s |\n", t.what, t.goal, t.got, met)
	}
	var why []string
	for _, t := range r.targets {
		if !t.met && t.why != "" {
			why = append(why, fmt.Sprintf("- **%s**: %s", t.what, t.why))
		}
	}
	if len(why) > 0 {
		r.printf("\nWhere a target is missed, why:\n\n%s\n", strings.Join(why, "\n"))
	}
	r.printf("\n")
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
