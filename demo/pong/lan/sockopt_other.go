//go:build !unix && !windows

package lan

// setBroadcast does nothing where there are no socket options to set: a
// browser (js/wasm) has no UDP sockets (Go's js/wasm net is an in-process
// fake), so LAN discovery compiles there but finds nothing; on wasip1 and
// plan9 a broadcast send fails, which the Announcer logs and survives like
// any unreachable target.
func setBroadcast(uintptr) error { return nil }
