package netplay

import (
	"fmt"
	"strings"
)

// internetHint returns the join hint's line for friends outside the LAN:
// the command with the public address when the server knows it
// (-public-addr, or what a joiner dialed), else what stops them and the
// commands that fix it. It is cheap enough for the lobby to call every
// frame, so a learned address shows up as soon as a friend dials it.
func internetHint(srv *Server, cmd, code string) func() string {
	port := srv.Port()
	lan := "this machine"
	if ip, ok := LANAddr(); ok {
		lan = ip.String()
	}
	return func() string {
		if pub, ok := srv.PublicAddr(); ok {
			return fmt.Sprintf("%s -join %s/%s   (internet: TCP+UDP port %d forwarded to %s)", cmd, pub, code, port, lan)
		}
		return fmt.Sprintf("friends outside this LAN cannot reach this game: forward TCP+UDP port %d on your router to %s "+
			"and host with `%s -host -public-addr YOUR_PUBLIC_IP`, or both use a public signald "+
			"(`%s -signal wss://HOST/ws -host`)", port, lan, cmd, cmd)
	}
}

// Links describes how this player reaches each peer, one "link ..." line
// per peer: the selected ICE pair's type and its two ends' candidate types
// (host, srflx, prflx, relay). Headless runs print it after the result, so
// tests (netlab) log which path a match took.
func (r *Room) Links() string {
	var b strings.Builder
	for _, p := range r.mesh.Stats().Peers {
		name := p.Name
		if name == "" {
			name = string(p.Peer)
		}
		fmt.Fprintf(&b, "link peer=%s type=%v local=%v remote=%v relayed=%v\n", name, p.Link, p.LocalCandidate, p.RemoteCandidate, p.Relayed())
	}
	return b.String()
}
