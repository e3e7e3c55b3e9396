//go:build !js

package main

import (
	"fmt"
	"os"
)

// main: the peer runs in a browser only (GOOS=js GOARCH=wasm); natively it
// says so, which keeps `go build ./...` and `go vet ./...` whole.
func main() {
	fmt.Fprintln(os.Stderr, "peer: build with GOOS=js GOARCH=wasm and load it in a page (see package browsertest)")
	os.Exit(2)
}
