//go:build js

package netplay

import "github.com/pion/webrtc/v4"

// loopbackOnly: in a browser the candidates are the browser's business (a
// test starts Chromium with --allow-loopback-in-peer-connection), and the
// js SettingEngine has none of these knobs.
func loopbackOnly(*webrtc.SettingEngine) {}

// withLoopback: the browser gathers its own candidates.
func withLoopback(*webrtc.SettingEngine) {}
