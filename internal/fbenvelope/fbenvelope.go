package fbenvelope

import (
	"cmp"
	"fmt"
	"strconv"

	flatbuffers "github.com/google/flatbuffers/go"
)

// MinSize is the smallest message any Format accepts, in bytes: a root
// offset, a file identifier and a vtable offset.
const MinSize = 12

// Format describes one FlatBuffers message format: a root table with a
// `version: ubyte` field, finished under a file identifier.
type Format struct {
	// ID is the 4-byte file identifier.
	ID string
	// Version is the one wire version accepted.
	Version byte
	// MaxSize is the largest message accepted, in bytes.
	MaxSize int
	// Label names the message in error texts: "line" gives "line size 9",
	// "bad line identifier" and "line 2" (a version); "" gives "size 9",
	// "bad file identifier" and "2".
	Label string
	// Malformed is the calling package's sentinel that every refusal
	// wraps, except a version other than Version.
	Malformed error
	// BadVersion is the calling package's sentinel for a version other
	// than Version.
	BadVersion error
}

// Root is what flatc generates for a root table with a version field
// (the pointer type, as in *lobbyfb.Envelope).
type Root interface {
	Init(buf []byte, i flatbuffers.UOffsetT)
	Version() byte
}

// Decode checks data's size, file identifier, root offset and version,
// then hands the root table to read and returns what read returns. It is
// total: for any data it returns read's value or an error wrapping
// f.Malformed or f.BadVersion, never a panic.
//
// read runs under recover, since the Go FlatBuffers runtime has no
// verifier and panics on offsets outside the message; a panic, and an
// error read returns (which should not wrap anything), come back wrapped
// in f.Malformed. read must check every vector length against its limits
// before unpacking, so that decoding allocates in proportion to
// len(data). Decode does not retain data; what read returns may alias it.
func Decode[T any, R any, PR interface {
	*R
	Root
}](f Format, data []byte, read func(root PR) (T, error)) (T, error) {
	var zero T
	if len(data) < MinSize || len(data) > f.MaxSize {
		return zero, fmt.Errorf("%w: %s %d", f.Malformed, f.label("size"), len(data))
	}
	if !flatbuffers.BufferHasIdentifier(data, f.ID) {
		return zero, fmt.Errorf("%w: bad %s identifier", f.Malformed, cmp.Or(f.Label, "file"))
	}
	// The runtime slices vectors and strings up to the buffer's capacity,
	// not its length: past the message lie a reused or rounded-up
	// buffer's other bytes, which must read as out of range.
	return unpack(f, data[:len(data):len(data)], read)
}

//go:noinline
func unpack[T any, R any, PR interface {
	*R
	Root
}](f Format, data []byte, read func(root PR) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %v", f.Malformed, r)
		}
	}()
	var zero T
	root := flatbuffers.GetUOffsetT(data)
	if int(root) < 8 || int(root) > len(data)-4 {
		return zero, fmt.Errorf("%w: root offset %d", f.Malformed, root)
	}
	var r R
	t := PR(&r)
	t.Init(data, root)
	if got := t.Version(); got != f.Version {
		return zero, fmt.Errorf("%w: %s", f.BadVersion, f.label(strconv.Itoa(int(got))))
	}
	if v, err = read(t); err != nil {
		return zero, fmt.Errorf("%w: %v", f.Malformed, err)
	}
	return v, nil
}

func (f Format) label(s string) string {
	if f.Label == "" {
		return s
	}
	return f.Label + " " + s
}
