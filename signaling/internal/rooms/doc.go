// Package rooms holds the room rules that every signaling Backplane
// applies, written once: admission (create, password, game, size), the
// listing metadata merge, peer IDs, resume tokens and password hashes.
// signaling.MemoryBackplane and signaling/natsbackplane both decide with
// these functions; they differ only in where the state lives (a map under
// a mutex, or a JetStream KV record changed by compare-and-set).
//
// The package is pure: no goroutines, no clock, no I/O but crypto/rand.
// Every decision is a function of its arguments, so the rules are tested
// by table (rules_test.go) and a backplane's job is to give them a
// consistent view and apply the result atomically.
//
// Types mirror the signaling types field for field (Join ≡ JoinRequest,
// Update ≡ RoomMeta, Listing ≡ RoomInfo) so that the backplanes convert
// with a plain conversion; the compiler then checks that the two stay in
// step. Refusals carry the signaling protocol's error code as a string
// (this package cannot import signaling).
package rooms
