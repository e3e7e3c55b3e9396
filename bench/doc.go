// Package bench measures Peerplay against the physical limits and the
// alternatives, side by side in one run, and holds the code of those
// measurements: loopback round trips (raw UDP, raw pion data channel,
// netcode Channel, lockstep frame), reliable throughput (raw pion, netcode,
// chat), the lockstep codec against a hand-written baseline, bytes on the
// wire, mesh formation, input delay and stalls under impairment, our
// signaling server against the PeerJS server, the CPU and upload of
// peers in a mesh at 60 Hz, the RTS profile (8 players, 60 Hz, a
// lockstep datagram every 200 ms: upload with SACKs and STUN counted at
// the UDP socket and broken down by kind (WireCounter tells STUN, 65-byte
// SCTP control packets and DATA apart by first byte and size;
// WireBreakdown adds netcode's per-channel message counts), delay and
// stalls vs RTT) and the adaptive delay of two peers with a CPU hog
// pinned beside one. bench/patches holds the pion/sctp change the RTS
// figures were also measured with (not used by the module).
//
// Quick start:
//
//	go test -run '^$' -bench . ./bench/    # every benchmark
//	go run ./bench/cmd/report             # the full comparison: bench/REPORT.md + PNG plots (~8 min)
//
// The measurements are exported functions (RTT with a Pinger, LockstepRTT,
// PionThroughput, ConnThroughput, ChatThroughput, JoinMeshes,
// RunSweepCell, RelaySweep, SigSaturate, IdleConns, RunMeshGame, RunPeer,
// DatagramSizes; with options RunMeshGameWith, RunPeerWith and the
// 8-seat RunGroupCell), so
// the benchmarks here and the report command run the same code.
//
// # Benchmarks and the CI smoke
//
// CI runs `go test -run '^$' -bench . -benchtime 1x ./bench/...`: every
// benchmark works at b.N = 1 and takes at most a few seconds. One op is
// one round trip (BenchmarkRTT*, with p50-µs and p99-µs), one message
// (BenchmarkThroughput*, msgs/s), one encode or decode
// (BenchmarkCodecBaseline), one mesh formed (BenchmarkMeshFormation,
// ms/mesh), one offered signal (BenchmarkSignalRelay: an in-process
// server at 2,000 signals/s for at least 100 ms), one 60 Hz tick of an
// 8-peer lockstep mesh (BenchmarkMeshGame: at least 250 ms;
// BenchmarkRTSUpload: every tick, then every 200 ms, at least 1 s each,
// with the ratio). The heavy parts run only in bench/cmd/report: the
// PeerJS comparison (it needs node and npm), 10,000 idle WebSocket
// connections, the 30 s CPU run with one process per peer (sections cpu
// and rts), two pinned peer processes with a CPU hog (load), and
// the full impairment grid (TestImpairmentSweep with -sweep.out; without
// it the test plays four corners of the grid and asserts only
// correctness).
//
// # Signaling saturation
//
// SigSaturate loads one server process with 1..N generator processes
// (commands whose main calls SigGenMain: the bench test binary, or
// bench/cmd/report -siggen), each speaking the server's protocol with a
// hand-written WebSocket client (wsraw.go: pre-built frames masked with a
// non-zero key, many per write, received frames parsed in place), so a
// generator costs less CPU per signal than either server. Closed loop:
// relay keeps a window of signals in flight per client pair; churn
// opens, joins and leaves in a loop. Over the measured window it reads
// the server's CPU time, the generators' own, and where the bytes in
// flight wait (unread TCP receive queues in /proc/net/tcp: at the
// server's sockets means the server is the bottleneck). On a shared
// machine a pinned server gets only part of its core, so the comparison
// that holds is server CPU per op (ceiling on a dedicated core = its
// inverse), besides the delivered rates measured back to back.
//
// # Rules the figures follow
//
// Every comparison is a ratio measured in the same run, on the same
// machine, with the rungs interleaved; figures are medians over repeats,
// latency as percentiles of individual samples (nearest rank). Traffic
// goes only to 127.0.0.1: pion agents are restricted to loopback UDP4
// with mDNS off, servers listen on 127.0.0.1. Nothing here asserts a
// time: tests assert behaviour (identical inputs, codec round trips), and
// the figures go to the report.
package bench
