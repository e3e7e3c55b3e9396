package play

import (
	"context"
	"time"
)

// Player is one member of a networked room, as the lobby screen shows it.
type Player struct {
	ID    string // peer ID, unique in the room
	Name  string
	Ready bool
	Host  bool
	Seat  int // 0 or 1 when seated, -1 for a spectator
	Local bool
}

// ChatLine is one chat message.
type ChatLine struct {
	From string // player name
	Text string
}

// PeerStat is one line of the network overlay.
type PeerStat struct {
	Name       string
	RTT        time.Duration
	Jitter     time.Duration
	Loss       float64 // fraction of datagrams lost, 0..1; negative = unknown
	Relayed    bool    // the link goes through TURN
	InputDelay int     // frames
	Stalls     int     // frames the match could not advance
	KbpsIn     float64
	KbpsOut    float64
	// Rollback: the match runs sync/rollback (-rollback); RollbacksPerSec
	// and ResimPerTick are its rollbacks per second and frames
	// re-simulated per tick, averaged over the match.
	Rollback        bool
	RollbacksPerSec float64
	ResimPerTick    float64
}

// Room is a networked lobby and, once started, its match. The front polls
// it once per tick; it never calls the front.
type Room interface {
	// Code is the room code a friend types to join.
	Code() string
	// JoinHint is the exact command (or address) a friend uses to join.
	JoinHint() string
	// Players returns the room's members, seated first.
	Players() []Player
	// Poll drains what happened since the last call: new chat lines and
	// notices (a peer left, the match started, a desync). It never blocks.
	Poll() (chat []ChatLine, notices []string)
	// SetReady marks the local player ready (or not).
	SetReady(ready bool) error
	// Say sends a chat line to the room.
	Say(text string) error
	// Match returns the running match, or nil before the host starts it.
	Match() Match
	// Stats returns the network overlay's figures, one per remote peer.
	Stats() []PeerStat
	// Err returns why the room ended (a peer left, a desync, the network),
	// or nil while it is usable.
	Err() error
	// Close leaves the room; it is idempotent.
	Close() error
}

// LANGame is a game announced on the local network.
type LANGame struct {
	Name   string // the host's player name
	Target string // what Network.Join takes
}

// Network connects a front to the Peerplay mesh. Host and Join may block
// until connected or ctx is done; LAN never blocks.
type Network interface {
	// Host opens a room and waits in it as its first member.
	Host(ctx context.Context, name string) (Room, error)
	// Join enters the room that target names (a LAN code, HOST:PORT/CODE,
	// or a code on the configured signaling server).
	Join(ctx context.Context, target, name string) (Room, error)
	// LAN returns the games announced on the local network, newest first.
	LAN() []LANGame
}
