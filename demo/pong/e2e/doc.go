// Package e2e tests the pong binary from the outside: it builds the program
// with `go build`, runs it as separate processes (headless bots over
// loopback, the real window under Xvfb with a screenshot) and checks what
// they print and draw. It has no non-test code.
//
// The window test needs Xvfb (Debian package xvfb) or a DISPLAY; it fails,
// never skips, when neither is there. Screenshots are kept in
// $PONG_ARTIFACTS (default: the system temp dir) and their paths logged.
package e2e
