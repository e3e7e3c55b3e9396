# gotest runs `go test ARGS...`; if it fails, it runs the packages that
# failed once more (same flags, -count=1) and passes only if they all pass
# then. A package that passes on its second run is printed as FLAKY, with the
# failures of its first run above it in the log: CI runs on a shared 2-core
# machine where a few network tests (real pion peers over loopback, with
# -race) miss a bound under load; a flake is reported, never hidden, and a
# package that fails twice fails CI. Sourced by .ci/test and .ci/run.
gotest() {
	local log
	log=$(mktemp)
	if go test "$@" 2>&1 | tee "$log"; then
		rm -f "$log"
		return 0
	fi
	local failed
	failed=$(grep -E '^FAIL[[:space:]]+[^[:space:]]+[[:space:]]+[0-9.]+s' "$log" | awk '{print $2}' | sort -u)
	rm -f "$log"
	if [ -z "$failed" ]; then
		echo "gotest: go test failed before running tests (build or vet error): not retried"
		return 1
	fi
	# Keep the flags, drop the package patterns (arguments starting with ./ or the module path).
	local flags=() a
	for a in "$@"; do
		case "$a" in
		./* | github.com/*) ;;
		*) flags+=("$a") ;;
		esac
	done
	echo "gotest: retrying once: $failed"
	if go test "${flags[@]}" -count=1 $failed; then
		echo "FLAKY (failed, then passed on a second run): $failed"
		return 0
	fi
	return 1
}
