//go:build !windows

package e2e

import (
	"os"
	"syscall"
)

// freeze stops a player's process as a hung game loop would (SIGSTOP);
// thaw lets it run again.
func freeze(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }
func thaw(p *os.Process) error   { return p.Signal(syscall.SIGCONT) }
