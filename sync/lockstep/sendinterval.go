package lockstep

import "time"

// sendClock spaces the Frame datagrams (Config.SendInterval): one every
// every ticks, or sooner when SendInterval has passed since the last one
// (a slow loop still sends on time). Every datagram carries every input
// not yet acknowledged, so the inputs of the ticks in between ride in the
// next one and none is lost by skipping a send.
type sendClock struct {
	every int       // ticks between sends (1: every tick)
	ticks int       // Advance calls since the last send
	last  time.Time // when the last Frame datagram went out
}

// sendDue reports whether this Advance sends its Frame datagram. Besides
// the interval, a datagram goes out at every tick while a link is still
// being measured (start-up: the adaptive delay waits for 8 RTT samples)
// and while a seat is suspected or lost (an agreement to drop it should
// not wait for the interval).
func (s *Session[I]) sendDue(now time.Time) bool {
	c := &s.sendClk
	c.ticks++
	if c.every > 1 && c.ticks < c.every && now.Sub(c.last) < s.cfg.SendInterval &&
		s.lost == 0 && s.suspect == 0 && !s.measuring() {
		return false
	}
	c.ticks, c.last = 0, now
	return true
}

// sendTicks converts SendInterval into whole ticks, rounded to the
// nearest (200 ms at 60 Hz is 12 ticks, not 13 for a nanosecond), at
// least 1.
func sendTicks(interval, tick time.Duration) int {
	return max(1, int((interval+tick/2)/tick))
}
