package signaling

import (
	"context"
	"encoding/json"
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
		s:          s,
		ip:         ip,
		closerDone: make(chan struct{}),
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
	forget := func() {
		s.mu.Lock()
		delete(s.conns, c)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
		s.wg.Done()
	}

	hj := &hijacker{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // checkOrigin did it, answering with a code
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Debug("signaling: upgrade failed", "err", err)
		forget()
		return
	}
	// One byte more than the limit, so that an oversize message is seen by
	// us (and answered with too_large) rather than cut by the library.
	ws.SetReadLimit(int64(s.cfg.MaxMessageBytes) + 1)
	s.mu.Lock()
	c.ws, c.wire = ws, hj.wire
	closing := s.closing
	s.mu.Unlock()
	if closing {
		c.fail(errorFor(CodeShutdown, "server shutting down"))
	}
	c.bucket = tokenBucket{rate: s.cfg.MessagesPerSecond, burst: float64(s.cfg.Burst)}
	s.stats.conns.Add(1)
	// The connection outlives this handler: returning lets net/http free
	// what it held for the request (its goroutine's stack, the request,
	// its buffers), which an idle connection does not need.
	go func() {
		defer forget()
		defer s.stats.conns.Add(-1)
		c.serve()
	}()
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
