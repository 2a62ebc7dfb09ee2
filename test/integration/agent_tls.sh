#!/usr/bin/env bash
# agent_tls.sh - `diagagent run --once` against the reference control server
# over HTTPS, with certificates made here by the openssl CLI: the right CA in
# ca_file (a command job round-trips, also with the server given by IP); the
# system's roots and an unrelated CA (certificate verification fails, exit 1,
# no job run, no request reaches the server); a server that requires client
# certificates (refused without one or with one from another CA, served with
# the right one); a server certificate for another name (fails); and
# `config check` with client_cert but no client_key (exit 2).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"

command -v openssl >/dev/null || { skip "agent over TLS" "no openssl CLI"; exit 0; }
# ca: the server's and client's CA; other: an unrelated one, with its own
# server and client certificates; server: for localhost and 127.0.0.1;
# elsewhere: signed by ca, but only for other.example.
tls_default || exit 0
tls_ca other && tls_cert other-server other server && tls_cert other-client other client &&
	tls_cert elsewhere ca server DNS:other.example || exit 0

# once NAME: `diagagent run --once` with $TMP/NAME.conf; $rc, $TMP/NAME.err.
once() { capture "$1" diag run -c "$TMP/$1.conf" --once; }

# api PATH: GET a development endpoint with curl (much faster than starting
# control-client), trusting and presenting what cli does (same option names).
printf 'Authorization: Bearer %s\n' "$TOKEN" >"$TMP/auth.hdr"
api() { curl -sS --noproxy '*' -H "@$TMP/auth.hdr" "${CLI_TLS[@]}" "$URL/api/v1/$1"; }

# requests JQ: the server's stats through a jq filter.
requests() { api _control/stats | jq -r "$1"; }

# no_job_run NAME DESC: nothing was stored for NAME.
no_job_run() { same "$2: no result stored" "$(api "agents/$1/results" | jq '.results | length')" 0; }

JOB='{"commands": [{"id": "c1", "command": "echo secure"}]}'
CMD=(allow_commands=true 'command_allow=^echo [a-z]+$')

start_server_tls 0 || exit 0

# ---- (a) ca_file = the right CA ------------------------------------------------------
write_conf a "ca_file=$TLS/ca.pem" "${CMD[@]}"
enqueue a "$JOB"
once a
same "right CA: --once exit 0" "$rc" 0
wait_results a 1 5
same "right CA: the command job round-tripped over https" "$(result a c1 '[.status, .stdout] | @json')" '["completed","secure\n"]'
check "right CA: no warning or error logged" sh -c "! grep -Eq ' (warn|error) ' '$TMP/a.err'"
same "right CA: the server saw the poll" "$(requests .jobs)" 1

check "the server refuses TLS 1.1" sh -c "! curl -sS --tlsv1.0 --tls-max 1.1 --cacert '$TLS/ca.pem' '$URL/' 2>'$TMP/tls11.err'"

# The same over https://127.0.0.1 (the certificate's IP SAN).
write_conf a-ip "server_url=https://127.0.0.1:$PORT" "ca_file=$TLS/ca.pem" "${CMD[@]}"
enqueue a-ip "$JOB"
once a-ip
same "by IP: --once exit 0" "$rc" 0
wait_results a-ip 1 5
same "by IP: the job round-tripped" "$(result a-ip c1 .stdout)" secure

# ---- (b) no ca_file: the system's roots ------------------------------------------------
jobs0=$(requests .jobs)
write_conf b "${CMD[@]}"
enqueue b "$JOB"
once b
same "system roots: --once exit 1" "$rc" 1
check "system roots: a certificate verification error in the log" \
	grep -Eiq 'jobs: .*(certificate|verify)' "$TMP/b.err"
same "system roots: no request reached the server" "$(requests '"\(.jobs)/\(.unauthorized)"')" "$jobs0/0"
no_job_run b "system roots"

# ---- (c) ca_file = an unrelated CA -----------------------------------------------------
write_conf c "ca_file=$TLS/other.pem" "${CMD[@]}"
enqueue c "$JOB"
once c
same "unrelated CA: --once exit 1" "$rc" 1
check "unrelated CA: a certificate verification error in the log" \
	grep -Eiq 'jobs: .*(certificate|verify)' "$TMP/c.err"
same "unrelated CA: no request reached the server" "$(requests .jobs)" "$jobs0"
no_job_run c "unrelated CA"
check "the client (control-client) without --cacert fails likewise" \
	sh -c "! '$PY' '$CLIENT' --url '$URL' --token-file '$TMP/token' stats 2>'$TMP/cli.err' >/dev/null"
check "and says why" grep -q 'CERTIFICATE_VERIFY_FAILED' "$TMP/cli.err"

# ---- (d) the server requires client certificates ---------------------------------------
stop_server
start_server_tls 0 --tls-client-ca "$TLS/ca.pem" || exit 0
write_conf d1 "ca_file=$TLS/ca.pem" "${CMD[@]}"
enqueue d1 "$JOB"
once d1
same "mutual TLS, no client certificate: --once exit 1" "$rc" 1
check "mutual TLS, no client certificate: said in the log" \
	grep -Eiq 'jobs: .*(certificate|alert|handshake)' "$TMP/d1.err"
write_conf d2 "ca_file=$TLS/ca.pem" "client_cert=$TLS/other-client.pem" "client_key=$TLS/other-client.key" "${CMD[@]}"
enqueue d2 "$JOB"
once d2
same "mutual TLS, a client certificate from another CA: --once exit 1" "$rc" 1
check "mutual TLS, a client certificate from another CA: said in the log" \
	grep -Eiq 'jobs: .*(certificate|alert|handshake)' "$TMP/d2.err"
same "mutual TLS: refused clients never reached the server" "$(requests '"\(.jobs)/\(.unauthorized)"')" 0/0
no_job_run d1 "mutual TLS, no client certificate"
no_job_run d2 "mutual TLS, a client certificate from another CA"
write_conf d3 agent_id=d1 "ca_file=$TLS/ca.pem" "client_cert=$TLS/client.pem" "client_key=$TLS/client.key" "${CMD[@]}"
once d3
same "mutual TLS with the right client certificate: --once exit 0" "$rc" 0
wait_results d1 1 5
same "mutual TLS: the job queued for the refused agent round-tripped now" "$(result d1 c1 '[.status, .stdout] | @json')" '["completed","secure\n"]'

# ---- (e) a server certificate for another name -----------------------------------------
stop_server
start_server_tls 0 --tls-cert "$TLS/elsewhere.pem" --tls-key "$TLS/elsewhere.key" || exit 0
write_conf e "ca_file=$TLS/ca.pem" "${CMD[@]}"
once e
same "a certificate for other.example only: --once exit 1" "$rc" 1
check "a certificate for other.example only: the name mismatch is said" \
	grep -Eiq "jobs: .*(subject name|host ?name|does not match).*" "$TMP/e.err"
stop_server

# ---- (f) config check: client_cert without client_key ------------------------------------
write_conf f "ca_file=$TLS/ca.pem" "client_cert=$TLS/client.pem"
capture f diag config check -c "$TMP/f.conf"
same "config check, client_cert without client_key: exit 2" "$rc" 2
check "says both are needed" grep -q 'client_cert is set but client_key is not' "$TMP/f.err"
write_conf f2 "ca_file=$TLS/ca.pem" "client_key=$TLS/client.key"
capture f2 diag config check -c "$TMP/f2.conf"
same "config check, client_key without client_cert: exit 2" "$rc" 2
