// Package netlab builds a small internet with homes behind NATs out of
// Linux network namespaces, for tests of how pollen nodes find and reach
// each other across NATs. It needs root, ip (Debian: iproute2) and nft
// (Debian: nftables); without them [New] skips the test.
//
//	              internet: a bridge, 192.0.0.128/25
//	  ┌──────────┬──────────┴─────────┬──────────────────────┐
//	relay    bootstrap    alice-nat .131 (Cone)   bob-nat .132 (Symmetric)
//	 .129       .130             │ 192.168.1.1          │ 192.168.2.1
//	                           alice 192.168.1.2      bob 192.168.2.2
//
// Every box is a namespace of its own; the bridge sits in one more. No
// namespace has a link to the machine's own network, so nothing in the lab
// can reach out and nothing outside sees it. A test makes the lab, starts
// programs in its nodes with [Node.Command], and the test's cleanup removes
// every namespace, killing what still runs inside.
package netlab
