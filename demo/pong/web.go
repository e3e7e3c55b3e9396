package main

import (
	"embed"
	"flag"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/peerplay/peerplay/demo/pong/netplay"
)

// The browser build: `pong -host` serves it on its port when it finds one
// (see web/build.sh), and the lobby shows the link a friend opens.

//go:embed web/index.html
var webEmbed embed.FS

var webDir = flag.String("web", "", "directory of the browser build (pong.wasm, wasm_exec.js: web/build.sh) a host serves; default: web/ next to the executable or in the current directory, if it holds one")

// webFiles returns the browser build to serve, or nil: the page from
// the binary, pong.wasm and wasm_exec.js from -web, else from web/ next
// to the executable or in the working directory (`go run . -host` in
// demo/pong after web/build.sh).
func webFiles(log *slog.Logger) fs.FS {
	dirs := []string{*webDir}
	if *webDir == "" {
		dirs = []string{"web"}
		if exe, err := os.Executable(); err == nil {
			dirs = []string{filepath.Join(filepath.Dir(exe), "web"), "web"}
		}
	}
	page, _ := fs.Sub(webEmbed, "web")
	for _, dir := range dirs {
		files := overlayFS{page: page, dir: os.DirFS(dir)}
		err := netplay.CheckWeb(files)
		if err == nil {
			log.Debug("pong: serving the browser build", "dir", dir)
			return files
		}
		if *webDir != "" {
			log.Warn("pong: not serving the browser build", "dir", dir, "err", err)
		}
	}
	return nil
}

// overlayFS serves netplay.WebPage from the binary and every other file
// from dir.
type overlayFS struct{ page, dir fs.FS }

func (o overlayFS) Open(name string) (fs.File, error) {
	if name == netplay.WebPage {
		return o.page.Open(name)
	}
	return o.dir.Open(name)
}
