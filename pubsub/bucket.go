package pubsub

import "time"

// bucket is a token bucket: it holds at most burst tokens and gains rate
// tokens per second; each publication takes one.
type bucket struct {
	tokens float64
	last   time.Time
}

// take reports whether a token was available at now, and takes it.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	switch {
	case b.last.IsZero():
		b.tokens = float64(burst)
		b.last = now
	case now.After(b.last):
		b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
