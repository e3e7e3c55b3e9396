//go:build js

package lan

import "syscall"

// broadcastControl: a browser has no UDP sockets (Go's js/wasm net is an
// in-process fake), so LAN discovery compiles there but finds nothing.
func broadcastControl(string, string, syscall.RawConn) error { return nil }
