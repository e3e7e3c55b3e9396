// Package signaling gets the peers of a room to find each other: a
// WebSocket signaling server (Server), its client (Client, used by
// netcode), an embedded STUN server and a TURN server with coturn-style
// time-limited credentials.
package signaling
