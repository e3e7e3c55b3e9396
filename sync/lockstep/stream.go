package lockstep

import "encoding/binary"

// The spectator stream (see the package doc, "Spectators and catch-up"):
// messages on a Reliable transport.Conn between a Streamer and its
// subscribers. Every message starts with the 4-byte magic "PPS1", a kind
// byte and the 32-bit game tag (GameTag of Config.GameID); then, little
// endian:
//
//	subscribe  want (1 byte: 1 inputs and checksums, 2 checksums only,
//	           3 inputs and checksums from a frame: then from i32, the
//	           resume of a spectator that switched source, see
//	           "Source failover" in the package doc); a subscriber's
//	           new subscribe replaces its old one
//	snapshot   frame i32, sum u64, has-sum u8, total u32, offset u32, bytes
//	           (one chunk of the game's state after frame)
//	inputs     start i32, seats u8, input size u8, count u16, then count
//	           records: dropped mask u16, seats × input size bytes
//	checksum   frame i32, sum u64
//	refused    reason u8 (1: the log no longer starts at frame 0 and the
//	           game gives no snapshots)
//	end        end frame i32: the stream is over, no frame from it on
//	           will come (Streamer.End), so a spectator returns the
//	           frames it held back for its Delay
//
// The decoder is total (fuzzed by FuzzStreamMessage): anything else is
// errBadStream, counted by the receiver and dropped.

const (
	streamMagic = "PPS1"
	// streamChunk is the largest snapshot chunk, and the target size of an
	// inputs message (netcode chunks larger messages itself; smaller ones
	// interleave with the live stream instead of blocking it).
	streamChunk = 16 << 10
	// MaxSnapshot is the largest snapshot a stream carries, in bytes.
	MaxSnapshot = 16 << 20
	streamHead  = len(streamMagic) + 1 + 4
)

// Stream message kinds.
const (
	smUnknown uint8 = iota
	smSubscribe
	smSnapshot
	smInputs
	smChecksum
	smRefused
	smEnd
)

// Subscription wants.
const (
	wantInputs    uint8 = 1
	wantChecksums uint8 = 2
	wantResume    uint8 = 3 // inputs from a frame (streamMsg.frame)
)

// streamMsg is one decoded stream message; Data aliases the input.
type streamMsg struct {
	kind   uint8
	game   uint32
	want   uint8
	frame  Frame // snapshot, checksum: the frame; inputs: the first frame; subscribe: resume from
	sum    uint64
	hasSum bool
	total  int // snapshot: the state's size
	offset int // snapshot: this chunk's offset
	seats  int
	isize  int
	count  int
	data   []byte // snapshot: the chunk; inputs: the records
}

func appendStreamHead(b []byte, kind uint8, game uint32) []byte {
	b = append(b, streamMagic...)
	b = append(b, kind)
	return binary.LittleEndian.AppendUint32(b, game)
}

func decodeStream(b []byte, m *streamMsg) error {
	*m = streamMsg{}
	if len(b) < streamHead || string(b[:4]) != streamMagic {
		return errBadStream
	}
	m.kind = b[4]
	m.game = binary.LittleEndian.Uint32(b[5:])
	b = b[streamHead:]
	switch m.kind {
	case smSubscribe:
		switch {
		case len(b) == 1 && (b[0] == wantInputs || b[0] == wantChecksums):
		case len(b) == 5 && b[0] == wantResume:
			m.frame = Frame(int32(binary.LittleEndian.Uint32(b[1:])))
			if m.frame < 0 || m.frame > maxStreamFrame {
				return errBadStream
			}
		default:
			return errBadStream
		}
		m.want = b[0]
	case smSnapshot:
		if len(b) < 21 {
			return errBadStream
		}
		m.frame = Frame(int32(binary.LittleEndian.Uint32(b)))
		m.sum = binary.LittleEndian.Uint64(b[4:])
		m.hasSum = b[12] == 1
		total := binary.LittleEndian.Uint32(b[13:])
		off := binary.LittleEndian.Uint32(b[17:])
		m.data = b[21:]
		if b[12] > 1 || m.frame < 0 || total > MaxSnapshot || off > total ||
			uint64(off)+uint64(len(m.data)) > uint64(total) || len(m.data) > streamChunk {
			return errBadStream
		}
		m.total, m.offset = int(total), int(off)
	case smInputs:
		if len(b) < 8 {
			return errBadStream
		}
		m.frame = Frame(int32(binary.LittleEndian.Uint32(b)))
		m.seats, m.isize = int(b[4]), int(b[5])
		m.count = int(binary.LittleEndian.Uint16(b[6:]))
		m.data = b[8:]
		rec := 2 + m.seats*m.isize
		if m.frame < 0 || m.seats < 1 || m.seats > MaxSeats || m.isize < 1 || m.isize > MaxInputSize ||
			m.count < 1 || len(m.data) != m.count*rec || int64(m.frame)+int64(m.count) > maxStreamFrame {
			return errBadStream
		}
	case smChecksum:
		if len(b) != 12 {
			return errBadStream
		}
		m.frame = Frame(int32(binary.LittleEndian.Uint32(b)))
		m.sum = binary.LittleEndian.Uint64(b[4:])
		if m.frame < 0 {
			return errBadStream
		}
	case smRefused:
		if len(b) != 1 {
			return errBadStream
		}
		m.want = b[0]
	case smEnd:
		if len(b) != 4 {
			return errBadStream
		}
		m.frame = Frame(int32(binary.LittleEndian.Uint32(b)))
		if m.frame < 0 {
			return errBadStream
		}
	default:
		return errBadStream
	}
	return nil
}

// maxStreamFrame bounds frame numbers on the stream (as the datagrams').
const maxStreamFrame = 1 << 30
