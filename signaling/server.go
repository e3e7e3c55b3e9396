package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/turn/v5"
)

// Defaults of the Server's zero fields.
const (
	DefaultMaxMessageBytes   = 64 << 10
	DefaultMessagesPerSecond = 50
	DefaultBurst             = 200
	DefaultMaxRooms          = 10000
	DefaultMaxRoomSize       = 16
	DefaultMaxConns          = 10000
	DefaultMaxConnsPerIP     = 64
	DefaultJoinTimeout       = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultPingInterval      = 20 * time.Second
	DefaultResumeGrace       = 30 * time.Second
	DefaultSendQueueLen      = 256
	DefaultTURNCredentialTTL = 12 * time.Hour
	DefaultTURNRealm         = "peerplay"
)

// writeTimeout bounds one write to a client; a client that does not take a
// message within it is cut as a slow consumer.
const writeTimeout = 10 * time.Second

// Server is the signaling service: an http.Handler that accepts WebSocket
// connections (any path but /rooms), admits them to rooms, relays signals
// between members, and answers GET /rooms with the public room listing. It
// can also run an embedded STUN server (ServeSTUN) and TURN server
// (ServeTURN).
//
// The zero Server is usable: every zero field means its documented
// default. Fields are read once, at first use; changing them afterwards has
// no effect. A Server is safe for concurrent use.
type Server struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Backplane holds rooms and delivers messages; nil = a private
	// MemoryBackplane (closed with the Server). Servers sharing one
	// Backplane serve the same rooms; the Server never closes a
	// Backplane it was given.
	Backplane Backplane

	// OriginPatterns lists the browser origins (host patterns, path.Match
	// syntax, e.g. "*.example.com"; or "scheme://host" patterns) allowed
	// besides the request's own host. Requests without an Origin header
	// (non-browser clients) are always allowed. "*" allows every origin.
	OriginPatterns []string
	// RealIPHeader, when set (e.g. "X-Real-IP"), names the header that
	// holds the client's address for the per-IP limit. Set it only behind
	// a reverse proxy that overwrites the header; empty = the TCP peer.
	RealIPHeader string

	// MaxMessageBytes bounds one client message (0 = 64 KiB).
	MaxMessageBytes int
	// MessagesPerSecond and Burst form a token bucket per connection
	// (0 = 50/s, burst 200). A client beyond it is cut with rate_limited.
	MessagesPerSecond float64
	Burst             int
	// MaxRooms bounds the rooms of the backplane (0 = 10000).
	MaxRooms int
	// MaxRoomSize bounds the members of a room (0 = 16); a room's creator
	// may ask for fewer.
	MaxRoomSize int
	// MaxConns bounds this server's WebSocket connections (0 = 10000), and
	// MaxConnsPerIP those from one client address (0 = 64).
	MaxConns      int
	MaxConnsPerIP int
	// JoinTimeout is how long a new connection may take to send its join
	// (0 = 10 s).
	JoinTimeout time.Duration
	// PingInterval is how often the server pings a joined client
	// (0 = 20 s); IdleTimeout is how long a ping may stay unanswered
	// before the client is cut with idle (0 = 60 s).
	PingInterval time.Duration
	IdleTimeout  time.Duration
	// ResumeGrace is how long a member's seat is held after its connection
	// is lost, so that it can resume with the same ID (0 = 30 s; negative =
	// no grace: peer-left at once).
	ResumeGrace time.Duration
	// SendQueueLen bounds the messages queued for one client
	// (0 = 256); a client whose queue overflows is cut with slow_consumer
	// and may resume.
	SendQueueLen int

	// TokenSecret, when set, makes join tokens mandatory: every join must
	// carry a token minted with MintToken and this secret, for the room
	// (and, if the token names one, the player name).
	TokenSecret []byte

	// ICEServers are sent in every welcome. For each entry with a turn: or
	// turns: URL and no Username, if TURNSecret is set, the welcome fills in
	// fresh credentials (TURNCredentials, valid TURNCredentialTTL, user =
	// the peer's ID).
	ICEServers []ICEServer
	// TURNSecret is the shared secret of coturn's use-auth-secret scheme,
	// used for the credentials in the welcome and by ServeTURN.
	TURNSecret string
	// TURNCredentialTTL is the validity of issued TURN credentials
	// (0 = 12 h). It should exceed a game session: pion's and coturn's
	// allocation refreshes use the same credentials.
	TURNCredentialTTL time.Duration
	// TURNRealm is the realm of ServeTURN (0 = "peerplay").
	TURNRealm string

	initOnce sync.Once
	initErr  error
	cfg      *Server // validated copy with defaults filled in
	log      *slog.Logger
	bp       Backplane
	ownBP    bool
	stats    serverStats

	mu      sync.Mutex // guards all following fields
	conns   map[*conn]struct{}
	perIP   map[string]int
	closing bool
	udp     map[io.Closer]struct{}
	turn    []*turn.Server
	wg      sync.WaitGroup
}

// Validate checks the Server's fields (and fills in defaults). ServeHTTP
// answers 500 and ServeSTUN/ServeTURN return this error when it fails.
// Errors wrap ErrInvalidConfig.
func (s *Server) Validate() error {
	s.initOnce.Do(s.init)
	return s.initErr
}

func (s *Server) init() {
	c := Server{
		Logger: s.Logger, Backplane: s.Backplane,
		OriginPatterns: append([]string(nil), s.OriginPatterns...), RealIPHeader: s.RealIPHeader,
		MaxMessageBytes: s.MaxMessageBytes, MessagesPerSecond: s.MessagesPerSecond, Burst: s.Burst,
		MaxRooms: s.MaxRooms, MaxRoomSize: s.MaxRoomSize, MaxConns: s.MaxConns, MaxConnsPerIP: s.MaxConnsPerIP,
		JoinTimeout: s.JoinTimeout, PingInterval: s.PingInterval, IdleTimeout: s.IdleTimeout,
		ResumeGrace: s.ResumeGrace, SendQueueLen: s.SendQueueLen,
		TokenSecret: append([]byte(nil), s.TokenSecret...), TURNSecret: s.TURNSecret,
		TURNCredentialTTL: s.TURNCredentialTTL, TURNRealm: s.TURNRealm,
	}
	for _, ice := range s.ICEServers {
		ice.URLs = append([]string(nil), ice.URLs...)
		c.ICEServers = append(c.ICEServers, ice)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	def(&c.Burst, DefaultBurst)
	def(&c.MaxRooms, DefaultMaxRooms)
	def(&c.MaxRoomSize, DefaultMaxRoomSize)
	def(&c.MaxConns, DefaultMaxConns)
	def(&c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	def(&c.SendQueueLen, DefaultSendQueueLen)
	if c.MessagesPerSecond == 0 {
		c.MessagesPerSecond = DefaultMessagesPerSecond
	}
	defDur(&c.JoinTimeout, DefaultJoinTimeout)
	defDur(&c.PingInterval, DefaultPingInterval)
	defDur(&c.IdleTimeout, DefaultIdleTimeout)
	defDur(&c.ResumeGrace, DefaultResumeGrace)
	defDur(&c.TURNCredentialTTL, DefaultTURNCredentialTTL)
	if c.TURNRealm == "" {
		c.TURNRealm = DefaultTURNRealm
	}
	var bad []string
	for name, v := range map[string]int{"MaxMessageBytes": c.MaxMessageBytes, "Burst": c.Burst, "MaxRooms": c.MaxRooms,
		"MaxRoomSize": c.MaxRoomSize, "MaxConns": c.MaxConns, "MaxConnsPerIP": c.MaxConnsPerIP, "SendQueueLen": c.SendQueueLen} {
		if v < 0 {
			bad = append(bad, fmt.Sprintf("%s %d is negative", name, v))
		}
	}
	if c.MaxMessageBytes < 1024 {
		bad = append(bad, fmt.Sprintf("MaxMessageBytes %d is below 1024", c.MaxMessageBytes))
	}
	if c.MessagesPerSecond < 0 {
		bad = append(bad, "MessagesPerSecond is negative")
	}
	for name, v := range map[string]time.Duration{"JoinTimeout": c.JoinTimeout, "PingInterval": c.PingInterval,
		"IdleTimeout": c.IdleTimeout, "TURNCredentialTTL": c.TURNCredentialTTL} {
		if v < 0 {
			bad = append(bad, fmt.Sprintf("%s %v is negative", name, v))
		}
	}
	for _, p := range c.OriginPatterns {
		if _, err := path.Match(p, ""); err != nil {
			bad = append(bad, fmt.Sprintf("origin pattern %q: %v", p, err))
		}
	}
	for _, ice := range c.ICEServers {
		if len(ice.URLs) == 0 {
			bad = append(bad, "an ICE server without URLs")
		}
	}
	if len(bad) > 0 {
		s.initErr = fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(bad, "; "))
		return
	}
	s.cfg = &c
	s.log = c.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.bp = c.Backplane
	if s.bp == nil {
		s.bp, s.ownBP = NewMemoryBackplane(), true
	}
	s.stats.rejects = make(map[Code]*atomic.Uint64)
	for code := range codeSentinels {
		s.stats.rejects[code] = new(atomic.Uint64)
	}
}

// ServeHTTP serves GET /rooms (the public listing) and WebSocket
// connections on every other path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.Validate(); err != nil {
		s.log.Error("signaling: invalid server config", "err", err)
		writeHTTPError(w, http.StatusInternalServerError, errorFor(CodeInternal, "server misconfigured"))
		return
	}
	isWS := headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
	switch {
	case !isWS && path.Base(r.URL.Path) == "rooms":
		s.serveRooms(w, r)
	case isWS:
		s.serveWS(w, r)
	default:
		writeHTTPError(w, http.StatusNotFound, errorFor(CodeBadRequest, "not found: WebSocket upgrade or GET /rooms expected"))
	}
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// roomListing is the body of GET /rooms.
type roomListing struct {
	Rooms []RoomInfo `json:"rooms"`
}

func (s *Server) serveRooms(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeHTTPError(w, http.StatusMethodNotAllowed, errorFor(CodeBadRequest, "GET only"))
		return
	}
	rooms, err := s.Rooms(r.Context())
	if err != nil {
		writeHTTPError(w, http.StatusServiceUnavailable, asServerError(err))
		return
	}
	game := r.URL.Query().Get("game")
	out := roomListing{Rooms: []RoomInfo{}}
	for _, ri := range rooms {
		if ri.Private || (game != "" && ri.Game != game) {
			continue
		}
		out.Rooms = append(out.Rooms, ri)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(out)
}

// Rooms returns every room of the backplane, private ones included
// (RoomInfo.Private set), sorted by ID.
func (s *Server) Rooms(ctx context.Context) ([]RoomInfo, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s.bp.Rooms(ctx)
}

func writeHTTPError(w http.ResponseWriter, status int, se *ServerError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(encodeFrame(errorFrame(se)))
}

func errorFrame(se *ServerError) *frame {
	return &frame{Type: typeError, Code: se.Code, Message: se.Message, MinVersion: se.MinVersion, MaxVersion: se.MaxVersion}
}

func (s *Server) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return errorFor(CodeOrigin, "malformed Origin %q", truncate(origin, 100))
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range s.cfg.OriginPatterns {
		target := strings.ToLower(u.Host)
		if strings.Contains(p, "://") {
			target = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		if ok, _ := path.Match(strings.ToLower(p), target); ok {
			return nil
		}
	}
	return errorFor(CodeOrigin, "origin %q is not allowed", truncate(origin, 100))
}

func (s *Server) clientIP(r *http.Request) string {
	if h := s.cfg.RealIPHeader; h != "" {
		if v := strings.TrimSpace(strings.Split(r.Header.Get(h), ",")[0]); v != "" {
			return v
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) reject(w http.ResponseWriter, status int, se *ServerError) {
	s.stats.reject(se.Code)
	s.log.Debug("signaling: rejected connection", "code", se.Code, "msg", se.Message)
	writeHTTPError(w, status, se)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if err := s.checkOrigin(r); err != nil {
		s.reject(w, http.StatusForbidden, asServerError(err))
		return
	}
	ip := s.clientIP(r)
	c := &conn{
		s:       s,
		ip:      ip,
		out:     make(chan []byte, s.cfg.SendQueueLen),
		welcome: make(chan []byte, 1),
		failCh:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.mu.Lock()
	switch {
	case s.closing:
		s.mu.Unlock()
		s.reject(w, http.StatusServiceUnavailable, errorFor(CodeShutdown, "server shutting down"))
		return
	case len(s.conns) >= s.cfg.MaxConns:
		s.mu.Unlock()
		s.reject(w, http.StatusServiceUnavailable, errorFor(CodeTooManyConns, "server at its limit of %d connections", s.cfg.MaxConns))
		return
	case s.perIP[ip] >= s.cfg.MaxConnsPerIP:
		s.mu.Unlock()
		s.reject(w, http.StatusTooManyRequests, errorFor(CodeTooManyConns, "limit of %d connections per address reached", s.cfg.MaxConnsPerIP))
		return
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
		s.perIP = make(map[string]int)
	}
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // checkOrigin did it, answering with a code
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Debug("signaling: upgrade failed", "err", err)
		return
	}
	// One byte more than the limit, so that an oversize message is seen by
	// us (and answered with too_large) rather than cut by the library.
	ws.SetReadLimit(int64(s.cfg.MaxMessageBytes) + 1)
	s.mu.Lock()
	c.ws = ws
	closing := s.closing
	s.mu.Unlock()
	if closing {
		c.fail(errorFor(CodeShutdown, "server shutting down"))
	}
	c.bucket = tokenBucket{rate: s.cfg.MessagesPerSecond, burst: float64(s.cfg.Burst)}
	s.stats.conns.Add(1)
	defer s.stats.conns.Add(-1)
	c.serve()
}

// Shutdown stops accepting connections, tells every client that the
// server is going away (error shutdown; their seats are held for
// ResumeGrace so that they can resume on another server of the same
// backplane), stops STUN and TURN, and waits for every goroutine or for ctx.
// When ctx ends first it calls Close and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.Validate()
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.fail(errorFor(CodeShutdown, "server shutting down"))
	}
	s.closeUDPLocked()
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.closeBackplane()
		return nil
	case <-ctx.Done():
		_ = s.Close()
		<-done
		return ctx.Err()
	}
}

// Close closes every connection at once (no goodbye), stops STUN and TURN,
// and returns after every goroutine of the Server has exited. Idempotent.
func (s *Server) Close() error {
	_ = s.Validate()
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.fail(errorFor(CodeShutdown, "server closed"))
		if c.ws != nil {
			_ = c.ws.CloseNow()
		}
	}
	s.closeUDPLocked()
	s.mu.Unlock()
	s.wg.Wait()
	s.closeBackplane()
	return nil
}

func (s *Server) closeBackplane() {
	if s.ownBP && s.bp != nil {
		_ = s.bp.Close()
	}
}

func (s *Server) closeUDPLocked() {
	for c := range s.udp {
		_ = c.Close()
	}
}

// conn is one client connection. Its goroutines: serve (the reader; owns
// the join and the teardown), writer (owns writes and the close
// handshake), and pinger (after the join).
type conn struct {
	s      *Server
	ws     *websocket.Conn
	ip     string
	bucket tokenBucket

	out     chan []byte   // queued frames (sink, replies); bounded
	welcome chan []byte   // the welcome frame, written before anything of out
	failCh  chan struct{} // closed by fail
	done    chan struct{} // closed when serve returns
	once    sync.Once
	why     *ServerError // set by fail, read after failCh is closed

	att    Attachment
	joined bool
	left   bool
}

// fail makes the writer send se and close the connection. Safe from any
// goroutine, never blocks; the first reason wins.
func (c *conn) fail(se *ServerError) {
	c.once.Do(func() {
		c.why = se
		if se.Code != "" {
			c.s.stats.reject(se.Code)
		}
		close(c.failCh)
	})
}

// sink is the conn's Sink: it encodes and queues without blocking.
func (c *conn) sink(ev Event) {
	var f *frame
	switch ev.Kind {
	case PeerJoined:
		f = &frame{Type: typePeerJoined, Peer: ev.Peer, Name: ev.Name}
	case PeerLeft:
		f = &frame{Type: typePeerLeft, Peer: ev.Peer}
	case Signal:
		f = &frame{Type: typeSignal, Peer: ev.Peer, Data: ev.Data}
	case RoomUpdated:
		f = &frame{Type: typeRoom, Info: ev.Room}
	default:
		switch {
		case errors.Is(ev.Err, ErrReplaced):
			c.fail(errorFor(CodeReplaced, "the seat was resumed by a newer connection"))
		case ev.Err != nil:
			// The backplane ended the seat (e.g. a clustered backplane
			// lost it): tell the client why, with the error's code.
			c.fail(asServerError(ev.Err))
		}
		return
	}
	c.enqueue(encodeFrame(f))
}

func (c *conn) enqueue(b []byte) {
	select {
	case c.out <- b:
	default:
		c.fail(errorFor(CodeSlowConsumer, "send queue of %d messages overflowed", cap(c.out)))
	}
}

func (c *conn) serve() {
	s := c.s
	defer close(c.done)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writer()
	}()
	defer func() {
		// The writer exits after failCh; make sure it is closed.
		c.fail(errorFor(CodeInternal, "connection ended"))
		<-writerDone
		_ = c.ws.CloseNow()
		if c.joined {
			s.stats.members.Add(-1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if c.left {
				_ = s.bp.Leave(ctx, c.att)
			} else {
				grace := s.cfg.ResumeGrace
				if grace < 0 {
					grace = 0
				}
				_ = s.bp.Detach(ctx, c.att, grace)
			}
		}
	}()

	// Join phase. The timeout goes through fail, not the read's context:
	// a cancelled read would close the WebSocket before the error is sent.
	joinTimer := time.AfterFunc(s.cfg.JoinTimeout, func() {
		c.fail(errorFor(CodeTimeout, "no join within %v", s.cfg.JoinTimeout))
	})
	f, err := c.read(context.Background())
	joinTimer.Stop()
	if err != nil {
		c.failRead(err)
		return
	}
	if f.Type != typeJoin {
		c.failRead(errorFor(CodeBadRequest, "the first message must be a join, not %q", truncate(f.Type, 32)))
		return
	}
	if err := c.join(&f); err != nil {
		c.failRead(err)
		return
	}

	pingerDone := make(chan struct{})
	go func() {
		defer close(pingerDone)
		c.pinger()
	}()
	defer func() {
		c.fail(errorFor(CodeInternal, "connection ended"))
		<-pingerDone
	}()

	for {
		f, err := c.read(context.Background())
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				c.left = true
			}
			c.failRead(err)
			return
		}
		switch f.Type {
		case typeSignal:
			err := s.bp.Signal(context.Background(), c.att, f.To, f.Data)
			if err != nil {
				se := asServerError(err)
				if se.Code != CodeUnknownPeer {
					c.failRead(se)
					return
				}
				s.stats.reject(se.Code)
				c.enqueue(encodeFrame(&frame{Type: typeError, Code: se.Code, Message: se.Message, Peer: f.To}))
				continue
			}
			s.stats.signals.Add(1)
		case typeRoom:
			if _, err := s.bp.UpdateRoom(context.Background(), c.att, *f.Meta, s.cfg.MaxRoomSize); err != nil {
				c.failRead(err)
				return
			}
		case typePing:
			c.enqueue(encodeFrame(&frame{Type: typePong}))
		case typeLeave:
			c.left = true
			c.fail(&ServerError{Code: "", Message: "left"})
			return
		case typeJoin:
			c.failRead(errorFor(CodeBadRequest, "already joined"))
			return
		}
	}
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

// read returns the next valid client message, or an error: a
// *ServerError for a bad message, anything else for a lost connection.
func (c *conn) read(ctx context.Context) (frame, error) {
	_, r, err := c.ws.Reader(ctx)
	if err != nil {
		return frame{}, err
	}
	limit := c.s.cfg.MaxMessageBytes
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return frame{}, err
	}
	c.s.stats.in.Add(1)
	if len(b) > limit {
		return frame{}, errorFor(CodeTooLarge, "message above %d bytes", limit)
	}
	if !c.bucket.take(time.Now()) {
		return frame{}, errorFor(CodeRateLimited, "more than %g messages per second (burst %d)", c.s.cfg.MessagesPerSecond, c.s.cfg.Burst)
	}
	f, err := decodeFrame(b, limit)
	if err != nil {
		return frame{}, err
	}
	if err := validateClientFrame(&f); err != nil {
		return frame{}, err
	}
	return f, nil
}

func (c *conn) join(f *frame) error {
	s := c.s
	name := f.Name
	if len(s.cfg.TokenSecret) > 0 {
		if f.Token == "" {
			return errorFor(CodeBadToken, "this server requires a join token")
		}
		claims, err := VerifyToken(s.cfg.TokenSecret, f.Token, time.Now())
		if err != nil {
			return err
		}
		if claims.Room != f.Room {
			return errorFor(CodeBadToken, "token is for another room")
		}
		if claims.Name != "" {
			if name != "" && name != claims.Name {
				return errorFor(CodeBadToken, "token is for another name")
			}
			name = claims.Name
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var res JoinResult
	var err error
	if f.Resume != "" {
		res, err = s.bp.Resume(ctx, f.Room, f.Peer, f.Resume, c.sink)
	} else {
		res, err = s.bp.Join(ctx, JoinRequest{
			Room: f.Room, Name: name, Game: f.Game, Password: f.Password, Private: f.Private, Max: f.Max,
			MaxRooms: s.cfg.MaxRooms, MaxRoomSize: s.cfg.MaxRoomSize,
		}, c.sink)
	}
	if err != nil {
		return asServerError(err)
	}
	c.att, c.joined = res.Attachment, true
	s.stats.members.Add(1)
	if res.Resumed {
		s.stats.resumes.Add(1)
	} else {
		s.stats.joins.Add(1)
	}
	info := res.Info
	c.welcome <- encodeFrame(&frame{
		Type: typeWelcome, Version: ProtocolVersion, Room: res.Room, Peer: res.Peer, Resume: res.ResumeToken,
		Peers: res.Peers, ICE: s.iceServersFor(string(res.Peer)), Info: &info, Resumed: res.Resumed,
		Limits: &Limits{
			MaxMessageBytes: s.cfg.MaxMessageBytes, MessagesPerSecond: s.cfg.MessagesPerSecond, Burst: s.cfg.Burst,
			PingIntervalMS: s.cfg.PingInterval.Milliseconds(), IdleTimeoutMS: s.cfg.IdleTimeout.Milliseconds(),
			ResumeGraceMS: max(s.cfg.ResumeGrace, 0).Milliseconds(),
		},
	})
	s.log.Info("signaling: member joined", "room", res.Room, "peer", res.Peer, "resumed", res.Resumed, "ip", c.ip)
	return nil
}

// iceServersFor returns the configured ICE servers with fresh TURN
// credentials for user.
func (s *Server) iceServersFor(user string) []ICEServer {
	out := make([]ICEServer, 0, len(s.cfg.ICEServers))
	now := time.Now()
	for _, ice := range s.cfg.ICEServers {
		ice.URLs = append([]string(nil), ice.URLs...)
		if ice.Username == "" && s.cfg.TURNSecret != "" && hasTURNURL(ice.URLs) {
			ice.Username, ice.Credential = TURNCredentials(s.cfg.TURNSecret, user, s.cfg.TURNCredentialTTL, now)
		}
		out = append(out, ice)
	}
	return out
}

func hasTURNURL(urls []string) bool {
	for _, u := range urls {
		if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
			return true
		}
	}
	return false
}

func (c *conn) writer() {
	write := func(b []byte) bool {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
			if ctx.Err() != nil {
				c.fail(errorFor(CodeSlowConsumer, "write timed out"))
			} else {
				c.fail(&ServerError{Message: "connection lost"})
			}
			return false
		}
		c.s.stats.out.Add(1)
		return true
	}
	// The welcome goes first; until it is written, sink events wait in out.
	select {
	case b := <-c.welcome:
		if !write(b) {
			c.closeWith()
			return
		}
	case <-c.failCh:
		c.closeWith()
		return
	}
	for {
		select {
		case b := <-c.out:
			if !write(b) {
				c.closeWith()
				return
			}
		case <-c.failCh:
			c.closeWith()
			return
		}
	}
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
	_ = c.ws.Write(ctx, websocket.MessageText, encodeFrame(errorFrame(se)))
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

func (c *conn) pinger() {
	t := time.NewTicker(c.s.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.failCh:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.IdleTimeout)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				c.fail(errorFor(CodeIdle, "no pong within %v", c.s.cfg.IdleTimeout))
			}
			return
		}
	}
}

// tokenBucket is a per-connection rate limiter, used by one goroutine.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
	}
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
