// Package lobbyfb is the FlatBuffers code of the lobby protocol, generated
// from lobby.fbs by flatc 2.0.8 (Debian's flatbuffers-compiler) with the
// object API. Do not edit the generated files: change lobby.fbs, run
// `go generate ./lobby/...` and update the golden bytes
// (`go test ./lobby -run Golden -update`). README.md beside the schema
// documents every message and the compatibility rules.
//
// The generated code builds against github.com/google/flatbuffers
// v25.12.19 (only long-stable runtime calls are used). It has no verifier:
// package lobby decodes through a total decoder (size, identifier,
// version and count checks under recover) and never calls GetRootAs on
// peer bytes directly.
package lobbyfb

//go:generate flatc --go --gen-object-api -o .. lobby.fbs
//go:generate gofmt -w .
