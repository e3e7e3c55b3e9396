//go:build !js

package netplay

import "github.com/pion/webrtc/v4"

// loopbackOnly keeps ICE on loopback addresses without mDNS (Config.Loopback).
func loopbackOnly(se *webrtc.SettingEngine) {
	se.SetICEMulticastDNSMode(0) // ice.MulticastDNSModeDisabled
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip netIP) bool { return ip.IsLoopback() })
}

// withLoopback adds the loopback candidate (a friend on the same machine
// joining 127.0.0.1 pairs with it) and keeps every other candidate.
func withLoopback(se *webrtc.SettingEngine) { se.SetIncludeLoopbackCandidate(true) }
