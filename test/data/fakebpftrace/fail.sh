#!/bin/bash
# fail.sh - a compile error: the error on stderr, exit 1 at once.
. "$(dirname "$0")/common.sh"
printf 'stdin:7:2-10: ERROR: Unknown function: fakebt_nosuchfn\n\tfakebt_nosuchfn();\n\t~~~~~~~~\n' >&2
exit 1
