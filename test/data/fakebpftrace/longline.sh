#!/bin/bash
# longline.sh - attaches, prints one event, then one endless line with no
# newline, until SIGINT/SIGTERM: then the maps and exit 0.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
(exec -a "$0 tr" tr '\0' x </dev/zero) &
child=$!
trap 'kill -KILL $child 2>/dev/null; wait $child 2>/dev/null; maps 1 "{\"4242,fakeproc\": 1}"; exit 0' INT TERM
while :; do wait $child; done
