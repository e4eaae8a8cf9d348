#!/usr/bin/env bash
# bench/smallfiles.sh [FILES] [RUNS]: a folder of many small files (100 B
# to 3 KB, 500 to a folder; 100,000 by default, about 148 MiB). Side by
# side, alternated, RUNS times: `cp -r` of the tree, and `pollen get` of
# it from a pollen seeder over loopback into a fresh repo; then `pollen
# add` of it into a fresh repo. Prints every run, and a table of the
# medians with the get's ratio to cp -r (target <= 3x) and the peak
# memory of add and get (target <= 250 MiB, flat from 100,000 to
# 1,000,000 files): the kernel's high-water mark of the resident set, and
# its two halves apart, private memory and the pages of the files mapped
# (the binary, Badger's index tables and logs), each peak sampled on its
# own (bench/peakmem).
# File creation on this VM costs 20-250 us and swings with the machine's
# load, so only the side-by-side ratio means much.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-100000}
runs=${2:-3}
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
go build -o "$work/smalltree" ./bench/smalltree
go build -o "$work/peakmem" ./bench/peakmem
"$work/smalltree" "$work/tree" "$files"
net=(--listen /ip4/127.0.0.1/tcp/0 --offline --no-mdns)

root=$("$work/pollen" --repo "$work/seed" add -q "$work/tree")
"$work/pollen" --repo "$work/seed" seed "${net[@]}" >"$work/seed.out" 2>"$work/seed.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^address' "$work/seed.out" 2>/dev/null && break; sleep 0.2; done
addr=$(awk '$1=="address"{print $2; exit}' "$work/seed.out")

# peak FILE: "seconds private_MiB mapped_MiB rss_MiB" from peakmem's line
# in FILE.
peak() { awk '$1=="peakmem:" {print $2, $5, $9, $12}' "$1"; }

: >"$work/cp.txt"
: >"$work/get.txt"
: >"$work/add.txt"
for i in $(seq "$runs"); do
	rm -rf "$work/cp" && sync
	/usr/bin/time -f "%e %M" -a -o "$work/cp.txt" cp -r "$work/tree" "$work/cp"
	rm -rf "$work/get" "$work/out" && mkdir -p "$work/out" && sync
	timeout 3600 "$work/peakmem" "$work/pollen" --repo "$work/get" get "$root" \
		--from "$addr" -o "$work/out" "${net[@]}" >/dev/null 2>"$work/get.err" ||
		{ echo "pollen get failed:" >&2; tail -3 "$work/get.err" >&2; exit 1; }
	peak "$work/get.err" >>"$work/get.txt"
	diff -rq "$work/tree" "$work/out/$root" >/dev/null || { echo "pollen get: the copy differs" >&2; exit 1; }
	rm -rf "$work/addrepo" && sync
	"$work/peakmem" "$work/pollen" --repo "$work/addrepo" add -q "$work/tree" >/dev/null 2>"$work/add.err"
	peak "$work/add.err" >>"$work/add.txt"
	echo "run $i: cp -r $(tail -1 "$work/cp.txt" | cut -d' ' -f1) s, pollen get $(tail -1 "$work/get.txt" | cut -d' ' -f1) s, pollen add $(tail -1 "$work/add.txt" | cut -d' ' -f1) s" >&2
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratios=$(paste -d' ' "$work/get.txt" "$work/cp.txt" | awk '{printf "%.2f\n", $1/$5}')
cp_t=$(cut -d' ' -f1 "$work/cp.txt" | median)
get_t=$(cut -d' ' -f1 "$work/get.txt" | median)
add_t=$(cut -d' ' -f1 "$work/add.txt" | median)
get_priv=$(cut -d' ' -f2 "$work/get.txt" | sort -n | tail -1)
add_priv=$(cut -d' ' -f2 "$work/add.txt" | sort -n | tail -1)
get_map=$(cut -d' ' -f3 "$work/get.txt" | sort -n | tail -1)
add_map=$(cut -d' ' -f3 "$work/add.txt" | sort -n | tail -1)
get_hwm=$(cut -d' ' -f4 "$work/get.txt" | sort -n | tail -1)
add_hwm=$(cut -d' ' -f4 "$work/add.txt" | sort -n | tail -1)

printf '\n%d files, medians of %d alternated runs\n\n' "$files" "$runs"
printf '| %-30s | %8s | %12s | %16s | %16s |\n' "what" "seconds" "peak RSS MiB" "peak private MiB" "peak mapped MiB"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------" "----------" "--------------" "------------------" "------------------"
printf '| %-30s | %8.2f | %12s | %16s | %16s |\n' "cp -r" "$cp_t" "-" "-" "-"
printf '| %-30s | %8.2f | %12d | %16d | %16d |\n' "pollen get from a local seeder" "$get_t" "$get_hwm" "$get_priv" "$get_map"
printf '| %-30s | %8.2f | %12d | %16d | %16d |\n' "pollen add" "$add_t" "$add_hwm" "$add_priv" "$add_map"
printf '\nget/cp -r per run: %s (target <= 3x); RSS target <= 250 MiB\n' "$(echo $ratios | tr '\n' ' ')"
