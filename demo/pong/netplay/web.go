package netplay

import (
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
)

// Browser play. A hosting game's embedded server also serves the browser
// build of pong (ServeWeb): a page, pong.wasm and wasm_exec.js on the
// same port as signaling, so a friend opens http://HOST:PORT/#CODE and
// plays from a browser; the page dials ws://HOST:PORT/ws, the page's own
// origin, which signaling always allows.

// WebFiles are the files of the browser build a host serves.
const (
	WebPage = "index.html"   // the page: loads wasm_exec.js and pong.wasm, joins the room in its #fragment
	WebWasm = "pong.wasm"    // GOOS=js GOARCH=wasm go build -o pong.wasm . (pong.wasm.gz, if present, is sent to browsers that accept gzip)
	WebExec = "wasm_exec.js" // from $(go env GOROOT)/lib/wasm of the Go that built pong.wasm
)

// webMux sends WebSocket upgrades and GET /rooms to signaling, and
// everything else to the browser build, once ServeWeb set one.
type webMux struct {
	sig   http.Handler
	files atomic.Pointer[fs.FS]
}

func (m *webMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	fsys := m.files.Load()
	if upgrade || path.Base(r.URL.Path) == "rooms" || fsys == nil {
		m.sig.ServeHTTP(w, r)
		return
	}
	serveWeb(w, r, *fsys)
}

// serveWeb serves the three files of a browser build, nothing else.
func serveWeb(w http.ResponseWriter, r *http.Request, fsys fs.FS) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	switch name {
	case "":
		name = WebPage
	case WebPage, WebWasm, WebExec:
	default:
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if name == WebWasm && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if b, err := fs.ReadFile(fsys, WebWasm+".gz"); err == nil {
			h.Set("Content-Type", "application/wasm")
			h.Set("Content-Encoding", "gzip")
			h.Set("Vary", "Accept-Encoding")
			_, _ = w.Write(b)
			return
		}
	}
	http.ServeFileFS(w, r, fsys, name)
}

// ServeWeb makes the server serve a browser build of pong (WebPage,
// WebWasm, WebExec in fsys) next to signaling. fsys nil stops it.
func (s *Server) ServeWeb(fsys fs.FS) {
	if fsys == nil {
		s.web.files.Store(nil)
		return
	}
	s.web.files.Store(&fsys)
}

// CheckWeb reports whether fsys holds a complete browser build.
func CheckWeb(fsys fs.FS) error {
	for _, name := range []string{WebPage, WebWasm, WebExec} {
		if _, err := fs.Stat(fsys, name); err != nil {
			return fmt.Errorf("netplay: browser build: %w", err)
		}
	}
	return nil
}

// BrowserLink is the address a friend opens in a browser to join room
// code on the server at hostPort.
func BrowserLink(hostPort, code string) string {
	return "http://" + hostPort + "/#" + code
}
