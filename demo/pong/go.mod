module github.com/peerplay/peerplay/demo/pong

go 1.26.8

replace github.com/peerplay/peerplay => ../..

require github.com/peerplay/peerplay v0.0.0-00010101000000-000000000000
