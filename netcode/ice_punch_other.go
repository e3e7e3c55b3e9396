//go:build !linux && !js

package netcode

// ttlControl: only Linux builds send primers (the package doc, "Crossed
// punches").
func ttlControl(int32) []byte { return nil }
