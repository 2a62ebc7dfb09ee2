#!/usr/bin/env bash
# config.sh - `diagagent config check`: the shipped agent.conf, the environment,
# errors with FILE:LINE and a hint, the token file's mode, and a token that is
# never shown.
. "$(dirname "$0")/../lib.sh"

CONF="$ROOT/agent.conf"
TOKEN="tok-$RANDOM-SeCrEt-$RANDOM"
printf '%s\n' "$TOKEN" >"$TMP/token"
chmod 600 "$TMP/token"

# cfg NAME ARGS...: `diagagent config` with only our DIAGAGENT_ variables.
cfg() {
	local name=$1; shift
	capture "$name" env $(env | sed -n 's/^\(DIAGAGENT_[A-Z_]*\)=.*/-u \1/p') \
		DIAGAGENT_TOKEN_FILE="$TMP/token" "${ENVS[@]}" $WRAP "$DIAG" config "$@"
}
ENVS=()

# The keys agent.conf documents, set or commented out ("# key =").
keys=$(sed -n 's/^\(# \)\{0,1\}\([a-z_]*\) =.*/\2/p' "$CONF" | sort -u)

cfg ok check -c "$CONF"
same "shipped agent.conf: exit 0" "$rc" 0
for k in $keys; do
	check "shipped agent.conf: output has $k" grep -Eq "^(# )?$k =" "$TMP/ok.out"
done
printed=$(sed -n 's/^\(# \)\{0,1\}\([a-z_]*\) =.*/\2/p' "$TMP/ok.out" | sort -u)
same "output keys are agent.conf's keys" "$printed" "$keys"
fields=$(sed -n '/^struct config {/,/^};/p' "$ROOT/agent/config.h" | sed -n 's/^\t[a-z_ *]*[ *]\([a-z_]*\);.*/\1/p' |
	grep -vx -e ncommand_allow -e command_re -e path -e warnings | sort -u)
same "agent.conf lists every key of struct config" "$keys" "$fields"
check "the token is shown redacted" grep -qx "# token: <redacted> (${#TOKEN} bytes from $TMP/token)" "$TMP/ok.out"
check "token file from DIAGAGENT_TOKEN_FILE" grep -qx "token_file = $TMP/token" "$TMP/ok.out"
same "token size on stderr" "$(cat "$TMP/ok.err")" \
	"diagagent config: token: ${#TOKEN} bytes from $TMP/token"
check "agent.conf defaults: poll_interval" grep -qx 'poll_interval = 10' "$TMP/ok.out"
check "agent.conf defaults: agent_id is the host name" grep -qx "agent_id = $(uname -n)" "$TMP/ok.out"

cfg again check -c "$TMP/ok.out"
same "the printed configuration loads again" "$rc" 0
same "and prints the same" "$(sed 1d "$TMP/again.out")" "$(sed 1d "$TMP/ok.out")"

cfg order -c "$CONF" check
same "-c before check: exit 0" "$rc" 0
same "-c before check: same output" "$(cat "$TMP/order.out")" "$(cat "$TMP/ok.out")"

ENVS=(DIAGAGENT_POLL_INTERVAL=2m DIAGAGENT_ALLOW_COMMANDS=yes
      "DIAGAGENT_COMMAND_ALLOW=^uptime\$
^ps aux\$" DIAGAGENT_BPFTRACE=/nonexistent/bpftrace)
cfg env check -c "$CONF"
ENVS=()
same "environment override: exit 0" "$rc" 0
check "environment override: poll_interval" grep -qx 'poll_interval = 120' "$TMP/env.out"
check "environment override: allow_commands" grep -qx 'allow_commands = true' "$TMP/env.out"
same "environment override: command_allow list" "$(grep '^command_allow' "$TMP/env.out")" \
	"command_allow = ^uptime\$
command_allow = ^ps aux\$"

ENVS=(DIAGAGENT_SERVER_URL=http://diag.example.com/)
cfg http check -c "$CONF"
ENVS=()
same "plain http to a remote host: still exit 0" "$rc" 0
check "plain http: a warning" grep -qx \
	'diagagent config: warning: server_url uses plain http: the token crosses the network unencrypted; use https' \
	"$TMP/http.err"
check "plain http: trailing '/' dropped" grep -qx 'server_url = http://diag.example.com' "$TMP/http.out"

# a typo on a known line
bad="$TMP/bad.conf"
{ cat "$CONF"; echo "pol_interval = 5"; } >"$bad"
line=$(wc -l <"$bad")
cfg bad check -c "$bad"
same "unknown key: exit 2" "$rc" 2
same "unknown key: FILE:LINE" "$(head -n1 "$TMP/bad.err")" "diagagent config: $bad:$line: unknown key 'pol_interval'"
same "unknown key: hint" "$(sed -n 2p "$TMP/bad.err")" "  hint: did you mean 'poll_interval'?"
same "unknown key: nothing on stdout" "$(cat "$TMP/bad.out")" ""

sed 's/^max_events = .*/max_events = lots/' "$CONF" >"$bad"
line=$(grep -n '^max_events' "$bad" | cut -d: -f1)
cfg range check -c "$bad"
same "bad value: exit 2" "$rc" 2
same "bad value: names the range" "$(head -n1 "$TMP/range.err")" \
	"diagagent config: $bad:$line: bad value 'lots' for max_events: expected a number (1..10000000)"

ENVS=(DIAGAGENT_KILL_GRACE=400)
cfg envbad check -c "$CONF"
ENVS=()
same "bad environment value: exit 2" "$rc" 2
same "bad environment value: names the variable" "$(head -n1 "$TMP/envbad.err")" \
	"diagagent config: DIAGAGENT_KILL_GRACE: bad value '400' for kill_grace: expected seconds (1..300)"

{ cat "$CONF"; echo "poll_interval = 5"; } >"$bad"
first=$(grep -n '^poll_interval' "$CONF" | cut -d: -f1)
line=$(wc -l <"$bad")
cfg dup check -c "$bad"
same "duplicate key: exit 2" "$rc" 2
same "duplicate key: both lines" "$(head -n1 "$TMP/dup.err")" \
	"diagagent config: $bad:$line: poll_interval set twice (first at line $first)"

{ cat "$CONF"; echo "command_allow = ^(ps"; } >"$bad"
line=$(wc -l <"$bad")
cfg pcre check -c "$bad"
same "bad pattern: exit 2" "$rc" 2
same "bad pattern: FILE:LINE and the PCRE2 message" "$(head -n1 "$TMP/pcre.err")" \
	"diagagent config: $bad:$line: bad command_allow pattern '^(ps': missing closing parenthesis at offset 4"

cfg missing check -c "$TMP/nope.conf"
same "missing file: exit 2" "$rc" 2
same "missing file: the reason" "$(head -n1 "$TMP/missing.err")" \
	"diagagent config: cannot open '$TMP/nope.conf': No such file or directory"

# the token file's mode
chmod 644 "$TMP/token"
cfg mode check -c "$CONF"
same "token readable by others: exit 2" "$rc" 2
same "token readable by others: the reason" "$(head -n1 "$TMP/mode.err")" \
	"diagagent config: token file '$TMP/token' is readable by group or others (mode 0644)"
same "token readable by others: the fix" "$(sed -n 2p "$TMP/mode.err")" "  hint: chmod 600 $TMP/token"
chmod 600 "$TMP/token"

: >"$TMP/empty"
chmod 600 "$TMP/empty"
ENVS=(DIAGAGENT_TOKEN_FILE="$TMP/empty")
cfg empty check -c "$CONF"
ENVS=()
same "empty token file: exit 2" "$rc" 2
check "empty token file: the reason" grep -q "token file '$TMP/empty' is empty" "$TMP/empty.err"

leaks=0
for f in "$TMP"/*.out "$TMP"/*.err; do
	grep -qF "$TOKEN" "$f" && { leaks=1; echo "# the token is in $f"; }
done
same "the token never appears in stdout or stderr" "$leaks" 0

# the command line
cfg none
same "no subcommand: exit 2" "$rc" 2
same "no subcommand: one-line error" "$(head -n1 "$TMP/none.err")" "diagagent config: no subcommand given (check)"
cfg frob frobnicate
same "unknown subcommand: exit 2" "$rc" 2
same "unknown subcommand: one-line error" "$(head -n1 "$TMP/frob.err")" "diagagent config: unknown subcommand 'frobnicate'"
cfg extra check extra -c "$CONF"
same "stray argument: exit 2" "$rc" 2
cfg opt check --bogus
same "unknown option: exit 2" "$rc" 2
same "unknown option: one-line error" "$(head -n1 "$TMP/opt.err")" "diagagent config: unknown option '--bogus'"
cfg help --help
same "--help: exit 0" "$rc" 0
check "--help: usage" grep -q '^usage: diagagent config check \[-c FILE\]' "$TMP/help.out"
check "--help: examples" grep -q '^examples:' "$TMP/help.out"
capture hc diag help config
same "help config is config --help" "$(cat "$TMP/hc.out")" "$(cat "$TMP/help.out")"

# TLS files that are set must be readable: a typo shows now, not at the first poll.
ENVS=(DIAGAGENT_CA_FILE="$TMP/no-such-ca.pem")
cfg ca check -c "$CONF"
ENVS=()
same "an unreadable ca_file: exit 2" "$rc" 2
same "an unreadable ca_file: says which" "$(head -n1 "$TMP/ca.err")" "diagagent config: cannot read ca_file '$TMP/no-such-ca.pem': No such file or directory"
