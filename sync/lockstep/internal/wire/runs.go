package wire

// Run-length encoded inputs (wire version 4, the Runs flag): a game's
// input is usually the same for many frames in a row (an RTS player
// gives a few commands a second, a held key is held), and a datagram
// repeats every input not yet acknowledged by every seat, 12 or more at
// a 200 ms send interval. Runs store each stretch of equal inputs once:
// a count byte (1..255) and the input. Encode uses them only when they
// are smaller than the raw inputs, so inputs that change every frame
// cost what they did in version 3.
//
// What a lying peer can do with a run length: runs carry no frame
// numbers (each starts where the previous ended, from Head.start), so
// runs cannot overlap, leave gaps or address frames out of order; the
// frames a datagram claims are start .. start+n-1 exactly as with raw
// inputs, and the session's checks of them (far future, conflicts with
// inputs held, the ring's room) are unchanged. A run of 0 is malformed
// (no empty padding runs), and the expansion is bounded by what a raw
// datagram could carry (MaxDatagram bytes of inputs), so a 20-byte
// datagram cannot claim more frames than a 1024-byte one could, and
// decoding expands into the Decoder's fixed buffer: no allocation
// whatever the counts say (TestRunsHostile).

// maxRun is the longest run one count byte holds.
const maxRun = 255

// appendRuns writes in (raw inputs of size bytes each) as runs into
// dst[:0] and returns them, or nil if they would not be smaller than in.
func appendRuns(dst, in []byte, size int) []byte {
	if len(in) == 0 {
		return nil
	}
	out := dst[:0]
	for i := 0; i < len(in); {
		v := in[i : i+size]
		n := 1
		for i+n*size < len(in) && n < maxRun && string(in[i+n*size:i+(n+1)*size]) == string(v) {
			n++
		}
		if len(out)+1+size >= len(in) {
			return nil
		}
		out = append(out, byte(n))
		out = append(out, v...)
		i += n * size
	}
	return out
}

// expandRuns expands runs of size-byte inputs into dst (whose length is
// the bound) and returns the raw inputs, or ok false for a zero run, a
// ragged tail or an expansion longer than dst.
func expandRuns(dst, runs []byte, size int) (raw []byte, ok bool) {
	if len(runs) == 0 || len(runs)%(1+size) != 0 {
		return nil, false
	}
	n := 0
	for i := 0; i < len(runs); i += 1 + size {
		c := int(runs[i])
		if c == 0 || n+c*size > len(dst) {
			return nil, false
		}
		v := runs[i+1 : i+1+size]
		for range c {
			n += copy(dst[n:], v)
		}
	}
	return dst[:n], true
}
