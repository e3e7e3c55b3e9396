package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as a signaling load generator
// process (SigGenMain) for BenchmarkSignalSaturation.
func TestMain(m *testing.M) {
	if os.Getenv("PEERPLAY_BENCH_SIGGEN") == "1" {
		os.Exit(SigGenMain())
	}
	os.Exit(m.Run())
}

// satServers starts signald and the PeerJS server as separate processes,
// each pinned to CPU 1 when the machine has two CPUs (the generators get
// CPU 0).
func satServers(b *testing.B) (servers []*Proc, protos []string, srvCPU, genCPU int) {
	ctx := context.Background()
	srvCPU, genCPU = -1, -1
	if runtime.NumCPU() >= 2 {
		srvCPU, genCPU = 1, 0
	}
	peerjs, err := InstallPeerJS(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	sd, _, err := StartSignald(ctx, filepath.Dir(strings.TrimSpace(string(mod))), b.TempDir(), srvCPU)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sd.Stop)
	pj, _, err := StartPeerJS(ctx, peerjs, srvCPU)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pj.Stop)
	return []*Proc{sd, pj}, []string{"peerplay", "peerjs"}, srvCPU, genCPU
}

// BenchmarkSignalSaturation drives signald and the PeerJS server (separate
// processes pinned to one CPU, generators to the other) to saturation with
// two generator processes of the raw WebSocket client: relay (40 pairs,
// 16 signals in flight each, ~250-byte trickled-candidate messages), offer
// (the same with ~650-byte SDP offers) and churn (16 join-and-leave
// loops). One op is one round: both workloads on
// both servers, 1 s measured each; the metrics are medians over rounds:
// delivered rates and their ratio, the servers' CPU time per op and the
// capacity ratio (PeerJS's CPU per op / signald's: the ratio of their
// ceilings on a dedicated core, whatever share of its core each got on a
// busy machine), where the bytes in flight queued (near 100 %: at the
// servers, so the generators are ahead) and the generators' CPU. bench/cmd/report
// (section sigsat) adds the sweep over 1-3 generator processes.
func BenchmarkSignalSaturation(b *testing.B) {
	servers, protos, srvCPU, genCPU := satServers(b)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	gen := func() *exec.Cmd {
		c := exec.Command(exe, "-test.run=^$")
		c.Env = append(os.Environ(), "PEERPLAY_BENCH_SIGGEN=1")
		return c
	}
	var rate, per, atSrv [3][2][]float64 // [workload][server]
	var genUse [3][]float64
	b.ResetTimer()
	for range b.N {
		for w, workload := range []string{"relay", "offer", "churn"} {
			for i, p := range servers {
				r, err := SigSaturate(context.Background(), SatConfig{Proto: protos[i], Server: p, Workload: workload,
					Procs: 2, Pairs: 40, Window: 16, Workers: 16, Warmup: 300 * time.Millisecond, Measure: time.Second,
					Command: gen, GenCPU: genCPU, ServerCPU: srvCPU})
				if err != nil {
					b.Fatalf("%s %s: %v", workload, protos[i], err)
				}
				rate[w][i] = append(rate[w][i], r.Rate)
				if r.Rate > 0 {
					per[w][i] = append(per[w][i], r.ServerCPU*1e6/r.Rate)
				}
				atSrv[w][i] = append(atSrv[w][i], 100*r.AtServer)
				genUse[w] = append(genUse[w], 100*r.GenCPU)
			}
		}
	}
	b.StopTimer()
	for w, name := range []string{"relay", "offer", "churn"} {
		sd, pj := Median(rate[w][0]), Median(rate[w][1])
		b.ReportMetric(sd, name+"-signald/s")
		b.ReportMetric(pj, name+"-peerjs/s")
		b.ReportMetric(sd/pj, name+"-rate-ratio")
		sdPer, pjPer := Median(per[w][0]), Median(per[w][1])
		b.ReportMetric(sdPer, name+"-signald-cpu-µs/op")
		b.ReportMetric(pjPer, name+"-peerjs-cpu-µs/op")
		b.ReportMetric(pjPer/sdPer, name+"-capacity-ratio")
		b.ReportMetric(min(Median(atSrv[w][0]), Median(atSrv[w][1])), name+"-queued-at-server-%")
		b.ReportMetric(Median(genUse[w]), name+"-gen-cpu%")
	}
}
