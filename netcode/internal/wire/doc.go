// Package wire holds the byte formats netcode speaks on its data channels,
// with total decoders (every input gives a value or an error, never a
// panic).
//
// Control frames travel on the internal reliable control channel (data
// channel ID 0) and the internal unreliable ping channel (ID 1). Each SCTP
// message is one frame:
//
//	offset size  field
//	0      2     magic "PP"
//	2      1     kind: 1 Hello, 2 Refuse, 3 Bye, 4 Ping, 5 Pong
//	3      ...   body, by kind:
//	  Hello:  u16 protocol version, str8 game ID, str8 build, str8 name,
//	          u8 channel count, count × (u8 reliability, str8 label)
//	  Refuse: u8 reason, str8 detail
//	  Bye:    (empty)
//	  Ping:   u32 sequence, u64 sender time (ns, sender's clock)
//	  Pong:   u32 sequence, u64 the Ping's sender time, echoed
//
// str8 is a u8 length followed by that many bytes; integers are big-endian.
// Trailing bytes after a known body are ignored, so a later version may
// append fields.
//
// Reliable user channels carry messages of any size up to a limit by
// chunking. Every SCTP message on such a channel is one chunk frame:
//
//	offset size  field
//	0      1     kind: 0 Whole, 1 First, 2 Middle, 3 Last
//	1      4     First only: u32 total message length
//	...          payload piece
//
// A message of at most ChunkSize-1 bytes is one Whole frame. A larger one
// is a First frame, zero or more Middle frames and a Last frame, each at
// most ChunkSize bytes; the channel is ordered and reliable, so pieces
// arrive in order and never interleave with another message. Unreliable
// user channels carry the application's bytes unframed.
package wire
