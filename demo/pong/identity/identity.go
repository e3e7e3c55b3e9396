// Package identity keeps a pong player's netcode identity (its mesh ID) in
// a file, so that a pong killed mid-match and started again with the same
// command is the same peer and rejoins its seat (pong -host, pong -join
// and plain pong, whose menu hosts and joins, all keep one; -local,
// -replay and -watch do not):
//
//	-identity FILE   that file (created if missing): Open
//	default          os.UserConfigDir()/peerplay-pong/identity-NAME, NAME
//	                 the -name (characters other than letters, digits,
//	                 '.', '_' and '-' become '_'): ForName
//
// Two pongs on one machine with the same name must not share an identity
// (they would be one peer twice): a running pong holds a lock on its file
// (flock; released by the kernel when the process dies, even by SIGKILL),
// and a second pong of the same name takes identity-NAME-2, then -3, and
// so on. A restarted pong therefore gets its old file back once the
// killed process is gone. Where the file cannot be kept (no config
// directory, no file lock: Windows, the browser), each run has a fresh
// identity and a restart cannot rejoin.
//
// It is a package of its own (not in package main) so that its tests run
// without a display: package main links ebiten, whose init needs one.
package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/peerplay/peerplay/netcode"
)

// maxIdentitySlots bounds the identity-NAME-N files tried.
const maxIdentitySlots = 32

// File is an identity and the open, locked file it came from.
type File struct {
	ID   *netcode.Identity
	Path string
	f    *os.File
}

// Close releases the lock.
func (i *File) Close() error {
	if i == nil || i.f == nil {
		return nil
	}
	return i.f.Close()
}

// ErrBusy: another running pong holds the file.
var ErrBusy = errors.New("in use by another running pong")

// ForName opens (or creates) the identity file of a player named name in
// the user's config directory and locks it; nil and no error when no file
// can be kept (then the mesh makes a fresh key).
func ForName(name string, log *slog.Logger) (*File, error) {
	if !identityFiles {
		return nil, nil
	}
	dir, err := os.UserConfigDir()
	if err == nil {
		dir = filepath.Join(dir, "peerplay-pong")
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		log.Debug("pong: no identity file: a restart cannot rejoin", "err", err)
		return nil, nil
	}
	base := "identity-" + fileSafe(name)
	for slot := 1; slot <= maxIdentitySlots; slot++ {
		path := filepath.Join(dir, base)
		if slot > 1 {
			path += fmt.Sprintf("-%d", slot)
		}
		id, err := Open(path)
		if errors.Is(err, ErrBusy) {
			continue
		}
		if err != nil {
			log.Debug("pong: no identity file: a restart cannot rejoin", "path", path, "err", err)
			return nil, nil
		}
		log.Debug("pong: identity", "path", path, "id", id.ID.ID())
		return id, nil
	}
	log.Debug("pong: every identity file of this name is in use: a fresh identity", "name", name)
	return nil, nil
}

// Open locks path and reads its identity, or writes a new one
// when the file is new, empty or unreadable as an identity.
func Open(path string) (*File, error) {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(fh); err != nil {
		fh.Close()
		return nil, err
	}
	b, err := readAll(fh)
	if err != nil {
		fh.Close()
		return nil, err
	}
	id, perr := netcode.ParseIdentity(b)
	if perr != nil {
		// New, or not an identity (cut short by a crash while it was
		// written): make one.
		if id, err = netcode.NewIdentity(); err != nil {
			fh.Close()
			return nil, err
		}
		pem, err := netcode.MarshalIdentity(id)
		if err == nil {
			err = writeAll(fh, pem)
		}
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return &File{ID: id, Path: path, f: fh}, nil
}

func readAll(fh *os.File) ([]byte, error) {
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > 64<<10 {
		return nil, fmt.Errorf("%s: %d bytes is too big for an identity", fh.Name(), st.Size())
	}
	b := make([]byte, st.Size())
	_, err = fh.ReadAt(b, 0)
	return b, err
}

func writeAll(fh *os.File, b []byte) error {
	if err := fh.Truncate(0); err != nil {
		return err
	}
	if _, err := fh.WriteAt(b, 0); err != nil {
		return err
	}
	return fh.Sync()
}

// fileSafe makes a player name usable in a file name.
func fileSafe(name string) string {
	var sb strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.' && sb.Len() > 0, r == '_', r == '-':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
		if sb.Len() >= 64 {
			break
		}
	}
	if sb.Len() == 0 {
		return "player"
	}
	return sb.String()
}
