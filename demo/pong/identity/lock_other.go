//go:build !unix

package identity

import "os"

// identityFiles: no lock here to keep two pongs of the same name apart
// (Windows, the browser), so the identity is kept only with -identity.
const identityFiles = false

// lockFile does nothing: -identity FILE is the player's own choice.
func lockFile(*os.File) error { return nil }
