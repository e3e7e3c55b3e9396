package signaling

import (
	"net/netip"
	"sync"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// Per-IP admission. One ipState per client address holds token buckets
// for joins (and resumes), for room creations and for failures (wrong
// password, bad or reused join token, failed resume), the seats held for
// the address's dropped connections during the resume grace, and how many
// of its seats (attached or held) created their room. Held seats count
// toward MaxConnsPerIP and MaxRoomsPerIP, so that joining and dropping
// does not let one address hold more than its share.
//
// Backoff: when an address runs out of failure tokens it is refused
// (rate_limited) for a penalty that doubles with every further exhausted
// failure (1 s, 2 s, 4 s ... at most maxPenalty) and decays after a quiet
// minute.
//
// The table is bounded by sweeping: states with no seat, no held seat and
// no recent activity are dropped when the table grows past sweepAt (and
// at least once per sweepEvery).

// addrKey is the key of a client address in the per-address limits: the
// address itself for IPv4, its /64 for IPv6 (one subscriber usually holds
// a whole /64, so a per-address cap on single IPv6 addresses would be no
// cap at all).
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

const (
	maxPenalty = time.Minute
	sweepAt    = 4096
	sweepEvery = time.Minute
	ipIdle     = 10 * time.Minute
)

type ipState struct {
	joins, creates, fails proto.TokenBucket
	penaltyUntil          time.Time
	penalty               time.Duration
	lastFail              time.Time
	last                  time.Time
	seats                 int // joined connections of the address
	creators              int // of which created their room
	held                  map[seatID]heldSeat
}

type seatID struct {
	room string
	peer transport.PeerID
}

type heldSeat struct {
	until   time.Time
	creator bool
}

type ipTable struct {
	mu        sync.Mutex // guards all following fields
	m         map[string]*ipState
	heldBy    map[seatID]string // held seat → address
	lastSweep time.Time
}

// state returns ip's state, creating it. Locked.
func (t *ipTable) stateLocked(s *Server, ip string, now time.Time) *ipState {
	if t.m == nil {
		t.m = make(map[string]*ipState)
		t.heldBy = make(map[seatID]string)
	}
	st := t.m[ip]
	if st == nil {
		if len(t.m) >= sweepAt || now.Sub(t.lastSweep) > sweepEvery {
			t.sweepLocked(now)
		}
		c := s.cfg
		st = &ipState{
			joins:   proto.TokenBucket{Rate: c.JoinsPerMinute / 60, Burst: float64(c.JoinBurst)},
			creates: proto.TokenBucket{Rate: c.RoomsPerMinute / 60, Burst: float64(c.RoomBurst)},
			fails:   proto.TokenBucket{Rate: c.FailuresPerMinute / 60, Burst: float64(c.FailureBurst)},
		}
		t.m[ip] = st
	}
	st.last = now
	st.expireLocked(t, now)
	return st
}

func (st *ipState) expireLocked(t *ipTable, now time.Time) {
	for id, h := range st.held {
		if !now.Before(h.until) {
			delete(st.held, id)
			delete(t.heldBy, id)
		}
	}
}

func (t *ipTable) sweepLocked(now time.Time) {
	t.lastSweep = now
	for ip, st := range t.m {
		st.expireLocked(t, now)
		if st.seats == 0 && len(st.held) == 0 && now.Sub(st.last) > ipIdle && now.After(st.penaltyUntil) {
			delete(t.m, ip)
		}
	}
}

// heldCreators counts the held seats of st that created their room.
func (st *ipState) heldCreators() int {
	n := 0
	for _, h := range st.held {
		if h.creator {
			n++
		}
	}
	return n
}

// admitConn decides whether ip may open one more connection while it has
// open connections: held seats count.
func (s *Server) admitConn(ip string, open int) *ServerError {
	now := time.Now()
	t := &s.ips
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stateLocked(s, ip, now)
	if open+len(st.held) >= s.cfg.MaxConnsPerIP {
		return proto.ErrorFor(CodeTooManyConns, "limit of %d connections and held seats per address reached", s.cfg.MaxConnsPerIP)
	}
	return nil
}

// admitJoin decides whether ip may try a join (resume: a resume) now, and
// whether it may create a room: noCreate is the reason it may not ("" =
// it may).
func (s *Server) admitJoin(ip string, resume bool) (noCreate string, se *ServerError) {
	now := time.Now()
	t := &s.ips
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stateLocked(s, ip, now)
	if now.Before(st.penaltyUntil) {
		s.stats.refuse(RefuseBackoff)
		return "", proto.ErrorFor(CodeRateLimited, "too many failed attempts from this address: retry in %v", st.penaltyUntil.Sub(now).Round(time.Second))
	}
	if st.fails.Peek(now) < 1 {
		// No failure left to spend: a join that might fail (a guess)
		// waits until one is, so failures run at the configured rate.
		s.stats.refuse(RefuseBackoff)
		return "", proto.ErrorFor(CodeRateLimited, "too many failed attempts from this address: retry later")
	}
	if !st.joins.Take(now) {
		s.stats.refuse(RefuseJoinRate)
		return "", proto.ErrorFor(CodeRateLimited, "more than %g joins per minute from this address", s.cfg.JoinsPerMinute)
	}
	if resume {
		return "", nil
	}
	if st.creators+st.heldCreators() >= s.cfg.MaxRoomsPerIP {
		return RefuseRoomsPerIP, nil
	}
	// A creation token is only spent if the join creates (joined).
	if st.creates.Peek(now) < 1 {
		return RefuseRoomRate, nil
	}
	return "", nil
}

// joined records an admitted seat of ip and returns whether it counts as
// its room's creator (a resumed seat carries the creation of its hold).
func (s *Server) joined(ip string, room string, peer transport.PeerID, created, resumed bool) bool {
	now := time.Now()
	t := &s.ips
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stateLocked(s, ip, now)
	id := seatID{room, peer}
	if from, ok := t.heldBy[id]; ok && resumed {
		// The seat is attached again (from this address or another):
		// its hold ends, its creation moves with it.
		if hs := t.m[from]; hs != nil {
			created = created || hs.held[id].creator
			delete(hs.held, id)
		}
		delete(t.heldBy, id)
	}
	if created && !resumed {
		st.creates.Take(now)
	}
	st.seats++
	if created {
		st.creators++
	}
	return created
}

// left records that a seat of ip ended; held: it is held for grace.
func (s *Server) left(ip string, room string, peer transport.PeerID, created, held bool, grace time.Duration) {
	now := time.Now()
	t := &s.ips
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stateLocked(s, ip, now)
	st.seats--
	if created {
		st.creators--
	}
	if held && grace > 0 {
		if st.held == nil {
			st.held = make(map[seatID]heldSeat)
		}
		id := seatID{room, peer}
		st.held[id] = heldSeat{until: now.Add(grace), creator: created}
		t.heldBy[id] = ip
	}
}

// failed records a failed password, token or resume from ip: past the
// failure budget the address backs off.
func (s *Server) failed(ip string) {
	now := time.Now()
	t := &s.ips
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stateLocked(s, ip, now)
	if now.Sub(st.lastFail) > time.Minute {
		st.penalty = 0
	}
	st.lastFail = now
	if st.fails.Take(now) {
		return
	}
	st.penalty = min(max(2*st.penalty, time.Second), maxPenalty)
	st.penaltyUntil = now.Add(st.penalty)
}

// heldSeats is the number of held seats of ip (for tests and RoomInfo).
func (s *Server) heldSeats(ip string) int {
	t := &s.ips
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.m[ip]
	if st == nil {
		return 0
	}
	st.expireLocked(t, time.Now())
	return len(st.held)
}
