package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSaysWhatTheGameShows: every phrase the README's Pong section
// quotes ("...") is text the game prints or draws, word for word: each
// must appear in the demo's source (the strings of game/, netplay/,
// play.sh and main.go), with the example values (room K7Q2, ann, bob,
// 10.77.0.1:7700) standing for what the code fills in.
func TestReadmeSaysWhatTheGameShows(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "\n## Pong\n")
	if i < 0 {
		t.Fatal("README.md has no Pong section")
	}
	sec := readme[i+1:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	var src strings.Builder
	for _, g := range []string{"../game/*.go", "../netplay/*.go", "../main.go", "../play.sh"} {
		files, _ := filepath.Glob(g)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.WriteString(string(b))
		}
	}
	code := src.String()
	quotes := regexp.MustCompile(`"([^"\n]+(?:\n[^"\n]+)*)"`).FindAllStringSubmatch(sec, -1)
	if len(quotes) < 10 {
		t.Fatalf("found %d quoted phrases in the Pong section; the test expects the README to quote what the game shows", len(quotes))
	}
	for _, q := range quotes {
		phrase := strings.Join(strings.Fields(q[1]), " ")
		pieces := splitExamples(phrase)
		for _, p := range pieces {
			if p == "" {
				continue
			}
			if !strings.Contains(code, p) && !strings.Contains(collapse(code), p) {
				t.Errorf("README quotes %q, but the game's source has no %q", phrase, p)
			}
		}
	}
}

var exampleRE = regexp.MustCompile(`K7Q2|4QXE|10\.77\.0\.1:7700|192\.168\.1\.5:7700/|\bann\b|\bbob\b|\(|\)`)

// splitExamples cuts phrase at the example values the code fills in.
func splitExamples(phrase string) []string {
	var out []string
	for _, p := range exampleRE.Split(phrase, -1) {
		if p = strings.TrimSpace(p); len(p) > 2 {
			out = append(out, p)
		}
	}
	return out
}

// collapse turns runs of spaces into one, as the README's line breaks do.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
