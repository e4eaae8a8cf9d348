# Sourced by the bench scripts and .ci/run: builds Kubo v0.42.0 from the Go
# module proxy in a module of its own (go install of kubo is refused here)
# and sets KUBO to the binary. Reuses $KUBO or a previous build.
KUBO_VERSION=v0.42.0
kubo_build() {
	if [ -n "${KUBO:-}" ] && [ -x "$KUBO" ]; then return 0; fi
	local dir="${KUBO_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pollen-kubo-$KUBO_VERSION}"
	if [ ! -x "$dir/ipfs" ]; then
		echo "building Kubo $KUBO_VERSION in $dir (about two minutes)..." >&2
		mkdir -p "$dir"
		(
			cd "$dir" &&
				{ [ -f go.mod ] || go mod init kubobuild >/dev/null 2>&1; } &&
				go get -tool "github.com/ipfs/kubo/cmd/ipfs@$KUBO_VERSION" >/dev/null 2>&1 &&
				go build -o ipfs github.com/ipfs/kubo/cmd/ipfs
		) || { echo "could not build Kubo" >&2; return 1; }
	fi
	KUBO="$dir/ipfs"
	export KUBO
}
