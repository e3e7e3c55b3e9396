package signaling_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: the library stays free of prometheus and NATS (signald adapts
// Stats; a NATS Backplane lives in its own package).
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/signaling",
		Allow: []string{
			deptest.Module + "/netcode/transport",
			deptest.Module + "/signaling/internal/rooms",
			deptest.Module + "/signaling/internal/proto",
			deptest.Module + "/signaling/sigclient", // the deprecated client aliases
			"github.com/coder/websocket",
			"github.com/pion/stun/v4",
			"github.com/pion/turn/v5",
			"github.com/pion/transport/v5",
			"github.com/pion/logging",
			"github.com/pion/dtls/v3", // pulled in by pion/turn/v5
			"github.com/pion/randutil",
			"golang.org/x/",
			"github.com/wlynxg/anet", // pion/transport's interface listing on Android
		},
		Deny: []string{"github.com/prometheus", "github.com/nats-io", "github.com/pion/webrtc"},
	})
}

// TestClientDeps: the client package a game imports carries no server, no
// STUN/TURN and no pion: a game's (wasm) binary links only the protocol and
// the WebSocket client.
func TestClientDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/signaling/sigclient",
		Allow: []string{
			deptest.Module + "/netcode/transport",
			deptest.Module + "/signaling/internal/rooms",
			deptest.Module + "/signaling/internal/proto",
			"github.com/coder/websocket",
		},
		Deny: []string{"github.com/pion", deptest.Module + "/signaling/natsbackplane"},
	})
}

// TestClientAPISize: the client package a game imports stays small (#19:
// at most 50 exported identifiers, counting every constant, variable,
// type and function declared at the top level; methods and fields are not
// counted).
func TestClientAPISize(t *testing.T) {
	files, err := filepath.Glob("sigclient/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if sp.Name.IsExported() {
							names = append(names, sp.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							if n.IsExported() {
								names = append(names, n.Name)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("sigclient exports %d identifiers: %v", len(names), names)
	if len(names) > 50 {
		t.Errorf("sigclient exports %d identifiers, more than 50", len(names))
	}
}
