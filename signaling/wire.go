package signaling

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"sync"
	"time"
)

// Buffer sizes of a server connection. coder/websocket keeps whatever
// bufio.Reader and Writer the hijack returns for the connection's life, and
// net/http's are 4 KiB each: with thousands of idle connections that was
// most of their memory. The reader's buffer only batches small reads (a
// larger payload is read straight into the message buffer); the writer's
// holds one frame header, or one control frame, before it reaches
// wireConn, which batches the frames themselves (cork).
const (
	connReadBuf  = 1024
	connWriteBuf = 256
	// corkFlush bounds the bytes a corked wireConn holds before it writes
	// them anyway.
	corkFlush = 32 << 10
)

// hijacker wraps the ResponseWriter given to websocket.Accept so that the
// hijacked connection gets small buffers and a wireConn.
type hijacker struct {
	http.ResponseWriter
	wire *wireConn // set by Hijack
}

// Hijack implements http.Hijacker for websocket.Accept.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w := &wireConn{Conn: nc}
	// Bytes the client sent right after its handshake may already sit in
	// net/http's reader; they come first. net/http flushed its writer
	// (the 101 response) before handing it over.
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		w.pending = bytes.Clone(p)
	}
	h.wire = w
	return w, bufio.NewReadWriter(bufio.NewReaderSize(w, connReadBuf), bufio.NewWriterSize(w, connWriteBuf)), nil
}

// Unwrap lets http.ResponseController reach the original writer.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// wireConn is a server connection's net.Conn under coder/websocket. While
// corked (the writer goroutine is writing a batch of queued frames) it
// collects every write, the frames of other goroutines included (a pong,
// a ping), and writes them with one system call when uncorked, instead of
// one per frame. Reads are the reader goroutine's only.
type wireConn struct {
	net.Conn
	pending []byte // read before the hijack, served first

	mu     sync.Mutex // guards all following fields
	corked bool
	out    *[]byte // corked bytes, from wireBufs
}

var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (w *wireConn) Read(p []byte) (int, error) {
	if len(w.pending) > 0 {
		n := copy(p, w.pending)
		w.pending = w.pending[n:]
		if len(w.pending) == 0 {
			w.pending = nil
		}
		return n, nil
	}
	return w.Conn.Read(p)
}

func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.corked {
		return w.Conn.Write(p)
	}
	if w.out == nil {
		w.out = wireBufs.Get().(*[]byte)
	}
	*w.out = append(*w.out, p...)
	if len(*w.out) >= corkFlush {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cork starts a batch: writes are held until uncork, and the batch must
// reach the client within timeout (the write deadline).
func (w *wireConn) cork(timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = true
	_ = w.Conn.SetWriteDeadline(time.Now().Add(timeout))
}

// uncork writes what the batch collected. An error wrapping
// os.ErrDeadlineExceeded means the client did not take it in time.
func (w *wireConn) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	err := w.flushLocked()
	_ = w.Conn.SetWriteDeadline(time.Time{})
	return err
}

func (w *wireConn) flushLocked() error {
	if w.out == nil {
		return nil
	}
	b := *w.out
	_, err := w.Conn.Write(b)
	if cap(b) <= 2*corkFlush {
		*w.out = b[:0]
		wireBufs.Put(w.out)
	}
	w.out = nil
	return err
}
