//go:build !js

package netcode_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: netcode depends on transport, signaling, pion and what they
// bring; nothing of the game layers.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/netcode",
		Allow: []string{
			deptest.Module + "/netcode/transport", deptest.Module + "/netcode/internal",
			// the signaling client only: a game binary (wasm too) carries no server
			deptest.Module + "/signaling/sigclient", deptest.Module + "/signaling/internal/", deptest.Module + "/internal/safetext",
			deptest.Module + "/internal/drain",
			"github.com/pion", "github.com/coder/websocket", "golang.org/x",
			"github.com/google/uuid", "github.com/wlynxg/anet",
		},
	})
}

// TestOnlyNetcodeImportsPion: among the SDK's packages only netcode pulls
// in pion's WebRTC stack, and besides netcode only signaling and its
// subpackages (signaling embeds pion's STUN and TURN servers) depend on
// pion at all. Commands, the
// demo, benchmarks, the network lab and test harnesses are not SDK packages.
func TestOnlyNetcodeImportsPion(t *testing.T) {
	out, err := exec.Command("go", "list", deptest.Module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// internal/meshtest is a test harness (only _test files import it) that
	// stands up real netcode peers for lobby's and chat's end-to-end tests.
	// browsertest runs Go/wasm peers in Chromium (its own tests only).
	notSDK := []string{"/cmd/", "/bench", "/netlab", "/demo/", "/internal/meshtest", "/browsertest"}
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(pkg, deptest.Module)
		skip := rel == "/netcode" || strings.HasPrefix(rel, "/netcode/internal/")
		for _, p := range notSDK {
			skip = skip || strings.HasPrefix(rel+"/", p)
		}
		if skip {
			continue
		}
		deny := []string{"github.com/pion"}
		if rel == "/signaling" || strings.HasPrefix(rel, "/signaling/") {
			deny = []string{"github.com/pion/webrtc", "github.com/pion/ice", "github.com/pion/sctp", "github.com/pion/datachannel"}
		}
		for _, d := range deptest.Deps(t, pkg) {
			for _, p := range deny {
				if d == p || strings.HasPrefix(d, p+"/") {
					t.Errorf("%s depends on %s: only netcode may use pion (signaling: STUN/TURN only)", pkg, d)
				}
			}
		}
	}
}

// TestWasmBuild: netcode, transport and memnet compile (and vet) for the
// browser, GOOS=js GOARCH=wasm, where pion drives the browser's WebRTC.
func TestWasmBuild(t *testing.T) {
	pkgs := []string{deptest.Module + "/netcode", deptest.Module + "/netcode/transport", deptest.Module + "/netcode/memnet"}
	for _, args := range [][]string{{"build", "-o", "/dev/null"}, {"vet"}} {
		cmd := exec.Command("go", append(args, pkgs...)...)
		cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=js GOARCH=wasm go %s: %v\n%s", args[0], err, out)
		}
	}
}
