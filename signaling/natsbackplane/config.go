package natsbackplane

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults of Config's zero fields.
const (
	DefaultBucket   = "peerplay_rooms"
	DefaultSubject  = "peerplay"
	DefaultTTL      = 15 * time.Second
	DefaultReplicas = 1
	// MinTTL is the smallest TTL: heartbeats go out every TTL/8.
	MinTTL = time.Second
)

// Config configures New. Every zero field means its documented default.
// New copies the Config.
type Config struct {
	// URL is the NATS server URL, or several separated by commas (a NATS
	// cluster: the client fails over between them), e.g.
	// "nats://n1:4222,nats://n2:4222". Exactly one of URL and Conn is
	// required. The backplane dials it with endless reconnects, so New
	// succeeds while NATS is down (Health says unavailable until it is up).
	URL string
	// Options are extra nats.Options for dialing URL (credentials, TLS,
	// ...), applied after the backplane's own.
	Options []nats.Option
	// Conn is an existing connection to use instead of URL. The backplane
	// never closes it; it should reconnect forever (nats.MaxReconnects(-1)).
	Conn *nats.Conn

	// Node names this signald node, unique in the cluster: 1 to 64 of
	// [A-Za-z0-9_-]. "" = random. It appears in the registry (the node of
	// each seat, node.<Node> heartbeats) and in metrics.
	Node string
	// Bucket is the JetStream KV bucket of the room registry (0 =
	// "peerplay_rooms"); Subject the prefix of the delivery subjects
	// (0 = "peerplay"). Every node of one service uses the same values.
	Bucket  string
	Subject string
	// TTL is how long registry entries live without a refresh (0 = 15 s,
	// at least 1 s): a dead node's heartbeat, rooms and seats expire within
	// about TTL. Live nodes heartbeat every TTL/8 and refresh their rooms
	// every TTL/3 or so. It should not exceed the Server's ResumeGrace
	// much: a dead node's clients get about TTL to resume on another
	// node. It should exceed NATS's failover time well (a JetStream leader
	// election takes seconds): a node cut off longer is taken for dead.
	TTL time.Duration
	// Replicas is the bucket's replication in a JetStream cluster (0 = 1;
	// use 3 with a 3-node NATS cluster). It applies when the bucket is
	// created.
	Replicas int
	// MemoryStorage keeps the bucket in memory instead of on disk: the
	// registry is lost when NATS restarts (nodes re-register their live
	// seats, see the package doc).
	MemoryStorage bool
	// Logger receives the backplane's logs; nil discards them.
	Logger *slog.Logger
}

func (c Config) validate() (Config, error) {
	c.Options = append([]nats.Option(nil), c.Options...)
	var bad []string
	if (c.URL == "") == (c.Conn == nil) {
		bad = append(bad, "exactly one of URL and Conn is required")
	}
	if c.Node == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.Node = "node-" + hex.EncodeToString(b)
	}
	if !validName(c.Node, 64) {
		bad = append(bad, fmt.Sprintf("Node %q: want 1 to 64 of [A-Za-z0-9_-]", c.Node))
	}
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if !validName(c.Bucket, 64) {
		bad = append(bad, fmt.Sprintf("Bucket %q: want 1 to 64 of [A-Za-z0-9_-]", c.Bucket))
	}
	if c.Subject == "" {
		c.Subject = DefaultSubject
	}
	for _, tok := range strings.Split(c.Subject, ".") {
		if !validName(tok, 64) {
			bad = append(bad, fmt.Sprintf("Subject %q: want dot-separated tokens of [A-Za-z0-9_-]", c.Subject))
			break
		}
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.TTL < MinTTL {
		bad = append(bad, fmt.Sprintf("TTL %v is below %v", c.TTL, MinTTL))
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		bad = append(bad, fmt.Sprintf("Replicas %d out of range 1..5", c.Replicas))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(bad) > 0 {
		return c, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(bad, "; "))
	}
	return c, nil
}

// validName: 1 to max of [A-Za-z0-9_-].
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
