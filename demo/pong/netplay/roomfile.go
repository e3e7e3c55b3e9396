package netplay

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The room file (Config.RoomFile) lets a host whose game died come back
// to the room it hosted: while a hosted room is open its file holds one
// line, "CODE PORT" (PORT: the embedded server's, 0 with -signal), and
// Room.Close removes it. A Host that finds the file reopens that room:
// the same code, and the same port when Listen leaves the port to the
// system (port 0). The players' meshes re-dial the signaling server
// (netcode resumes signaling when a server comes back) and find the host
// in the room again; its lobby and lockstep rejoin the running match like
// any restarted player (see "Rejoin" in the package doc). A file that
// does not parse is ignored: the host opens a new room.
//
// A room file expires: one last written more than RoomFileMaxAge ago is
// ignored (a host that crashed in the lobby and starts days later opens a
// new room, not the dead one's code). An open room keeps its file fresh:
// Room.Poll rewrites its time every roomFileRefresh. The match a dead
// host played in is held for it only twice lockstep's disconnect timeout
// (10 s by default) and the room ends for the other player when its host
// leaves outside a match, so nothing waits for a file older than
// RoomFileMaxAge: it covers a refresh period, a slow restart and a
// machine that slept through the refresh with margin.

// maxRoomFile bounds what is read of a room file.
const maxRoomFile = 128

// RoomFileMaxAge is how long after its last write a room file still
// names a room to reopen (see above).
const RoomFileMaxAge = 2 * time.Minute

// roomFileRefresh is how often an open room rewrites its file's time.
const roomFileRefresh = 30 * time.Second

// hostedRoom is what a room file holds.
type hostedRoom struct {
	code string
	port int
}

// readRoomFile returns the room a previous run hosted, if path ("" =
// none) holds a valid one written less than RoomFileMaxAge before now.
func readRoomFile(path string, now time.Time) (hostedRoom, bool) {
	if path == "" {
		return hostedRoom{}, false
	}
	f, err := os.Open(path)
	if err != nil {
		return hostedRoom{}, false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || now.Sub(st.ModTime()) > RoomFileMaxAge {
		return hostedRoom{}, false // expired: that room is long gone
	}
	b := make([]byte, maxRoomFile)
	n, _ := f.Read(b)
	return parseRoomFile(string(b[:n]))
}

// parseRoomFile parses "CODE PORT\n"; anything else is not a room.
func parseRoomFile(s string) (hostedRoom, bool) {
	fields := strings.Fields(s)
	if len(fields) != 2 || checkRoom(fields[0]) != nil {
		return hostedRoom{}, false
	}
	port, err := strconv.Atoi(fields[1])
	if err != nil || port < 0 || port > 65535 {
		return hostedRoom{}, false
	}
	return hostedRoom{code: strings.ToUpper(fields[0]), port: port}, true
}

// writeRoomFile records the open room in path ("" = none): written to a
// temporary file and renamed, so a kill never leaves half a line.
func writeRoomFile(path string, r hostedRoom) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%s %d\n", r.code, r.port), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// reuseListen is listen with port 0 replaced by the port a previous run
// listened on (so its players find it again); listen itself when it names
// a port or when there is no previous port.
func reuseListen(listen string, prev int) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port != "0" || prev == 0 {
		return listen
	}
	return net.JoinHostPort(host, strconv.Itoa(prev))
}

// touchRoomFile marks path ("" = none) as written now, so it does not
// expire while its room is open; errors are the caller's to log.
func touchRoomFile(path string, now time.Time) error {
	if path == "" {
		return nil
	}
	return os.Chtimes(path, now, now)
}

// The join file (Config.JoinFile) is the joiner's room file: one line,
// the target Join was given (a code or HOST:PORT/CODE), kept, refreshed,
// removed and expired as a room file is.

// readJoinFile returns the target a previous run joined, if path ("" =
// none) holds a valid one written less than RoomFileMaxAge before now.
func readJoinFile(path string, now time.Time) (string, bool) {
	if path == "" {
		return "", false
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || now.Sub(st.ModTime()) > RoomFileMaxAge {
		return "", false
	}
	b := make([]byte, maxJoinFile)
	n, _ := f.Read(b)
	return parseJoinFile(string(b[:n]))
}

// maxJoinFile bounds what is read of a join file.
const maxJoinFile = 512

// parseJoinFile parses one target that ParseTarget accepts, of printable
// ASCII without spaces; anything else is not a room.
func parseJoinFile(s string) (string, bool) {
	fields := strings.Fields(s)
	if len(fields) != 1 || len(fields[0]) > maxJoinFile {
		return "", false
	}
	for _, c := range []byte(fields[0]) {
		if c <= ' ' || c >= 127 {
			return "", false
		}
	}
	if _, err := ParseTarget(fields[0]); err != nil {
		return "", false
	}
	return fields[0], true
}

// writeJoinFile records the joined target in path, as writeRoomFile.
func writeJoinFile(path, target string) error {
	if _, ok := parseJoinFile(target); !ok {
		return fmt.Errorf("netplay: %q is not a target to keep", target)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(target+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
