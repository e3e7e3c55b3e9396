//go:build unix

package identity

import (
	"errors"
	"os"
	"syscall"
)

// identityFiles: this platform keeps identity files.
const identityFiles = true

// lockFile takes an exclusive lock on fh without waiting; the kernel
// drops it when the process ends, however it ends.
func lockFile(fh *os.File) error {
	err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrBusy
	}
	return err
}
