package memnet

import (
	"fmt"
	"time"
)

// Config configures a Network. The zero value is a perfect network: no
// latency, no loss, default queue and size limits.
type Config struct {
	// Seed seeds every link's random source; 0 means 1. The same seed and
	// the same sequence of sends give the same deliveries.
	Seed uint64
	// Link is the impairment of every directed link not set by SetLink.
	Link Link
	// QueueLen bounds each channel inbox of each peer, in messages,
	// including those in flight. 0 means 1024.
	QueueLen int
	// MaxUnreliableSize is the largest Unreliable message. 0 means 1150
	// bytes: one SCTP packet, so a real data channel never fragments it.
	MaxUnreliableSize int
	// MaxReliableSize is the largest Reliable message. 0 means 16 MiB.
	MaxReliableSize int
}

// Link is the impairment of one direction of the path between two peers.
// The zero value delivers everything at once.
type Link struct {
	// Latency is the one-way delay.
	Latency time.Duration
	// Jitter spreads the delay uniformly over Latency ± Jitter (never
	// below zero), which also reorders Unreliable messages.
	Jitter time.Duration
	// Loss is the probability, in [0, 1], that an Unreliable message is
	// lost.
	Loss float64
	// Duplicate is the probability, in [0, 1], that an Unreliable message
	// is delivered twice.
	Duplicate float64
	// Reorder is the probability, in [0, 1], that an Unreliable message is
	// held back by ReorderDelay so that later messages overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of a reordered message. 0 means
	// Latency, or 1 ms if Latency is 0.
	ReorderDelay time.Duration
	// Bandwidth caps the link, in bits per second; a message waits until
	// the link has transmitted those before it. 0 means unlimited.
	Bandwidth int64
}

// Validate reports whether l is usable; the error wraps ErrInvalidConfig.
func (l Link) Validate() error {
	switch {
	case l.Latency < 0 || l.Jitter < 0 || l.ReorderDelay < 0:
		return fmt.Errorf("%w: negative duration in %+v", ErrInvalidConfig, l)
	case !isProb(l.Loss) || !isProb(l.Duplicate) || !isProb(l.Reorder):
		return fmt.Errorf("%w: probability outside [0, 1] in %+v", ErrInvalidConfig, l)
	case l.Bandwidth < 0:
		return fmt.Errorf("%w: negative bandwidth %d", ErrInvalidConfig, l.Bandwidth)
	}
	return nil
}

func isProb(p float64) bool { return p >= 0 && p <= 1 }

func (c Config) withDefaults() (Config, error) {
	if err := c.Link.Validate(); err != nil {
		return c, err
	}
	if c.QueueLen < 0 || c.MaxUnreliableSize < 0 || c.MaxReliableSize < 0 {
		return c, fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.QueueLen == 0 {
		c.QueueLen = 1024
	}
	if c.MaxUnreliableSize == 0 {
		c.MaxUnreliableSize = 1150
	}
	if c.MaxReliableSize == 0 {
		c.MaxReliableSize = 16 << 20
	}
	return c, nil
}
