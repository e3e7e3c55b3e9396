//go:build unix

package identity

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestIdentityFile: a pong keeps its identity across runs (the same file,
// the same mesh ID), and a second pong of the same name running at the
// same time gets another one (identity-NAME-2), never a shared one.
func TestIdentityFile(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	log := slog.New(slog.DiscardHandler)
	const name = "bob/../x y"
	first, err := ForName(name, log)
	if err != nil || first == nil {
		t.Fatalf("loadIdentity = %v, %v", first, err)
	}
	if base := filepath.Base(first.Path); base != "identity-bob_.._x_y" {
		t.Errorf("file %s, want identity-bob_.._x_y", first.Path)
	}
	second, err := ForName(name, log)
	if err != nil || second == nil {
		t.Fatalf("second loadIdentity = %v, %v", second, err)
	}
	if second.Path == first.Path || second.ID.ID() == first.ID.ID() {
		t.Fatalf("two running pongs named bob share %s (%s)", first.Path, first.ID.ID())
	}
	// The first one is killed; its restart gets its identity back.
	id := first.ID.ID()
	first.Close()
	again, err := ForName(name, log)
	if err != nil || again == nil {
		t.Fatalf("loadIdentity after the restart = %v, %v", again, err)
	}
	defer again.Close()
	defer second.Close()
	if again.Path != first.Path || again.ID.ID() != id {
		t.Errorf("after a restart: %s %s, want %s %s", again.Path, again.ID.ID(), first.Path, id)
	}
	// -identity FILE: that file, refused while another pong holds it.
	own := filepath.Join(t.TempDir(), "me")
	mine, err := Open(own)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	if _, err := Open(own); !errors.Is(err, ErrBusy) {
		t.Errorf("a second pong opening the -identity file in use: %v, want ErrBusy", err)
	}
	if b, err := os.ReadFile(own); err != nil || len(b) == 0 {
		t.Errorf("the identity file holds %d bytes (%v)", len(b), err)
	}
	// A damaged file is replaced by a new identity.
	mine.Close()
	if err := os.WriteFile(own, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, err := Open(own)
	if err != nil || fresh == nil {
		t.Fatalf("loadIdentity of a damaged file = %v, %v", fresh, err)
	}
	fresh.Close()
}
