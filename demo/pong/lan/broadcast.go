//go:build !js

package lan

import (
	"cmp"
	"syscall"
)

// broadcastControl sets SO_BROADCAST on the announcer's socket.
func broadcastControl(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	})
	return cmp.Or(err, serr)
}
