//go:build !js

package netcode

import "github.com/pion/webrtc/v4"

// relayProtocol returns how this end reaches its TURN server on the
// selected pair ("udp", "tcp" or "tls"), or "" when unknown. It reads
// pion's full stats report, so Stats calls it only for a relayed local
// candidate.
func relayProtocol(pc *webrtc.PeerConnection) string {
	sctp := pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return ""
	}
	pair, ok := sctp.Transport().ICETransport().GetSelectedCandidatePairStats()
	if !ok {
		return ""
	}
	if c, ok := pc.GetStats()[pair.LocalCandidateID].(webrtc.ICECandidateStats); ok {
		return c.RelayProtocol
	}
	return ""
}
