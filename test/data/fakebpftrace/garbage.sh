#!/bin/bash
# garbage.sh - three events, four malformed lines (invalid bytes, not JSON,
# truncated JSON, plain text), two more events, the maps, exit 0.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
ev 20 4242 4242 fakeproc 4096
ev 30 4242 4242 fakeproc 4096
printf '\xff\xfe\xfd\x80garbage\n'
printf '{not json\n'
printf '{"type": "value", "data": [1,0,4\n'
printf 'hello world\n'
ev 40 4242 4242 fakeproc 4096
ev 50 4242 4242 fakeproc 4096
maps 5 '{"4242,fakeproc": 5}'
exit 0
