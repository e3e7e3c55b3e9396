// Package safetext cleans human text received from peers (names, chat
// lines) before a game shows it: it removes control and bidirectional
// formatting characters, checks UTF-8 and counts runes. Lobby and chat
// share it so that a name and a chat line follow the same rules.
//
//	s, ok := safetext.Clean("hi\x07 there\u202e", 32) // "hi there", true
package safetext
