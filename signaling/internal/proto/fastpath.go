package proto

import (
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"

	"github.com/peerplay/peerplay/netcode/transport"
)

// The signal is nearly all of the traffic, and a payload that is JSON (all
// of netcode's are) is relayed byte for byte: this file reads and writes
// that message without encoding/json. ScanSignal accepts only the plain
// form, which encoding/json would read the same way; anything else goes
// through DecodeFrame. FuzzScanSignal checks both properties against
// encoding/json.

// EncodeSignal encodes a signal carrying payload p, key "to" (client →
// server) or "peer" (server → client): a payload that is one JSON value
// goes in "data" as is, any other in "bin" (base64).
func EncodeSignal(key string, id transport.PeerID, p []byte) []byte {
	if isJSONValue(p) {
		return appendSignal(make([]byte, 0, 40+len(id)+len(p)), key, id, p)
	}
	f := &Frame{Type: TypeSignal, Bin: p}
	if key == "to" {
		f.To = id
	} else {
		f.Peer = id
	}
	return EncodeFrame(f)
}

// isJSONValue reports whether p is one JSON value, without space around it
// (so that the receiver, who reads the value, gets p back) and in UTF-8
// (a WebSocket text message must be).
func isJSONValue(p []byte) bool {
	end, res := scanValue(p, 0)
	return res == valueOK && end == len(p) && utf8.Valid(p)
}

// appendSignal appends a signal Frame: {"type":"signal","<key>":"<id>",
// "data":<data>}. data must be one valid JSON value; it is copied as is.
func appendSignal(dst []byte, key string, id transport.PeerID, data []byte) []byte {
	dst = append(dst, `{"type":"signal","`...)
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	dst = appendJSONString(dst, string(id))
	dst = append(dst, `,"data":`...)
	dst = append(dst, data...)
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string, as encoding/json writes it.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// ScanSignal reads b if it is a signal in plain form: one JSON object with
// exactly the keys "type" (the string "signal"), key (a string without
// escapes) and "data" (any JSON value), in any order, each once, keys
// without escapes, whitespace allowed. It returns the id and the data's
// bytes (slices of b); ok false means "not in plain form", not "invalid":
// decode b with DecodeFrame then. It never panics.
func ScanSignal(b []byte, key string) (id, data []byte, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false
	}
	var haveType, haveID, haveData bool
	for n := 0; ; n++ {
		i = skipSpace(b, i+1)
		if n == 0 && i < len(b) && b[i] == '}' {
			return nil, nil, false // {}: no type
		}
		s, e, plain := scanString(b, i)
		if !plain {
			return nil, nil, false
		}
		k := b[s:e]
		i = skipSpace(b, e+1)
		if i >= len(b) || b[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
		switch {
		case string(k) == "type" && !haveType:
			s, e, plain := scanString(b, i)
			if !plain || string(b[s:e]) != TypeSignal {
				return nil, nil, false
			}
			haveType, i = true, e+1
		case string(k) == key && !haveID:
			s, e, plain := scanString(b, i)
			if !plain {
				return nil, nil, false
			}
			haveID, id, i = true, b[s:e], e+1
		case string(k) == "data" && !haveData:
			e, res := scanValue(b, i)
			if res != valueOK {
				return nil, nil, false
			}
			haveData, data, i = true, b[i:e], e
		default:
			return nil, nil, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, nil, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return nil, nil, false
		}
	}
	if !haveType || !haveID || !haveData || skipSpace(b, i+1) != len(b) {
		return nil, nil, false
	}
	return id, data, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads a string at b[i] that has no escape and no control
// character: its contents are b[s:e] and b[e] is the closing quote.
func scanString(b []byte, i int) (s, e int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return i + 1, j, true
		case c == '\\' || c < 0x20:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// Results of scanValue.
const (
	valueOK      = iota
	valueInvalid // not JSON
	valueTooDeep // nested deeper than maxScanDepth: ask encoding/json
)

// maxScanDepth bounds the nesting scanValue follows (encoding/json allows
// 10000; deeper signal data is left to it).
const maxScanDepth = 512

// scanValue validates the JSON value that starts at b[i] (no leading
// space) as encoding/json.Valid does, and returns where it ends. It keeps
// its nesting on a fixed array, so it does not grow the stack.
func scanValue(b []byte, i int) (end int, res int) {
	var stack [maxScanDepth / 64]uint64 // bit set: an object at that depth
	depth := 0
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return i, valueInvalid
		}
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth == maxScanDepth {
				return i, valueTooDeep
			}
			obj := c == '{'
			if obj {
				stack[depth/64] |= 1 << (depth % 64)
			} else {
				stack[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			i = skipSpace(b, i+1)
			if i < len(b) && (obj && b[i] == '}' || !obj && b[i] == ']') {
				depth--
				i++
				break
			}
			if obj {
				if i = scanKey(b, i); i < 0 {
					return 0, valueInvalid
				}
			}
			continue
		case c == '"':
			if i = scanAnyString(b, i); i < 0 {
				return 0, valueInvalid
			}
		case c == '-' || c >= '0' && c <= '9':
			if i = scanNumber(b, i); i < 0 {
				return 0, valueInvalid
			}
		case c == 't':
			if i = scanLiteral(b, i, "true"); i < 0 {
				return 0, valueInvalid
			}
		case c == 'f':
			if i = scanLiteral(b, i, "false"); i < 0 {
				return 0, valueInvalid
			}
		case c == 'n':
			if i = scanLiteral(b, i, "null"); i < 0 {
				return 0, valueInvalid
			}
		default:
			return i, valueInvalid
		}
		// A value ended at b[i]: close containers, or go on after a comma.
		for {
			if depth == 0 {
				return i, valueOK
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, valueInvalid
			}
			obj := stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if obj {
					if i = scanKey(b, i); i < 0 {
						return 0, valueInvalid
					}
				}
				break
			}
			if obj && b[i] == '}' || !obj && b[i] == ']' {
				depth--
				i++
				continue
			}
			return i, valueInvalid
		}
	}
}

// scanKey reads `"key" :` and the space after it, returning the index of
// the value (-1 if invalid).
func scanKey(b []byte, i int) int {
	if i = scanAnyString(b, i); i < 0 {
		return -1
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// scanAnyString reads the string at b[i] (escapes allowed) and returns the
// index after its closing quote, -1 if invalid.
func scanAnyString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		// Skip 8 bytes at a time while none of them ends the string,
		// starts an escape or is a control character.
		for len(b)-i >= 8 && !hasSpecial(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// hasSpecial reports whether one of the 8 bytes of x is '"', '\\' or
// below 0x20 (the bit tricks of "Bit Twiddling Hacks": a byte is zero in
// v exactly where (v-0x01..)&^v has its top bit set, for bytes below 0x80;
// the bytes at or above 0x80 are masked out by &^x).
func hasSpecial(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	return ((quote-ones)&^quote|(backslash-ones)&^backslash|(x-ones*0x20))&^x&highs != 0
}

// scanNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i]
// and returns the index after it, -1 if invalid.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
