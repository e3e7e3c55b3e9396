package pubsub

import "github.com/peerplay/peerplay/internal/pubsubwire"

// Limits every peer enforces on what it sends and accepts.
const (
	// MaxTopicSize is the longest topic, in bytes.
	MaxTopicSize = pubsubwire.MaxTopicSize
	// MaxRecipients is the most recipients of one publication.
	MaxRecipients = pubsubwire.MaxRecipients
	// MaxPeerIDSize is the longest PeerID the bus accepts, in bytes.
	MaxPeerIDSize = pubsubwire.MaxPeerIDSize
	// MaxPayloadLimit is the largest Config.MaxPayload.
	MaxPayloadLimit = pubsubwire.MaxPayloadLimit
	// MaxHistoryLimit is the largest Config.History.
	MaxHistoryLimit = pubsubwire.MaxHistoryLimit
	// MaxMessageSize is the largest bus message, in bytes; anything bigger
	// is dropped unread and counted (Stats.Oversized). Every message the
	// bus builds fits.
	MaxMessageSize = pubsubwire.MaxMessageSize
)
