package transport

// Signer signs statements with this peer's identity key and checks other
// peers' signatures. Verify must report whether sig is peer's signature of
// msg, with the key that the transport proved belongs to peer (false for
// a peer whose key it does not know). Implementations are safe for
// concurrent use. sync/lockstep signs its rejoin admissions with one
// (lockstep.Signer is this type); netcode.NewSigner makes one of a mesh
// identity.
type Signer interface {
	Sign(msg []byte) ([]byte, error)
	Verify(peer PeerID, msg, sig []byte) bool
}

// SignerSource is implemented by a Conn whose transport proves peer
// identities with keys (netcode's channels): protocols on the Conn use its
// Signer by default, so that a game gets signatures without wiring one.
// Signer returns the Signer for a group of peers (the local one among
// them), or nil if some peer in it proves no key (then a signature by
// that peer could not be checked, and every peer of the group must come
// to the same answer: the result depends only on the group's IDs and on
// the transport, not on who asks).
type SignerSource interface {
	Signer(group []PeerID) Signer
}
