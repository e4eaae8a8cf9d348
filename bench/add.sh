#!/usr/bin/env bash
# bench/add.sh [SIZE_MIB] [RUNS]: time `pollen add` of one file against
# Kubo's `ipfs add --pin=false` (fresh repo, unixfs-v1-2025 profile) and
# Go's SHA-256 over the same file, in the same run. Fresh repos, `sync`
# before each run, order alternated, best of RUNS. Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
. bench/kubo.sh
kubo_build
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/pollen" ./cmd/pollen
go build -o "$work/hashlimit" ./bench/hashlimit
file="$work/data.bin"
head -c $((size_mib << 20)) /dev/urandom >"$file"

# measure NAME CMD...: run once in a fresh repo, print "seconds maxrss_kib".
measure() {
	local name=$1
	shift
	rm -rf "$work/repo"
	if [ "$name" = kubo ]; then
		IPFS_PATH="$work/repo" "$KUBO" init --profile=test,unixfs-v1-2025 >/dev/null 2>&1
	fi
	sync
	IPFS_PATH="$work/repo" /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>/dev/null
	cat "$work/time"
}

best() { sort -n | head -1; }
: >"$work/pollen.txt"
: >"$work/kubo.txt"
for i in $(seq "$runs"); do
	if [ $((i % 2)) -eq 1 ]; then order="pollen kubo"; else order="kubo pollen"; fi
	for who in $order; do
		if [ "$who" = pollen ]; then
			measure pollen "$work/pollen" --repo "$work/repo" add -q "$file" >>"$work/pollen.txt"
			pcid=$(cat "$work/out")
		else
			measure kubo "$KUBO" add -Q --pin=false "$file" >>"$work/kubo.txt"
			kcid=$(cat "$work/out")
		fi
	done
	[ "$pcid" = "$kcid" ] || { echo "CIDs differ: pollen $pcid, kubo $kcid" >&2; exit 1; }
done
sync
hash1=$("$work/hashlimit" "$file" | awk 'NR==1{print $2}')
hashn=$("$work/hashlimit" "$file" | awk 'NR==2{print $2}')
read -r pt prss < <(best <"$work/pollen.txt")
read -r kt krss < <(best <"$work/kubo.txt")
pollen_rss_max=$(awk '{print $2}' "$work/pollen.txt" | sort -n | tail -1)

printf '\nadd of a %d MiB file, best of %d (same CID: %s)\n\n' "$size_mib" "$runs" "$pcid"
printf '| %-34s | %8s | %9s | %12s |\n' "what" "seconds" "MB/s" "peak RSS MiB"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "----------" "-----------" "--------------"
row() { printf '| %-34s | %8.2f | %9.0f | %12s |\n' "$1" "$2" "$(echo "$size_mib * 1.048576 / $2" | bc -l)" "$3"; }
row "pollen add" "$pt" "$((prss / 1024)) (max $((pollen_rss_max / 1024)))"
row "kubo ipfs add --pin=false" "$kt" "$((krss / 1024))"
row "Go SHA-256, 1 MiB chunks, 1 core" "$hash1" "-"
row "Go SHA-256, 1 MiB chunks, $(nproc) cores" "$hashn" "-"
printf '\npollen/kubo time: %.2fx (target <= 0.60x); pollen peak RSS %d MiB (target <= 200)\n' \
	"$(echo "$pt / $kt" | bc -l)" "$((pollen_rss_max / 1024))"
