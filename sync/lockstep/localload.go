package lockstep

import "time"

// loopClock discounts the local game loop's lateness from the RTT
// (AdaptiveDelay): a datagram that arrived while this peer's loop was
// late (starved of CPU: GC, a busy machine) sat unread for a time that is
// not network time, and taken as such it reads as jitter and raises the
// delay of every peer, not only this one's (the others' pings wait here
// too, and the echo's hold time starts when the ping is read).
//
// A loop driven by a ticker keeps its grid: an Advance late by d makes
// the gap since the previous one tick+d, and the next gap shorter by as
// much. late follows that: it grows by each gap's excess over a tick and
// shrinks with each shortfall, never below 0 nor above a tick, and leaks
// a 64th of a tick per Advance so that a loop that runs slightly slower
// than TickRate does not read as ever later. Datagrams read by this
// Advance count as read at now-late: when the loop should have run. After
// a hitch (a gap above 2 ticks: a pause, a debugger, skipped ticks) the
// arrival times are unknown: those datagrams give no RTT sample and
// their pings are not echoed.
type loopClock struct {
	late   time.Duration
	readAt time.Time // when this Advance's datagrams count as read
	hitch  bool      // this Advance came after a hitch
}

// observeLoop updates the loop clock at an Advance at now; lastNow is the
// previous Advance's time.
func (s *Session[I]) observeLoop(now time.Time) {
	c, tick := &s.loop, s.cfg.tick
	gap := now.Sub(s.lastNow)
	c.hitch = gap > 2*tick
	if c.hitch {
		c.late = 0
	} else {
		c.late = max(0, min(tick, c.late+gap-tick-tick/64))
	}
	c.readAt = now.Add(-c.late)
}
