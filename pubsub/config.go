package pubsub

import (
	"fmt"
	"log/slog"
	"time"
)

// Receive-side slack over the publishers' own limit: an honest peer that
// sends at exactly Rate/Burst may see its publications bunched by the
// network, and must not be throttled for it.
const (
	recvRateSlack  = 1.5
	recvBurstSlack = 2
	maxPerPoll     = 1024 // messages read per update; the rest wait for the next
	maxPending     = 8192 // undelivered publications; beyond, the oldest is forced out
)

// Lamport clock bounds (see the package doc, "Threat model"): a stamp up
// to clockStep ahead of the local clock is ordinary; one up to
// Config.MaxClockLead ahead is a jump, allowed clockJumpBurst times per
// peer session and then once per clockJumpEvery; anything further ahead is
// refused.
const (
	defaultMaxClockLead = 1 << 32
	clockStep           = 1 << 16
	clockJumpBurst      = 4
	clockJumpEvery      = 10 * time.Second
)

// Config configures a Bus. The zero value is usable: every field says
// its default.
type Config struct {
	// History is how many delivered publications the bus keeps and serves
	// to peers that join later (and asks of the peers it meets); 0 means
	// 64, at most MaxHistoryLimit.
	History int
	// Rate and Burst are each peer's publication limit (token bucket):
	// Burst publications at once, then Rate per second. A local
	// publication above it fails with ErrRateLimited; a peer's
	// publications above 1.5×Rate and 2×Burst are dropped on receipt and
	// counted (PeerStats.Throttled). 0 means 2 per second and 5.
	Rate  float64
	Burst int
	// MaxPayload is the largest payload, in bytes; 0 means 1024, at most
	// MaxPayloadLimit. Receivers accept up to MaxPayloadLimit.
	MaxPayload int
	// MaxDelay bounds how long a publication waits for its place in the
	// total order (for every peer to promise it sends nothing earlier);
	// after it, it is delivered anyway (Stats.Forced). 0 means 2 s.
	MaxDelay time.Duration
	// SyncTimeout is how long the bus waits for a newly connected peer's
	// history before it stops waiting for that peer (a peer that runs no
	// bus on this channel); 0 means 2 s.
	SyncTimeout time.Duration
	// LeaveGrace is how long the order still waits for a peer that
	// disconnected, for publications it sent just before that are still
	// on their way; 0 means 500 ms. Delivery pauses for up to this long
	// when a peer leaves.
	LeaveGrace time.Duration
	// QueueLen bounds each Subscription's queue and the publications
	// waiting for the bus to synchronise; 0 means 256. A full
	// subscription drops its oldest delivery (Subscription.Dropped).
	QueueLen int
	// MaxClockLead is how far ahead of the local Lamport clock a received
	// stamp may be; a stamp further ahead is refused and counted
	// (Stats.Refused, PeerStats.Refused), never adopted. 0 means 2^32;
	// at most 2^40. A stamp more than 2^16 ahead is a jump: each peer gets
	// 4 of them, then one per 10 s (a newcomer's first Hello and history
	// are jumps).
	MaxClockLead uint64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug logs of dropped messages; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.History < 0 || c.History > MaxHistoryLimit:
		return c, fmt.Errorf("%w: History %d outside 0..%d", ErrInvalidConfig, c.History, MaxHistoryLimit)
	case c.Rate < 0 || c.Burst < 0 || c.QueueLen < 0:
		return c, fmt.Errorf("%w: negative Rate, Burst or QueueLen", ErrInvalidConfig)
	case c.MaxPayload < 0 || c.MaxPayload > MaxPayloadLimit:
		return c, fmt.Errorf("%w: MaxPayload %d outside 0..%d", ErrInvalidConfig, c.MaxPayload, MaxPayloadLimit)
	case c.MaxDelay < 0 || c.SyncTimeout < 0 || c.LeaveGrace < 0:
		return c, fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	case c.MaxClockLead > 1<<40:
		return c, fmt.Errorf("%w: MaxClockLead %d above 2^40", ErrInvalidConfig, c.MaxClockLead)
	}
	if c.MaxClockLead == 0 {
		c.MaxClockLead = defaultMaxClockLead
	}
	if c.History == 0 {
		c.History = 64
	}
	if c.Rate == 0 {
		c.Rate = 2
	}
	if c.Burst == 0 {
		c.Burst = 5
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 1024
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 2 * time.Second
	}
	if c.SyncTimeout == 0 {
		c.SyncTimeout = 2 * time.Second
	}
	if c.LeaveGrace == 0 {
		c.LeaveGrace = 500 * time.Millisecond
	}
	if c.QueueLen == 0 {
		c.QueueLen = 256
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
