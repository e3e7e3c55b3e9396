package e2e

import (
	"errors"
	"os"
)

// Windows has no SIGSTOP: the GUI tests that freeze a player run on Linux
// (Xvfb); these keep the package compiling (and vetted) for Windows.
func freeze(*os.Process) error {
	return errors.New("e2e: freezing a process needs SIGSTOP (not on Windows)")
}
func thaw(*os.Process) error { return nil }
