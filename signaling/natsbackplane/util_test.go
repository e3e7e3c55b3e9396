package natsbackplane

import (
	"slices"

	"github.com/peerplay/peerplay/netcode/transport"
)

func sorted(ids ...transport.PeerID) []transport.PeerID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func equalIDs(a, b []transport.PeerID) bool { return slices.Equal(a, b) }
