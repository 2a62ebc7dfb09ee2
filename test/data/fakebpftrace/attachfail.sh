#!/bin/bash
# attachfail.sh - attaching fails: 0.17 prints attached_probes first, then the
# error on stderr, and exits 255.
. "$(dirname "$0")/common.sh"
echo '{"type": "attached_probes", "data": {"probes": 2}}'
echo "ERROR: Error attaching probe: 'tracepoint:syscalls:sys_enter_fakebt'" >&2
exit 255
