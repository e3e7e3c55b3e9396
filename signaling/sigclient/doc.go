// Package sigclient is the signaling client a game imports (netcode does):
// Dial joins a room on a signaling server (package signaling, which an
// operator runs), Client relays opaque signals between the room's members,
// reports them as Events, keeps the room's listing (SetRoomInfo, RoomInfo)
// and hands out the server's ICE servers (STUN, and TURN credentials that
// it renews). It reconnects on its own and resumes its seat.
//
// The package holds the client side only: the protocol's data types
// (ICEServer, PeerInfo, RoomInfo, RoomMeta, Limits), error codes (Code,
// ServerError) and the client's own errors. The server, its backplanes,
// STUN/TURN serving, token minting, limits and stats live in package
// signaling; the wire protocol both speak is in signaling/internal/proto,
// whose types these are aliases of (values cross unconverted). The
// protocol itself is written down in package signaling's doc.
//
// A *ServerError matches the sentinel of its code with errors.Is; the
// sentinels of server codes are package signaling's (ErrRoomFull, ...) or,
// without importing the server, Code.Sentinel: errors.Is(err,
// sigclient.CodeRoomFull.Sentinel()).
//
// A game loop drains with Client.PollEvents (the repository's drain
// convention, CONTRIBUTING.md: event kinds named Event…, the slice valid
// until the next call); Client.Events is the same queue as a channel for a
// consumer that blocks in a select (netcode's mesh loop). The queue's
// overflow rule is written at Events: nothing is dropped, a full queue
// holds the server back until the server cuts a slow consumer and the
// client resumes its seat.
package sigclient
