package replay

import "errors"

// Errors returned by UnmarshalBinary and Play.
var (
	// ErrFormat means the bytes are not a replay (wrong magic, size or seats).
	ErrFormat = errors.New("replay: malformed replay")
	// ErrVersion means the replay was written by an unknown format version.
	ErrVersion = errors.New("replay: unsupported version")
	// ErrTooLong means the replay has more than MaxFrames frames.
	ErrTooLong = errors.New("replay: too many frames")
	// ErrChecksum means stepping the inputs did not end on the recorded checksum.
	ErrChecksum = errors.New("replay: final checksum differs")
)
