#!/bin/bash
# linger.sh - attaches, prints one event and the maps, and exits 0, but leaves
# a child behind (same process group) that keeps stdout open and ignores
# SIGINT (a background child of a script does).
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
(exec -a "$0 lingering" sleep 1000) &
maps 1 '{"4242,fakeproc": 1}'
exit 0
