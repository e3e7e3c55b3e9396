#!/usr/bin/env bash
# Builds the browser version of Pong into this directory: pong.wasm (and
# pong.wasm.gz, which the host sends to browsers that accept gzip) plus
# the wasm_exec.js of the same Go. `pong -host` serves them (with the
# page, index.html, built into the binary) when this directory sits next
# to the executable as web/, or with -web DIR.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-.}"
mkdir -p "$out"
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o "$out/pong.wasm" ..
gzip -9 -k -f "$out/pong.wasm"
root="$(go env GOROOT)"
for p in lib/wasm/wasm_exec.js misc/wasm/wasm_exec.js; do
	if [ -f "$root/$p" ]; then cp "$root/$p" "$out/wasm_exec.js"; break; fi
done
[ -f "$out/wasm_exec.js" ] || { echo "no wasm_exec.js under $root" >&2; exit 1; }
ls -l "$out/pong.wasm" "$out/pong.wasm.gz"
