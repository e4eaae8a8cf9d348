#!/usr/bin/env bash
# bench/transfer.sh [SIZE_MIB] [RUNS]: one seeder, one getter, over
# loopback. Side by side in one run: pollen share/get, Kubo to Kubo
# (`ipfs get`) on the same file, and the transport ceiling (one raw
# go-libp2p stream, TCP+TLS+yamux, SHA-256 on the receiving side), with
# go-libp2p's TLS and yamux and again with pollen's. Fresh
# getter repo each run, `sync` before each, best of RUNS for all three.
# Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
. bench/kubo.sh
kubo_build
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/pollen" ./cmd/pollen
go build -o "$work/rawstream" ./bench/rawstream
file="$work/data.bin"
head -c $((size_mib << 20)) /dev/urandom >"$file"
net=(--listen /ip4/127.0.0.1/tcp/0 --offline --no-mdns)

# The pollen seeder.
"$work/pollen" --repo "$work/seed" share "$file" "${net[@]}" >"$work/seed.out" 2>"$work/seed.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^address' "$work/seed.out" 2>/dev/null && break; sleep 0.2; done
ticket=$(awk '$1=="ticket"{print $2}' "$work/seed.out")

# The Kubo seeder and getter.
kubo() { IPFS_PATH="$work/$1" "$KUBO" "${@:2}"; }
kubo ka init --profile=test,unixfs-v1-2025 >/dev/null 2>&1
kubo kb init --profile=test,unixfs-v1-2025 >/dev/null 2>&1
# Started directly, not through the function: $! must be the daemon itself
# for the cleanup to stop it.
for d in ka kb; do
	IPFS_PATH="$work/$d" "$KUBO" daemon >"$work/$d.log" 2>&1 &
	pids+=($!)
done
for d in ka kb; do for _ in $(seq 150); do grep -q "Daemon is ready" "$work/$d.log" && break; sleep 0.2; done; done
kcid=$(kubo ka add -Q "$file")
kaddr=$(kubo ka id -f '<addrs>' | head -1)
kpeer=$(kubo ka id -f '<id>')
kubo kb swarm connect "$kaddr/p2p/$kpeer" >/dev/null

: >"$work/pollen.txt"
: >"$work/kubo.txt"
for i in $(seq "$runs"); do
	rm -rf "$work/get" "$work/out" && mkdir -p "$work/out"
	sync
	timeout 600 /usr/bin/time -f "%e %M" -o "$work/t" "$work/pollen" --repo "$work/get" get "$ticket" -o "$work/out" "${net[@]}" >/dev/null 2>"$work/get.err" ||
		{ echo "pollen: get failed or took over 10 minutes:" >&2; tail -3 "$work/get.err" >&2; exit 1; }
	cat "$work/t" >>"$work/pollen.txt"
	cmp -s "$file" "$work/out/data.bin" || { echo "pollen: wrong bytes" >&2; exit 1; }
	# Kubo: drop the getter's copy so each run fetches everything again.
	kubo kb pin rm "$kcid" >/dev/null 2>&1 || true
	kubo kb repo gc >/dev/null 2>&1 || true
	rm -rf "$work/kout"
	# Connected again before each run: Kubo's connection manager may have
	# closed the link, and with no DHT the get would then wait forever.
	kubo kb swarm connect "$kaddr/p2p/$kpeer" >/dev/null
	sync
	timeout 600 /usr/bin/time -f "%e %M" -o "$work/t" env IPFS_PATH="$work/kb" "$KUBO" get "$kcid" -o "$work/kout" >/dev/null 2>&1 ||
		{ echo "kubo: ipfs get failed or took over 10 minutes" >&2; exit 1; }
	cat "$work/t" >>"$work/kubo.txt"
	cmp -s "$file" "$work/kout" || { echo "kubo: wrong bytes" >&2; exit 1; }
done
sync
# The ceiling is the best of RUNS too, like pollen's and Kubo's times:
# go-libp2p's own TLS and yamux (the target's), and pollen's transport.
ceiling() { # ceiling stock|pollen: sets hashed and plain
	: >"$work/raw.$1.txt"
	for i in $(seq "$runs"); do
		timeout 600 "$work/rawstream" $((size_mib << 20)) "$1" >>"$work/raw.$1.txt" ||
			{ echo "rawstream $1 failed or took over 10 minutes" >&2; exit 1; }
	done
	echo "raw stream runs, $1 transport (hashed, plain): $(tr "\n" " " <"$work/raw.$1.txt")" >&2
	hashed=$(awk '{print $1}' "$work/raw.$1.txt" | sort -n | head -1)
	plain=$(awk '{print $2}' "$work/raw.$1.txt" | sort -n | head -1)
}
ceiling stock
raw_hashed=$hashed raw_plain=$plain
ceiling pollen
own_hashed=$hashed

echo "pollen runs: $(awk '{print $1}' "$work/pollen.txt" | tr "\n" " ")" >&2; echo "kubo runs: $(awk '{print $1}' "$work/kubo.txt" | tr "\n" " ")" >&2
read -r pt prss < <(sort -n "$work/pollen.txt" | head -1)
read -r kt _ < <(sort -n "$work/kubo.txt" | head -1)
prss_max=$(awk '{print $2}' "$work/pollen.txt" | sort -n | tail -1)
mbs() { echo "$size_mib * 1.048576 / $1" | bc -l; }

printf '\n%d MiB, one seeder to one getter over loopback, best of %d\n\n' "$size_mib" "$runs"
printf '| %-40s | %8s | %7s |\n' "what" "seconds" "MB/s"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" "----------" "---------"
printf '| %-40s | %8.2f | %7.0f |\n' "pollen get (getter peak RSS $((prss_max / 1024)) MiB)" "$pt" "$(mbs "$pt")"
printf '| %-40s | %8.2f | %7.0f |\n' "Kubo to Kubo, ipfs get" "$kt" "$(mbs "$kt")"
printf '| %-40s | %8.2f | %7.0f |\n' "raw libp2p stream + SHA-256 (ceiling)" "$raw_hashed" "$(mbs "$raw_hashed")"
printf '| %-40s | %8.2f | %7.0f |\n' "raw libp2p stream, no hashing" "$raw_plain" "$(mbs "$raw_plain")"
printf '| %-40s | %8.2f | %7.0f |\n' "same + SHA-256, pollen's TLS and yamux" "$own_hashed" "$(mbs "$own_hashed")"
printf '\npollen/Kubo throughput: %.1fx (target >= 3x); pollen/ceiling: %.0f%% (target >= 60%%; %.0f%% of the stream on pollen'"'"'s transport); getter peak RSS %d MiB (target <= 300)\n' \
	"$(echo "$kt / $pt" | bc -l)" "$(echo "100 * $raw_hashed / $pt" | bc -l)" "$(echo "100 * $own_hashed / $pt" | bc -l)" "$((prss_max / 1024))"
