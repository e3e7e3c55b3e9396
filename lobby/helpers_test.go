package lobby

import (
	"errors"

	"github.com/peerplay/peerplay/netcode/transport"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }
func errorsIs(err, target error) bool     { return errors.Is(err, target) }

func withSeat(c Config, team, seat int) Config {
	c.Team, c.Seat = team, seat
	return c
}

func equalIDs(got []transport.PeerID, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if string(got[i]) != want[i] {
			return false
		}
	}
	return true
}
