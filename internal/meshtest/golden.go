package meshtest

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Wire is one message of a golden file: a name and the bytes an encoder
// produced.
type Wire struct {
	Name  string
	Bytes []byte
}

// Golden pins the bytes of a wire format: it compares each wire with
// the "name hex" line of the file at path, and checks that the file holds
// exactly as many lines as there are wires. With update set (a test's
// -update flag), it first rewrites the file from wires.
func Golden(t testing.TB, path string, update bool, wires []Wire) {
	t.Helper()
	got := make(map[string]string)
	var out strings.Builder
	for _, w := range wires {
		got[w.Name] = hex.EncodeToString(w.Bytes)
		fmt.Fprintf(&out, "%s %s\n", w.Name, got[w.Name])
	}
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := make(map[string]string)
	for sc := bufio.NewScanner(f); sc.Scan(); {
		name, hx, _ := strings.Cut(sc.Text(), " ")
		want[name] = hx
	}
	if len(want) != len(wires) {
		t.Errorf("golden file has %d kinds, want %d", len(want), len(wires))
	}
	for _, w := range wires {
		if got[w.Name] != want[w.Name] {
			t.Errorf("%s:\n got  %s\n want %s", w.Name, got[w.Name], want[w.Name])
		}
	}
}
