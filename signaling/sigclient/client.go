package sigclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// clientReadLimit bounds one server message (a welcome of a large room,
// a signal near the server's size limit).
const clientReadLimit = 1 << 20

// DialOptions configure a Client. Every zero field means its documented
// default.
type DialOptions struct {
	// Name is the player's display name, shown to the other members: the
	// name asked for; once a lobby runs, the lobby owns the name shown
	// (CONTRIBUTING.md, "Display names").
	Name string
	// Password is the room's password: it sets it when this join creates
	// the room, and must match it otherwise.
	Password string
	// Token is a join token (MintToken), required by servers with a
	// TokenSecret.
	Token string
	// GameID names the game; a room created by this join plays it, and a
	// room playing another game refuses the join (signaling.ErrWrongGame).
	GameID string
	// Private keeps a room this join creates out of the listing.
	Private bool
	// MaxPlayers is the size of a room this join creates (0 = the
	// server's MaxRoomSize).
	MaxPlayers int

	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// Header is sent with every WebSocket handshake (e.g. Origin,
	// Authorization). HTTPClient makes the handshakes (nil =
	// http.DefaultClient; set it for custom TLS).
	Header     http.Header
	HTTPClient *http.Client

	// EventQueueLen is the capacity of Events (0 = 1024).
	EventQueueLen int
	// SendQueueLen bounds the signals and room updates waiting to be sent
	// (0 = 256); Signal fails with ErrSendQueueFull beyond it.
	SendQueueLen int
	// ReconnectMin and ReconnectMax bound the reconnect backoff (0 = 250
	// ms and 10 s): each failed attempt doubles the delay, with jitter.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// PingInterval is how often the client pings the server (0 = 15 s);
	// PingTimeout how long it waits for the pong before it declares the
	// server lost and reconnects (0 = 10 s).
	PingInterval time.Duration
	PingTimeout  time.Duration
}

func (o *DialOptions) fill() error {
	for _, n := range []int{o.EventQueueLen, o.SendQueueLen} {
		if n < 0 {
			return fmt.Errorf("%w: negative queue length %d", ErrInvalidConfig, n)
		}
	}
	for _, d := range []time.Duration{o.ReconnectMin, o.ReconnectMax, o.PingInterval, o.PingTimeout} {
		if d < 0 {
			return fmt.Errorf("%w: negative duration %v", ErrInvalidConfig, d)
		}
	}
	o.EventQueueLen = cmp.Or(o.EventQueueLen, proto.DefaultEventQueueLen)
	o.SendQueueLen = cmp.Or(o.SendQueueLen, proto.DefaultClientSendQueueLen)
	o.ReconnectMin = cmp.Or(o.ReconnectMin, proto.DefaultReconnectMin)
	o.ReconnectMax = cmp.Or(o.ReconnectMax, proto.DefaultReconnectMax)
	o.PingInterval = cmp.Or(o.PingInterval, proto.DefaultClientPingInterval)
	o.PingTimeout = cmp.Or(o.PingTimeout, proto.DefaultClientPingTimeout)
	if o.ReconnectMax < o.ReconnectMin {
		return fmt.Errorf("%w: ReconnectMax %v below ReconnectMin %v", ErrInvalidConfig, o.ReconnectMax, o.ReconnectMin)
	}
	if o.MaxPlayers < 0 || o.MaxPlayers > proto.MaxRoomMax {
		return fmt.Errorf("%w: MaxPlayers %d out of range 0..%d", ErrInvalidConfig, o.MaxPlayers, proto.MaxRoomMax)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Header = o.Header.Clone()
	return nil
}

// Client is a member of one room on a signaling server. Its goroutines
// read from the server, write queued messages, keep the connection alive,
// and reconnect with backoff when the server is lost, resuming the same
// seat (same Local ID). They never call game code: the game drains Events.
// Safe for concurrent use.
type Client struct {
	url   string
	room  string
	opts  DialOptions
	log   *slog.Logger
	local transport.PeerID

	events chan Event
	pollMu sync.Mutex  // guards polled
	polled []Event     // PollEvents' reused result
	out    chan []byte // queued frames; bounded
	// closeCtx is cancelled by Close; dials, pings and writes derive
	// their contexts from it (no goroutine watches a channel to cancel
	// them). closing is its Done channel.
	closeCtx context.Context
	closeNow context.CancelFunc
	closing  <-chan struct{}
	done     chan struct{} // closed when run exits
	pong     chan struct{} // a "pong" message arrived (keepalive under js); 1 slot

	mu     sync.Mutex // guards all following fields
	peers  map[transport.PeerID]string
	ice    []ICEServer
	info   RoomInfo
	resume string
	limits Limits
}

// Dial connects to the signaling server at url (ws:// or wss://) and joins
// room. It returns once the server's welcome arrived, or an error: a
// *ServerError (matching signaling.ErrRoomFull, signaling.ErrBadPassword, signaling.ErrBadToken,
// signaling.ErrVersion, ... with errors.Is) when the server refused, ctx's error, or
// a connection error. The first connection is not retried; later losses
// are (see Events).
func Dial(ctx context.Context, url, room string, opts DialOptions) (*Client, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if err := proto.CheckID("room", room, proto.MaxRoomLen, true); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	closeCtx, closeNow := context.WithCancel(context.Background())
	c := &Client{
		url: url, room: room, opts: opts, log: opts.Logger,
		closeCtx: closeCtx, closeNow: closeNow, closing: closeCtx.Done(),
		events: make(chan Event, opts.EventQueueLen),
		out:    make(chan []byte, opts.SendQueueLen),
		done:   make(chan struct{}),
		pong:   make(chan struct{}, 1),
		peers:  make(map[transport.PeerID]string),
	}
	ws, w, err := c.connect(ctx, false)
	if err != nil {
		closeNow()
		return nil, err
	}
	c.local = w.Peer
	c.adopt(w)
	for _, p := range w.Peers {
		c.peers[p.ID] = p.Name
	}
	go c.run(ws)
	return c, nil
}

// Local is this client's peer ID, assigned by the server; it stays the
// same across reconnects.
func (c *Client) Local() transport.PeerID { return c.local }

// Room is the room's ID.
func (c *Client) Room() string { return c.room }

// Peers returns the other members of the room as last heard from the
// server, sorted.
func (c *Client) Peers() []transport.PeerID {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]transport.PeerID, 0, len(c.peers))
	for id := range c.peers {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// PeerName returns the display name of a member ("" if unknown), as it
// asked for it; a game with a lobby shows lobby.Member.Name instead.
func (c *Client) PeerName(id transport.PeerID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peers[id]
}

// ICEServers returns the ICE servers of the latest welcome (STUN, and TURN
// with credentials issued for this client). The caller owns the slice.
func (c *Client) ICEServers() []ICEServer {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ICEServer, len(c.ice))
	for i, s := range c.ice {
		s.URLs = slices.Clone(s.URLs)
		out[i] = s
	}
	return out
}

// RoomInfo returns the room's metadata as last heard from the server.
func (c *Client) RoomInfo() RoomInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// Events returns the client's events, in the order they happened. It has
// capacity DialOptions.EventQueueLen and is closed by Close.
//
// Overflow rule: nothing is dropped. When the channel is full, the client
// stops reading from the server until the game drains it (backpressure).
// If the game stalls long enough for the server's queue to overflow too,
// the server cuts the connection (slow_consumer) and the client resumes
// its seat as for any disconnection: Disconnected, then Reconnected; the
// server buffers a bounded number of signals for a disconnected seat.
//
// A game loop drains with PollEvents instead (the drain convention,
// CONTRIBUTING.md); Events is for a consumer that blocks in a select, as
// netcode's mesh loop does. Use one or the other.
func (c *Client) Events() <-chan Event { return c.events }

// PollEvents returns the events queued since the last call, oldest first,
// without blocking: the drain convention (CONTRIBUTING.md). The returned
// slice is reused and valid until the next PollEvents. It drains the same
// bounded queue as Events and keeps its overflow rule (nothing dropped: a
// full queue stops the client reading the server; see Events), so a game
// that polls every frame never holds the server back. After Close it
// returns what was left, then nothing.
func (c *Client) PollEvents() []Event {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	clear(c.polled)
	c.polled = c.polled[:0]
	for len(c.polled) < cap(c.events) {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return c.polled
			}
			c.polled = append(c.polled, ev)
		default:
			return c.polled
		}
	}
	return c.polled
}

// Signal queues data (opaque bytes, e.g. an SDP or ICE candidate as JSON)
// for the member to. Data that is one JSON value (in UTF-8, without space
// around it) travels as is, anything else as base64. It never blocks and
// copies data. It fails with ErrClosed after Close, signaling.ErrUnknownPeer (also
// matching transport.ErrUnknownPeer) if to is not a member, signaling.ErrTooLarge
// (also transport.ErrTooLarge) if the message would exceed the server's
// limit, and ErrSendQueueFull (also transport.ErrSlowConsumer) if the
// send queue is full. While reconnecting, signals wait in the queue.
func (c *Client) Signal(to transport.PeerID, data []byte) error {
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	c.mu.Lock()
	_, ok := c.peers[to]
	limit := c.limits.MaxMessageBytes
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w (%w): %s", proto.ErrUnknownPeer, transport.ErrUnknownPeer, to)
	}
	b := proto.EncodeSignal("to", to, data)
	if limit > 0 && len(b) > limit {
		return fmt.Errorf("%w (%w): %d bytes of data, server limit %d per message", proto.ErrTooLarge, transport.ErrTooLarge, len(data), limit)
	}
	return c.enqueue(b)
}

// SetRoomInfo changes the room's listing metadata (GET /rooms) for every
// member: empty strings and a zero Max keep the current value (Max is
// clamped to the server's room size limit). The number of players is
// counted by the server. It never blocks; errors as for Signal.
func (c *Client) SetRoomInfo(m RoomMeta) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypeRoom, Meta: &m}))
}

// Kick asks the server to remove peer from the room at once (no resume
// grace; its connection ends with signaling.ErrKicked) and to refuse it in this room
// until Unkick or the room ends. Only the room's owner (RoomInfo.Owner)
// may: for another member the server answers not_owner, which the client
// logs and drops (the kick has no effect). It never blocks; errors as for
// Signal.
func (c *Client) Kick(peer transport.PeerID) error {
	if err := proto.CheckID("peer", string(peer), proto.MaxPeerLen, true); err != nil {
		return err
	}
	return c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypeKick, Peer: peer}))
}

// Unkick lets a kicked peer back into the room. Owner only, as Kick.
func (c *Client) Unkick(peer transport.PeerID) error {
	if err := proto.CheckID("peer", string(peer), proto.MaxPeerLen, true); err != nil {
		return err
	}
	return c.enqueue(proto.EncodeFrame(&proto.Frame{Type: proto.TypeUnkick, Peer: peer}))
}

func (c *Client) enqueue(b []byte) error {
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	select {
	case c.out <- b:
		return nil
	default:
		return fmt.Errorf("%w (%w): %d messages waiting", ErrSendQueueFull, transport.ErrSlowConsumer, cap(c.out))
	}
}

// Close leaves the room (the other members see PeerLeft at once), stops
// every goroutine of the client, and closes Events. Idempotent; it returns
// nil.
func (c *Client) Close() error {
	c.closeNow()
	<-c.done
	return nil
}

// emit queues ev for the game, waiting while Events is full (see Events);
// false if the client is closing.
func (c *Client) emit(ev Event) bool {
	select {
	case c.events <- ev:
		return true
	case <-c.closing:
		return false
	}
}

// adopt records what a welcome says about the room and the server.
func (c *Client) adopt(w *proto.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ice = w.ICE
	if w.Info != nil {
		c.info = *w.Info
	}
	c.resume = w.Resume
	if w.Limits != nil {
		c.limits = *w.Limits
	}
}

// connect opens a WebSocket, sends the join (or the resume) and waits for
// the welcome.
func (c *Client) connect(ctx context.Context, resume bool) (*websocket.Conn, *proto.Frame, error) {
	ws, resp, err := websocket.Dial(ctx, c.url, dialOptions(c.opts))
	if err != nil {
		if resp != nil && resp.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if f, derr := proto.DecodeFrame(b, 0); derr == nil && f.Type == proto.TypeError && f.Code != "" {
				return nil, nil, proto.ServerErrorOf(&f)
			}
			return nil, nil, fmt.Errorf("signaling: dial %s: HTTP %d: %w", c.url, resp.StatusCode, err)
		}
		return nil, nil, fmt.Errorf("signaling: dial %s: %w", c.url, err)
	}
	ws.SetReadLimit(clientReadLimit)
	join := &proto.Frame{Type: proto.TypeJoin, Version: ProtocolVersion, Room: c.room}
	if resume {
		c.mu.Lock()
		join.Peer, join.Resume = c.local, c.resume
		c.mu.Unlock()
	} else {
		o := &c.opts
		join.Name, join.Password, join.Token, join.Game, join.Private, join.Max = o.Name, o.Password, o.Token, o.GameID, o.Private, o.MaxPlayers
	}
	if werr := ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(join)); werr != nil {
		// A server that refused the connection may have closed it
		// already: its reason is in what is left to read.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		f, err := readServerFrame(rctx, ws)
		cancel()
		_ = ws.CloseNow()
		if err == nil && f.Type == proto.TypeError {
			return nil, nil, proto.ServerErrorOf(f)
		}
		var se *ServerError
		if errors.As(err, &se) {
			return nil, nil, se
		}
		return nil, nil, fmt.Errorf("signaling: send join: %w", werr)
	}
	f, err := readServerFrame(ctx, ws)
	if err != nil {
		_ = ws.CloseNow()
		return nil, nil, err
	}
	switch f.Type {
	case proto.TypeWelcome:
		if resume && f.Peer != c.local {
			_ = ws.CloseNow()
			return nil, nil, proto.ErrorFor(CodeResumeFailed, "server resumed %s as %s", c.local, f.Peer)
		}
		return ws, f, nil
	case proto.TypeError:
		_ = ws.CloseNow()
		return nil, nil, proto.ServerErrorOf(f)
	default:
		_ = ws.CloseNow()
		return nil, nil, fmt.Errorf("%w: expected welcome, got %q", proto.ErrBadRequest, proto.Truncate(f.Type, 32))
	}
}

// readServerFrame reads one valid server message. A close whose reason is
// a known code becomes that *ServerError.
func readServerFrame(ctx context.Context, ws *websocket.Conn) (*proto.Frame, error) {
	b, err := proto.ReadMessage(ctx, ws)
	if err != nil {
		if se := proto.CloseError(err); se != nil {
			return nil, se
		}
		return nil, fmt.Errorf("signaling: read: %w", err)
	}
	if id, data, ok := proto.ScanSignal(b, "peer"); ok && len(id) > 0 {
		// The common case, without encoding/json. b is this message's
		// own buffer: data may keep it.
		return &proto.Frame{Type: proto.TypeSignal, Peer: transport.PeerID(id), Data: data}, nil
	}
	f, err := proto.DecodeFrame(b, 0)
	if err != nil {
		return nil, fmt.Errorf("signaling: bad message from server: %w", err)
	}
	if err := proto.ValidateServerFrame(&f); err != nil {
		return nil, fmt.Errorf("signaling: bad message from server: %w", err)
	}
	return &f, nil
}
