#!/bin/bash
# hang.sh - attaches, prints two events, then ignores SIGINT and SIGTERM and
# never ends: only SIGKILL stops it (its sleeping child too: same group).
. "$(dirname "$0")/common.sh"
trap '' INT TERM
attached
ev 10 4242 4242 fakeproc 4096
ev 20 4242 4242 fakeproc 4096
while :; do
	(exec -a "$0 sleeper" sleep 1000)
done
