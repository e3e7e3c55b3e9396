// Package fbenvelope makes a decoder of FlatBuffers messages from peers
// total. The Go FlatBuffers runtime has no verifier: it trusts offsets
// and panics on bytes that do not hold. Decode checks the size, the file
// identifier, the root offset and the wire version, then runs the
// format's own reader under recover, so that any bytes give a message or
// an error wrapping the caller's sentinels, never a panic. Lobby and chat
// share it.
//
//	var format = fbenvelope.Format{ID: "PPLB", Version: 1, MaxSize: 16 << 10,
//		Malformed: ErrMalformed, BadVersion: ErrVersion}
//
//	body, err := fbenvelope.Decode(format, data, func(env *lobbyfb.Envelope) (*lobbyfb.BodyT, error) {
//		var tab flatbuffers.Table
//		if !env.Body(&tab) {
//			return nil, errors.New("no body")
//		}
//		// Check every vector length here, before UnPack allocates for it.
//		return env.BodyType().UnPack(tab), nil
//	})
//
// What the reader checks beyond the envelope (vector lengths before
// unpacking, value ranges after) stays with the format.
package fbenvelope
