package chat

import "errors"

var (
	// ErrInvalidConfig wraps every configuration error NewBus and New
	// report.
	ErrInvalidConfig = errors.New("chat: invalid config")
	// ErrClosed is returned by calls on a closed Bus or Chat.
	ErrClosed = errors.New("chat: closed")
	// ErrRateLimited is returned by a publication above the local peer's
	// own rate limit (BusConfig.Rate, Burst): nothing was sent. Peers
	// enforce the same limit on receipt, so sending anyway would only get
	// the publication dropped there.
	ErrRateLimited = errors.New("chat: rate limited")
	// ErrTooLarge is returned for a payload above BusConfig.MaxPayload, a
	// topic above MaxTopicSize or more than MaxRecipients recipients.
	ErrTooLarge = errors.New("chat: too large")
	// ErrInvalidTopic is returned for an empty topic or one that is not
	// valid UTF-8.
	ErrInvalidTopic = errors.New("chat: invalid topic")
	// ErrQueueFull is returned by a publication made before the bus has
	// synchronised with its peers when BusConfig.QueueLen publications are
	// already waiting.
	ErrQueueFull = errors.New("chat: outgoing queue full")
	// ErrInvalidText is returned for a chat line that is not valid UTF-8,
	// is empty once control characters are stripped, or is longer than
	// Config.MaxRunes.
	ErrInvalidText = errors.New("chat: invalid text")
	// ErrUnknownPeer is returned by Whisper to a peer the chat has not
	// heard from, and by PublishTo for a recipient that is no valid
	// PeerID.
	ErrUnknownPeer = errors.New("chat: unknown peer")
	// ErrMalformed wraps every error of the wire decoders: the message was
	// dropped and counted.
	ErrMalformed = errors.New("chat: malformed message")
	// ErrVersion is returned by the decoders for another wire version.
	ErrVersion = errors.New("chat: unsupported wire version")
)
