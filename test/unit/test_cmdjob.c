/* test_cmdjob.c - unit tests for shell command jobs, with real children under procman. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/cmdjob.h"
#include "agent/procman.h"

/* ---- helpers -------------------------------------------------------------------- */

static int setup(void **state)
{
	*state = procman_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	procman_free(*state);
	return 0;
}

static int done_calls;

static void on_done(void *ud)
{
	int *n = ud;

	(*n)++;
}

static struct cmdjob *start(struct procman *pm, const char *command, int timeout_s, int grace_ms, long max_output)
{
	struct cmdjob_spec spec = {
		.command = command,
		.timeout_s = timeout_s,
		.kill_grace_ms = grace_ms,
		.max_output = max_output,
		.on_done = on_done,
		.ud = &done_calls,
	};
	char err[256] = "";
	struct cmdjob *j = cmdjob_start(pm, &spec, err, sizeof(err));

	if (!j)
		fail_msg("cmdjob_start '%s': %s", command, err);
	assert_false(cmdjob_done(j));
	return j;
}

/* Drive procman until every job in jobs is done, failing after ms. */
static void wait_done(struct procman *pm, struct cmdjob **jobs, int n, int ms)
{
	int64_t end = procman_now_ms() + ms;

	for (;;) {
		bool all = true;

		for (int i = 0; i < n; i++)
			all = all && cmdjob_done(jobs[i]);
		if (all)
			return;
		if (procman_now_ms() >= end)
			fail_msg("jobs not done after %d ms", ms);
		procman_run(pm, 50, NULL);
	}
}

/* Run one command to its end; its result. */
static json_t *run(struct procman *pm, const char *command, int timeout_s, long max_output)
{
	struct cmdjob *j = start(pm, command, timeout_s, 500, max_output);
	json_t *r;

	wait_done(pm, &j, 1, 10000);
	r = cmdjob_result(j);
	assert_non_null(r);
	cmdjob_free(j);
	return r;
}

static const char *str(const json_t *r, const char *key)
{
	json_t *v = json_object_get(r, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

static bool rfc3339(const char *s)
{
	/* 2026-11-22T10:00:00.123456Z */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	return true;
}

/* The fields every result has, and status. */
static void check_shared(const json_t *r, const char *command, const char *status)
{
	bool ok = strcmp(status, "completed") == 0;
	json_t *err = json_object_get(r, "error");

	assert_true(json_is_object(r));
	assert_string_equal(str(r, "kind"), "command");
	assert_string_equal(str(r, "command"), command);
	if (strcmp(str(r, "status"), status) != 0)
		fail_msg("'%s': status %s (%s), want %s", command, str(r, "status"),
			 err ? json_string_value(err) : "no error", status);
	assert_true(json_is_boolean(json_object_get(r, "success")));
	assert_int_equal(json_is_true(json_object_get(r, "success")), ok);
	if (ok) {
		assert_null(err);
	} else {
		assert_true(json_is_string(err));
		assert_true(json_string_length(err) > 0);
		assert_null(strchr(json_string_value(err), '\n'));
	}
	assert_true(rfc3339(str(r, "started_at")));
	assert_true(rfc3339(str(r, "finished_at")));
	assert_true(strcmp(str(r, "started_at"), str(r, "finished_at")) <= 0);
	assert_true(json_is_integer(json_object_get(r, "duration_ms")));
	assert_true(json_integer_value(json_object_get(r, "duration_ms")) >= 0);
	assert_null(json_object_get(r, "id")); /* the caller adds it */
	assert_true(json_is_boolean(json_object_get(r, "stdout_truncated")));
	assert_true(json_is_boolean(json_object_get(r, "stderr_truncated")));
	assert_true(json_is_integer(json_object_get(r, "stdout_bytes")));
	assert_true(json_is_integer(json_object_get(r, "stderr_bytes")));
	assert_true(json_is_string(json_object_get(r, "stdout")));
	assert_true(json_is_string(json_object_get(r, "stderr")));
}

static long long num(const json_t *r, const char *key)
{
	json_t *v = json_object_get(r, key);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	return json_integer_value(v);
}

/* Base64 (RFC 4648) back to bytes; *len gets their count. */
static char *unb64(const char *s, size_t *len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc(n / 4 * 3 + 1);
	unsigned acc = 0;
	int bits = 0;

	assert_non_null(out);
	assert_int_equal(n % 4, 0);
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(alpha, s[i]);

		assert_non_null(p);
		acc = (acc << 6) | (unsigned)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	*len = o;
	return out;
}

/* ---- output and exit status ---------------------------------------------------- */

static void test_stdout_stderr(void **state)
{
	static const char cmd[] = "echo out; echo err >&2; printf x; printf 'e2\\n' >&2";
	json_t *r = run(*state, cmd, 10, 65536);

	check_shared(r, cmd, "completed");
	assert_string_equal(str(r, "stdout"), "out\nx");
	assert_string_equal(str(r, "stderr"), "err\ne2\n");
	assert_int_equal(num(r, "stdout_bytes"), 5);
	assert_int_equal(num(r, "stderr_bytes"), 7);
	assert_true(json_is_false(json_object_get(r, "stdout_truncated")));
	assert_true(json_is_false(json_object_get(r, "stderr_truncated")));
	assert_int_equal(num(r, "exit_code"), 0);
	assert_true(json_is_null(json_object_get(r, "signal")));
	assert_null(json_object_get(r, "stdout_b64"));
	assert_null(json_object_get(r, "stderr_b64"));
	json_decref(r);

	/* nothing at all; stdin is /dev/null */
	r = run(*state, "cat", 10, 65536);
	check_shared(r, "cat", "completed");
	assert_string_equal(str(r, "stdout"), "");
	assert_string_equal(str(r, "stderr"), "");
	assert_int_equal(num(r, "stdout_bytes"), 0);
	json_decref(r);
}

static void test_exit_status(void **state)
{
	static const struct {
		const char *command;
		const char *status;
		int exit_code;	    /* -1: null */
		const char *signal; /* NULL: null */
		int signum;	    /* a signal without a name: its number */
		const char *error;  /* NULL: none */
	} cases[] = {
		{ "exit 0", "completed", 0, NULL, 0, NULL },
		{ "true", "completed", 0, NULL, 0, NULL },
		{ "exit 1", "failed", 1, NULL, 0, "exited with status 1" },
		{ "echo x; exit 3", "failed", 3, NULL, 0, "exited with status 3" },
		{ "exit 128", "failed", 128, NULL, 0, "exited with status 128" },
		/* above 128 + the last signal: an exit status, not a signal (ssh's 255) */
		{ "exit 255", "failed", 255, NULL, 0, "exited with status 255" },
		{ "exit 200", "failed", 200, NULL, 0, "exited with status 200" },
		{ "no-such-command-xyz", "failed", 127, NULL, 0, "exited with status 127" },
		{ "ulimit -c 0; kill -SEGV $$", "failed", -1, "SIGSEGV", 0, "killed by signal 11 (SIGSEGV)" },
		{ "kill -KILL $$", "failed", -1, "SIGKILL", 0, "killed by signal 9 (SIGKILL)" },
		{ "kill -TERM $$", "failed", -1, "SIGTERM", 0, "killed by signal 15 (SIGTERM)" },
		{ "kill -USR1 $$", "failed", -1, "SIGUSR1", 0, "killed by signal 10 (SIGUSR1)" },
		{ "kill -35 $$", "failed", -1, NULL, 35, "killed by signal 35 (?)" },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct procman *pm = *state;
	struct cmdjob *jobs[N];

	/* all at once: they are independent */
	done_calls = 0;
	for (int i = 0; i < N; i++)
		jobs[i] = start(pm, cases[i].command, 10, 500, 4096);
	wait_done(pm, jobs, N, 10000);
	assert_int_equal(done_calls, N);
	for (int i = 0; i < N; i++) {
		json_t *r = cmdjob_result(jobs[i]), *sig = json_object_get(r, "signal");

		check_shared(r, cases[i].command, cases[i].status);
		if (cases[i].exit_code < 0)
			assert_true(json_is_null(json_object_get(r, "exit_code")));
		else if (num(r, "exit_code") != cases[i].exit_code)
			fail_msg("'%s': exit_code %lld, want %d", cases[i].command, num(r, "exit_code"),
				 cases[i].exit_code);
		if (cases[i].signal)
			assert_string_equal(json_string_value(sig), cases[i].signal);
		else if (cases[i].signum)
			assert_int_equal(json_integer_value(sig), cases[i].signum);
		else if (!json_is_null(sig))
			fail_msg("'%s': a signal", cases[i].command);
		if (cases[i].error)
			assert_string_equal(str(r, "error"), cases[i].error);
		json_decref(r);
		cmdjob_free(jobs[i]);
	}
	assert_int_equal(procman_count(pm), 0);
}

/* ---- time-outs and cancel ---------------------------------------------------------- */

static void test_timeout(void **state)
{
	static const struct {
		const char *command;
		int exit_code; /* -1: null */
		const char *signal;
	} cases[] = {
		{ "sleep 10", -1, "SIGTERM" },
		/* exits 0 on SIGTERM, after the time-out: still a time-out */
		{ "trap 'echo bye; exit 0' TERM; echo hi; while :; do sleep 0.05; done", 0, NULL },
		/* ignores SIGTERM: SIGKILL after the grace */
		{ "trap '' TERM; while :; do sleep 0.05; done", -1, "SIGKILL" },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct procman *pm = *state;
	struct cmdjob *jobs[N];
	int64_t t0 = procman_now_ms();

	for (int i = 0; i < N; i++)
		jobs[i] = start(pm, cases[i].command, 1, 300, 4096);
	wait_done(pm, jobs, N, 8000);
	for (int i = 0; i < N; i++) {
		json_t *r = cmdjob_result(jobs[i]);
		long long ms = num(r, "duration_ms");

		check_shared(r, cases[i].command, "timeout");
		assert_string_equal(str(r, "error"), "timed out after 1 s");
		if (cases[i].exit_code < 0)
			assert_true(json_is_null(json_object_get(r, "exit_code")));
		else
			assert_int_equal(num(r, "exit_code"), cases[i].exit_code);
		if (cases[i].signal)
			assert_string_equal(str(r, "signal"), cases[i].signal);
		else
			assert_true(json_is_null(json_object_get(r, "signal")));
		if (ms < 1000 || ms > 6000)
			fail_msg("'%s': %lld ms", cases[i].command, ms);
		if (i == 1)
			assert_string_equal(str(r, "stdout"), "hi\nbye\n");
		if (i == 2)
			assert_true(ms >= 1300);
		json_decref(r);
		cmdjob_free(jobs[i]);
	}
	assert_true(procman_now_ms() - t0 >= 1000);
}

static void test_stop(void **state)
{
	static const char cmd[] = "echo started; sleep 10";
	struct procman *pm = *state;
	struct cmdjob *j = start(pm, cmd, 30, 500, 4096);
	json_t *r;
	int64_t t0;

	procman_run(pm, 200, NULL);
	assert_false(cmdjob_done(j));
	/* a result while it runs */
	r = cmdjob_result(j);
	check_shared(r, cmd, "failed");
	assert_string_equal(str(r, "error"), "the command is still running");
	assert_true(json_is_null(json_object_get(r, "exit_code")));
	json_decref(r);

	done_calls = 0;
	t0 = procman_now_ms();
	cmdjob_stop(j);
	wait_done(pm, &j, 1, 5000);
	assert_true(procman_now_ms() - t0 < 3000);
	assert_int_equal(done_calls, 1);
	r = cmdjob_result(j);
	check_shared(r, cmd, "cancelled");
	assert_int_equal(strncmp(str(r, "error"), "cancelled after ", 16), 0);
	assert_string_equal(str(r, "error") + strlen(str(r, "error")) - 2, " s");
	assert_string_equal(str(r, "signal"), "SIGTERM");
	assert_string_equal(str(r, "stdout"), "started\n");
	json_decref(r);
	/* stopping a finished job changes nothing */
	cmdjob_stop(j);
	r = cmdjob_result(j);
	assert_string_equal(str(r, "status"), "cancelled");
	json_decref(r);
	assert_int_equal(done_calls, 1);
	cmdjob_free(j);

	/* a job that ignores SIGTERM is killed after the grace; still cancelled */
	j = start(pm, "trap '' TERM; echo ready; while :; do sleep 0.05; done", 30, 200, 4096);
	procman_run(pm, 200, NULL);
	cmdjob_stop(j);
	wait_done(pm, &j, 1, 5000);
	r = cmdjob_result(j);
	check_shared(r, "trap '' TERM; echo ready; while :; do sleep 0.05; done", "cancelled");
	assert_string_equal(str(r, "signal"), "SIGKILL");
	json_decref(r);
	cmdjob_free(j);

	/* freeing a running job kills it, without a callback */
	done_calls = 0;
	j = start(pm, "sleep 10", 30, 200, 4096);
	cmdjob_free(j);
	cmdjob_free(NULL);
	t0 = procman_now_ms();
	assert_int_equal(procman_run(pm, 3000, NULL), 0);
	assert_true(procman_now_ms() - t0 < 3000);
	assert_int_equal(done_calls, 0);
}

/* ---- output caps ---------------------------------------------------------------- */

/* "00001\n00002\n..." up to n: what `seq -f %05g 1 n` prints. */
static char *numbered(int n, size_t *len)
{
	char *s = malloc((size_t)n * 6 + 1);

	assert_non_null(s);
	assert_true(n > 0 && n <= 99999);
	for (int i = 1; i <= n; i++) {
		char *p = s + (size_t)(i - 1) * 6;

		for (int k = 4, v = i; k >= 0; k--, v /= 10)
			p[k] = (char)('0' + v % 10);
		p[5] = '\n';
	}
	s[(size_t)n * 6] = '\0';
	*len = (size_t)n * 6;
	return s;
}

/* The head, the marker and the tail, exactly. */
static void check_cut(const json_t *r, const char *key, const char *full, size_t len, size_t cap)
{
	size_t head = cap / 2, tail = cap - head;
	char bkey[32], tkey[32], want[1 << 16];
	size_t n = 0;

	snprintf(bkey, sizeof(bkey), "%s_bytes", key);
	snprintf(tkey, sizeof(tkey), "%s_truncated", key);
	assert_int_equal(num(r, bkey), len);
	if (len <= cap) {
		assert_true(json_is_false(json_object_get(r, tkey)));
		assert_int_equal(json_string_length(json_object_get(r, key)), len);
		assert_memory_equal(str(r, key), full, len);
		return;
	}
	assert_true(json_is_true(json_object_get(r, tkey)));
	memcpy(want, full, head);
	n = head;
	n += (size_t)snprintf(want + n, 64, "\n[... %zu bytes cut ...]\n", len - cap);
	memcpy(want + n, full + len - tail, tail);
	n += tail;
	want[n] = '\0';
	if (strcmp(str(r, key), want) != 0)
		fail_msg("%s (%zu of %zu bytes, cap %zu):\n   got: '%s'\n  want: '%s'", key,
			 json_string_length(json_object_get(r, key)), len, cap, str(r, key), want);
}

static void test_truncation(void **state)
{
	static const struct {
		int lines;
		long max_output;
	} cases[] = {
		{ 2000, 1000 },			 /* 12000 bytes: head 500, tail 500 */
		{ 2000, 1001 },			 /* an odd cap: head 500, tail 501 */
		{ 2000, 1024 }, { 100, 600 },	 /* exactly the cap: kept whole */
		{ 100, 599 },			 /* one byte over */
		{ 100, 4096 },	{ 50000, 4096 }, /* 300 KB, read in many chunks: the ring wraps often */
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct procman *pm = *state;
	struct cmdjob *jobs[N];
	char cmd[N][64];

	for (int i = 0; i < N; i++) {
		snprintf(cmd[i], sizeof(cmd[i]), "seq -f %%05g 1 %d", cases[i].lines);
		jobs[i] = start(pm, cmd[i], 10, 500, cases[i].max_output);
	}
	wait_done(pm, jobs, N, 10000);
	for (int i = 0; i < N; i++) {
		json_t *r = cmdjob_result(jobs[i]);
		size_t len;
		char *full = numbered(cases[i].lines, &len);

		check_shared(r, cmd[i], "completed");
		check_cut(r, "stdout", full, len, (size_t)cases[i].max_output);
		assert_null(json_object_get(r, "stdout_b64"));
		assert_int_equal(num(r, "stderr_bytes"), 0);
		free(full);
		json_decref(r);
		cmdjob_free(jobs[i]);
	}
}

/* Output written a line at a time (many small reads) is cut the same way. */
static void test_truncation_slow_writer(void **state)
{
	static const char cmd[] = "i=1; while [ $i -le 400 ]; do printf '%05d\\n' $i; i=$((i+1)); done";
	json_t *r = run(*state, cmd, 10, 1000);
	size_t len;
	char *full = numbered(400, &len);

	check_shared(r, cmd, "completed");
	check_cut(r, "stdout", full, len, 1000);
	free(full);
	json_decref(r);
}

/* stderr is kept up to a quarter of max_output. */
static void test_stderr_cap(void **state)
{
	static const char cmd[] = "seq -f %05g 1 2000 >&2; echo done";
	json_t *r = run(*state, cmd, 10, 1000);
	size_t len;
	char *full = numbered(2000, &len);

	check_shared(r, cmd, "completed");
	check_cut(r, "stderr", full, len, 250);
	assert_string_equal(str(r, "stdout"), "done\n");
	assert_true(json_is_false(json_object_get(r, "stdout_truncated")));
	free(full);
	json_decref(r);

	/* exactly a quarter: whole */
	r = run(*state, "seq -f %05g 1 41 >&2; printf 'abcd' >&2", 10, 1000);
	full = numbered(41, &len);
	assert_true(len + 4 == 250);
	assert_int_equal(num(r, "stderr_bytes"), 250);
	assert_true(json_is_false(json_object_get(r, "stderr_truncated")));
	assert_memory_equal(str(r, "stderr"), full, len);
	assert_string_equal(str(r, "stderr") + len, "abcd");
	free(full);
	json_decref(r);
}

/* ---- bytes that are not UTF-8 -------------------------------------------------- */

static void test_non_utf8(void **state)
{
	static const struct {
		const char *command;
		const char *key;
		const char *bytes; /* what the command writes there */
		size_t len;
		const char *text; /* the JSON string */
		size_t text_len;
		bool b64;
	} cases[] = {
		{ "printf 'ok \\377\\376 end\\n'", "stdout", "ok \xff\xfe end\n", 10,
		  "ok \xef\xbf\xbd\xef\xbf\xbd end\n", 14, true },
		{ "printf 'caf\\303\\251 \\342\\234\\223\\n'", "stdout", "caf\xc3\xa9 \xe2\x9c\x93\n", 10,
		  "caf\xc3\xa9 \xe2\x9c\x93\n", 10, false },
		{ "printf 'half \\303' >&2", "stderr", "half \xc3", 6, "half \xef\xbf\xbd", 8, true },
		{ "printf 'a\\000b'", "stdout", "a\0b", 3, "a\0b", 3, false },
		{ "printf '\\300\\200'", "stdout", "\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6,
		  true }, /* overlong NUL */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = run(*state, cases[i].command, 10, 4096), *s = json_object_get(r, cases[i].key);
		char b64key[32], *raw;
		size_t rawlen;

		check_shared(r, cases[i].command, "completed");
		snprintf(b64key, sizeof(b64key), "%s_b64", cases[i].key);
		if (json_string_length(s) != cases[i].text_len ||
		    memcmp(json_string_value(s), cases[i].text, cases[i].text_len) != 0)
			fail_msg("'%s': %s is '%s' (%zu bytes)", cases[i].command, cases[i].key, json_string_value(s),
				 json_string_length(s));
		if (!cases[i].b64) {
			assert_null(json_object_get(r, b64key));
		} else {
			raw = unb64(str(r, b64key), &rawlen);
			assert_int_equal(rawlen, cases[i].len);
			assert_memory_equal(raw, cases[i].bytes, cases[i].len);
			free(raw);
		}
		assert_int_equal(num(r, strcmp(cases[i].key, "stdout") == 0 ? "stdout_bytes" : "stderr_bytes"),
				 cases[i].len);
		json_decref(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stdout_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_slow_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_utf8, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
