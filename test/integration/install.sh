#!/usr/bin/env bash
# install.sh - `make install PREFIX=...` lays out the binary, man page, sample
# configuration and a hardened systemd unit that points at them.
. "$(dirname "$0")/../lib.sh"
P="$TMP/prefix"

capture inst make -s -C "$ROOT" install BUILD="$BUILD" PREFIX="$P"
same "make install exits 0" "$rc" 0
check "binary installed and executable" [ -x "$P/bin/diagagent" ]
same "installed binary runs" "$("$P/bin/diagagent" --version | cut -d' ' -f1)" diagagent
check "man page installed" [ -f "$P/share/man/man8/diagagent.8" ]
check "man page renders without warnings" bash -c "! man --warnings -l '$P/share/man/man8/diagagent.8' 2>&1 >/dev/null | grep -q ."
check "man page documents caps" bash -c "MANWIDTH=80 man -l '$P/share/man/man8/diagagent.8' 2>/dev/null | grep -q 'caps'"
check "sample agent.conf installed" cmp -s "$ROOT/agent.conf" "$P/etc/diagagent/agent.conf"
same "agent.conf is not world-readable" "$(stat -c %a "$P/etc/diagagent/agent.conf")" 600
check "setup-host installed" [ -x "$P/share/diagagent/setup-host" ]
check "the knowledge base's copy installed" cmp -s "$ROOT/tracespec/symptoms.kb" "$P/share/diagagent/symptoms.kb"
same "the installed copy loads, from another directory" \
	"$(cd / && "$P/bin/diagagent" suggest --kb "$P/share/diagagent/symptoms.kb" --json 'Permission denied' | jq -r '.suggestions[0].target')" openat
check "the presets' copies installed" cmp -s "$ROOT/scripts/presets/fs.bt" "$P/share/diagagent/presets/fs.bt"
same "the installed presets load, from another directory" \
	"$(cd / && DIAGAGENT_PRESETS="$P/share/diagagent/presets" "$P/bin/diagagent" diagnose list --json | jq -r '[.[] | select(.runs_here)] | length')" 8

U="$P/lib/systemd/system/diagagent.service"
check "systemd unit installed" [ -f "$U" ]
for d in NoNewPrivileges=yes ProtectSystem=strict StateDirectory=diagagent; do
	check "unit sets $d" grep -qx "$d" "$U"
done
same "unit runs 'diagagent run' from the prefix" "$(sed -n 's/^ExecStart=//p' "$U")" \
	"$P/bin/diagagent run -c $P/etc/diagagent/agent.conf"
check "no placeholder left in the unit" bash -c "! grep -q @PREFIX@ '$U'"
if command -v systemd-analyze >/dev/null; then
	capture verify systemd-analyze verify --man=no "$U"
	check "systemd-analyze verify finds nothing wrong with the unit" \
		bash -c "! grep -v -e 'Failed to .*bus' -e 'Failed to connect' '$TMP/verify.err' | grep -q ."
fi

capture un make -s -C "$ROOT" uninstall BUILD="$BUILD" PREFIX="$P"
check "make uninstall removes the binary" [ ! -e "$P/bin/diagagent" ]
check "make uninstall removes the knowledge base's copy" [ ! -e "$P/share/diagagent/symptoms.kb" ]
check "make uninstall removes the presets' copies" [ ! -e "$P/share/diagagent/presets" ]
