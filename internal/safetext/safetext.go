package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s with control characters removed (tabs and line breaks
// become one space each), bidirectional overrides and isolates removed,
// and surrounding space trimmed. ok is false if s is not valid UTF-8 or
// has more than maxRunes runes after cleaning; s is then returned
// unchanged. maxRunes <= 0 means no limit.
func Clean(s string, maxRunes int) (clean string, ok bool) {
	if !utf8.ValidString(s) {
		return s, false
	}
	c := strings.TrimSpace(strings.Map(keep, s))
	if maxRunes > 0 && utf8.RuneCountInString(c) > maxRunes {
		return s, false
	}
	return c, true
}

// Name cleans s as Clean does, but repairs instead of failing: invalid
// UTF-8 is dropped and the result is cut to maxRunes runes.
func Name(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "")
	c, _ := Clean(s, 0)
	return Truncate(c, maxRunes)
}

// Truncate cuts s to at most maxRunes runes (maxRunes <= 0: no limit),
// trimming any space left at the end.
func Truncate(s string, maxRunes int) string {
	if maxRunes <= 0 {
		return s
	}
	n := 0
	for i := range s {
		if n == maxRunes {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace)
		}
		n++
	}
	return s
}

// keep maps one rune for Clean: -1 drops it.
func keep(r rune) rune {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
		return ' '
	case unicode.IsControl(r):
		return -1
	case isBidi(r):
		return -1
	case r == utf8.RuneError:
		return -1
	}
	return r
}

// isBidi reports the explicit bidirectional formatting characters, which
// let one line visually rewrite the lines around it.
func isBidi(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
