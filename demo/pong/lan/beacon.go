package lan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Defaults of the configs.
const (
	DefaultGroup     = "239.255.77.77:7701"
	DefaultBroadcast = "255.255.255.255:7701"
	DefaultPort      = 7701
	GameID           = "pong"
	// MaxBeaconSize bounds an encoded beacon.
	MaxBeaconSize = 512
)

const magic = "PPLAN1"

// Beacon is what a host announces.
type Beacon struct {
	Game    string `json:"game"`    // "" is sent as GameID
	Name    string `json:"name"`    // the host's player name
	Room    string `json:"room"`    // room code on the host's signaling server
	Port    int    `json:"port"`    // TCP port of the host's signaling server
	Players int    `json:"players"` // members in the room now
	Max     int    `json:"max"`     // room size
}

// Encode returns the datagram for b.
func (b Beacon) Encode() ([]byte, error) {
	if b.Game == "" {
		b.Game = GameID
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	j, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte(magic), j...)
	if len(out) > MaxBeaconSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadBeacon, len(out))
	}
	return out, nil
}

func (b Beacon) check() error {
	switch {
	case b.Port <= 0 || b.Port > 65535:
		return fmt.Errorf("%w: port %d", ErrBadBeacon, b.Port)
	case b.Room == "" || len(b.Room) > 64 || len(b.Name) > 64 || len(b.Game) > 32:
		return fmt.Errorf("%w: field sizes", ErrBadBeacon)
	case !utf8.ValidString(b.Name) || !utf8.ValidString(b.Room) || !utf8.ValidString(b.Game):
		return fmt.Errorf("%w: not UTF-8", ErrBadBeacon)
	case b.Players < 0 || b.Players > 1000 || b.Max < 0 || b.Max > 1000:
		return fmt.Errorf("%w: counts", ErrBadBeacon)
	}
	return nil
}

// Decode parses a datagram. It is total: any input returns a beacon or an
// error wrapping ErrBadBeacon, never a panic.
func Decode(p []byte) (Beacon, error) {
	if len(p) > MaxBeaconSize || !bytes.HasPrefix(p, []byte(magic)) {
		return Beacon{}, ErrBadBeacon
	}
	var b Beacon
	if err := json.Unmarshal(p[len(magic):], &b); err != nil {
		return Beacon{}, fmt.Errorf("%w: %v", ErrBadBeacon, err)
	}
	if b.Game == "" { // as Encode: a beacon that names no game is Pong's
		b.Game = GameID
	}
	if err := b.check(); err != nil {
		return Beacon{}, err
	}
	return b, nil
}
