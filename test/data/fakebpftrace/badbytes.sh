#!/bin/bash
# badbytes.sh - a compile error whose stderr is not UTF-8 (a name with bytes
# 0xff 0xfe 0x80 in it, and a NUL), exit 1 at once.
. "$(dirname "$0")/common.sh"
printf 'stdin:1:1-4: ERROR: Unknown identifier: caf\xc3\xa9_\xff\xfe\x80_\x00x\n' >&2
exit 1
