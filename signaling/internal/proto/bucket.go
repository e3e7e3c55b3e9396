package proto

import "time"

// TokenBucket is a rate limiter used by one goroutine (a server
// connection's reader, a client's writer, an address's join limits).
type TokenBucket struct {
	Rate, Burst float64 // tokens per second, most tokens held
	tokens      float64
	last        time.Time
}

// Peek returns the tokens available at now, taking none.
func (b *TokenBucket) Peek(now time.Time) float64 {
	if b.last.IsZero() {
		return b.Burst
	}
	return min(b.Burst, b.tokens+now.Sub(b.last).Seconds()*b.Rate)
}

// Take takes a token at now; false if none is available.
func (b *TokenBucket) Take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens, b.last = b.Burst, now
	}
	b.tokens = min(b.Burst, b.tokens+now.Sub(b.last).Seconds()*b.Rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
