#!/usr/bin/env bash
# bench/lfn.sh [SIZE_MIB] [RUNS]: a get over a long fat link, 100 Mbit/s
# each way with an 80 ms round trip, against the link's rate (issue 12).
# Two links:
#   - go-libp2p's simnet, QUIC only, in process and in virtual time
#     (exchange's TestLongFatLink): pollen's Fetch between two hosts with
#     on-disk stores, and one raw stream, the transport's ceiling;
#   - the delay line (internal/delayline: two network namespaces joined
#     by TUN devices and a forwarder with a drop-tail queue of one
#     bandwidth-delay product), over TCP and over QUIC: the pollen
#     binary (share, then a timed get into a fresh repo: start, connect,
#     fetch, write), one raw libp2p stream with pollen's transport
#     (bench/rawstream, connection included), and Kubo to Kubo (ipfs get,
#     daemons already connected, blocks dropped between runs).
# The namespace rows need root (without it only the simnet rows are
# printed) and /usr/bin/time. Each figure is the median of RUNS; every
# run goes to standard error. Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}
runs=${2:-3}
mbit=100
rtt_ms=80
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
size=$((size_mib << 20))

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# rows holds "link transport what seconds", one per figure.
: >"$work/rows"
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
row() { # row LINK TRANSPORT WHAT FILE
	echo "$1/$3 over $2 runs: $(tr '\n' ' ' <"$4")" >&2
	echo "$1|$2|$3|$(median <"$4")" >>"$work/rows"
}

# The simulated link: one test run per figure wanted.
: >"$work/sim.raw"
: >"$work/sim.pollen"
for i in $(seq "$runs"); do
	POLLEN_BENCH_LFN=$size_mib go test ./exchange -run '^TestLongFatLink$' -count=1 -v -timeout 30m >"$work/sim.out" 2>&1 ||
		{ tail -20 "$work/sim.out" >&2; exit 1; }
	awk '$2=="LFN" && $3=="raw-stream" {print $4}' "$work/sim.out" >>"$work/sim.raw"
	awk '$2=="LFN" && $3=="pollen" {print $4}' "$work/sim.out" >>"$work/sim.pollen"
done
row simnet QUIC "raw libp2p stream (ceiling)" "$work/sim.raw"
row simnet QUIC "pollen Fetch" "$work/sim.pollen"

if [ "$(id -u)" = 0 ]; then
	. bench/kubo.sh
	kubo_build
	go build -o "$work/pollen" ./cmd/pollen
	go build -o "$work/rawstream" ./bench/rawstream
	go build -o "$work/delayline" ./bench/delayline
	file="$work/data.bin"
	head -c "$size" /dev/urandom >"$file"
	"$work/delayline" -mbit "$mbit" -rtt "${rtt_ms}ms" >"$work/link" 2>"$work/link.err" &
	pids+=($!)
	for _ in $(seq 100); do grep -q '^ready' "$work/link" && break; sleep 0.1; done
	read -r _ nsa addra nsb addrb <"$work/link" || { cat "$work/link.err" >&2; exit 1; }
	in_a() { ip netns exec "$nsa" "$@"; }
	in_b() { ip netns exec "$nsb" "$@"; }
	listen() { # listen ADDR tcp|quic PORT
		if [ "$2" = tcp ]; then echo "/ip4/$1/tcp/$3"; else echo "/ip4/$1/udp/$3/quic-v1"; fi
	}
	stop_b() { # stop what runs in B, and wait until it is gone
		ip netns pids "$nsb" | xargs -r kill -INT
		for _ in $(seq 100); do ip netns pids "$nsb" | grep -q . || return 0; sleep 0.1; done
		ip netns pids "$nsb" | xargs -r kill -9
	}
	kubo() { # kubo a|b ARGS: the Kubo CLI of node a or b, in its namespace
		local ns=$nsa
		[ "$1" = b ] && ns=$nsb
		ip netns exec "$ns" env IPFS_PATH="$work/k$1" "$KUBO" "${@:2}"
	}
	for n in a b; do kubo "$n" init --profile=test,unixfs-v1-2025 >/dev/null 2>&1; done
	kubo a config --json Addresses.Swarm "[\"$(listen "$addra" tcp 4001)\", \"$(listen "$addra" quic 4001)\"]"
	kubo_daemon() { # kubo_daemon a|b: start it and wait until it is ready
		local ns=$nsa
		[ "$1" = b ] && ns=$nsb
		ip netns exec "$ns" env IPFS_PATH="$work/k$1" "$KUBO" daemon >"$work/k$1.log" 2>&1 &
		for _ in $(seq 150); do grep -q "Daemon is ready" "$work/k$1.log" && return 0; sleep 0.2; done
		echo "kubo $1 did not start:" >&2; tail -5 "$work/k$1.log" >&2; exit 1
	}
	kubo_daemon a
	kcid=""

	for tr in tcp quic; do
		# Only the transport measured is listened on, so nothing else is
		# dialled.
		in_b "$work/rawstream" serve "$(listen "$addrb" "$tr" 4012)" "$size" >"$work/raw.addr" 2>"$work/raw.err" &
		for _ in $(seq 100); do grep -q p2p "$work/raw.addr" && break; sleep 0.1; done
		rawaddr=$(head -1 "$work/raw.addr")
		[ -n "$rawaddr" ] || { echo "rawstream serve over $tr failed:" >&2; cat "$work/raw.err" >&2; exit 1; }
		in_b "$work/pollen" --repo "$work/seed" share "$file" --listen "$(listen "$addrb" "$tr" 4011)" --offline --no-mdns \
			>"$work/seed.out" 2>"$work/seed.err" &
		for _ in $(seq 300); do grep -q '^address' "$work/seed.out" 2>/dev/null && break; sleep 0.2; done
		ticket=$(awk '$1=="ticket"{print $2}' "$work/seed.out")
		[ -n "$ticket" ] || { echo "pollen share failed:" >&2; tail -5 "$work/seed.err" >&2; exit 1; }
		kubo b config --json Addresses.Swarm "[\"$(listen "$addrb" "$tr" 4001)\"]"
		kubo_daemon b
		[ -n "$kcid" ] || kcid=$(kubo b add -Q "$file")
		kpeer=$(kubo b id -f '<id>')
		: >"$work/$tr.raw"
		: >"$work/$tr.pollen"
		: >"$work/$tr.kubo"
		for i in $(seq "$runs"); do
			in_a "$work/rawstream" fetch "$rawaddr" "$size" | awk '{print $1}' >>"$work/$tr.raw"

			rm -rf "$work/get" "$work/out"
			sync
			/usr/bin/time -f "%e" -o "$work/t" ip netns exec "$nsa" "$work/pollen" --repo "$work/get" get "$ticket" -o "$work/out" \
				--listen "$(listen "$addra" "$tr" 4011)" --offline --no-mdns >/dev/null 2>"$work/get.err" ||
				{ echo "pollen get over $tr failed:" >&2; tail -3 "$work/get.err" >&2; exit 1; }
			cmp -s "$file" "$work/out/data.bin" || { echo "pollen over $tr: wrong bytes" >&2; exit 1; }
			cat "$work/t" >>"$work/$tr.pollen"

			kubo a pin rm "$kcid" >/dev/null 2>&1 || true
			kubo a repo gc >/dev/null 2>&1 || true
			rm -rf "$work/kout"
			# Connected again before each run: with no DHT, a get whose
			# connection the connection manager closed would wait forever.
			kubo a swarm connect "$(listen "$addrb" "$tr" 4001)/p2p/$kpeer" >/dev/null
			sync
			/usr/bin/time -f "%e" -o "$work/t" ip netns exec "$nsa" env IPFS_PATH="$work/ka" timeout 600 "$KUBO" get "$kcid" -o "$work/kout" >/dev/null 2>&1 ||
				{ echo "kubo: ipfs get over $tr failed or took over 10 minutes" >&2; exit 1; }
			cmp -s "$file" "$work/kout" || { echo "kubo over $tr: wrong bytes" >&2; exit 1; }
			cat "$work/t" >>"$work/$tr.kubo"
		done
		stop_b
		TR=$(echo "$tr" | tr a-z A-Z)
		row "delay line" "$TR" "raw libp2p stream (ceiling)" "$work/$tr.raw"
		row "delay line" "$TR" "pollen get" "$work/$tr.pollen"
		row "delay line" "$TR" "Kubo to Kubo, ipfs get" "$work/$tr.kubo"
	done
	ip netns pids "$nsa" | xargs -r kill -INT # Kubo's getter
	for _ in $(seq 100); do ip netns pids "$nsa" | grep -q . || break; sleep 0.1; done
	kill "${pids[0]}" # the delay line: it removes the namespaces
	wait "${pids[0]}" 2>/dev/null || true
	cat "$work/link.err" >&2
else
	echo "not root: no delay line, only the simulated link" >&2
fi

printf '\n%d MiB over a %d Mbit/s link with a %d ms round trip, median of %d runs\n\n' "$size_mib" "$mbit" "$rtt_ms" "$runs"
printf '| %-10s | %-9s | %-28s | %7s | %6s | %9s |\n' "link" "transport" "what" "seconds" "MB/s" "% of link"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------" "-----------" "------------------------------" "---------" "--------" "-----------"
while IFS='|' read -r link tr what s; do
	printf '| %-10s | %-9s | %-28s | %7.2f | %6.2f | %8.1f%% |\n' "$link" "$tr" "$what" "$s" \
		"$(echo "$size / $s / 1000000" | bc -l)" "$(echo "100 * $size * 8 / $s / ($mbit * 1000000)" | bc -l)"
done <"$work/rows"
printf '\nsimnet rows: transfer only, hosts connected (virtual time); delay line: pollen the whole command,\nthe raw stream with its connection, Kubo with its daemons connected. Target: pollen >= 85%%.\n'
