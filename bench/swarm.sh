#!/usr/bin/env bash
# bench/swarm.sh [GETTERS] [SIZE_MIB] [MBIT]: one seeder and GETTERS getters,
# each in its own network namespace on a bridge, every veth limited by tc
# to MBIT Mbit/s each way. Prints the time for one getter alone, the time
# until all GETTERS started together are done, and the seeder-only bound
# (GETTERS x the single time). Needs root, ip and tc (Debian: iproute2).
# The namespaces are made here and removed on exit.
#
# KUBO_MODE=1 runs the same shape with Kubo v0.42.0 (bench/kubo.sh): one
# daemon per namespace, no bootstrap peers, no routing (Routing.Type none),
# TCP only. Before the clock starts every getter is connected by
# `ipfs swarm connect` to the seeder and to every other getter, so that
# the getters trade blocks over Bitswap as pollen's do; pollen's getters
# find each other by mDNS during the get instead. Needs jq too.
# docs/performance.md (its swarm sections) says what bounds its figures.
#
# TAKERS=K makes the last K of the getters started together take and
# barely give: each uploads at most TAKER_UP (default 64Kbit, pollen's
# --max-up). "all done" is then the other getters'; the takers' time is
# a row of its own. Tit-for-tat is what keeps them from slowing the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
getters=${1:-8}
size_mib=${2:-64}
mbit=${3:-20}
kubo_mode=${KUBO_MODE:-}
[ "$(id -u)" = 0 ] || { echo "bench/swarm.sh needs root (network namespaces)" >&2; exit 1; }

work=$(mktemp -d)
tag="pl$$"
nodes=$(seq 0 "$getters")
cleanup() {
	for i in $nodes; do
		ip netns pids "$tag-$i" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$tag-$i" 2>/dev/null || true
	done
	ip netns del "$tag-br" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
# POLLEN_BIN runs a binary built before (builds alternated for an A/B).
if [ -n "$kubo_mode" ]; then
	command -v jq >/dev/null || { echo "KUBO_MODE needs jq (Debian package: jq)" >&2; exit 1; }
	. bench/kubo.sh
	kubo_build
elif [ -n "${POLLEN_BIN:-}" ]; then cp "$POLLEN_BIN" "$work/pollen"; else go build -o "$work/pollen" ./cmd/pollen; fi
head -c $((size_mib << 20)) /dev/urandom >"$work/data.bin"

# A bridge in a namespace of its own; every node hangs off it by a veth
# shaped to $mbit each way.
ip netns add "$tag-br"
ip -n "$tag-br" link add br0 type bridge
ip -n "$tag-br" link set br0 up
shape="rate ${mbit}mbit burst 64kb latency 200ms"
for i in $nodes; do
	ns="$tag-$i"
	ip netns add "$ns"
	ip link add "${tag}n$i" type veth peer name "${tag}b$i"
	ip link set "${tag}n$i" netns "$ns" name eth0
	ip link set "${tag}b$i" netns "$tag-br"
	ip -n "$tag-br" link set "${tag}b$i" master br0 up
	ip -n "$ns" addr add "10.77.0.$((10 + i))/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip netns exec "$ns" tc qdisc add dev eth0 root tbf $shape
	ip netns exec "$tag-br" tc qdisc add dev "${tag}b$i" root tbf $shape
done

in_ns() { local i=$1; shift; ip netns exec "$tag-$i" "$@"; }
listen() { echo "--listen /ip4/10.77.0.$((10 + $1))/tcp/4011"; }

# The seeder, started afresh for each run so that what it says it sent when
# stopped is that run's upload.
start_seeder() {
	in_ns 0 "$work/pollen" --repo "$work/r0" share "$work/data.bin" $(listen 0) --offline \
		>"$work/seed.out" 2>"$work/seed.err" &
	for _ in $(seq 100); do grep -q '^address' "$work/seed.out" 2>/dev/null && break; sleep 0.2; done
	ticket=$(awk '$1=="ticket"{print $2}' "$work/seed.out")
	[ -n "$ticket" ] || { echo "the seeder did not start:"; tail -20 "$work/seed.err"; exit 1; } >&2
}
# stop_seeder prints the bytes the seeder sent.
stop_seeder() {
	ip netns pids "$tag-0" | xargs -r kill -INT
	for _ in $(seq 50); do grep -q '^stopped' "$work/seed.err" && break; sleep 0.2; done
	# "stopped" comes just before the seeder closes its repo: wait until it
	# is gone, or the next one finds the repo in use.
	for _ in $(seq 100); do ip netns pids "$tag-0" | grep -q . || break; sleep 0.1; done
	sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' "$work/seed.err"
}

# run_getters N: start getters 1..N together (mDNS finds the others; each
# keeps seeding after it is done) and print the seconds until all are done.
run_getters() {
	local n=$1 start i takers=0
	[ "$n" -gt 1 ] && takers=${TAKERS:-0}
	local -A pid=()
	for i in $(seq "$n"); do rm -rf "$work/r$i" "$work/o$i"; done
	start=$(date +%s.%N)
	for i in $(seq "$n"); do
		local limit=()
		[ "$i" -gt $((n - takers)) ] && limit=(--max-up "${TAKER_UP:-64Kbit}")
		in_ns "$i" "$work/pollen" --repo "$work/r$i" get "$ticket" -o "$work/o$i" --seed $(listen "$i") --offline --timeout 10m "${limit[@]}" \
			>"$work/g$i.out" 2>"$work/g$i.err" &
		pid[$i]=$!
	done
	# Each getter's finishing time, in the order they finish (the
	# takers' apart).
	: >"$work/times.$n"
	: >"$work/takers.$n"
	local -A fin=()
	while [ ${#fin[@]} -lt "$n" ]; do
		for i in $(seq "$n"); do
			[ -n "${fin[$i]:-}" ] && continue
			if grep -q '^saved' "$work/g$i.out" 2>/dev/null; then
				fin[$i]=$(echo "$(date +%s.%N) - $start" | bc -l)
				if [ "$i" -gt $((n - takers)) ]; then
					echo "${fin[$i]}" >>"$work/takers.$n"
				else
					echo "${fin[$i]}" >>"$work/times.$n"
				fi
			elif ! kill -0 "${pid[$i]}" 2>/dev/null; then # not ip netns pids: a getter just started may not be in it yet
				{ echo "getter $i failed:"; tail -30 "$work/g$i.err"; } >&2
				exit 1
			fi
		done
		sleep 0.2
	done
	tail -1 "$work/times.$n"
	# What each getter received and from how many peers, for a straggler.
	for i in $(seq "$n"); do
		echo "getter $i: $(grep '^get:' "$work/g$i.err" | tail -1 | sed 's/.*(//; s/)$//')" >&2
	done
	for i in $(seq "$n"); do
		cmp -s "$work/data.bin" "$work/o$i/data.bin" || { echo "getter $i: wrong bytes" >&2; exit 1; }
		ip netns pids "$tag-$i" | xargs -r kill -INT
	done
	sleep 1
}

# Kubo mode. kubo NS REPO ARGS... runs ipfs in namespace NS on the
# repository $work/REPO, whose API listens on that namespace's loopback.
kubo() { local i=$1 repo=$2; shift 2; in_ns "$i" env IPFS_PATH="$work/$repo" IPFS_TELEMETRY=off "$KUBO" "$@"; }
# kubo_init NS REPO: Kubo's import profile equal to pollen's (CIDv1, raw
# leaves, 1 MiB chunks), the node's address over TCP alone, and as little
# CPU spent beside Bitswap as Kubo allows, so that 33 daemons fit on two
# cores: no routing, providing, AutoNAT, relays or hole punching; the
# connection manager's low water above the 32 peers a node has here, so
# that it closes none.
kubo_init() {
	IPFS_PATH="$work/$2" "$KUBO" init --profile=test,unixfs-v1-2025 >/dev/null
	jq --arg addr "/ip4/10.77.0.$((10 + $1))/tcp/4001" '
		.Addresses.Swarm = [$addr]
		| .Bootstrap = []
		| .Routing.Type = "none"
		| .Provide.Enabled = false
		| .AutoNAT.ServiceMode = "disabled"
		| .Swarm.Transports.Network = {TCP: true, QUIC: false, WebTransport: false, WebRTCDirect: false, Websocket: false}
		| .Swarm.RelayClient.Enabled = false
		| .Swarm.RelayService.Enabled = false
		| .Swarm.EnableHolePunching = false
		| .Swarm.ConnMgr = {Type: "basic", LowWater: 64, HighWater: 128, GracePeriod: "10m"}
		| .Swarm.ResourceMgr.MaxMemory = "512MB"
	' "$work/$2/config" >"$work/$2/config.new"
	mv "$work/$2/config.new" "$work/$2/config"
}
declare -A kpid=()
# kubo_start NS REPO starts a daemon; kubo_ready REPO waits until it serves.
kubo_start() {
	# Started directly, not through kubo(): $! must be the daemon itself.
	in_ns "$1" env IPFS_PATH="$work/$2" IPFS_TELEMETRY=off "$KUBO" daemon >"$work/$2.log" 2>&1 &
	kpid[$2]=$!
}
kubo_ready() {
	for _ in $(seq 900); do
		grep -q "Daemon is ready" "$work/$1.log" && return 0
		kill -0 "${kpid[$1]}" 2>/dev/null || break
		sleep 0.2
	done
	{ echo "Kubo daemon $1 did not start:"; tail -20 "$work/$1.log"; } >&2
	exit 1
}
kubo_stop() { kill "${kpid[$1]}"; wait "${kpid[$1]}" 2>/dev/null || true; }
kubo_addr() { echo "/ip4/10.77.0.$((10 + $1))/tcp/4001/p2p/$(jq -r .Identity.PeerID "$work/$2/config")"; }
kubo_sent() { kubo 0 k0 stats bitswap --enc=json | jq .DataSent; }

# kubo_run_getters N REPO: daemons on repositories REPO1..REPON in
# namespaces 1..N, each connected to the seeder and to the others; then
# `ipfs get` on all of them started together. Sets kubo_all to the seconds
# until all are done.
kubo_run_getters() {
	local n=$1 r=$2 start i j peers try
	local -A pid=() fin=()
	for i in $(seq "$n"); do rm -rf "$work/$r$i" "$work/o$i"; kubo_init "$i" "$r$i"; done
	for i in $(seq "$n"); do kubo_start "$i" "$r$i"; done
	for i in $(seq "$n"); do kubo_ready "$r$i"; done
	local seeder; seeder=$(kubo_addr 0 k0)
	for i in $(seq "$n"); do
		local addrs=("$seeder")
		for j in $(seq $((i + 1)) "$n"); do addrs+=("$(kubo_addr "$j" "$r$j")"); done
		# Tried again: with 32 daemons just started on two cores, a dial
		# can time out.
		for try in 1 2 3 4; do
			kubo "$i" "$r$i" swarm connect "${addrs[@]}" >/dev/null 2>"$work/connect.err" && break
			[ "$try" = 4 ] && { echo "getter $i could not connect:"; cat "$work/connect.err"; exit 1; } >&2
			sleep 5
		done
	done
	for i in $(seq "$n"); do
		peers=$(kubo "$i" "$r$i" swarm peers | wc -l)
		[ "$peers" -ge "$n" ] || { echo "getter $i is connected to $peers peers, not $n" >&2; exit 1; }
	done
	start=$(date +%s.%N)
	for i in $(seq "$n"); do
		in_ns "$i" env IPFS_PATH="$work/$r$i" IPFS_TELEMETRY=off timeout 10m "$KUBO" get "$cid" -o "$work/o$i" \
			>"$work/g$i.out" 2>"$work/g$i.err" &
		pid[$i]=$!
	done
	: >"$work/times.$n"
	while [ ${#fin[@]} -lt "$n" ]; do
		for i in $(seq "$n"); do
			[ -n "${fin[$i]:-}" ] && continue
			kill -0 "${pid[$i]}" 2>/dev/null && continue
			if wait "${pid[$i]}"; then
				fin[$i]=$(echo "$(date +%s.%N) - $start" | bc -l)
				echo "${fin[$i]}" >>"$work/times.$n"
			else
				{ echo "getter $i failed or took over 10 minutes:"; tail -30 "$work/g$i.err"; } >&2
				exit 1
			fi
		done
		sleep 0.2
	done
	kubo_all=$(tail -1 "$work/times.$n")
	# What each getter received over Bitswap, duplicates included.
	for i in $(seq "$n"); do
		kubo "$i" "$r$i" stats bitswap --enc=json |
			jq -r --arg i "$i" '"getter \($i): \(.DataReceived / 1048576 | floor) MiB received, \(.DupDataReceived / 1048576 | floor) MiB of it duplicates"' >&2
	done
	for i in $(seq "$n"); do
		cmp -s "$work/data.bin" "$work/o$i" || { echo "getter $i: wrong bytes" >&2; exit 1; }
	done
}

if [ -n "$kubo_mode" ]; then
	kubo_init 0 k0
	kubo_start 0 k0
	kubo_ready k0
	cid=$(kubo 0 k0 add -Q "$work/data.bin")
	# One getter alone, on a repository of its own, stopped after.
	kubo_run_getters 1 a
	one=$kubo_all
	kubo_stop a1
	before=$(kubo_sent)
	kubo_run_getters "$getters" k
	all=$kubo_all
	seeder_sent=$(($(kubo_sent) - before))
	what=", Kubo $KUBO_VERSION"
else
	start_seeder
	one=$(run_getters 1)
	stop_seeder >/dev/null
	start_seeder
	all=$(run_getters "$getters")
	seeder_sent=$(stop_seeder)
	what=
fi
printf '\n%d MiB, 1 seeder + %d getters, every link %d Mbit/s each way (tc tbf in network namespaces%s)\n\n' "$size_mib" "$getters" "$mbit" "$what"
printf '| %-36s | %8s |\n' "what" "seconds"
printf '|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "----------"
printf '| %-36s | %8.1f |\n' "one getter alone" "$one"
printf '| %-36s | %8.1f |\n' "$getters getters started together, first" "$(head -1 "$work/times.$getters")"
printf '| %-36s | %8.1f |\n' "$getters getters started together, all done" "$all"
if [ -s "$work/takers.$getters" ]; then
	printf '| %-36s | %8.1f |\n' "of them ${TAKERS} taker(s), all done" "$(tail -1 "$work/takers.$getters")"
fi
printf '| %-36s | %8.1f |\n' "seeder-only bound ($getters x one)" "$(echo "$getters * $one" | bc -l)"
printf '| %-36s | %8.1f |\n' "seeder uploaded (file sizes)" "$(echo "$seeder_sent / ($size_mib * 1048576)" | bc -l)"
if [ -n "$kubo_mode" ]; then
	printf '\nall/one: %.2fx (Kubo %s; getters connected to the seeder and to each other before the clock starts)\n' "$(echo "$all / $one" | bc -l)" "$KUBO_VERSION"
else
	printf '\nall/one: %.2fx (target <= 1.5x, the seeder <= 1.2 copies; Kubo measured here with 8 getters: 3.6x)\n' "$(echo "$all / $one" | bc -l)"
fi
