package lobby

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/peerplay/peerplay/internal/safetext"
)

// Config configures a Lobby. The zero value is usable: every field says
// its default.
type Config struct {
	// Name is the display name asked for (cleaned and cut to MaxNameRunes);
	// "" means the local PeerID.
	Name string
	// Team is the preferred team; 0 means none.
	Team int
	// Seat is the preferred seat, 1-based; 0 means any.
	Seat int
	// Watch joins as a spectator, as Lobby.Watch(true) from the start: the
	// peer is never seated and is admitted beyond Settings.MaxPlayers (up
	// to MaxMembers members in all), so a full match can be watched.
	// false (the default): a player.
	Watch bool
	// Settings are used if this peer founds the lobby (a host that takes
	// over keeps the settings it inherits). MaxPlayers 0 means 8.
	Settings Settings
	// MinPlayers is how many members must be ready for the countdown to
	// start on its own; 0 means 2.
	MinPlayers int
	// ManualStart turns the automatic countdown off: only the host's Start
	// starts a round. False (the default) starts the countdown as soon as
	// MinPlayers members are all ready.
	ManualStart bool
	// Countdown is the delay between everyone being ready and the start
	// round; 0 means 3 s, a negative value means no countdown.
	Countdown time.Duration
	// StartTimeout bounds each start round: the host abandons a round that
	// has not finished in this time; members give up after twice as long
	// if they hear neither a Launch nor an Abort. 0 means 5 s.
	StartTimeout time.Duration
	// DiscoveryDelay is how long a new peer listens for a host before it
	// founds the lobby itself; 0 means 500 ms.
	DiscoveryDelay time.Duration
	// MigrationTimeout is how long members wait for the successor's claim
	// after the host left before they pass over it; 0 means 2 s.
	MigrationTimeout time.Duration
	// KickGrace is how long the host waits after its own Kick before it
	// reports EventBanned (on which the game blocks the kicked peer), so
	// that the lobby's notice reaches the kicked peer before its links
	// close; the other peers report the ban at once (their links do not
	// carry the notice). 0 means 1 s; a negative value means at once.
	KickGrace time.Duration
	// Now is the clock; nil means time.Now. Inject one to drive timeouts in
	// tests (testing/synctest works with the default too).
	Now func() time.Time
	// Rand is the source of the start nonces; nil means crypto/rand.Reader.
	// Inject a fixed source only in tests and examples: a predictable
	// nonce lets others predict the seed.
	Rand io.Reader
	// Logger receives debug logs of dropped messages; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Settings.MaxPlayers < 0 || c.Settings.MaxPlayers > MaxMembers:
		return c, fmt.Errorf("%w: Settings.MaxPlayers %d outside 0..%d", ErrInvalidConfig, c.Settings.MaxPlayers, MaxMembers)
	case c.Settings.OpenSeats < 0 || c.Settings.OpenSeats > MaxMembers-1:
		return c, fmt.Errorf("%w: Settings.OpenSeats %d outside 0..%d", ErrInvalidConfig, c.Settings.OpenSeats, MaxMembers-1)
	case len(c.Settings.Data) > MaxSettingsSize:
		return c, fmt.Errorf("%w: Settings.Data is %d bytes, above %d", ErrInvalidConfig, len(c.Settings.Data), MaxSettingsSize)
	case c.MinPlayers < 0 || c.MinPlayers > MaxMembers:
		return c, fmt.Errorf("%w: MinPlayers %d outside 0..%d", ErrInvalidConfig, c.MinPlayers, MaxMembers)
	case c.Seat < 0 || c.Seat > MaxMembers:
		return c, fmt.Errorf("%w: Seat %d outside 0..%d", ErrInvalidConfig, c.Seat, MaxMembers)
	case c.StartTimeout < 0 || c.DiscoveryDelay < 0 || c.MigrationTimeout < 0:
		return c, fmt.Errorf("%w: negative timeout", ErrInvalidConfig)
	case int64(int32(c.Team)) != int64(c.Team):
		return c, fmt.Errorf("%w: Team %d does not fit 32 bits", ErrInvalidConfig, c.Team)
	}
	c.Name = safetext.Name(c.Name, MaxNameRunes)
	c.Settings = c.Settings.clone()
	if c.Settings.MaxPlayers == 0 {
		c.Settings.MaxPlayers = 8
	}
	if c.MinPlayers == 0 {
		c.MinPlayers = 2
	}
	if c.Countdown == 0 {
		c.Countdown = 3 * time.Second
	} else if c.Countdown < 0 {
		c.Countdown = 0
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 5 * time.Second
	}
	if c.DiscoveryDelay == 0 {
		c.DiscoveryDelay = 500 * time.Millisecond
	}
	if c.MigrationTimeout == 0 {
		c.MigrationTimeout = 2 * time.Second
	}
	if c.KickGrace == 0 {
		c.KickGrace = time.Second
	} else if c.KickGrace < 0 {
		c.KickGrace = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
