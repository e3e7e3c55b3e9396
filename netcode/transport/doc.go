// Package transport defines the contract every Peerplay protocol speaks:
// one logical channel (a Conn) from the local peer to every other peer of a
// room. The WebRTC mesh (package netcode) and the in-memory network used in
// tests (package memnet) both implement it, so lockstep, lobby and chat run
// unchanged over either.
//
// Quick start, over the in-memory network:
//
//	net := memnet.New(memnet.Config{Seed: 1})
//	defer net.Close()
//	a := net.Join("alice").Channel("chat", transport.Reliable)
//	b := net.Join("bob").Channel("chat", transport.Reliable)
//	_ = a.Send("bob", []byte("hi"))
//	msg, _ := b.Recv(ctx) // msg.From == "alice"
//
// The game loop drives everything: a Conn never calls game code. Send never
// blocks; TryRecv polls; Recv blocks until a message or ctx is done.
//
// Package transport imports nothing but the standard library (checked by a
// test), so any package may depend on it.
package transport
