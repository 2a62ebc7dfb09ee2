#!/bin/bash
# stubborn.sh - attaches, then prints an event every 50 ms and ignores SIGINT
# (as a wedged bpftrace would): only the SIGKILL after the grace ends it. Its
# short sleeps run in the same process group, so they die with it.
. "$(dirname "$0")/common.sh"
trap '' INT
attached
i=0
while :; do
	i=$((i + 1))
	ev $((i * 10)) 4242 4242 fakeproc 4096
	sleep 0.05
done
