package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// rawConn is the load generator's WebSocket client: a TCP connection with
// a hand-written RFC 6455 handshake and framing, so that one generator
// core can keep a signaling server's core busy. A client must mask its
// frames; the generator masks with a fixed non-zero key (ws, under PeerJS,
// skips unmasking for an all-zero key, which would favour it), and writes
// many pre-built frames in one write. Reading parses the server's
// unmasked frames in place from a large buffer, answering pings.
type rawConn struct {
	c   net.Conn
	buf []byte // received bytes; buf[r:w] not yet parsed
	r   int
	w   int
	wmu sync.Mutex // writes: the sender's frames and a reader's pongs
}

// rawMask is the masking key of every generator frame.
var rawMask = [4]byte{0x5a, 0xc3, 0x17, 0x9e}

// errRawClosed is a close frame from the server.
var errRawClosed = errors.New("bench: websocket closed by the server")

// rawDial connects to addr (host:port) and upgrades path to a WebSocket,
// with a read buffer of bufSize bytes (it grows for a larger frame).
func rawDial(addr, path string, timeout time.Duration, bufSize int) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil, err
	}
	rc := &rawConn{c: c, buf: make([]byte, max(bufSize, 512))}
	for {
		if i := bytes.Index(rc.buf[:rc.w], []byte("\r\n\r\n")); i >= 0 {
			line, _, _ := bytes.Cut(rc.buf[:i], []byte("\r\n"))
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 101")) {
				c.Close()
				return nil, fmt.Errorf("bench: websocket upgrade of %s: %s", path, line)
			}
			rc.r = i + 4 // frames may follow the headers in the same read
			break
		}
		if rc.w == len(rc.buf) {
			c.Close()
			return nil, errors.New("bench: websocket upgrade: response headers too long")
		}
		n, err := c.Read(rc.buf[rc.w:])
		if err != nil {
			c.Close()
			return nil, err
		}
		rc.w += n
	}
	_ = c.SetDeadline(time.Time{})
	return rc, nil
}

// rawFrame appends one masked client frame (FIN set) of opcode op.
func rawFrame(b []byte, op byte, payload []byte) []byte {
	b = append(b, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, rawMask[:]...)
	for i, c := range payload {
		b = append(b, c^rawMask[i&3])
	}
	return b
}

// write sends pre-built frames.
func (rc *rawConn) write(frames []byte) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	_, err := rc.c.Write(frames)
	return err
}

// next returns the next data frame's opcode and payload (valid until the
// next call), answering pings and skipping pongs; a close frame ends the
// connection with errRawClosed.
func (rc *rawConn) next() (op byte, payload []byte, err error) {
	for {
		if op, p, n, ok := rawParse(rc.buf[rc.r:rc.w]); ok {
			rc.r += n
			switch op {
			case 0x8:
				return 0, nil, errRawClosed
			case 0x9:
				if err := rc.write(rawFrame(nil, 0xA, p)); err != nil {
					return 0, nil, err
				}
				continue
			case 0xA:
				continue
			}
			return op, p, nil
		}
		if rc.r > 0 { // keep the partial frame, at the buffer's start
			rc.w = copy(rc.buf, rc.buf[rc.r:rc.w])
			rc.r = 0
		}
		if rc.w == len(rc.buf) {
			rc.buf = append(rc.buf, make([]byte, len(rc.buf))...)
		}
		n, err := rc.c.Read(rc.buf[rc.w:])
		if err != nil {
			return 0, nil, err
		}
		rc.w += n
	}
}

// rawParse parses one unmasked server frame from b: opcode, payload and
// bytes used, ok false if b holds no whole frame.
func rawParse(b []byte) (op byte, payload []byte, n int, ok bool) {
	if len(b) < 2 {
		return 0, nil, 0, false
	}
	op = b[0] & 0x0f
	l, h := uint64(b[1]&0x7f), 2
	switch l {
	case 126:
		if len(b) < 4 {
			return 0, nil, 0, false
		}
		l, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, 0, false
		}
		l, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if b[1]&0x80 != 0 { // a server must not mask; skip its key if it does
		h += 4
	}
	if uint64(len(b)-h) < l || len(b) < h {
		return 0, nil, 0, false
	}
	return op, b[h : h+int(l)], h + int(l), true
}

// close sends a close frame (status 1000) and closes the connection
// without waiting for the server's reply, as a leaving client would.
func (rc *rawConn) close() {
	_ = rc.c.SetWriteDeadline(time.Now().Add(time.Second))
	_ = rc.write(rawFrame(nil, 0x8, []byte{0x03, 0xe8}))
	rc.c.Close()
}
