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

var webDir = flag.String("web", "", "directory of the browser build (pong.wasm, wasm_exec.js: web/build.sh) a host serves; default: web/ next to the executable, if it holds one")

// webFiles returns the browser build to serve, or nil: the page from
// the binary, pong.wasm and wasm_exec.js from -web or web/ next to the
// executable.
func webFiles(log *slog.Logger) fs.FS {
	dir := *webDir
	if dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil
		}
		dir = filepath.Join(filepath.Dir(exe), "web")
	}
	page, _ := fs.Sub(webEmbed, "web")
	files := overlayFS{page: page, dir: os.DirFS(dir)}
	if err := netplay.CheckWeb(files); err != nil {
		if *webDir != "" {
			log.Warn("pong: not serving the browser build", "dir", dir, "err", err)
		}
		return nil
	}
	return files
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
