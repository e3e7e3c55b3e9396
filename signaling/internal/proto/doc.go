// Package proto is the signaling wire protocol shared by the client
// (signaling/sigclient, which games import) and the server (signaling):
// the message types, the JSON frame and its total decoder, field limits,
// error codes with their sentinel errors, and ServerError. Both sides
// alias the exported types, so a value crosses between them unconverted;
// this package holds no state and starts no goroutines.
package proto
