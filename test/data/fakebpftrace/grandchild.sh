#!/bin/bash
# grandchild.sh - attaches, prints an event, and starts a grandchild through
# a subshell that exits at once (so the grandchild is nobody's child of ours
# any more), still in bpftrace's process group, with its stdio on /dev/null
# (it holds no pipe) and SIGINT/SIGTERM ignored. Then it behaves: on SIGINT
# the maps and exit 0. The grandchild lives on until someone SIGKILLs the group.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
(
	trap '' INT TERM
	(exec -a "$0 grandchild" sleep 1000) </dev/null >/dev/null 2>&1 &
)
trap 'maps 1 "{\"4242,fakeproc\": 1}"; exit 0' INT TERM
while :; do sleep 0.05; done
