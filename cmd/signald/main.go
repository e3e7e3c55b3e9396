package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "signald:", err)
		os.Exit(1)
	}
}

// config is signald's configuration, from flags and environment.
type config struct {
	addr, tlsCert, tlsKey               string
	stunAddr, turnAddr                  string
	turnRelayIP, turnRelayBind          string
	turnPorts, turnSecret, turnRealm    string
	turnTTL                             time.Duration
	stunURLs, turnURLs                  string
	tokenSecret, origins, realIPHeader  string
	maxMessageBytes, burst              int
	msgsPerSec                          float64
	maxRooms, maxRoomSize               int
	maxConns, maxConnsPerIP             int
	joinTimeout, pingInterval           time.Duration
	idleTimeout, resumeGrace, shutdownT time.Duration
	logLevel                            string
	natsURL, natsCreds, natsBucket      string
	node                                string
	natsTTL, natsWait                   time.Duration
	natsReplicas                        int

	adminAddr                                      string
	readHeaderTimeout, readTimeout, httpIdle       time.Duration
	maxHeaderBytes, maxTCPPerIP                    int
	joinsPerMin, roomsPerMin, failuresPerMin       float64
	joinBurst, roomBurst, failureBurst, roomsPerIP int
	turnAllow                                      string
	turnTCP                                        bool
	turnUserQuota, turnIPQuota, turnPermQuota      int
	turnStream                                     turnStreamFlags
}

func parseFlags(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("signald", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", ":8080", "HTTP(S) listen address for WebSocket, /rooms, /healthz, /metrics")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with -tls-key, serve HTTPS/WSS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.stunAddr, "stun-addr", ":3478", "UDP listen address of the embedded STUN server (empty: off)")
	fs.StringVar(&c.stunURLs, "stun-url", "", "comma-separated STUN URLs sent to clients (e.g. stun:203.0.113.7:3478)")
	fs.StringVar(&c.turnAddr, "turn-addr", "", "UDP listen address of the embedded TURN server (empty: off; use coturn instead)")
	fs.StringVar(&c.turnRelayIP, "turn-relay-ip", "", "public IP of TURN relay addresses (required with -turn-addr)")
	fs.StringVar(&c.turnRelayBind, "turn-relay-bind", "0.0.0.0", "local address TURN relay sockets bind to")
	fs.StringVar(&c.turnPorts, "turn-ports", "", "TURN relay port range MIN-MAX (empty: any)")
	fs.StringVar(&c.turnSecret, "turn-secret", "", "shared TURN secret (coturn static-auth-secret): credentials in the welcome, and the embedded TURN server")
	fs.StringVar(&c.turnRealm, "turn-realm", signaling.DefaultTURNRealm, "TURN realm of the embedded server")
	fs.DurationVar(&c.turnTTL, "turn-ttl", signaling.DefaultTURNCredentialTTL, "validity of issued TURN credentials")
	fs.StringVar(&c.turnURLs, "turn-url", "", "comma-separated TURN URLs sent to clients with fresh credentials (e.g. turn:203.0.113.7:3479?transport=udp)")
	fs.StringVar(&c.tokenSecret, "token-secret", "", "if set, joins need a token minted with this secret (signaling.MintToken)")
	fs.StringVar(&c.origins, "origins", "", "comma-separated browser origin patterns allowed besides the server's host (* = any)")
	fs.StringVar(&c.realIPHeader, "real-ip-header", "", "header holding the client IP behind a trusted proxy (e.g. X-Real-IP)")
	fs.IntVar(&c.maxMessageBytes, "max-message-bytes", signaling.DefaultMaxMessageBytes, "largest client message")
	fs.Float64Var(&c.msgsPerSec, "max-msgs-per-sec", signaling.DefaultMessagesPerSecond, "messages per second per connection")
	fs.IntVar(&c.burst, "burst", signaling.DefaultBurst, "message burst per connection")
	fs.IntVar(&c.maxRooms, "max-rooms", signaling.DefaultMaxRooms, "most rooms")
	fs.IntVar(&c.maxRoomSize, "max-room-size", signaling.DefaultMaxRoomSize, "most members per room")
	fs.IntVar(&c.maxConns, "max-conns", signaling.DefaultMaxConns, "most WebSocket connections")
	fs.IntVar(&c.maxConnsPerIP, "max-conns-per-ip", signaling.DefaultMaxConnsPerIP, "most WebSocket connections per client IP")
	fs.DurationVar(&c.joinTimeout, "join-timeout", signaling.DefaultJoinTimeout, "time for a new connection to join")
	fs.DurationVar(&c.pingInterval, "ping-interval", signaling.DefaultPingInterval, "keepalive ping interval")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", signaling.DefaultIdleTimeout, "cut clients whose pong is this late")
	fs.DurationVar(&c.resumeGrace, "resume-grace", signaling.DefaultResumeGrace, "how long a lost member's seat is held for a resume")
	fs.DurationVar(&c.shutdownT, "shutdown-timeout", 10*time.Second, "graceful shutdown limit")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.natsURL, "nats", "", "NATS URL(s), comma-separated, for a multi-node service (rooms in a JetStream KV bucket); empty: one node, in memory")
	fs.StringVar(&c.natsCreds, "nats-creds", "", "NATS credentials file (.creds) for -nats")
	fs.StringVar(&c.natsBucket, "nats-bucket", natsbackplane.DefaultBucket, "JetStream KV bucket of the room registry (the same on every node)")
	fs.DurationVar(&c.natsTTL, "nats-ttl", natsbackplane.DefaultTTL, "registry TTL: a dead node's rooms and seats expire after about this (the same on every node)")
	fs.IntVar(&c.natsReplicas, "nats-replicas", natsbackplane.DefaultReplicas, "replicas of the registry bucket when signald creates it (3 on a 3-node NATS cluster)")
	fs.DurationVar(&c.natsWait, "nats-wait", 5*time.Second, "how long to wait for NATS at start before serving degraded (health 503) until it comes")
	fs.StringVar(&c.adminAddr, "admin-addr", "", "separate listen address for /healthz and /metrics (empty: served on -addr too); keep it off the public interface")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 5*time.Second, "time for a client to send its request headers")
	fs.DurationVar(&c.readTimeout, "read-timeout", 10*time.Second, "time to read a whole non-WebSocket request")
	fs.DurationVar(&c.httpIdle, "http-idle-timeout", 30*time.Second, "close HTTP keep-alive connections idle this long")
	fs.IntVar(&c.maxHeaderBytes, "max-header-bytes", 8<<10, "largest request header")
	fs.IntVar(&c.maxTCPPerIP, "max-tcp-per-ip", 128, "most TCP connections per client IP on -addr, of any kind (0: no cap); above -max-conns-per-ip")
	fs.Float64Var(&c.joinsPerMin, "joins-per-min", signaling.DefaultJoinsPerMinute, "joins and resumes per minute per client IP (negative: unlimited)")
	fs.IntVar(&c.joinBurst, "join-burst", signaling.DefaultJoinBurst, "join burst per client IP")
	fs.Float64Var(&c.roomsPerMin, "rooms-per-min", signaling.DefaultRoomsPerMinute, "rooms created per minute per client IP (negative: unlimited)")
	fs.IntVar(&c.roomBurst, "room-burst", signaling.DefaultRoomBurst, "room creation burst per client IP")
	fs.Float64Var(&c.failuresPerMin, "failures-per-min", signaling.DefaultFailuresPerMinute, "failed passwords, tokens and resumes per minute per client IP before backoff (negative: unlimited)")
	fs.IntVar(&c.failureBurst, "failure-burst", signaling.DefaultFailureBurst, "failure burst per client IP")
	fs.IntVar(&c.roomsPerIP, "max-rooms-per-ip", signaling.DefaultMaxRoomsPerIP, "most rooms whose creator (attached or held seat) is one client IP (negative: unlimited)")
	fs.StringVar(&c.turnAllow, "turn-allow", "", "comma-separated address prefixes the embedded TURN may relay to although private/loopback/... (a LAN deployment, e.g. 192.168.0.0/16)")
	fs.BoolVar(&c.turnTCP, "turn-tcp", false, "allow TCP allocations (RFC 6062) in the embedded TURN")
	fs.IntVar(&c.turnUserQuota, "turn-user-quota", 0, "most live TURN allocations per credential user (0: 2 x max-room-size)")
	fs.IntVar(&c.turnIPQuota, "turn-ip-quota", 0, "most live TURN allocations per client IP (0: 4 x max-room-size)")
	fs.IntVar(&c.turnPermQuota, "turn-perm-quota", 0, "most peer addresses one TURN allocation may be permitted to (0: 16)")
	fs.StringVar(&c.turnStream.tcpAddr, "turn-tcp-addr", "", "TCP listen address of the embedded TURN server, for clients whose network blocks UDP (empty: off); hand out turn:HOST:PORT?transport=tcp")
	fs.StringVar(&c.turnStream.tlsAddr, "turns-addr", "", "TLS listen address of the embedded TURN server, e.g. :443 (empty: off); hand out turns:HOST:PORT?transport=tcp")
	fs.StringVar(&c.turnStream.tlsCert, "turns-cert", "", "certificate file (PEM) of -turns-addr (empty: -tls-cert's)")
	fs.StringVar(&c.turnStream.tlsKey, "turns-key", "", "private key file (PEM) of -turns-addr (empty: -tls-key's)")
	fs.StringVar(&c.node, "node", "", "this node's name in the cluster, unique ([A-Za-z0-9_-]; empty: host name and a random suffix)")
	// Environment first, command line over it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := "SIGNALD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(key); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", key, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if c.turnAddr != "" && (c.turnSecret == "" || c.turnRelayIP == "") {
		return nil, errors.New("-turn-addr needs -turn-secret and -turn-relay-ip")
	}
	if c.turnURLs != "" && c.turnSecret == "" {
		return nil, errors.New("-turn-url needs -turn-secret (the credentials are made with it)")
	}
	if err := c.checkTURNStreams(); err != nil {
		return nil, err
	}
	if c.natsURL == "" && c.natsCreds != "" {
		return nil, errors.New("-nats-creds needs -nats")
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// addrs are the bound addresses, reported once serving.
type addrs struct {
	HTTP, STUN, TURN, Admin string
	TURNStreams             []string // TURN over TCP, then over TLS
}

// readTimeout bounds the reading of a non-WebSocket request's body to d
// (http.Server.ReadTimeout would also cut WebSockets, whose connection
// outlives the request).
func readTimeout(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// run is signald: it serves until ctx ends, then shuts down gracefully.
// ready, if set, is called with the bound addresses once serving.
func run(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer, ready func(addrs)) error {
	cfg, err := parseFlags(args, getenv, logOut)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))

	srv := &signaling.Server{
		Logger:                    log,
		OriginPatterns:            splitList(cfg.origins),
		RealIPHeader:              cfg.realIPHeader,
		MaxMessageBytes:           cfg.maxMessageBytes,
		MessagesPerSecond:         cfg.msgsPerSec,
		Burst:                     cfg.burst,
		MaxRooms:                  cfg.maxRooms,
		MaxRoomSize:               cfg.maxRoomSize,
		MaxConns:                  cfg.maxConns,
		MaxConnsPerIP:             cfg.maxConnsPerIP,
		JoinTimeout:               cfg.joinTimeout,
		PingInterval:              cfg.pingInterval,
		IdleTimeout:               cfg.idleTimeout,
		ResumeGrace:               cfg.resumeGrace,
		TURNSecret:                cfg.turnSecret,
		TURNCredentialTTL:         cfg.turnTTL,
		TURNRealm:                 cfg.turnRealm,
		JoinsPerMinute:            cfg.joinsPerMin,
		JoinBurst:                 cfg.joinBurst,
		RoomsPerMinute:            cfg.roomsPerMin,
		RoomBurst:                 cfg.roomBurst,
		FailuresPerMinute:         cfg.failuresPerMin,
		FailureBurst:              cfg.failureBurst,
		MaxRoomsPerIP:             cfg.roomsPerIP,
		TURNAllowPeers:            splitList(cfg.turnAllow),
		TURNAllowTCP:              cfg.turnTCP,
		TURNMaxAllocationsPerUser: cfg.turnUserQuota,
		TURNMaxAllocationsPerIP:   cfg.turnIPQuota,
		TURNMaxPermissions:        cfg.turnPermQuota,
	}
	if cfg.tokenSecret != "" {
		srv.TokenSecret = []byte(cfg.tokenSecret)
	}
	if u := splitList(cfg.stunURLs); len(u) > 0 {
		srv.ICEServers = append(srv.ICEServers, signaling.ICEServer{URLs: u})
	}
	if u := sortTURNURLs(splitList(cfg.turnURLs)); len(u) > 0 {
		srv.ICEServers = append(srv.ICEServers, signaling.ICEServer{URLs: u})
	}
	var bp *natsbackplane.Backplane
	if cfg.natsURL != "" {
		if bp, err = startNATS(ctx, cfg, log); err != nil {
			return err
		}
		defer bp.Close() // after the server's shutdown (deferred below) detached its seats
		srv.Backplane = bp
	}
	if err := srv.Validate(); err != nil {
		return err
	}
	defer srv.Close()

	var relay signaling.TURNRelay
	if cfg.turnAddr != "" || cfg.turnStream.tcpAddr != "" || cfg.turnStream.tlsAddr != "" {
		relay.IP = net.ParseIP(cfg.turnRelayIP)
		if relay.IP == nil {
			return fmt.Errorf("-turn-relay-ip %q is not an IP address", cfg.turnRelayIP)
		}
		relay.Address = cfg.turnRelayBind
		if cfg.turnPorts != "" {
			lo, hi, ok := strings.Cut(cfg.turnPorts, "-")
			min, err1 := strconv.ParseUint(lo, 10, 16)
			max, err2 := strconv.ParseUint(hi, 10, 16)
			if !ok || err1 != nil || err2 != nil || min == 0 || min > max {
				return fmt.Errorf("-turn-ports %q: want MIN-MAX", cfg.turnPorts)
			}
			relay.MinPort, relay.MaxPort = uint16(min), uint16(max)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newCollector(srv))
	if bp != nil {
		reg.MustRegister(newBackplaneCollector(bp))
	}
	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { serveHealth(w, bp) })
	admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux := http.NewServeMux()
	if cfg.adminAddr == "" {
		mux.Handle("GET /healthz", admin)
		mux.Handle("GET /metrics", admin)
	}
	mux.Handle("/", readTimeout(srv, cfg.readTimeout))

	// Listen on everything first, so that a bad address fails at start.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	var bound addrs
	bound.HTTP = ln.Addr().String()
	var adminLn net.Listener
	if cfg.adminAddr != "" {
		if adminLn, err = net.Listen("tcp", cfg.adminAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("admin: %w", err)
		}
		bound.Admin = adminLn.Addr().String()
	}
	ln = signaling.LimitListener(ln, cfg.maxTCPPerIP, srv)
	errc := make(chan error, 4)
	serving := 0
	if cfg.stunAddr != "" {
		pc, err := net.ListenPacket("udp", cfg.stunAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("stun: %w", err)
		}
		bound.STUN = pc.LocalAddr().String()
		serving++
		go func() { errc <- srv.ServeSTUN(pc) }()
	}
	turnLns, err := listenTURNStreams(cfg, srv)
	if err != nil {
		_ = ln.Close()
		return err
	}
	for _, l := range turnLns {
		bound.TURNStreams = append(bound.TURNStreams, l.Addr().String())
	}
	if cfg.turnAddr != "" || len(turnLns) > 0 {
		var pc net.PacketConn
		if cfg.turnAddr != "" {
			if pc, err = net.ListenPacket("udp", cfg.turnAddr); err != nil {
				_ = ln.Close()
				for _, l := range turnLns {
					_ = l.Close()
				}
				return fmt.Errorf("turn: %w", err)
			}
			bound.TURN = pc.LocalAddr().String()
		}
		serving++
		go func() { errc <- srv.ServeTURNStreams(pc, turnLns, relay) }()
	}
	hs := &http.Server{
		Handler: mux, ReadHeaderTimeout: cfg.readHeaderTimeout, IdleTimeout: cfg.httpIdle,
		MaxHeaderBytes: cfg.maxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	tlsOn := cfg.tlsCert != ""
	if tlsOn {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	serving++
	go func() { errc <- hs.Serve(ln) }()
	var as *http.Server
	if adminLn != nil {
		as = &http.Server{Handler: admin, ReadHeaderTimeout: cfg.readHeaderTimeout, ReadTimeout: cfg.readTimeout,
			IdleTimeout: cfg.httpIdle, MaxHeaderBytes: cfg.maxHeaderBytes, ErrorLog: hs.ErrorLog}
		serving++
		go func() { errc <- as.Serve(adminLn) }()
	}
	log.Info("signald: serving", "http", bound.HTTP, "admin", bound.Admin, "tls", tlsOn, "stun", bound.STUN, "turn", bound.TURN, "turn_streams", bound.TURNStreams)
	if ready != nil {
		ready(bound)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("signald: shutting down")
	case runErr = <-errc:
		serving--
		log.Error("signald: a listener failed", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownT)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("signald: http shutdown", "err", err)
	}
	if as != nil {
		_ = as.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("signald: signaling shutdown", "err", err)
	}
	for ; serving > 0; serving-- {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, signaling.ErrServerClosed) && runErr == nil {
			runErr = err
		}
	}
	log.Info("signald: stopped")
	return runErr
}
