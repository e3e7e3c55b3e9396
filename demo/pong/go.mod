module github.com/peerplay/peerplay/demo/pong

go 1.26.8

replace github.com/peerplay/peerplay => ../..

require (
	github.com/hajimehoshi/ebiten/v2 v2.8.8
	github.com/peerplay/peerplay v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/ebitengine/gomobile v0.0.0-20240911145611-4856209ac325 // indirect
	github.com/ebitengine/hideconsole v1.0.0 // indirect
	github.com/ebitengine/purego v0.8.0 // indirect
	github.com/jezek/xgb v1.1.1 // indirect
	golang.org/x/sync v0.8.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
)
