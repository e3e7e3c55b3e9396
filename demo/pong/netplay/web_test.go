package netplay

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// TestWebMux: the host's port serves the browser build's three files
// (pong.wasm gzipped when the browser accepts it), nothing else, and
// leaves WebSocket upgrades and /rooms to signaling.
func TestWebMux(t *testing.T) {
	sig := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "signaling") })
	m := &webMux{sig: sig}
	get := func(path string, h map[string]string) *http.Response {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range h {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		m.ServeHTTP(w, r)
		return w.Result()
	}
	body := func(r *http.Response) string {
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	if got := body(get("/", nil)); got != "signaling" {
		t.Errorf("before ServeWeb, / went to %q, want signaling", got)
	}
	fsys := fstest.MapFS{
		WebPage: {Data: []byte("<html>")}, WebWasm: {Data: []byte("wasm")},
		WebWasm + ".gz": {Data: []byte("gz")}, WebExec: {Data: []byte("js")}, "secret.txt": {Data: []byte("no")},
	}
	if err := CheckWeb(fsys); err != nil {
		t.Fatal(err)
	}
	var f fs.FS = fsys
	m.files.Store(&f)
	for _, tt := range []struct {
		path, accept, want, encoding string
		status                       int
	}{
		{"/", "", "<html>", "", 200},
		{"/index.html", "", "", "", http.StatusMovedPermanently}, // ServeFileFS: to /
		{"/wasm_exec.js", "", "js", "", 200},
		{"/pong.wasm", "", "wasm", "", 200},
		{"/pong.wasm", "gzip, deflate", "gz", "gzip", 200},
		{"/secret.txt", "", "", "", 404},
		{"/pong.wasm.gz", "", "", "", 404},
		{"/rooms", "", "signaling", "", 200},
	} {
		r := get(tt.path, map[string]string{"Accept-Encoding": tt.accept})
		if got := body(r); r.StatusCode != tt.status || tt.status == 200 && got != tt.want || r.Header.Get("Content-Encoding") != tt.encoding {
			t.Errorf("GET %s (Accept-Encoding %q): %d %q encoding %q; want %d %q encoding %q",
				tt.path, tt.accept, r.StatusCode, got, r.Header.Get("Content-Encoding"), tt.status, tt.want, tt.encoding)
		}
		if tt.path == "/pong.wasm" && r.Header.Get("Content-Type") != "application/wasm" {
			t.Errorf("GET /pong.wasm: Content-Type %q, want application/wasm", r.Header.Get("Content-Type"))
		}
	}
	if got := body(get("/", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"})); got != "signaling" {
		t.Errorf("a WebSocket upgrade went to %q, want signaling", got)
	}
	if err := CheckWeb(fstest.MapFS{WebPage: {Data: []byte("x")}}); err == nil {
		t.Error("CheckWeb accepted a build without pong.wasm")
	}
}
