package safetext

import (
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in     string
		max    int
		want   string
		wantOK bool
	}{
		{"hello", 10, "hello", true},
		{"  hi\tthere\n", 0, "hi there", true},
		{"bell\x07\x00\x1b[31m", 0, "bell[31m", true},
		{"evil\u202egnp.exe", 0, "evilgnp.exe", true},
		{"caf\xc3", 10, "caf\xc3", false},
		{"héllo wörld", 11, "héllo wörld", true},
		{"héllo wörld", 10, "héllo wörld", false},
		{"日本語", 3, "日本語", true},
		{"\x01\x02", 5, "", true},
	}
	for _, tt := range tests {
		got, ok := Clean(tt.in, tt.max)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Clean(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"alice", 8, "alice"},
		{"al\xffice", 8, "alice"},
		{"a very long name indeed", 6, "a very"},
		{"abc def", 4, "abc"},
		{"\u202ebob\x00", 8, "bob"},
	}
	for _, tt := range tests {
		if got := Name(tt.in, tt.max); got != tt.want {
			t.Errorf("Name(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"hello", "\x00\u202e", "caf\xc3", "日本語\n"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 64
		c, ok := Clean(s, max)
		if !ok {
			return
		}
		if !utf8.ValidString(c) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, c)
		}
		if max > 0 && utf8.RuneCountInString(c) > max {
			t.Fatalf("Clean(%q, %d) = %q: too long", s, max, c)
		}
		for _, r := range c {
			if keep(r) != r {
				t.Fatalf("Clean(%q) = %q keeps %U", s, c, r)
			}
		}
		n := Name(s, max)
		if !utf8.ValidString(n) || (max > 0 && utf8.RuneCountInString(n) > max) {
			t.Fatalf("Name(%q, %d) = %q", s, max, n)
		}
	})
}
