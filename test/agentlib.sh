# agentlib.sh - helpers for the agent's integration tests: the reference
# control server on port 0 (over HTTP, or HTTPS with certificates made here
# by the openssl CLI), agent configurations, the agent in the background, and
# waits that are bounded (never a bare sleep-and-hope).
# Source after lib.sh.
SERVER=$ROOT/scripts/control-server
CLIENT=$ROOT/scripts/control-client
WL=$ROOT/$BUILD/workloads
PY=$(python3 -c 'import sys; print(sys.executable)')
TOKEN=tok-$$-$RANDOM$RANDOM
echo "$TOKEN" >"$TMP/token"
chmod 600 "$TMP/token"
spid=
apids=()
# Extra control-client options (--cacert ...): set by start_server_tls.
CLI_TLS=()
TLS=$TMP/tls

agent_cleanup() {
	local p
	for p in "${apids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$spid" ] && kill -KILL "$spid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap agent_cleanup EXIT

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# The server's one line per request goes to $TMP/server.log only when
# SERVER_QUIET is set empty before sourcing.
SERVER_QUIET=${SERVER_QUIET---quiet}

# launch_server SCHEME HOST PORT [SERVER ARGS...]: start the server, wait (at
# most 10 s) for its port file; sets $spid, $PORT and $URL. Results go to
# $TMP/results.
launch_server() {
	local scheme=$1 host=$2 port=$3 i
	shift 3
	rm -f "$TMP/port"
	# shellcheck disable=SC2086
	"$PY" "$SERVER" --port "$port" --port-file "$TMP/port" --token-file "$TMP/token" \
		--results-dir "$TMP/results" $SERVER_QUIET "$@" 2>>"$TMP/server.log" &
	spid=$!
	for i in $(seq 100); do
		[ -s "$TMP/port" ] && break
		alive "$spid" || break
		sleep 0.1
	done
	[ -s "$TMP/port" ] || { nok "control server did not start: $(tail -n3 "$TMP/server.log")"; return 1; }
	PORT=$(cat "$TMP/port")
	URL=$scheme://$host:$PORT
}

# start_server [PORT]: plain HTTP on 127.0.0.1 (PORT 0: any free port).
start_server() { launch_server http 127.0.0.1 "${1:-0}"; }

stop_server() {
	kill -KILL "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
}

cli() { "$PY" "$CLIENT" --url "$URL" --token-file "$TMP/token" ${CLI_TLS[@]+"${CLI_TLS[@]}"} "$@"; }

# ---- TLS -------------------------------------------------------------------------
# Certificates are P-256 (fast to make), valid for 2 days, all in $TLS.

# tls_ca NAME: a self-signed CA, $TLS/NAME.pem and $TLS/NAME.key.
tls_ca() {
	mkdir -p "$TLS"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=diagagent test CA $1" -keyout "$TLS/$1.key" -out "$TLS/$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>"$TLS/$1.log" ||
		{ nok "tls_ca $1: $(tail -n2 "$TLS/$1.log")"; return 1; }
}

# tls_cert NAME CA server|client [SAN]: $TLS/NAME.pem and $TLS/NAME.key signed
# by CA (made by tls_ca), for TLS servers or clients; SAN as openssl spells it
# (default DNS:localhost,IP:127.0.0.1).
tls_cert() {
	local name=$1 ca=$2 eku=${3}Auth san=${4:-DNS:localhost,IP:127.0.0.1}
	mkdir -p "$TLS"
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=$eku" "subjectAltName=$san" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid,issuer" >"$TLS/$name.ext"
	{
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=$name" -keyout "$TLS/$name.key" -out "$TLS/$name.csr" &&
			openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca.pem" -CAkey "$TLS/$ca.key" \
				-CAcreateserial -CAserial "$TLS/$ca.srl" -days 2 -extfile "$TLS/$name.ext" \
				-out "$TLS/$name.pem"
	} 2>"$TLS/$name.log" || { nok "tls_cert $name: $(tail -n2 "$TLS/$name.log")"; return 1; }
}

# tls_default: once, the CA "ca", the server certificate "server" (for
# localhost and 127.0.0.1) and the client certificate "client", both signed by "ca".
tls_default() {
	[ -s "$TLS/client.pem" ] && return 0
	tls_ca ca && tls_cert server ca server && tls_cert client ca client
}

# start_server_tls [PORT [SERVER-ARGS...]]: like start_server, over HTTPS. The
# arguments go to control-server (e.g. --tls-client-ca "$TLS/ca.pem" for
# mutual TLS); without a --tls-cert among them the server presents $TLS/server.pem
# (see tls_default). Sets $spid, $PORT, $URL (https://localhost:PORT) and
# CLI_TLS, with which cli trusts $TLS/ca.pem only and presents $TLS/client.pem.
start_server_tls() {
	local port=${1:-0} a own=
	[ $# -gt 0 ] && shift
	tls_default || return 1
	for a in "$@"; do [ "$a" = --tls-cert ] && own=1; done
	[ -n "$own" ] || set -- --tls-cert "$TLS/server.pem" --tls-key "$TLS/server.key" "$@"
	launch_server https localhost "$port" "$@" || return 1
	CLI_TLS=(--cacert "$TLS/ca.pem" --cert "$TLS/client.pem" --key "$TLS/client.key")
}

# enqueue AGENT JSON
enqueue() { echo "$2" | cli enqueue "$1" - >/dev/null; }

# write_conf NAME [KEY=VALUE...]: $TMP/NAME.conf for agent NAME against $URL;
# a KEY given replaces the test default.
write_conf() {
	local name=$1 kv k given=" "
	shift
	for kv in "$@"; do given+="${kv%%=*} "; done
	{
		for kv in "server_url=$URL" "agent_id=$name" "token_file=$TMP/token" "spool_dir=$TMP/$name.spool" \
			poll_interval=1 max_backoff=2 kill_grace=2 shutdown_grace=5; do
			k=${kv%%=*}
			case $given in *" $k "*) ;; *) echo "$k = ${kv#*=}" ;; esac
		done
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >"$TMP/$name.conf"
}

# start_agent NAME [ARGS...]: the agent in the background, log in $TMP/NAME.log; sets $apid.
start_agent() {
	local name=$1
	shift
	# Not through diag(): $! must be the agent itself (or its valgrind), not a subshell.
	$WRAP "$DIAG" run -c "$TMP/$name.conf" "$@" >/dev/null 2>>"$TMP/$name.log" &
	apid=$!
	apids+=("$apid")
}

# wait_log NAME REGEX [SECONDS]: 0 once the agent's log matches.
wait_log() {
	local i
	for i in $(seq $((${3:-20} * 10))); do
		grep -Eq "$2" "$TMP/$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_results NAME N [SECONDS]: the listing in $TMP/NAME.res once N results are stored.
wait_results() {
	cli results "$1" --wait "$2" --timeout "${3:-30}" >"$TMP/$1.res" 2>"$TMP/$1.res.err"
}

# result NAME ID JQ: a field of a stored result (after wait_results).
result() { jq -r --arg id "$2" ".results[] | select(.id == \$id) | $3" "$TMP/$1.res"; }

# stop_agent PID [SIGNAL]: signal and wait at most 20 s; $arc is the exit code.
stop_agent() {
	local i
	kill -"${2:-TERM}" "$1" 2>/dev/null
	for i in $(seq 200); do
		alive "$1" || break
		sleep 0.1
	done
	if alive "$1"; then
		kill -KILL "$1"
		arc=999
	else
		wait "$1"
		arc=$?
	fi
}

# no_bpftrace DESC: no bpftrace process is left on the host.
no_bpftrace() {
	local i
	for i in $(seq 50); do
		pgrep -x bpftrace >/dev/null || { ok "$1"; return; }
		sleep 0.1
	done
	nok "$1: still running: $(pgrep -a -x bpftrace | head -n3)"
}
