#!/bin/bash
# segv.sh - attaches, prints two events, then dies of SIGSEGV.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
ev 20 4242 4242 fakeproc 4096
kill -SEGV $$
sleep 5
