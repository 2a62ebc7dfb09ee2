#!/bin/bash
# endless.sh - attaches, then prints valid events as fast as `yes` can, until
# SIGINT/SIGTERM: then, like bpftrace, the maps and exit 0.
. "$(dirname "$0")/common.sh"
attached
line=$(ev 10 4242 4242 fakeproc 4096)
(exec -a "$0 yes" yes "$line") &
child=$!
trap 'kill -KILL $child 2>/dev/null; wait $child 2>/dev/null; maps 123456789 "{\"4242,fakeproc\": 123456789}"; exit 0' INT TERM
while :; do wait $child; done
