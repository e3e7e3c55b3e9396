package fbenvelope_test

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/internal/fbenvelope"
)

// A format's decoder: the envelope checks and recover come from Decode,
// the checks of the format's own fields from the reader.
func ExampleDecode() {
	format := fbenvelope.Format{ID: "NOTE", Version: 1, MaxSize: 256,
		Malformed: errMalformed, BadVersion: errVersion}
	read := func(n *note) (string, error) {
		if len(n.Text()) > 16 {
			return "", fmt.Errorf("text %d bytes", len(n.Text()))
		}
		return string(n.Text()), nil
	}
	for _, data := range [][]byte{
		encodeNote(1, "gl hf", "NOTE"),
		encodeNote(2, "gl hf", "NOTE"),
		encodeNote(1, "a very long text indeed", "NOTE"),
		[]byte("\xff\xff\xff\x7fNOTE\x00\x00\x00\x00"),
	} {
		s, err := fbenvelope.Decode(format, data, read)
		fmt.Printf("%q %v %v\n", s, err, errors.Is(err, errMalformed))
	}
	// Output:
	// "gl hf" <nil> false
	// "" test: version: 2 false
	// "" test: malformed: text 23 bytes true
	// "" test: malformed: root offset 2147483647 true
}
