package signaling

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/peerplay/peerplay/signaling/internal/proto"
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
	DefaultTURNCredentialTTL = 10 * time.Minute
	DefaultTURNRealm         = "peerplay"
	DefaultJoinsPerMinute    = 120
	DefaultJoinBurst         = 60
	DefaultRoomsPerMinute    = 20
	DefaultRoomBurst         = 10
	DefaultFailuresPerMinute = 10
	DefaultFailureBurst      = 5
	DefaultMaxRoomsPerIP     = 8
	DefaultRoomsPageLimit    = 50
	MaxRoomsPageLimit        = 200
)

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

	// JoinsPerMinute and JoinBurst form a token bucket per client address
	// for joins and resumes (0 = 120/min, burst 60; negative rate =
	// unlimited). Beyond it a join is refused with rate_limited.
	JoinsPerMinute float64
	JoinBurst      int
	// RoomsPerMinute and RoomBurst bound the rooms one address creates
	// (0 = 20/min, burst 10; negative rate = unlimited): past them its
	// join to a room that does not exist is refused with too_many_rooms
	// (joining existing rooms still works).
	RoomsPerMinute float64
	RoomBurst      int
	// FailuresPerMinute and FailureBurst bound the failed attempts of one
	// address (wrong password, bad or reused join token, failed resume)
	// (0 = 10/min, burst 5; negative rate = unlimited). Past them the
	// address is refused (rate_limited) for a backoff of 1 s, doubling
	// with every further failure up to a minute: password guessing runs
	// at FailuresPerMinute at most.
	FailuresPerMinute float64
	FailureBurst      int
	// MaxRoomsPerIP bounds the rooms an address holds: rooms whose
	// creator seat (attached, or held for a resume) is from it (0 = 8;
	// negative = unlimited). Held seats also count toward MaxConnsPerIP.
	MaxRoomsPerIP int

	// TokenSecret, when set, makes join tokens mandatory: every join must
	// carry a token minted with MintToken and this secret, for the room
	// (and, if the token names one, the player name). A token takes one
	// seat: a second join with it is refused with bad_token until it
	// expires (a resume needs no token).
	TokenSecret []byte

	// ICEServers are sent in every welcome. For each entry with a turn: or
	// turns: URL and no Username, if TURNSecret is set, the welcome fills in
	// fresh credentials (TURNCredentials, valid TURNCredentialTTL, user =
	// "<peer>@<room>", so that a leaked credential names its seat), and an
	// "ice" message refreshes them at half their validity while the
	// member stays seated.
	ICEServers []ICEServer
	// TURNSecret is the shared secret of coturn's use-auth-secret scheme,
	// used for the credentials in the welcome and by ServeTURN.
	TURNSecret string
	// TURNCredentialTTL is the validity of issued TURN credentials
	// (0 = 10 min). They are refreshed over signaling while the member is
	// seated; ServeTURN accepts an expired credential only for requests
	// on an allocation made while it was valid (refresh, permission,
	// channel bind), so a running session outlives it. With coturn, set
	// it above a session's length instead (coturn checks every request).
	TURNCredentialTTL time.Duration
	// TURNRealm is the realm of ServeTURN (0 = "peerplay").
	TURNRealm string
	// TURNAllowPeers lists address prefixes ServeTURN relays to although
	// they are denied by default (loopback, private, CGNAT, link-local,
	// multicast, unspecified, ULA, the server's own addresses): a LAN
	// deployment adds its LAN, e.g. "192.168.0.0/16". Empty = none.
	TURNAllowPeers []string
	// TURNAllowTCP enables TCP allocations (RFC 6062) in ServeTURN; false
	// (the default) refuses them.
	TURNAllowTCP bool
	// TURNMaxAllocationsPerUser and TURNMaxAllocationsPerIP bound the live
	// allocations of one credential's user and of one client address
	// (0 = 2*MaxRoomSize and 4*MaxRoomSize; negative = unlimited).
	TURNMaxAllocationsPerUser int
	TURNMaxAllocationsPerIP   int
	// TURNMaxPermissions bounds the peer addresses one allocation may be
	// permitted to reach (0 = 16: ICE needs a few per remote peer;
	// negative = unlimited).
	TURNMaxPermissions int
	// TURNAnyUser lets ServeTURN admit credentials of peers that are not
	// seated on this Server (a TURN-only node of a cluster); false (the
	// default) refuses an allocation whose credential names a seat this
	// Server does not hold.
	TURNAnyUser bool

	initOnce sync.Once
	initErr  error
	cfg      *Server // validated copy with defaults filled in
	log      *slog.Logger
	bp       Backplane
	ownBP    bool
	stats    serverStats
	ips      ipTable
	allow    []netip.Prefix // TURNAllowPeers, parsed

	seatMu sync.Mutex     // guards seated
	seated map[string]int // "<peer>@<room>" of joined connections
	quota  turnQuota

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

// ServeHTTP serves GET /rooms (the public listing) and WebSocket
// connections on every other path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.Validate(); err != nil {
		s.log.Error("signaling: invalid server config", "err", err)
		writeHTTPError(w, http.StatusInternalServerError, proto.ErrorFor(CodeInternal, "server misconfigured"))
		return
	}
	isWS := headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
	switch {
	case !isWS && path.Base(r.URL.Path) == "rooms":
		s.serveRooms(w, r)
	case isWS:
		s.serveWS(w, r)
	default:
		writeHTTPError(w, http.StatusNotFound, proto.ErrorFor(CodeBadRequest, "not found: WebSocket upgrade or GET /rooms expected"))
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
	// Next is the cursor of the next page ("" = this is the last).
	Next string `json:"next,omitempty"`
}

// serveRooms answers GET /rooms[?game=G][&limit=N][&cursor=C]: the public
// rooms (of game G), sorted by ID, at most N (default
// DefaultRoomsPageLimit, at most MaxRoomsPageLimit) after room C; "next"
// is the cursor of the following page.
func (s *Server) serveRooms(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeHTTPError(w, http.StatusMethodNotAllowed, proto.ErrorFor(CodeBadRequest, "GET only"))
		return
	}
	q := r.URL.Query()
	limit := DefaultRoomsPageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeHTTPError(w, http.StatusBadRequest, proto.ErrorFor(CodeBadRequest, "limit must be a positive number"))
			return
		}
		limit = min(n, MaxRoomsPageLimit)
	}
	game, cursor := q.Get("game"), q.Get("cursor")
	if len(game) > proto.MaxGameLen || len(cursor) > proto.MaxRoomLen {
		writeHTTPError(w, http.StatusBadRequest, proto.ErrorFor(CodeBadRequest, "game or cursor too long"))
		return
	}
	all, err := s.Rooms(r.Context())
	if err != nil {
		writeHTTPError(w, http.StatusServiceUnavailable, proto.AsServerError(err))
		return
	}
	out := roomListing{Rooms: []RoomInfo{}}
	for _, ri := range all {
		if ri.Private || (game != "" && ri.Game != game) || (cursor != "" && ri.Room <= cursor) {
			continue
		}
		if len(out.Rooms) == limit {
			out.Next = out.Rooms[limit-1].Room
			break
		}
		ri.Owner = ""
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
	_, _ = w.Write(proto.EncodeFrame(errorFrame(se)))
}

func errorFrame(se *ServerError) *proto.Frame {
	return &proto.Frame{Type: proto.TypeError, Code: se.Code, Message: se.Message, MinVersion: se.MinVersion, MaxVersion: se.MaxVersion}
}

func (s *Server) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return proto.ErrorFor(CodeOrigin, "malformed Origin %q", proto.Truncate(origin, 100))
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
	return proto.ErrorFor(CodeOrigin, "origin %q is not allowed", proto.Truncate(origin, 100))
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

// refuseWS refuses a WebSocket request visibly to a browser: it accepts
// the upgrade, sends the error and closes with a 4xxx code and the code
// as reason. If the upgrade fails, the HTTP error is written instead.
func (s *Server) refuseWS(w http.ResponseWriter, r *http.Request, status websocket.StatusCode, reason string, se *ServerError) {
	s.stats.reject(se.Code)
	s.stats.refuse(reason)
	s.log.Debug("signaling: refused connection", "code", se.Code, "rule", reason, "msg", se.Message)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept answered the HTTP request itself
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	_ = ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(errorFrame(se)))
	cancel()
	_ = ws.Close(status, string(se.Code))
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if err := s.checkOrigin(r); err != nil {
		s.refuseWS(w, r, proto.CloseForbidden, RefuseOrigin, proto.AsServerError(err))
		return
	}
	ip := addrKey(s.clientIP(r))
	c := &conn{
		s:          s,
		ip:         ip,
		closerDone: make(chan struct{}),
	}
	s.mu.Lock()
	open := s.perIP[ip]
	switch {
	case s.closing:
		s.mu.Unlock()
		s.refuseWS(w, r, proto.CloseUnavailable, "", proto.ErrorFor(CodeShutdown, "server shutting down"))
		return
	case len(s.conns) >= s.cfg.MaxConns:
		s.mu.Unlock()
		s.refuseWS(w, r, proto.CloseUnavailable, RefuseConns, proto.ErrorFor(CodeTooManyConns, "server at its limit of %d connections", s.cfg.MaxConns))
		return
	}
	if se := s.admitConn(ip, open); se != nil {
		s.mu.Unlock()
		s.refuseWS(w, r, proto.CloseTooMany, RefuseConnsPerIP, se)
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
		c.fail(proto.ErrorFor(CodeShutdown, "server shutting down"))
	}
	c.bucket = proto.TokenBucket{Rate: s.cfg.MessagesPerSecond, Burst: float64(s.cfg.Burst)}
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
		c.fail(proto.ErrorFor(CodeShutdown, "server shutting down"))
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
		c.fail(proto.ErrorFor(CodeShutdown, "server closed"))
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

// turnUser is the TURN user of a seat: "<peer>@<room>", so that a leaked
// credential names the seat it was issued to.
func turnUser(a Attachment) string { return string(a.Peer) + "@" + a.Room }

// seat and unseat track the seats joined here, for ServeTURN's check that
// a credential's seat is held.
func (s *Server) seat(a Attachment) {
	s.seatMu.Lock()
	defer s.seatMu.Unlock()
	if s.seated == nil {
		s.seated = make(map[string]int)
	}
	s.seated[turnUser(a)]++
}

func (s *Server) unseat(a Attachment) {
	s.seatMu.Lock()
	defer s.seatMu.Unlock()
	u := turnUser(a)
	if s.seated[u]--; s.seated[u] <= 0 {
		delete(s.seated, u)
	}
}

func (s *Server) isSeated(user string) bool {
	s.seatMu.Lock()
	defer s.seatMu.Unlock()
	return s.seated[user] > 0
}

// issuesTURN reports whether welcomes carry TURN credentials.
func (s *Server) issuesTURN() bool {
	if s.cfg.TURNSecret == "" {
		return false
	}
	for _, ice := range s.cfg.ICEServers {
		if ice.Username == "" && hasTURNURL(ice.URLs) {
			return true
		}
	}
	return false
}

// iceRefresh is how often a seated member gets fresh TURN credentials:
// at half their validity.
func (s *Server) iceRefresh() time.Duration { return max(s.cfg.TURNCredentialTTL/2, time.Second) }

// iceServersFor returns the configured ICE servers with fresh TURN
// credentials for seat a.
func (s *Server) iceServersFor(a Attachment) []ICEServer {
	out := make([]ICEServer, 0, len(s.cfg.ICEServers))
	now := time.Now()
	for _, ice := range s.cfg.ICEServers {
		ice.URLs = append([]string(nil), ice.URLs...)
		if ice.Username == "" && s.cfg.TURNSecret != "" && hasTURNURL(ice.URLs) {
			ice.Username, ice.Credential = TURNCredentials(s.cfg.TURNSecret, turnUser(a), s.cfg.TURNCredentialTTL, now)
		}
		out = append(out, ice)
	}
	return out
}

// checkJoinToken verifies f's join token against the TokenSecret.
func (s *Server) checkJoinToken(f *proto.Frame) (TokenClaims, error) {
	if f.Token == "" {
		return TokenClaims{}, proto.ErrorFor(CodeBadToken, "this server requires a join token")
	}
	claims, err := VerifyToken(s.cfg.TokenSecret, f.Token, time.Now())
	if err != nil {
		return TokenClaims{}, err
	}
	if claims.Room != f.Room {
		return TokenClaims{}, proto.ErrorFor(CodeBadToken, "token is for another room")
	}
	if claims.Name != "" && f.Name != "" && f.Name != claims.Name {
		return TokenClaims{}, proto.ErrorFor(CodeBadToken, "token is for another name")
	}
	return claims, nil
}

func hasTURNURL(urls []string) bool {
	for _, u := range urls {
		if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
			return true
		}
	}
	return false
}
