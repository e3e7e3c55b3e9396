package netplay

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestRoomFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity-ann+room")
	if _, ok := readRoomFile(path, time.Now()); ok {
		t.Fatal("a missing room file reads as a room")
	}
	if _, ok := readRoomFile("", time.Now()); ok {
		t.Fatal("no room file reads as a room")
	}
	if err := writeRoomFile(path, hostedRoom{code: "K7Q2", port: 41234}); err != nil {
		t.Fatal(err)
	}
	got, ok := readRoomFile(path, time.Now())
	if !ok || got != (hostedRoom{code: "K7Q2", port: 41234}) {
		t.Fatalf("read back %+v, %v", got, ok)
	}
	for _, bad := range []string{"", "K7Q2", "K7Q2 x", "K7Q2 70000", "K7Q2 -1", "K7/Q2 80", "K7Q2 80 90", "\x00\x01 1"} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if r, ok := readRoomFile(path, time.Now()); ok {
			t.Errorf("%q reads as room %+v", bad, r)
		}
	}
}

// TestRoomFileExpires: a room file last written more than RoomFileMaxAge
// ago names no room (a host that crashed in the lobby and starts days
// later opens a new room); touchRoomFile (an open room's Poll) keeps it
// fresh, and Network.HostedRoom (the menu's "Rejoin" item) follows it.
func TestRoomFileExpires(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity-ann+room")
	if err := writeRoomFile(path, hostedRoom{code: "K7Q2", port: 41234}); err != nil {
		t.Fatal(err)
	}
	n := &Network{cfg: Config{RoomFile: path}}
	if got := n.HostedRoom(); got != "K7Q2" {
		t.Fatalf("HostedRoom of a fresh room file = %q, want K7Q2", got)
	}
	now := time.Now()
	if _, ok := readRoomFile(path, now.Add(RoomFileMaxAge-time.Second)); !ok {
		t.Fatal("a room file younger than RoomFileMaxAge expired")
	}
	if r, ok := readRoomFile(path, now.Add(RoomFileMaxAge+time.Second)); ok {
		t.Fatalf("a room file older than RoomFileMaxAge reads as room %+v", r)
	}
	old := now.Add(-72 * time.Hour) // the host crashed days ago
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if r, ok := readRoomFile(path, now); ok {
		t.Fatalf("a room file three days old reads as room %+v", r)
	}
	if got := n.HostedRoom(); got != "" {
		t.Fatalf("HostedRoom of an expired room file = %q, want none", got)
	}
	// The open room refreshes its file: it is valid again.
	if err := touchRoomFile(path, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := readRoomFile(path, now.Add(RoomFileMaxAge/2)); !ok {
		t.Fatal("a refreshed room file expired")
	}
	if roomFileRefresh*2 >= RoomFileMaxAge {
		t.Fatalf("refresh every %v cannot keep a file within %v with margin", roomFileRefresh, RoomFileMaxAge)
	}
	if (&Network{}).HostedRoom() != "" {
		t.Fatal("no room file names a room")
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

// TestJoinFile: the joiner's file keeps a target, expires as a room file
// and refuses what Join would not take.
func TestJoinFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity-bob+join")
	n := &Network{cfg: Config{JoinFile: path}}
	if got := n.JoinedRoom(); got != "" {
		t.Fatalf("no join file names %q", got)
	}
	if err := writeJoinFile(path, "127.0.0.1:41234/K7Q2"); err != nil {
		t.Fatal(err)
	}
	if got := n.JoinedRoom(); got != "127.0.0.1:41234/K7Q2" {
		t.Fatalf("JoinedRoom = %q", got)
	}
	if _, ok := readJoinFile(path, time.Now().Add(RoomFileMaxAge+time.Second)); ok {
		t.Fatal("a join file older than RoomFileMaxAge names a room")
	}
	for _, bad := range []string{"", "a b", "K7/Q2/x", "\x00\x01", "K7Q2 80"} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := n.JoinedRoom(); got != "" {
			t.Errorf("%q names room %q", bad, got)
		}
	}
	if err := writeJoinFile(path, "two words"); err == nil {
		t.Error("a target with a space was written")
	}
}

// FuzzParseJoinFile: any bytes either parse to one printable target that
// ParseTarget accepts and that parses back the same, or are refused.
func FuzzParseJoinFile(f *testing.F) {
	f.Add("127.0.0.1:7700/K7Q2\n")
	f.Add("k7q2")
	f.Add("a b")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseJoinFile(s)
		if !ok {
			return
		}
		if _, err := ParseTarget(got); err != nil {
			t.Fatalf("%q parsed to %q, which ParseTarget refuses: %v", s, got, err)
		}
		if again, ok := parseJoinFile(got); !ok || again != got {
			t.Fatalf("%q does not round-trip: %q %v", got, again, ok)
		}
	})
}
