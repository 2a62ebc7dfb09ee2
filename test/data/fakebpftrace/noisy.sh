#!/bin/bash
# noisy.sh - attaches, prints two events, then writes warnings to stderr as
# fast as it can until SIGINT/SIGTERM: then the maps and exit 0.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
ev 20 4242 4242 fakeproc 4096
(exec -a "$0 yes" yes 'WARNING: fakebt noise, noise, noise' >&2) &
child=$!
trap 'kill -KILL $child 2>/dev/null; wait $child 2>/dev/null; maps 2 "{\"4242,fakeproc\": 2}"; exit 0' INT TERM
while :; do wait $child; done
