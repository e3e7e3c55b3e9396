// Package bench measures Peerplay against the physical limits and the
// alternatives, side by side in one run: loopback round trips (raw UDP,
// raw pion data channel, netcode Channel, lockstep frame), reliable
// throughput, codec cost, bytes on the wire, mesh formation, input delay
// and stalls under impairment, signaling against the PeerJS server, and
// the CPU of a peer in an 8-peer mesh.
//
// Quick start:
//
//	go test -run '^$' -bench . ./bench/     # every benchmark
//	go run ./bench/cmd/report              # the full comparison → bench/REPORT.md + PNGs
//
// The measurements are exported functions (RTT, PionThroughput,
// ConnThroughput, ...), so the benchmarks in this package and the report
// command run the same code. Every benchmark also works with
// -benchtime 1x (the CI smoke).
package bench
