package lan

import (
	"cmp"
	"syscall"
)

// broadcastControl is the net.ListenConfig.Control of the Announcer's
// socket: it allows sending to broadcast addresses (SO_BROADCAST), without
// which a send to 255.255.255.255 fails with EACCES on Linux and WSAEACCES
// on Windows. The option itself is set by setBroadcast, one per OS family
// (sockopt_unix.go, sockopt_windows.go, sockopt_other.go): a socket is an
// int on unix and a syscall.Handle on Windows, so no single cast builds
// everywhere. Package net sets SO_BROADCAST on datagram sockets itself
// today (Linux and Windows both); setting it here keeps LAN discovery from
// depending on that default.
func broadcastControl(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = setBroadcast(fd) })
	return cmp.Or(err, serr)
}
