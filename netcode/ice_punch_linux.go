//go:build linux

package netcode

import (
	"syscall"
	"unsafe"
)

// ttlControl returns the control message (IP_TTL) that sends one IPv4
// datagram with the given TTL.
func ttlControl(ttl int32) []byte {
	b := make([]byte, syscall.CmsgSpace(4))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = syscall.IPPROTO_IP, syscall.IP_TTL
	h.SetLen(syscall.CmsgLen(4))
	*(*int32)(unsafe.Pointer(&b[syscall.CmsgLen(0)])) = ttl
	return b
}
