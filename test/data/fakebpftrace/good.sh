#!/bin/bash
# good.sh - a well-behaved bpftrace: attaches, prints four events (one comm
# not UTF-8, one UTF-8 written as bpftrace's byte escapes), a lost-events
# record, the maps, and exits 0.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4243 fakeproc 4096
ev 20 4242 4242 fakeproc 8192
ev 30 5151 5151 'bad\uffffffff' 2048
ev 40 5151 5152 'caf\uffffffc3\uffffffa9' 1500
echo '{"type": "lost_events", "data": {"events": 7}}'
maps 11 '{"4242,fakeproc": 8, "5151,other": 3}'
exit 0
