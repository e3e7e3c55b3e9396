package signaling

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

// conn is one client connection. Its one long-lived goroutine is serve,
// the reader: it owns the join and the teardown. Writes happen on
// goroutines that live only while there is something to write: a flusher
// while frames are queued, a ping while it waits for its pong, and the
// closer, which sends the failure and closes the connection. An idle
// connection therefore costs one goroutine, and no buffers beyond the
// small ones of wire.go.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	wire   *wireConn
	ip     string
	bucket proto.TokenBucket // reader only

	once       sync.Once
	why        *ServerError  // set by fail before failed
	closerDone chan struct{} // closed when the closer has closed the WebSocket
	wg         sync.WaitGroup

	mu       sync.Mutex // guards all following fields
	ready    bool       // serve runs: the closer may start
	failed   bool       // fail was called: nothing more is written but by the closer
	flushing bool       // a flusher runs
	welcomed bool       // the welcome was taken for writing
	welcome  []byte     // the welcome, written before anything queued
	queue    [][]byte   // frames waiting for a flusher, oldest first
	ping     *time.Timer

	ice *time.Timer // refreshes the TURN credentials while seated; guarded by mu

	att     Attachment // reader only, set by join
	joined  bool
	left    bool
	created bool        // the join created the room (reader only)
	kicked  atomic.Bool // the owner kicked this seat: nothing is held
}

// fail makes the closer send se and close the connection. Safe from any
// goroutine, never blocks; the first reason wins.
func (c *conn) fail(se *ServerError) {
	c.once.Do(func() {
		c.why = se
		if se.Code != "" {
			c.s.stats.reject(se.Code)
		}
		c.mu.Lock()
		c.failed = true
		start := c.ready
		if c.ping != nil {
			c.ping.Stop()
		}
		if c.ice != nil {
			c.ice.Stop()
		}
		c.mu.Unlock()
		if start {
			c.startCloser()
		}
	})
}

// startCloser runs closeWith on a goroutine of its own, once: from fail,
// or from serve if fail came before it.
func (c *conn) startCloser() {
	go func() {
		defer close(c.closerDone)
		c.closeWith()
	}()
}

// sink is the conn's Sink: it encodes and queues without blocking.
func (c *conn) sink(ev Event) {
	var f *proto.Frame
	switch ev.Kind {
	case EventPeerJoined:
		f = &proto.Frame{Type: proto.TypePeerJoined, Peer: ev.Peer, Name: ev.Name}
	case EventPeerLeft:
		f = &proto.Frame{Type: proto.TypePeerLeft, Peer: ev.Peer}
	case EventSignal:
		c.enqueue(proto.EncodeSignal("peer", ev.Peer, ev.Data))
		return
	case EventRoomUpdated:
		f = &proto.Frame{Type: proto.TypeRoom, Info: ev.Room}
	default:
		switch {
		case errors.Is(ev.Err, ErrReplaced):
			c.fail(proto.ErrorFor(CodeReplaced, "the seat was resumed by a newer connection"))
		case errors.Is(ev.Err, ErrKicked):
			c.kicked.Store(true)
			c.s.stats.refuse(RefuseKicked)
			c.fail(proto.AsServerError(ev.Err))
		case ev.Err != nil:
			// The backplane ended the seat (e.g. a clustered backplane
			// lost it): tell the client why, with the error's code.
			c.fail(proto.AsServerError(ev.Err))
		}
		return
	}
	c.enqueue(proto.EncodeFrame(f))
}

// enqueue queues one frame. Overflow rule: a client with SendQueueLen
// frames waiting is cut with slow_consumer (it may resume; its seat
// buffers a bounded number of signals meanwhile). The queue grows on
// demand, so an idle connection holds none.
func (c *conn) enqueue(b []byte) {
	c.mu.Lock()
	if len(c.queue) >= c.s.cfg.SendQueueLen {
		c.mu.Unlock()
		c.fail(proto.ErrorFor(CodeSlowConsumer, "send queue of %d messages overflowed", c.s.cfg.SendQueueLen))
		return
	}
	c.queue = append(c.queue, b)
	c.kickLocked()
	c.mu.Unlock()
}

// kickLocked starts a flusher if there is something it may write and none
// runs.
func (c *conn) kickLocked() {
	if c.flushing || c.failed || !c.ready {
		return
	}
	if c.welcomed && len(c.queue) == 0 || !c.welcomed && c.welcome == nil {
		return // sink events wait in the queue until the welcome
	}
	c.flushing = true
	c.wg.Add(1)
	go c.flush()
}

func (c *conn) serve() {
	s := c.s
	c.mu.Lock()
	c.ready = true
	failed := c.failed
	c.mu.Unlock()
	if failed {
		c.startCloser()
	}
	defer func() {
		// Make sure the closer runs (a lost connection has not failed
		// yet), let it finish, then wait for the flusher and a ping.
		c.fail(proto.ErrorFor(CodeInternal, "connection ended"))
		<-c.closerDone
		_ = c.ws.CloseNow()
		c.wg.Wait()
		if c.joined {
			s.stats.members.Add(-1)
			s.unseat(c.att)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			grace := max(s.cfg.ResumeGrace, 0)
			if c.left || c.kicked.Load() {
				_ = s.bp.Leave(ctx, c.att)
			} else {
				_ = s.bp.Detach(ctx, c.att, grace)
			}
			s.left(c.ip, c.att.Room, c.att.Peer, c.created, !c.left && !c.kicked.Load(), grace)
		}
	}()

	if !c.joinPhase() {
		return
	}
	for c.next() {
	}
}

// joinPhase reads and handles the join; false if the connection ended.
func (c *conn) joinPhase() bool {
	s := c.s
	// The timeout goes through fail, not the read's context: a cancelled
	// read would close the WebSocket before the error is sent.
	joinTimer := time.AfterFunc(s.cfg.JoinTimeout, func() {
		c.fail(proto.ErrorFor(CodeTimeout, "no join within %v", s.cfg.JoinTimeout))
	})
	_, r, err := c.ws.Reader(context.Background())
	if err != nil {
		joinTimer.Stop()
		c.failRead(err)
		return false
	}
	// The join's decoding, admission and welcome take a deep stack
	// (encoding/json, the backplane): they run on a goroutine of their
	// own, so that the reader's stack, which an idle connection keeps,
	// does not grow for them.
	ok := make(chan bool)
	go func() { ok <- c.joinMessage(r, joinTimer) }()
	return <-ok
}

func (c *conn) joinMessage(r io.Reader, joinTimer *time.Timer) bool {
	f, err := c.readFrame(r)
	joinTimer.Stop()
	if err != nil {
		c.failRead(err)
		return false
	}
	if f.Type != proto.TypeJoin {
		c.failRead(proto.ErrorFor(CodeBadRequest, "the first message must be a join, not %q", proto.Truncate(f.Type, 32)))
		return false
	}
	if err := c.join(&f); err != nil {
		c.failRead(err)
		return false
	}
	return true
}

// next waits for the next message and handles it; false when the
// connection ends. An idle connection's reader waits here: next and its
// callers keep small frames, so that the goroutine's stack shrinks back
// to a few KiB.
func (c *conn) next() bool {
	_, r, err := c.ws.Reader(context.Background())
	if err != nil {
		if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
			c.left = true
		}
		c.failRead(err)
		return false
	}
	return c.handle(r)
}

// handle reads and handles one message; false when the connection ends.
// A signal in plain form is relayed here. Anything else (other messages,
// refused signals) goes through encoding/json, whose deep stack would
// stay with the reader: it is handled on a goroutine of its own.
func (c *conn) handle(r io.Reader) bool {
	bp := readBufs.Get().(*[]byte)
	defer putReadBuf(bp)
	b, err := c.readMessage(r, bp)
	if err != nil {
		c.failRead(err)
		return false
	}
	if to, data, ok := proto.ScanSignal(b, "to"); ok && proto.CheckID("to", string(to), proto.MaxPeerLen, true) == nil {
		// data is copied: b is reused, and the backplane owns what it is
		// given.
		id := transport.PeerID(to)
		err := c.s.bp.Signal(context.Background(), c.att, id, bytes.Clone(data))
		if err == nil {
			c.s.stats.signals.Add(1)
			return true
		}
		done := make(chan bool)
		go func() { done <- c.signalFailed(id, err) }()
		return <-done
	}
	done := make(chan bool)
	go func() { done <- c.handleFrame(b) }()
	return <-done
}

// signalFailed answers a signal to peer that the backplane refused with
// err; false when that ends the connection.
func (c *conn) signalFailed(peer transport.PeerID, err error) bool {
	se := proto.AsServerError(err)
	if se.Code != CodeUnknownPeer {
		c.failRead(se)
		return false
	}
	c.s.stats.reject(se.Code)
	c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypeError, Code: se.Code, Message: se.Message, Peer: peer}))
	return true
}

// handleFrame decodes and handles message b; false when the connection
// ends.
func (c *conn) handleFrame(b []byte) bool {
	s := c.s
	f, err := c.parse(b)
	if err != nil {
		c.failRead(err)
		return false
	}
	switch f.Type {
	case proto.TypeSignal:
		if err := s.bp.Signal(context.Background(), c.att, f.To, f.Payload()); err != nil {
			return c.signalFailed(f.To, err)
		}
		s.stats.signals.Add(1)
	case proto.TypeRoom:
		if _, err := s.bp.UpdateRoom(context.Background(), c.att, *f.Meta, s.cfg.MaxRoomSize); err != nil {
			return c.refused(err, "")
		}
	case proto.TypeKick:
		if err := s.bp.Kick(context.Background(), c.att, f.Peer); err != nil {
			return c.refused(err, f.Peer)
		}
		s.log.Info("signaling: member kicked", "room", c.att.Room, "owner", c.att.Peer, "peer", f.Peer)
	case proto.TypeUnkick:
		if err := s.bp.Unkick(context.Background(), c.att, f.Peer); err != nil {
			return c.refused(err, f.Peer)
		}
	case proto.TypePing:
		c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypePong}))
	case proto.TypeLeave:
		c.left = true
		c.fail(&ServerError{Code: "", Message: "left"})
		return false
	case proto.TypeJoin:
		c.failRead(proto.ErrorFor(CodeBadRequest, "already joined"))
		return false
	}
	return true
}

// refused answers a refused room update, kick or unkick: not_owner and
// bad_request are answered with an error message (not fatal); kicked ends
// the connection as the kick's event does; anything else ends it with that
// error. false when it does.
func (c *conn) refused(err error, peer transport.PeerID) bool {
	se := proto.AsServerError(err)
	switch se.Code {
	case CodeNotOwner:
		c.s.stats.refuse(RefuseNotOwner)
	case CodeBadRequest:
	case CodeKicked:
		// A clustered backplane found the kick in the registry before
		// this node applied it: the same end as the kick's own event.
		c.sink(Event{Err: se})
		return false
	default:
		c.failRead(se)
		return false
	}
	c.s.stats.reject(se.Code)
	c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypeError, Code: se.Code, Message: se.Message, Peer: peer}))
	return true
}

// failRead ends the connection after a read-side error: a *ServerError is
// sent to the client; anything else (the client went away) just closes.
func (c *conn) failRead(err error) {
	var se *ServerError
	if errors.As(err, &se) {
		c.s.log.Debug("signaling: closing connection", "code", se.Code, "msg", se.Message, "ip", c.ip, "peer", c.att.Peer)
		c.fail(se)
		return
	}
	c.fail(&ServerError{Message: "connection lost"})
}

// readBufs holds the buffers messages are read into: a connection takes
// one only while it has a message to read, so an idle one holds none.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putReadBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		*bp = (*bp)[:0]
		readBufs.Put(bp)
	}
}

// readFrame reads the message r and returns it if valid, or an error: a
// *ServerError for a bad message, anything else for a lost connection.
func (c *conn) readFrame(r io.Reader) (proto.Frame, error) {
	bp := readBufs.Get().(*[]byte)
	defer putReadBuf(bp)
	b, err := c.readMessage(r, bp)
	if err != nil {
		return proto.Frame{}, err
	}
	return c.parse(b)
}

// readMessage reads the message r into *bp (which it may grow) and checks
// its size, the rate limit and its encoding. Errors as for readFrame.
func (c *conn) readMessage(r io.Reader, bp *[]byte) ([]byte, error) {
	limit := c.s.cfg.MaxMessageBytes
	b, err := appendMessage(r, (*bp)[:0], limit+1)
	*bp = b
	if err != nil {
		return nil, err
	}
	c.s.stats.in.Add(1)
	if len(b) > limit {
		return nil, proto.ErrorFor(CodeTooLarge, "message above %d bytes", limit)
	}
	if !c.bucket.Take(time.Now()) {
		c.s.stats.refuse(RefuseMessageRate)
		return nil, proto.ErrorFor(CodeRateLimited, "more than %g messages per second (burst %d)", c.s.cfg.MessagesPerSecond, c.s.cfg.Burst)
	}
	if !utf8.Valid(b) {
		return nil, proto.ErrorFor(CodeBadRequest, "message is not valid UTF-8")
	}
	return b, nil
}

// parse decodes and validates client message b. The frame does not keep b.
func (c *conn) parse(b []byte) (proto.Frame, error) {
	f, err := proto.DecodeFrame(b, c.s.cfg.MaxMessageBytes)
	if err != nil {
		return proto.Frame{}, err
	}
	if err := proto.ValidateClientFrame(&f); err != nil {
		return proto.Frame{}, err
	}
	return f, nil
}

// appendMessage appends r's message to b, reading at most max bytes.
func appendMessage(r io.Reader, b []byte, max int) ([]byte, error) {
	for len(b) < max {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), max)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

func (c *conn) join(f *proto.Frame) error {
	s := c.s
	resume := f.Resume != ""
	noCreate, se := s.admitJoin(c.ip, resume)
	if se != nil {
		return se
	}
	name := f.Name
	var tokID string
	var tokExp time.Time
	if len(s.cfg.TokenSecret) > 0 && !resume {
		// A resume is authorized by its resume token instead.
		claims, err := s.checkJoinToken(f)
		if err != nil {
			s.failed(c.ip)
			s.stats.refuse(RefuseBadToken)
			return err
		}
		if claims.Name != "" {
			name = claims.Name
		}
		tokID, tokExp = rooms.TokenID(f.Token), claims.Expiry
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var res JoinResult
	var err error
	if resume {
		res, err = s.bp.Resume(ctx, f.Room, f.Peer, f.Resume, c.sink)
	} else {
		res, err = s.bp.Join(ctx, JoinRequest{
			Room: f.Room, Name: name, Game: f.Game, Password: f.Password, Private: f.Private, Max: f.Max,
			MaxRooms: s.cfg.MaxRooms, MaxRoomSize: s.cfg.MaxRoomSize,
			TokenID: tokID, TokenExpiry: tokExp, NoCreate: noCreate != "",
		}, c.sink)
	}
	if err != nil {
		se := proto.AsServerError(err)
		switch se.Code {
		case CodeBadPassword:
			s.failed(c.ip)
			s.stats.refuse(RefuseBadPassword)
		case CodeBadToken:
			s.failed(c.ip)
			s.stats.refuse(RefuseBadToken)
		case CodeResumeFailed:
			s.failed(c.ip)
			s.stats.refuse(RefuseResume)
		case CodeTooManyRooms:
			if noCreate != "" {
				s.stats.refuse(noCreate)
			}
		}
		return se
	}
	c.created = s.joined(c.ip, res.Room, res.Peer, res.Created, res.Resumed)
	s.seat(res.Attachment)
	c.att, c.joined = res.Attachment, true
	s.stats.members.Add(1)
	if res.Resumed {
		s.stats.resumes.Add(1)
	} else {
		s.stats.joins.Add(1)
	}
	info := res.Info
	welcome := proto.EncodeFrame(&proto.Frame{
		Type: proto.TypeWelcome, Version: ProtocolVersion, Room: res.Room, Peer: res.Peer, Resume: res.ResumeToken,
		Peers: res.Peers, ICE: s.iceServersFor(res.Attachment), Info: &info, Resumed: res.Resumed,
		Limits: &Limits{
			MaxMessageBytes: s.cfg.MaxMessageBytes, MessagesPerSecond: s.cfg.MessagesPerSecond, Burst: s.cfg.Burst,
			PingIntervalMS: s.cfg.PingInterval.Milliseconds(), IdleTimeoutMS: s.cfg.IdleTimeout.Milliseconds(),
			ResumeGraceMS: max(s.cfg.ResumeGrace, 0).Milliseconds(),
		},
	})
	c.mu.Lock()
	c.welcome = welcome
	c.kickLocked()
	if s.issuesTURN() && !c.failed {
		c.ice = time.AfterFunc(s.iceRefresh(), c.refreshICE)
	}
	c.mu.Unlock()
	s.log.Info("signaling: member joined", "room", res.Room, "peer", res.Peer, "resumed", res.Resumed, "ip", c.ip)
	return nil
}

// refreshICE sends fresh TURN credentials (an "ice" message) before the
// last ones expire, for as long as the member stays seated (the ice
// timer's function).
func (c *conn) refreshICE() {
	c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypeICE, ICE: c.s.iceServersFor(c.att)}))
	c.mu.Lock()
	if !c.failed {
		c.ice.Reset(c.s.iceRefresh())
	}
	c.mu.Unlock()
}

// flush writes the welcome, then the queue in batches: it takes every
// queued frame at once and writes them corked, so that a burst costs one
// system call. It returns when the queue is empty (after yielding once,
// which lets the reader queue more into the same batch when both share a
// CPU) or after a failure.
func (c *conn) flush() {
	defer c.wg.Done()
	var batch [][]byte
	yielded := false
	for {
		c.mu.Lock()
		if !c.failed && !c.welcomed && c.welcome != nil {
			batch = append(batch, c.welcome)
			c.welcome, c.welcomed = nil, true
			c.ping = time.AfterFunc(c.s.cfg.PingInterval, c.keepalive)
		}
		if !c.failed && c.welcomed {
			batch = append(batch, c.queue...)
			clear(c.queue)
			c.queue = c.queue[:0]
			if cap(c.queue) > 16 {
				c.queue = nil // a burst's queue is not kept while idle
			}
		}
		if len(batch) == 0 && yielded || c.failed {
			c.flushing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if len(batch) == 0 {
			yielded = true
			runtime.Gosched()
			continue
		}
		yielded = false
		if !c.writeBatch(batch) {
			c.mu.Lock()
			c.flushing = false
			c.mu.Unlock()
			return
		}
		clear(batch)
		batch = batch[:0]
	}
}

// keepalive pings the client (the ping timer's function): the ping waits
// for its pong on the timer's goroutine, which lives for one round trip,
// or until IdleTimeout cuts the client with idle.
func (c *conn) keepalive() {
	c.mu.Lock()
	if c.failed {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.IdleTimeout)
	err := c.ws.Ping(ctx)
	timedOut := err != nil && ctx.Err() != nil
	cancel()
	if timedOut {
		c.fail(proto.ErrorFor(CodeIdle, "no pong within %v", c.s.cfg.IdleTimeout))
		return
	}
	if err != nil {
		return // the connection is closing
	}
	c.mu.Lock()
	if !c.failed {
		c.ping.Reset(c.s.cfg.PingInterval)
	}
	c.mu.Unlock()
}

// writeBatch writes frames with one system call (more if they exceed
// corkFlush); false after a failure.
func (c *conn) writeBatch(frames [][]byte) bool {
	c.wire.cork(proto.WriteTimeout)
	var err error
	for _, b := range frames {
		if err = c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
			break
		}
	}
	if uerr := c.wire.uncork(); err == nil {
		err = uerr
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.fail(proto.ErrorFor(CodeSlowConsumer, "write timed out"))
		} else {
			c.fail(&ServerError{Message: "connection lost"})
		}
		return false
	}
	c.s.stats.out.Add(uint64(len(frames)))
	return true
}

// closeWith sends the failure (if it has a code) and closes the
// WebSocket with the code as the close reason.
func (c *conn) closeWith() {
	se := c.why
	if se == nil || se.Code == "" {
		_ = c.ws.Close(websocket.StatusNormalClosure, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = c.ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(errorFrame(se)))
	cancel()
	status := websocket.StatusPolicyViolation
	switch se.Code {
	case CodeShutdown:
		status = websocket.StatusGoingAway
	case CodeTooLarge:
		status = websocket.StatusMessageTooBig
	case CodeInternal:
		status = websocket.StatusInternalError
	}
	_ = c.ws.Close(status, string(se.Code))
}
