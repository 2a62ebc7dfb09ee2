#!/bin/bash
# kill9.sh - attaches, prints two events, then is SIGKILLed by someone else
# (as by the OOM killer), long before any deadline.
. "$(dirname "$0")/common.sh"
attached
ev 10 4242 4242 fakeproc 4096
ev 20 4242 4242 fakeproc 4096
kill -KILL $$
