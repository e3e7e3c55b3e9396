package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/peerplay/peerplay/demo/pong/identity"
)

// loadIdentity opens the player's identity file (package identity): the
// -identity FILE, or the one of its -name in the user's config directory;
// nil and no error when none can be kept.
func loadIdentity(f flags, log *slog.Logger) (*identity.File, error) {
	if f.identity == "" {
		return identity.ForName(f.name, log)
	}
	id, err := identity.Open(f.identity)
	if errors.Is(err, identity.ErrBusy) {
		return nil, fmt.Errorf("the identity file %s is %v", f.identity, err)
	}
	return id, err
}
