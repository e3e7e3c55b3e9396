// Package pubsubfb is the FlatBuffers code of the topic bus (package
// pubsub), generated from bus.fbs by flatc 2.0.8 (Debian's
// flatbuffers-compiler) with the object API. Do not edit the generated
// files: change bus.fbs, run `go generate ./internal/pubsubfb/` and update
// the golden bytes (`go test ./internal/pubsubwire -run Golden -update`).
// README.md beside the schema documents every message and the
// compatibility rules.
//
// The generated code builds against github.com/google/flatbuffers
// v25.12.19. It has no verifier: peer bytes go through the total decoder
// of internal/pubsubwire (size, identifier, version and count checks under
// recover) and are never unpacked directly.
package pubsubfb

//go:generate flatc --go --gen-object-api -o .. bus.fbs
//go:generate gofmt -w .
