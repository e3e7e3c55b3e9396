package netplay

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestRoomFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity-ann+room")
	if _, ok := readRoomFile(path); ok {
		t.Fatal("a missing room file reads as a room")
	}
	if _, ok := readRoomFile(""); ok {
		t.Fatal("no room file reads as a room")
	}
	if err := writeRoomFile(path, hostedRoom{code: "K7Q2", port: 41234}); err != nil {
		t.Fatal(err)
	}
	got, ok := readRoomFile(path)
	if !ok || got != (hostedRoom{code: "K7Q2", port: 41234}) {
		t.Fatalf("read back %+v, %v", got, ok)
	}
	for _, bad := range []string{"", "K7Q2", "K7Q2 x", "K7Q2 70000", "K7Q2 -1", "K7/Q2 80", "K7Q2 80 90", "\x00\x01 1"} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if r, ok := readRoomFile(path); ok {
			t.Errorf("%q reads as room %+v", bad, r)
		}
	}
}

func TestReuseListen(t *testing.T) {
	for _, c := range []struct {
		listen string
		prev   int
		want   string
	}{
		{"127.0.0.1:0", 41234, "127.0.0.1:41234"},
		{":0", 41234, ":41234"},
		{"[::1]:0", 41234, "[::1]:41234"},
		{":7700", 41234, ":7700"}, // a port asked for stays
		{"127.0.0.1:0", 0, "127.0.0.1:0"},
		{"bad", 41234, "bad"},
	} {
		if got := reuseListen(c.listen, c.prev); got != c.want {
			t.Errorf("reuseListen(%q, %d) = %q, want %q", c.listen, c.prev, got, c.want)
		}
	}
}

// FuzzParseRoomFile: any bytes either parse to a valid room (a code
// checkRoom accepts, a port in range, written back the same) or are
// refused; never a panic.
func FuzzParseRoomFile(f *testing.F) {
	f.Add("K7Q2 7700\n")
	f.Add("k7q2 0")
	f.Add("K7Q2 99999")
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := parseRoomFile(s)
		if !ok {
			return
		}
		if checkRoom(r.code) != nil || r.port < 0 || r.port > 65535 {
			t.Fatalf("%q parsed to an invalid room %+v", s, r)
		}
		again, ok := parseRoomFile(r.code + " " + itoa(r.port))
		if !ok || again != r {
			t.Fatalf("%+v does not round-trip: %+v %v", r, again, ok)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
