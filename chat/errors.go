package chat

import (
	"errors"

	"github.com/peerplay/peerplay/pubsub"
)

var (
	// ErrInvalidText is returned for a chat line that is not valid UTF-8,
	// is empty once control characters are stripped, or is longer than
	// Config.MaxRunes.
	ErrInvalidText = errors.New("chat: invalid text")
	// ErrUnknownPeer is returned by Whisper to a peer the chat has not
	// heard from (and by the bus's PublishTo for a recipient that is no
	// valid PeerID).
	ErrUnknownPeer = pubsub.ErrUnknownPeer
	// ErrInvalidConfig wraps every configuration error New reports (the
	// bus's included).
	ErrInvalidConfig = pubsub.ErrInvalidConfig
	// ErrClosed is returned by calls on a closed Chat (or its Bus).
	ErrClosed = pubsub.ErrClosed
	// ErrRateLimited is returned by a line above the local peer's own rate
	// limit (BusConfig.Rate, Burst): nothing was sent.
	ErrRateLimited = pubsub.ErrRateLimited
	// ErrTooLarge: see pubsub.ErrTooLarge.
	ErrTooLarge = pubsub.ErrTooLarge
	// ErrInvalidTopic: see pubsub.ErrInvalidTopic.
	ErrInvalidTopic = pubsub.ErrInvalidTopic
	// ErrQueueFull: see pubsub.ErrQueueFull.
	ErrQueueFull = pubsub.ErrQueueFull
	// ErrMalformed wraps every error of the wire decoders (bus messages
	// and chat lines): the message was dropped and counted.
	ErrMalformed = pubsub.ErrMalformed
	// ErrVersion is returned by the decoders for another wire version.
	ErrVersion = pubsub.ErrVersion
)
