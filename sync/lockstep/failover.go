package lockstep

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Source failover of a Spectator (see "Source failover" in the package
// doc): when its source lags behind the match for SpectatorConfig.Failover
// (its link is down, or a majority of the trusted witnesses report a
// frame it has not sent), the spectator resumes from another source.

// failover is a Spectator's failover state.
type failover struct {
	cur      int     // the current source's index in Spectator.sources
	switches uint64  // sources left so far
	top      []Frame // per source: the newest frame it sent a checksum of
	fails    []int   // per source: how often the spectator left it
	distrust []bool  // per source: switched to on its claim, it did not deliver
	refused  []bool  // per source: it refused a resume
	// claimed is the current source's top when the spectator switched to
	// it (NoFrame: the configured Source): the frames it claimed to have.
	claimed    Frame
	progressAt time.Time // the source last delivered (or the switch)
	lagSince   time.Time // a majority of the witnesses is ahead since (zero: it is not)
	lagTarget  Frame     // their frame at lagSince: the source must deliver it
	lagGap     Frame     // their frame minus the stream's at lagSince
	downSince  time.Time // the source's link is down since (zero: up)
	// up says, per source, whether its link was up when last looked
	// (linksAt): a witness whose link is down (a crashed first source)
	// sends nothing, so it is no witness, and its last word must not
	// hold the majority back.
	up         []bool
	linksAt    time.Time
	resumeSnap bool // a snapshot from the new source may replace the state
	// resume: the current source is subscribed with a resume from the
	// frame the spectator reached (after a switch, or its link came
	// back: a restarted process resumes the spectator, no switch).
	resume    bool
	snapStart time.Time // the first chunk of the snapshot in flight arrived (zero: none)
	snapSeen  int       // its bytes at the last check
	scratch   []Frame
	// gap is, per source, the spacing of its checksum frames (a max that
	// decays: a long one after an outage halves at each report; 0: fewer
	// than two reports). A witness vouches for the frames up to its
	// newest report plus 2·gap (see ceiling).
	gap []Frame
	// at, first, firstAt: per source, when its newest report came, and
	// its first report and when: the match's pace as it sees it.
	at, firstAt []time.Time
	first       []Frame
	vouch       []Frame // per source: the newest frame it vouched for (see ceiling)
	// ceil is the newest frame the trusted witnesses vouch for (noLimit:
	// no witness has reported twice), set by checkFailover: frames and a
	// snapshot beyond it are held back from the game.
	ceil        Frame
	aheadSince  time.Time // the stream holds frames beyond ceil since (zero: it does not)
	aheadTarget Frame     // its newest frame then: the witnesses must vouch for it
}

// noLimit is failover.ceil when nothing bounds the stream.
const noLimit = Frame(math.MaxInt32)

// snapshotWait bounds, in Failovers, how long a snapshot in flight from
// the source counts as closing in on the match (see checkFailover).
const snapshotWait = 8

// maxSpectatorEvents bounds a Spectator's event queue (the drain
// convention: the oldest is dropped and counted in EventsDropped).
const maxSpectatorEvents = 16

func (fo *failover) init(n int) {
	fo.top = make([]Frame, n)
	for i := range fo.top {
		fo.top[i] = NoFrame
	}
	fo.fails, fo.distrust, fo.refused = make([]int, n), make([]bool, n), make([]bool, n)
	fo.up = make([]bool, n)
	for i := range fo.up {
		fo.up[i] = true
	}
	fo.claimed, fo.ceil = NoFrame, noLimit
	fo.gap, fo.first, fo.vouch = make([]Frame, n), make([]Frame, n), make([]Frame, n)
	fo.at, fo.firstAt = make([]time.Time, n), make([]time.Time, n)
	fo.scratch = make([]Frame, 0, n)
}

// heard records that source src sent the checksum of frame at now.
func (fo *failover) heard(src int, frame Frame, now time.Time) {
	t := fo.top[src]
	if frame <= t {
		return
	}
	if t != NoFrame {
		d := int64(frame - t)
		fo.gap[src] = Frame(max(d, (int64(fo.gap[src])+d)/2))
	} else {
		fo.first[src], fo.firstAt[src] = frame, now
	}
	fo.top[src], fo.at[src] = frame, now
}

// ceiling is the newest frame that no more than half of the trusted
// witnesses (that reported at two moments) contradict. Each vouches for
// its newest report plus twice its report spacing (an honest source is
// at most about one spacing ahead of a witness's newest report) plus
// twice the frames the match ran, at the pace the witness reported,
// since that report (a witness that stopped reporting holds nothing
// back for long). noLimit when no such witness.
func (fo *failover) ceiling(now time.Time) Frame {
	vs := fo.scratch[:0]
	for s, t := range fo.top {
		if s == fo.cur || fo.distrust[s] || !fo.up[s] || fo.gap[s] == 0 || !fo.at[s].After(fo.firstAt[s]) {
			continue
		}
		pace := float64(t-fo.first[s]) / fo.at[s].Sub(fo.firstAt[s]).Seconds()
		v := float64(t) + 2*float64(fo.gap[s]) + 2*pace*now.Sub(fo.at[s]).Seconds()
		// What it vouched for stays vouched (a new report restarts the
		// pace term from a lower base).
		fo.vouch[s] = max(fo.vouch[s], Frame(min(v, float64(noLimit))))
		vs = append(vs, fo.vouch[s])
	}
	if len(vs) == 0 {
		return noLimit
	}
	slices.Sort(vs)
	slices.Reverse(vs)
	return vs[(len(vs)-1)/2]
}

// progress records that the current source delivered something new.
func (fo *failover) progress(now time.Time) { fo.progressAt = now }

// majority is the newest frame that more than half of the trusted
// witnesses (every source but the current one, the distrusted and those
// whose link is down) have reported, NoFrame if none or no trusted
// witness.
func (fo *failover) majority() Frame {
	tops := fo.scratch[:0]
	for s, t := range fo.top {
		if s != fo.cur && !fo.distrust[s] && fo.up[s] {
			tops = append(tops, t)
		}
	}
	if len(tops) == 0 {
		return NoFrame
	}
	slices.Sort(tops)
	slices.Reverse(tops)
	return tops[len(tops)/2]
}

// checkFailover switches source when the current one lags for
// Failover; Advance calls it after reading what arrived.
func (sp *Spectator[I]) checkFailover() {
	fo := &sp.fo
	if sp.cfg.Failover < 0 || len(sp.sources) < 2 {
		return
	}
	now := sp.cfg.Now()
	if sp.checkAhead(now) || sp.ended {
		return
	}
	if fo.progressAt.IsZero() {
		fo.progressAt = now
	}
	// The links: looked up (Peers allocates) every tick only once the
	// source has been quiet for a moment (a live stream delivers every
	// tick), else every Failover/8 (the witnesses' links).
	quiet := now.Sub(fo.progressAt) >= sp.cfg.Failover/8
	if quiet || now.Sub(fo.linksAt) >= sp.cfg.Failover/8 {
		sp.lookLinks(now)
	}
	if !quiet || fo.up[fo.cur] {
		fo.downSince = time.Time{}
	} else if fo.downSince.IsZero() {
		fo.downSince = now
	}
	m := fo.majority()
	switch {
	case fo.lagSince.IsZero():
	case sp.end > fo.lagTarget:
		fo.lagSince = time.Time{} // it delivered what the witnesses had
	case m-sp.end < fo.lagGap:
		// Still behind but closing in (a catch-up from far behind, faster
		// than the match): a new period from here.
		fo.lagSince, fo.lagTarget, fo.lagGap = now, m, m-sp.end
	}
	if fo.lagSince.IsZero() && m != NoFrame && m >= sp.end {
		fo.lagSince, fo.lagTarget, fo.lagGap = now, m, m-sp.end
	}
	if inFlight := sp.snapFrame != NoFrame && !sp.gotAny; !inFlight {
		fo.snapStart, fo.snapSeen = time.Time{}, 0
	} else if sp.snapGot > fo.snapSeen {
		// A snapshot from the source is coming in: it closes in (its
		// frames all arrive with its last chunk), for at most
		// snapshotWait·Failover from its first chunk, so that a slow link
		// can deliver a big state (TestSpectatorFailoverSlowSnapshot:
		// every source left in turn, each snapshot begun again) and a
		// liar that drips chunks holds the spectator that long only.
		if fo.snapStart.IsZero() {
			fo.snapStart = now
		}
		fo.snapSeen = sp.snapGot
		if !fo.lagSince.IsZero() && now.Sub(fo.snapStart) < snapshotWait*sp.cfg.Failover {
			fo.lagSince, fo.lagTarget, fo.lagGap = now, m, m-sp.end
		}
	}
	var reason string
	switch {
	case !fo.downSince.IsZero() && now.Sub(fo.downSince) >= sp.cfg.Failover && now.Sub(fo.progressAt) >= sp.cfg.Failover:
		reason = fmt.Sprintf("link down for %v", now.Sub(fo.downSince).Round(time.Millisecond))
	case !fo.lagSince.IsZero() && now.Sub(fo.lagSince) >= sp.cfg.Failover:
		reason = fmt.Sprintf("witnesses at frame %d for %v, stream at %d",
			fo.lagTarget, now.Sub(fo.lagSince).Round(time.Millisecond), sp.end)
	default:
		return
	}
	sp.switchSource(now, reason, false)
}

// checkAhead holds back the frames (and a snapshot) the trusted
// witnesses do not vouch for (ceiling), and leaves a source whose stream
// stays beyond what they vouch for during Failover: a source that jumps
// ahead (a resume snapshot of frame 1,000,000, one message of 65535
// frames) and then stops streaming is never behind the witnesses, so the
// lag rule would keep it for good (TestSpectatorFailoverLiarJumpsAhead).
// It lied: it is distrusted, and what it sent beyond the ceiling is
// dropped before the resume. It reports whether it switched.
func (sp *Spectator[I]) checkAhead(now time.Time) bool {
	fo := &sp.fo
	fo.ceil = fo.ceiling(now)
	// Only while the game has not run past the ceiling: frames it ran
	// (taken before any witness reported twice, or a ceiling that
	// dropped as witnesses left) cannot be taken back by a switch.
	held := sp.end-1 > fo.ceil && int64(sp.gamePos()) <= int64(fo.ceil)+1
	if !held || fo.ceil >= fo.aheadTarget {
		fo.aheadSince = time.Time{}
	}
	if !held {
		return false
	}
	if fo.aheadSince.IsZero() {
		fo.aheadSince, fo.aheadTarget = now, sp.end-1
	}
	if now.Sub(fo.aheadSince) < sp.cfg.Failover {
		return false
	}
	return sp.switchSource(now, fmt.Sprintf("stream at frame %d, witnesses vouch for %d for %v",
		sp.end-1, fo.ceil, now.Sub(fo.aheadSince).Round(time.Millisecond)), true)
}

// gamePos is the next frame the game runs: before a pending restore, the
// frame it had reached.
func (sp *Spectator[I]) gamePos() Frame {
	if sp.restore != nil {
		return sp.preNext
	}
	return sp.next
}

// dropAhead drops what the stream holds beyond the ceiling (a pending
// snapshot beyond it included): the resume starts from what the game
// has or the witnesses vouch for.
func (sp *Spectator[I]) dropAhead() {
	if sp.restore != nil && sp.restore.Frame > sp.fo.ceil {
		sp.restore = nil
		sp.base, sp.end, sp.next = sp.preNext, sp.preNext, sp.preNext
		sp.buf = sp.buf[:0]
		sp.started, sp.gotAny = sp.preStarted, sp.preStarted
	}
	if end := max(sp.next, Frame(min(int64(sp.end), int64(sp.fo.ceil)+1))); end < sp.end {
		sp.buf = sp.buf[:int(end-sp.base)*sp.rec]
		sp.end = end
	}
	sp.ended = false
}

// lookLinks records which sources' links are up. A source whose link
// came back (a restarted process knows no subscription) is subscribed
// again; a streamer ignores a repeated subscription.
func (sp *Spectator[I]) lookLinks(now time.Time) {
	fo := &sp.fo
	peers := sp.cfg.Conn.Peers()
	for i, id := range sp.sources {
		up := slices.Contains(peers, id)
		if up && !fo.up[i] && !fo.refused[i] {
			sp.subbed[i] = false
			if i == fo.cur && sp.cfg.Failover >= 0 {
				// The source itself came back (a restarted process knows
				// nothing of the spectator, a streamer that went on replaces
				// the subscription): a resume from the frame reached, whose
				// snapshot may replace the state, as after a switch.
				fo.resume, fo.resumeSnap = true, true
				sp.snapFrame, sp.snapGot, sp.snapBuf = NoFrame, 0, nil
				fo.snapStart, fo.snapSeen = time.Time{}, 0
			}
		}
		fo.up[i] = up
	}
	fo.linksAt = now
}

// refusedSwitch handles a refusal from the current source (the
// configured Source's of the first subscription too: its MaxSubscribers
// are taken, TestSpectatorFailoverSourceFull): the spectator tries the
// next source (false when none is left, or failover is disabled: the
// spectator ends with ErrStreamRefused).
func (sp *Spectator[I]) refusedSwitch() bool {
	fo := &sp.fo
	if sp.cfg.Failover < 0 {
		return false
	}
	fo.refused[fo.cur] = true
	return sp.switchSource(sp.cfg.Now(), "refused the subscription", false)
}

// switchSource leaves the current source for the best other one: not
// refused, trusted, link up, left the fewest times, the next in order.
// ahead: the source's stream went beyond what the witnesses vouch for
// (checkAhead): it is distrusted and what it sent beyond is dropped.
func (sp *Spectator[I]) switchSource(now time.Time, reason string, ahead bool) bool {
	fo := &sp.fo
	old := fo.cur
	var peers []transport.PeerID
	if sp.cfg.Conn != nil {
		peers = sp.cfg.Conn.Peers()
	}
	best, bestKey := -1, [3]int{}
	for k := 1; k < len(sp.sources); k++ {
		c := (old + k) % len(sp.sources)
		if fo.refused[c] {
			continue
		}
		key := [3]int{boolInt(fo.distrust[c]), boolInt(!slices.Contains(peers, sp.sources[c])), fo.fails[c]}
		if best < 0 || slices.Compare(key[:], bestKey[:]) < 0 {
			best, bestKey = c, key
		}
	}
	if best < 0 {
		return false
	}
	fo.fails[old]++
	if ahead {
		fo.distrust[old] = true
		sp.dropAhead()
	}
	if fo.claimed != NoFrame && sp.end <= fo.claimed {
		// It became the source on a claim (its checksums said it had
		// these frames) and did not deliver them: its claims no longer
		// count as evidence that a source lags.
		fo.distrust[old] = true
	}
	fo.cur, fo.claimed = best, fo.top[best]
	fo.switches++
	sp.st.Failovers++
	sp.subbed[old], sp.subbed[best] = false, false // demote the old, resume from the new
	sp.snapFrame, sp.snapGot, sp.snapBuf = NoFrame, 0, nil
	fo.resumeSnap, fo.resume = true, true
	fo.progressAt, fo.lagSince, fo.downSince, fo.aheadSince = now, time.Time{}, time.Time{}, time.Time{}
	fo.snapStart, fo.snapSeen = time.Time{}, 0 // the new source's snapshot starts afresh
	sp.cfg.Logger.Warn("lockstep: spectator switches source", "from", sp.sources[old], "to", sp.sources[best],
		"frame", sp.end, "reason", reason)
	if sp.events.Push(Event{Kind: EventSourceSwitched, Seat: best, Peer: sp.sources[best], From: sp.sources[old],
		Frame: sp.end, Reason: reason}, maxSpectatorEvents) {
		sp.st.EventsDropped++
	}
	return true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Source is the peer the spectator follows now: SpectatorConfig.Source
// until a failover.
func (sp *Spectator[I]) Source() transport.PeerID { return sp.sources[sp.fo.cur] }

// PollEvents returns the spectator's events since the previous call
// (EventSourceSwitched), oldest first. The slice is reused until the
// next PollEvents (the drain convention, CONTRIBUTING.md).
func (sp *Spectator[I]) PollEvents() []Event { return sp.events.Drain() }
