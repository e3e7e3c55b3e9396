//go:build !unix && !windows

package lan

// setBroadcast does nothing where the OS has no socket options to set
// (js/wasm, wasip1, plan9): there a broadcast send fails, which the
// Announcer logs and survives like any unreachable target.
func setBroadcast(uintptr) error { return nil }
