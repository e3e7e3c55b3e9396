// Command peer is the browser side of the browser tests: a Go/wasm program
// that joins a mesh from a web page and runs one scenario of package
// scenario. The page's URL query says which:
//
//	?signal=ws://127.0.0.1:PORT/ws&room=R&scenario=mesh&want=2&name=wasm
//	?...&scenario=lockstep&frames=600
//
// It prints "RESULT <json>" or "ERROR <text>" on the console (stdout is
// the console under wasm_exec.js) and sets window.peerDone.
package main
