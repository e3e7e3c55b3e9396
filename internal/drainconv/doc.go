// Package drainconv holds TestDrainConvention, which checks over the AST
// that every exported type a game polls follows the drain convention
// written in CONTRIBUTING.md at the repository root. It has no API.
package drainconv
