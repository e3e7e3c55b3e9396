package signaling

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/netip"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// copyConfig copies every exported (configuration) field of src to dst,
// cloning slices (and each ICEServer's URLs) so the caller may reuse src.
// It walks the struct by reflection, so a field added to Server is copied
// without being named here (TestCopyConfigCoversEveryField checks it);
// unexported fields are the Server's state and are left alone.
func copyConfig(dst, src *Server) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range d.NumField() {
		if !d.Type().Field(i).IsExported() {
			continue
		}
		v := s.Field(i)
		if v.Kind() == reflect.Slice && !v.IsNil() {
			v = reflect.AppendSlice(reflect.MakeSlice(v.Type(), 0, v.Len()), v)
		}
		d.Field(i).Set(v)
	}
	for i := range dst.ICEServers {
		dst.ICEServers[i].URLs = slices.Clone(dst.ICEServers[i].URLs)
	}
}

func (s *Server) init() {
	var c Server
	copyConfig(&c, s)
	c.MaxMessageBytes = cmp.Or(c.MaxMessageBytes, DefaultMaxMessageBytes)
	c.Burst = cmp.Or(c.Burst, DefaultBurst)
	c.MaxRooms = cmp.Or(c.MaxRooms, DefaultMaxRooms)
	c.MaxRoomSize = cmp.Or(c.MaxRoomSize, DefaultMaxRoomSize)
	c.MaxConns = cmp.Or(c.MaxConns, DefaultMaxConns)
	c.MaxConnsPerIP = cmp.Or(c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	c.SendQueueLen = cmp.Or(c.SendQueueLen, DefaultSendQueueLen)
	c.MessagesPerSecond = cmp.Or(c.MessagesPerSecond, DefaultMessagesPerSecond)
	c.JoinTimeout = cmp.Or(c.JoinTimeout, DefaultJoinTimeout)
	c.PingInterval = cmp.Or(c.PingInterval, DefaultPingInterval)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.ResumeGrace = cmp.Or(c.ResumeGrace, DefaultResumeGrace)
	c.TURNCredentialTTL = cmp.Or(c.TURNCredentialTTL, DefaultTURNCredentialTTL)
	c.TURNRealm = cmp.Or(c.TURNRealm, DefaultTURNRealm)
	defRate := func(r *float64, b *int, dr float64, db int) {
		*r, *b = cmp.Or(*r, dr), cmp.Or(*b, db)
		if *r < 0 { // unlimited
			*r, *b = 1e12, 1<<30
		}
	}
	defRate(&c.JoinsPerMinute, &c.JoinBurst, DefaultJoinsPerMinute, DefaultJoinBurst)
	defRate(&c.RoomsPerMinute, &c.RoomBurst, DefaultRoomsPerMinute, DefaultRoomBurst)
	defRate(&c.FailuresPerMinute, &c.FailureBurst, DefaultFailuresPerMinute, DefaultFailureBurst)
	c.MaxRoomsPerIP = cmp.Or(c.MaxRoomsPerIP, DefaultMaxRoomsPerIP)
	if c.MaxRoomsPerIP < 0 {
		c.MaxRoomsPerIP = 1 << 30
	}
	c.TURNMaxAllocationsPerUser = cmp.Or(c.TURNMaxAllocationsPerUser, 2*c.MaxRoomSize)
	c.TURNMaxAllocationsPerIP = cmp.Or(c.TURNMaxAllocationsPerIP, 4*c.MaxRoomSize)
	c.TURNMaxPermissions = cmp.Or(c.TURNMaxPermissions, 16)
	for _, q := range []*int{&c.TURNMaxAllocationsPerUser, &c.TURNMaxAllocationsPerIP, &c.TURNMaxPermissions} {
		if *q < 0 { // unlimited
			*q = 1 << 30
		}
	}
	var bad []string
	var allow []netip.Prefix
	for _, p := range c.TURNAllowPeers {
		pf, err := parsePrefix(p)
		if err != nil {
			bad = append(bad, fmt.Sprintf("TURN allow %q: %v", p, err))
			continue
		}
		allow = append(allow, pf)
	}
	// Errors in field order (a slice, not a map: the message is the same
	// every run).
	type named[T int | time.Duration] struct {
		name string
		v    T
	}
	for _, f := range []named[int]{{"MaxMessageBytes", c.MaxMessageBytes}, {"Burst", c.Burst}, {"MaxRooms", c.MaxRooms},
		{"MaxRoomSize", c.MaxRoomSize}, {"MaxConns", c.MaxConns}, {"MaxConnsPerIP", c.MaxConnsPerIP}, {"SendQueueLen", c.SendQueueLen},
		{"JoinBurst", c.JoinBurst}, {"RoomBurst", c.RoomBurst}, {"FailureBurst", c.FailureBurst}} {
		if f.v < 0 {
			bad = append(bad, fmt.Sprintf("%s %d is negative", f.name, f.v))
		}
	}
	if c.MaxMessageBytes < 1024 {
		bad = append(bad, fmt.Sprintf("MaxMessageBytes %d is below 1024", c.MaxMessageBytes))
	}
	if c.MessagesPerSecond < 0 {
		bad = append(bad, "MessagesPerSecond is negative")
	}
	for _, f := range []named[time.Duration]{{"JoinTimeout", c.JoinTimeout}, {"PingInterval", c.PingInterval},
		{"IdleTimeout", c.IdleTimeout}, {"TURNCredentialTTL", c.TURNCredentialTTL}} {
		if f.v < 0 {
			bad = append(bad, fmt.Sprintf("%s %v is negative", f.name, f.v))
		}
	}
	for _, p := range c.OriginPatterns {
		if _, err := path.Match(p, ""); err != nil {
			bad = append(bad, fmt.Sprintf("origin pattern %q: %v", p, err))
		}
	}
	for _, ice := range c.ICEServers {
		if len(ice.URLs) == 0 {
			bad = append(bad, "an ICE server without URLs")
		}
	}
	if len(bad) > 0 {
		s.initErr = fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(bad, "; "))
		return
	}
	s.cfg = &c
	s.allow = allow
	s.log = c.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.bp = c.Backplane
	if s.bp == nil {
		s.bp, s.ownBP = NewMemoryBackplane(), true
	}
	s.stats.rejects = make(map[Code]*atomic.Uint64)
	for _, code := range proto.Codes() {
		s.stats.rejects[code] = new(atomic.Uint64)
	}
	s.stats.refusals = make(map[string]*atomic.Uint64)
	for _, r := range refuseReasons {
		s.stats.refusals[r] = new(atomic.Uint64)
	}
}
