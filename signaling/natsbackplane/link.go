package natsbackplane

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// linkState is where the node's connection to the registry is: the state
// machine of the package doc ("Inside a node"), run by link.run.
type linkState int32

const (
	// linkDown: not connected to NATS (health unavailable).
	linkDown linkState = iota
	// linkSettingUp: connected; finding the bucket and watching it, in
	// the background (JetStream may take seconds to answer while NATS
	// elects leaders).
	linkSettingUp
	// linkStale: the connection changed while setting up; the setup's
	// result is void (its watch began on the previous connection).
	linkStale
	// linkBackoff: the setup failed (health degraded); again a second
	// after the failure.
	linkBackoff
	// linkReady: watching the registry, the view complete; health
	// follows the heartbeats.
	linkReady
)

var linkStateNames = [...]string{"down", "setting-up", "stale", "backoff", "ready"}

func (s linkState) String() string {
	if int(s) < len(linkStateNames) {
		return linkStateNames[s]
	}
	return fmt.Sprintf("linkState(%d)", int(s))
}

// linkEvent is what moves the link.
type linkEvent int

const (
	evConnected   linkEvent = iota // NATS is connected (looked at while down)
	evConnLost                     // NATS is disconnected, or reconnected since the last look
	evSetupOK                      // the setup in flight is watching the registry
	evSetupFailed                  // the setup in flight failed
	evRetry                        // the backoff after a failed setup is over
	evStalled                      // the watch stopped showing this node's heartbeats
)

var linkEventNames = [...]string{"connected", "conn-lost", "setup-ok", "setup-failed", "retry", "stalled"}

func (e linkEvent) String() string {
	if int(e) < len(linkEventNames) {
		return linkEventNames[e]
	}
	return fmt.Sprintf("linkEvent(%d)", int(e))
}

// linkAction is what a transition does, besides changing the state.
type linkAction uint8

const (
	actSetup   linkAction = 1 << iota // start a setup in the background
	actUnready                        // forget the watcher (the view is no longer complete)
	actRepair                         // put back what the registry lost, and have sweep run now
	actBackoff                        // count the failure, report degraded, retry in a second
)

type linkStep struct {
	to linkState
	do linkAction
}

// linkTransitions is the whole state machine; an event a state does not
// list leaves it as it is.
var linkTransitions = map[linkState]map[linkEvent]linkStep{
	linkDown: {
		evConnected: {linkSettingUp, actSetup},
	},
	linkSettingUp: {
		evConnLost:    {linkStale, 0},
		evSetupOK:     {linkReady, actRepair},
		evSetupFailed: {linkBackoff, actBackoff},
	},
	linkStale: {
		evSetupOK:     {linkDown, actUnready},
		evSetupFailed: {linkDown, actUnready},
	},
	linkBackoff: {
		evConnLost: {linkDown, 0},
		evRetry:    {linkSettingUp, actSetup},
	},
	linkReady: {
		evConnLost: {linkDown, actUnready},
		evStalled:  {linkSettingUp, actUnready | actSetup},
	},
}

// step returns the transition of s on ev; ok is false if ev does not
// apply in s.
func step(s linkState, ev linkEvent) (linkStep, bool) {
	t, ok := linkTransitions[s][ev]
	return t, ok
}

// link owns the connection's state machine; run is its goroutine and the
// only writer of state.
type link struct {
	b     *Backplane
	state atomic.Int32 // a linkState
}

// ready reports whether the registry is watched (linkReady).
func (k *link) ready() bool { return linkState(k.state.Load()) == linkReady }

// run drives the state machine until ctx ends. nats.go has no reliable
// event for "connected again" (status listeners drop events), so it
// looks at the connection every tick; setups report on a channel.
func (k *link) run(ctx context.Context) {
	b := k.b
	defer b.loops.Done()
	t := time.NewTicker(tick)
	defer t.Stop()
	var (
		setupDone  chan error // the setup in flight reports here
		retryAt    time.Time  // linkBackoff: when to try again
		reconnects = b.nc.Stats().Reconnects
	)
	fire := func(ev linkEvent, err error) {
		from := linkState(k.state.Load())
		tr, ok := step(from, ev)
		if !ok {
			return
		}
		b.log.Debug("natsbackplane: link", "from", from, "event", ev, "to", tr.to)
		if tr.do&actUnready != 0 {
			b.reg.unready()
		}
		if tr.do&actBackoff != 0 {
			b.st.registryErrors.Add(1)
			b.health.set(StateDegraded, err)
			retryAt = time.Now().Add(time.Second)
		}
		k.state.Store(int32(tr.to))
		if tr.do&actSetup != 0 {
			done := make(chan error, 1)
			setupDone = done
			b.loops.Add(1)
			go func() {
				defer b.loops.Done()
				done <- b.reg.setup(ctx)
			}()
		}
		if tr.do&actRepair != 0 {
			// Put back what the registry lost before saying healthy.
			b.repair(ctx)
			select {
			case b.live.nudge <- struct{}{}:
			default:
			}
		}
	}
	for {
		connected := b.nc.IsConnected()
		r := b.nc.Stats().Reconnects
		if !connected || r != reconnects {
			fire(evConnLost, nil)
		}
		reconnects = r
		if connected {
			fire(evConnected, nil)
		}
		if linkState(k.state.Load()) == linkBackoff && !time.Now().Before(retryAt) {
			fire(evRetry, nil)
		}
		if k.ready() && b.reg.watchStalled() {
			b.log.Warn("natsbackplane: the registry watch stalled; watching again")
			fire(evStalled, nil)
		}
		k.updateHealth(connected)
		select {
		case <-ctx.Done():
			return
		case err := <-setupDone:
			setupDone = nil
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				fire(evSetupFailed, err)
			} else {
				fire(evSetupOK, nil)
			}
		case <-t.C:
		}
	}
}

// updateHealth sets the health from the connection, the link state and
// the last heartbeat. A failed setup has set StateDegraded itself; while
// setting up (again) the health stays what it was.
func (k *link) updateHealth(connected bool) {
	b := k.b
	if !connected {
		b.health.set(StateUnavailable, b.health.connErr())
		return
	}
	if !k.ready() {
		return
	}
	beatOK, beatErr := b.live.lastBeat()
	switch {
	case beatErr != nil:
		b.health.set(StateDegraded, fmt.Errorf("natsbackplane: registry heartbeat failed: %w", beatErr))
	case !beatOK.IsZero():
		b.health.set(StateOK, nil)
	}
}
