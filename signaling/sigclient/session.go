package sigclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// run owns the connection: it serves one session at a time and reconnects
// between them, until Close or a fatal error.
func (c *Client) run(ws *websocket.Conn) {
	defer close(c.done)
	defer close(c.events)
	for {
		err := c.session(ws)
		select {
		case <-c.closing:
			return
		default:
		}
		if fatal(err) {
			c.log.Warn("signaling: giving up", "err", err)
			c.emit(Event{Kind: EventFailed, Err: err})
			<-c.closing
			return
		}
		c.log.Info("signaling: connection lost, reconnecting", "err", err)
		if !c.emit(Event{Kind: EventDisconnected, Err: err}) {
			return
		}
		var w *proto.Frame
		ws, w, err = c.reconnect()
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return
			}
			c.log.Warn("signaling: giving up", "err", err)
			c.emit(Event{Kind: EventFailed, Err: err})
			<-c.closing
			return
		}
		if !c.resumed(w) {
			_ = ws.CloseNow()
			return
		}
	}
}

// fatal reports whether err ends the client for good: its seat is gone or
// the server will never accept it.
func fatal(err error) bool {
	return errors.Is(err, proto.ErrResumeFailed) || errors.Is(err, proto.ErrReplaced) || errors.Is(err, proto.ErrVersion) || errors.Is(err, proto.ErrKicked)
}

// reconnect dials with backoff until the seat is resumed, a fatal answer
// (returned), or Close (ErrClosed).
func (c *Client) reconnect() (*websocket.Conn, *proto.Frame, error) {
	delay := c.opts.ReconnectMin
	for attempt := 1; ; attempt++ {
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.closing:
			t.Stop()
			return nil, nil, ErrClosed
		}
		ctx, cancel := context.WithTimeout(c.closeCtx, c.opts.PingTimeout+5*time.Second)
		ws, w, err := c.connect(ctx, true)
		cancel()
		if err == nil {
			return ws, w, nil
		}
		select {
		case <-c.closing:
			return nil, nil, ErrClosed
		default:
		}
		if fatal(err) {
			return nil, nil, err
		}
		c.log.Debug("signaling: reconnect failed", "attempt", attempt, "err", err)
		delay = min(delay*2, c.opts.ReconnectMax)
	}
}

// resumed applies a resume's welcome: PeerJoined/PeerLeft for what
// changed meanwhile, then Reconnected. False if closing.
func (c *Client) resumed(w *proto.Frame) bool {
	c.adopt(w)
	now := make(map[transport.PeerID]string, len(w.Peers))
	for _, p := range w.Peers {
		now[p.ID] = p.Name
	}
	c.mu.Lock()
	var left, joined []PeerInfo
	for id := range c.peers {
		if _, ok := now[id]; !ok {
			left = append(left, PeerInfo{ID: id})
		}
	}
	for _, p := range w.Peers {
		if _, ok := c.peers[p.ID]; !ok {
			joined = append(joined, p)
		}
	}
	c.peers = now
	c.mu.Unlock()
	slices.SortFunc(left, func(a, b PeerInfo) int { return cmp.Compare(a.ID, b.ID) })
	for _, p := range left {
		if !c.emit(Event{Kind: EventPeerLeft, Peer: p.ID}) {
			return false
		}
	}
	for _, p := range joined {
		if !c.emit(Event{Kind: EventPeerJoined, Peer: p.ID, Name: p.Name}) {
			return false
		}
	}
	c.log.Info("signaling: reconnected", "peer", c.local, "room", c.room)
	return c.emit(Event{Kind: EventReconnected})
}

// session serves one connection until it is lost (the error says why) or
// Close (nil).
func (c *Client) session(ws *websocket.Conn) error {
	c.mu.Lock()
	lim := c.limits
	c.mu.Unlock()
	// stopped ends the writer, the pinger (and its ping in flight) and
	// the leave watcher when the reader returns.
	stopped, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	stop := stopped.Done()
	// lost ends the reader when the pinger declares the server gone: in a
	// browser closing a silent connection waits for the browser's
	// closing-handshake timeout, so the reader must not wait for it.
	rctx, lost := context.WithCancelCause(context.Background())
	defer lost(nil)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		c.writer(ws, lim, stop)
	}()
	go func() {
		defer wg.Done()
		c.pinger(ws, stopped, lost)
	}()
	go func() {
		defer wg.Done()
		select {
		case <-c.closing:
			// Leave at once: the server announces PeerLeft without a
			// grace period. The close handshake ends the reader.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(&proto.Frame{Type: proto.TypeLeave}))
			cancel()
			_ = ws.Close(websocket.StatusNormalClosure, "")
		case <-stop:
		}
	}()
	err := c.reader(rctx, ws)
	stopAll()
	select {
	case <-c.closing:
		err = nil
	default:
		proto.Abandon(ws)
	}
	wg.Wait()
	proto.Abandon(ws)
	return err
}

func (c *Client) reader(ctx context.Context, ws *websocket.Conn) error {
	// Close ends a blocked Read with the close handshake (session); the
	// pinger cancels ctx when the server stopped answering.
	var last *ServerError
	for {
		f, err := readServerFrame(ctx, ws)
		if err != nil {
			if last != nil {
				return last
			}
			return err
		}
		switch f.Type {
		case proto.TypePeerJoined:
			c.mu.Lock()
			c.peers[f.Peer] = f.Name
			c.mu.Unlock()
			if !c.emit(Event{Kind: EventPeerJoined, Peer: f.Peer, Name: f.Name}) {
				return nil
			}
		case proto.TypePeerLeft:
			c.mu.Lock()
			delete(c.peers, f.Peer)
			c.mu.Unlock()
			if !c.emit(Event{Kind: EventPeerLeft, Peer: f.Peer}) {
				return nil
			}
		case proto.TypeSignal:
			if !c.emit(Event{Kind: EventSignal, Peer: f.Peer, Data: f.Payload()}) {
				return nil
			}
		case proto.TypeRoom:
			info := *f.Info
			c.mu.Lock()
			c.info = info
			c.mu.Unlock()
			if !c.emit(Event{Kind: EventRoomUpdated, Room: &info}) {
				return nil
			}
		case proto.TypeICE:
			c.mu.Lock()
			c.ice = f.ICE // fresh TURN credentials: used by later connections
			c.mu.Unlock()
		case proto.TypePong:
			select {
			case c.pong <- struct{}{}:
			default:
			}
		case proto.TypeError:
			se := proto.ServerErrorOf(f)
			switch se.Code {
			case CodeUnknownPeer:
				c.log.Debug("signaling: signal to a peer that left", "peer", f.Peer)
				continue
			case CodeNotOwner, CodeBadRequest:
				if f.Peer != "" || se.Code == CodeNotOwner {
					// A refused room update, kick or unkick: not fatal.
					c.log.Warn("signaling: request refused", "code", se.Code, "msg", se.Message, "peer", f.Peer)
					continue
				}
			}
			last = se // the server closes next
		}
	}
}

func (c *Client) writer(ws *websocket.Conn, lim Limits, stop <-chan struct{}) {
	// Pace below the server's limit so that a burst of ICE candidates
	// never trips rate_limited.
	bucket := proto.TokenBucket{Rate: 1e9, Burst: 1e9}
	if lim.MessagesPerSecond > 0 {
		bucket = proto.TokenBucket{Rate: lim.MessagesPerSecond * 0.8, Burst: max(1, float64(lim.Burst)/2)}
	}
	for {
		select {
		case b := <-c.out:
			for !bucket.Take(time.Now()) {
				t := time.NewTimer(time.Duration(float64(time.Second) / bucket.Rate))
				select {
				case <-t.C:
				case <-stop:
					t.Stop()
					return
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), proto.WriteTimeout)
			err := ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.log.Debug("signaling: write failed", "err", err)
				_ = ws.CloseNow()
				return
			}
		case <-stop:
			return
		}
	}
}

func (c *Client) pinger(ws *websocket.Conn, stopped context.Context, lost context.CancelCauseFunc) {
	stop := stopped.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-stop:
			return
		}
		ctx, cancel := context.WithTimeout(stopped, c.opts.PingTimeout)
		err := c.ping(ctx, ws)
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			if timedOut {
				c.log.Info("signaling: server did not answer a ping", "timeout", c.opts.PingTimeout)
				lost(fmt.Errorf("%w: no pong within %v", ErrServerSilent, c.opts.PingTimeout))
				proto.Abandon(ws)
			}
			return
		}
	}
}
