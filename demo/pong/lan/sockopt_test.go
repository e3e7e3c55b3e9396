//go:build unix

package lan

import (
	"errors"
	"syscall"
	"testing"
)

// The Announcer's socket setup is broadcastControl (shared by every OS:
// RawConn.Control and its errors) plus one setBroadcast per OS family. The
// Windows setBroadcast differs from this one only in the descriptor's type,
// which CI's cross-build checks; these tests run the shared part here.

// rawSocket is a UDP socket made without package net, which sets
// SO_BROADCAST on every datagram socket by itself and so would hide a
// setBroadcast that does nothing.
func rawSocket(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return fd
}

func broadcastOpt(t *testing.T, fd int) int {
	t.Helper()
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fdRawConn runs Control's function on a given descriptor, or fails.
type fdRawConn struct {
	syscall.RawConn
	fd  int
	err error
}

func (c fdRawConn) Control(f func(uintptr)) error {
	if c.err != nil {
		return c.err
	}
	f(uintptr(c.fd))
	return nil
}

func TestBroadcastControlSetsSOBroadcast(t *testing.T) {
	fd := rawSocket(t)
	if v := broadcastOpt(t, fd); v != 0 {
		t.Fatalf("a new socket has SO_BROADCAST=%d; the test cannot tell", v)
	}
	if err := broadcastControl("udp4", "0.0.0.0:0", fdRawConn{fd: fd}); err != nil {
		t.Fatal(err)
	}
	if v := broadcastOpt(t, fd); v == 0 {
		t.Errorf("SO_BROADCAST = 0 after broadcastControl, want set")
	}
}

func TestBroadcastControlReportsErrors(t *testing.T) {
	errControl := errors.New("control failed")
	if err := broadcastControl("udp4", "", fdRawConn{err: errControl}); !errors.Is(err, errControl) {
		t.Errorf("failing Control: broadcastControl = %v, want %v", err, errControl)
	}
	// setsockopt on a descriptor that is not open fails: EBADF.
	if err := broadcastControl("udp4", "", fdRawConn{fd: -1}); !errors.Is(err, syscall.EBADF) {
		t.Errorf("bad descriptor: broadcastControl = %v, want EBADF", err)
	}
}
