#!/bin/bash
# badexec.sh - for the exec preset: two executions whose strings are not
# UTF-8 as bpftrace 0.17 prints them (bytes >= 0x80 as \uffffffXX): a
# command name, a file and an argument with byte 0xff, and an argument of
# 100 "é" (200 bytes, longer than what is kept of an argument); then one
# plain execution of /bin/true; exit 0.
. "$(dirname "$0")/common.sh"
attached
long=
for _ in $(seq 100); do long+='\uffffffc3\uffffffa9'; done
printf '{"type": "value", "data": [%d,1,5000,5000,0,"bad\\uffffffffcomm",41,0,"x"]}\n' $((T0 + 1000))
printf '{"type": "value", "data": [%d,1,5000,5000,0,"bad\\uffffffffcomm",41,1,"arg\\uffffffff1"]}\n' $((T0 + 2000))
printf '{"type": "value", "data": [%d,1,5000,5000,0,"bad\\uffffffffcomm",41,2,"%s"]}\n' $((T0 + 3000)) "$long"
printf '{"type": "value", "data": [%d,1,5000,5000,0,"bad\\uffffffffcomm",40,1,5000,1,0,"/tmp/bad\\uffffffffname"]}\n' $((T0 + 4000))
printf '{"type": "value", "data": [%d,1,5001,5001,0,"true",40,1,5001,1,0,"/bin/true"]}\n' $((T0 + 5000))
exit 0
