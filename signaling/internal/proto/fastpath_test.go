package proto

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/peerplay/peerplay/netcode/transport"
)

// jsonSeeds are valid and invalid JSON texts around the corners of the
// grammar.
var jsonSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `-12.0E-7`, `true`, `false`, `null`,
	` {"a" : [1, {"b":null}, "c\"\\\/\b\f\n\r\t\u00e9"] } `,
	`{"a":1,}`, `[1,]`, `[1 2]`, `{"a"}`, `{"a":}`, `{1:2}`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`,
	`"\u12"`, `"\x"`, "\"a\tb\"", `tru`, `nul`, `[`, `{`, `"`, `]`, `}`, ``, ` `, `[[[[]]]]`,
	strings.Repeat("[", maxScanDepth) + strings.Repeat("]", maxScanDepth),
	strings.Repeat("[", maxScanDepth+1) + strings.Repeat("]", maxScanDepth+1),
	strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600),
	"[1]x", `{"a":1}{"b":2}`, "\"\xff\"",
}

func TestValidJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, want %v (json.Valid)", s, got, want)
		}
	}
}

// FuzzValidJSON: validJSON agrees with encoding/json.Valid on every input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}

func TestScanSignal(t *testing.T) {
	for _, tc := range []struct {
		in       string
		key      string
		id, data string // "" = not in plain form
	}{
		{`{"type":"signal","to":"p","data":{"sdp":"v=0"}}`, "to", "p", `{"sdp":"v=0"}`},
		{` { "data" : [1, 2] , "to" : "p-1.x_" , "type" : "signal" } `, "to", "p-1.x_", `[1, 2]`},
		{`{"type":"signal","peer":"q","data":"aGk="}`, "peer", "q", `"aGk="`},
		{`{"type":"signal","peer":"q","data":null}`, "peer", "q", `null`},
		{`{"type":"signal","to":"p","data":{"sdp":"v=0"}}`, "peer", "", ""}, // other key
		{`{"type":"signal","to":"p"}`, "to", "", ""},                        // no data
		{`{"type":"signal","data":1}`, "to", "", ""},                        // no id
		{`{"to":"p","data":1}`, "to", "", ""},                               // no type
		{`{"type":"ping","to":"p","data":1}`, "to", "", ""},                 // other type
		{`{"type":"signal","to":"p","data":1,"x":0}`, "to", "", ""},         // unknown field
		{`{"type":"signal","to":"p","data":1,"data":2}`, "to", "", ""},      // duplicate
		{`{"type":"signal","TO":"p","data":1}`, "to", "", ""},               // case
		{`{"type":"signal","to":"\u0070","data":1}`, "to", "", ""},          // escape
		{`{"type":"sig\u006eal","to":"p","data":1}`, "to", "", ""},          // escape
		{`{"type":"signal","to":"p","data":{"a":}}`, "to", "", ""},          // invalid
		{`{"type":"signal","to":"p","data":1}x`, "to", "", ""},              // trailing
		{`{"type":"signal","to":"p","data":1,}`, "to", "", ""},              // trailing comma
		{`{"type":"signal","to":"p","data":1`, "to", "", ""},                // truncated
		{`{}`, "to", "", ""}, // empty
		{`[{"type":"signal","to":"p","data":1}]`, "to", "", ""},                              // not an object
		{`{"type":"signal","to":"p","data":` + strings.Repeat("[", 600) + `}`, "to", "", ""}, // deep
	} {
		id, data, ok := ScanSignal([]byte(tc.in), tc.key)
		if ok != (tc.id != "") || string(id) != tc.id || string(data) != tc.data {
			t.Errorf("scanSignal(%s, %s) = %q, %q, %v; want %q, %q", tc.in, tc.key, id, data, ok, tc.id, tc.data)
		}
	}
}

// FuzzScanSignal: the fast path is total and reads what it accepts as
// encoding/json does (for valid UTF-8, which the server requires); and
// appendSignal writes what it reads back.
func FuzzScanSignal(f *testing.F) {
	f.Add([]byte(`{"type":"signal","to":"qrstuvwxyz234567","data":{"type":"offer","sdp":"v=0"}}`), true)
	f.Add([]byte(`{"type":"signal","peer":"qrstuvwxyz234567","data":"x"}`), false)
	f.Add(fuzzCandidate, true)
	f.Add([]byte(` {"data":[1,{"a":null}],"to":"p","type":"signal"}`), true)
	f.Fuzz(func(t *testing.T, b []byte, to bool) {
		key := "peer"
		if to {
			key = "to"
		}
		id, data, ok := ScanSignal(b, key)
		if !ok || !utf8.Valid(b) {
			return
		}
		fr, err := DecodeFrame(b, 0)
		if err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", b, err)
		}
		gotID := fr.Peer
		if to {
			gotID = fr.To
		}
		if fr.Type != TypeSignal || string(gotID) != string(id) || !bytes.Equal(fr.Data, data) {
			t.Fatalf("fast path read %q, %q; encoding/json %+v", id, data, fr)
		}
		again := appendSignal(nil, key, transport.PeerID(id), data)
		fr2, err := DecodeFrame(again, 0)
		gotID2 := fr2.Peer
		if to {
			gotID2 = fr2.To
		}
		if err != nil || string(gotID2) != string(id) || !bytes.Equal(fr2.Data, data) {
			t.Fatalf("appendSignal wrote %q, which reads back as %+v, %v", again, fr2, err)
		}
	})
}

// validJSON is scanValue as encoding/json.Valid: one JSON value, space
// around it allowed (deeper than maxScanDepth: json.Valid decides).
func validJSON(b []byte) bool {
	i := skipSpace(b, 0)
	end, res := scanValue(b, i)
	switch res {
	case valueOK:
		return skipSpace(b, end) == len(b)
	case valueTooDeep:
		return json.Valid(b)
	}
	return false
}

func TestHasSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	naive := func(w []byte) bool {
		for _, c := range w {
			if special(c) {
				return true
			}
		}
		return false
	}
	// Every byte value at every position, among plain bytes and among
	// bytes at or above 0x80; then words of two arbitrary bytes.
	for _, fill := range []byte{'a', 0x80, 0xff, 0x21, 0x5d} {
		for pos := range 8 {
			for c := range 256 {
				w := bytes.Repeat([]byte{fill}, 8)
				w[pos] = byte(c)
				if got, want := hasSpecial(binary.LittleEndian.Uint64(w)), naive(w); got != want {
					t.Fatalf("hasSpecial(% x) = %v, want %v", w, got, want)
				}
			}
		}
	}
	for c1 := range 256 {
		for c2 := range 256 {
			w := []byte{byte(c1), byte(c2), 'x', 0x90, byte(c2), 'y', byte(c1), 0x7f}
			if got, want := hasSpecial(binary.LittleEndian.Uint64(w)), naive(w); got != want {
				t.Fatalf("hasSpecial(% x) = %v, want %v", w, got, want)
			}
		}
	}
}

// fuzzCandidate is a trickled ICE candidate as netcode sends it (a seed).
var fuzzCandidate = []byte(`{"v":1,"t":"cand","s":"8286418163361290","id":"abcdefghijklmnop","c":{"candidate":"candidate:1467250027 1 udp 2122260223 192.168.1.23 54321 typ host generation 0 ufrag Xk2a network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Xk2a"}}`)
