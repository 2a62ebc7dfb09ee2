/* test_config.c - unit tests for agent.conf: defaults, parsing, errors, environment, token. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/config.h"

static char tmpdir[64];

static int dir_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/diag-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return -1;
	for (e = readdir(d); e; e = readdir(d))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	return rmdir(tmpdir);
}

/* tmpdir/name with text, mode; the path in a static buffer (one of four). */
static const char *write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	static char paths[4][128];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int parse(struct config *c, const char *text, struct config_error *err)
{
	config_init(c);
	return config_parse_text(c, text, strlen(text), "t.conf", err);
}

/* A numeric field by offset, whatever its width. */
static long long field_num(const struct config *c, size_t off, size_t size)
{
	const char *p = (const char *)c + off;
	int32_t i32;
	int64_t i64;

	if (size == sizeof(i32)) {
		memcpy(&i32, p, sizeof(i32));
		return i32;
	}
	memcpy(&i64, p, sizeof(i64));
	return i64;
}

#define NUMF(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

/* ---- defaults and every key -------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct config_error err;
	struct config c;
	char host[256] = "";

	assert_int_equal(parse(&c, "", &err), 0);
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c.server_url, "http://127.0.0.1:8080");
	assert_string_equal(c.agent_id, host);
	assert_string_equal(c.token_file, "/etc/diagagent/token");
	assert_null(c.ca_file);
	assert_null(c.client_cert);
	assert_null(c.client_key);
	assert_int_equal(c.poll_interval, 10);
	assert_int_equal(c.heartbeat_interval, 60);
	assert_int_equal(c.max_backoff, 300);
	assert_int_equal(c.http_timeout, 15);
	assert_int_equal(c.connect_timeout, 5);
	assert_int_equal(c.kill_grace, 5);
	assert_int_equal(c.shutdown_grace, 10);
	assert_string_equal(c.spool_dir, "/var/lib/diagagent");
	assert_int_equal(c.outbox_max_results, 10000);
	assert_true(c.outbox_max_bytes == 256LL << 20);
	assert_int_equal(c.results_batch, 50);
	assert_true(c.results_batch_bytes == 4LL << 20);
	assert_int_equal(c.max_concurrent_jobs, 4);
	assert_int_equal(c.max_queued_jobs, 1000);
	assert_int_equal(c.max_trace_duration, 600);
	assert_int_equal(c.max_command_timeout, 300);
	assert_int_equal(c.max_events, 10000);
	assert_int_equal(c.max_output_bytes, 65536);
	assert_false(c.allow_commands);
	assert_int_equal(c.ncommand_allow, 0);
	assert_null(c.command_allow);
	assert_false(c.allow_raw_programs);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_null(c.path);
	assert_null(c.warnings);
	assert_string_equal(err.msg, "");
	config_release(&c);
}

static const char every_key[] = "server_url = https://diag.example.com:8443/api/\n"
				"agent_id = web-01.prod_2\n"
				"token_file = /run/secrets/token\n"
				"ca_file = /etc/ssl/diag-ca.pem\n"
				"client_cert = /etc/diagagent/cert.pem\n"
				"client_key = /etc/diagagent/key.pem\n"
				"poll_interval = 11\n"
				"heartbeat_interval = 61\n"
				"max_backoff = 301\n"
				"http_timeout = 16\n"
				"connect_timeout = 6\n"
				"kill_grace = 1\n"
				"shutdown_grace = 0\n"
				"spool_dir = /srv/diag spool\n"
				"outbox_max_results = 12\n"
				"outbox_max_bytes = 1048576\n"
				"results_batch = 10000\n"
				"results_batch_bytes = 65536\n"
				"max_concurrent_jobs = 64\n"
				"max_queued_jobs = 100000\n"
				"max_trace_duration = 86400\n"
				"max_command_timeout = 1\n"
				"max_events = 10000000\n"
				"max_output_bytes = 1024\n"
				"allow_commands = yes\n"
				"command_allow = ^ps aux$\n"
				"command_allow = uptime|df -h\n"
				"allow_raw_programs = on\n"
				"log_level = debug\n";

static void test_every_key(void **state)
{
	struct config_error err;
	struct config c;

	assert_int_equal(parse(&c, every_key, &err), 0);
	assert_string_equal(c.server_url, "https://diag.example.com:8443/api");
	assert_string_equal(c.agent_id, "web-01.prod_2");
	assert_string_equal(c.token_file, "/run/secrets/token");
	assert_string_equal(c.ca_file, "/etc/ssl/diag-ca.pem");
	assert_string_equal(c.client_cert, "/etc/diagagent/cert.pem");
	assert_string_equal(c.client_key, "/etc/diagagent/key.pem");
	assert_int_equal(c.poll_interval, 11);
	assert_int_equal(c.heartbeat_interval, 61);
	assert_int_equal(c.max_backoff, 301);
	assert_int_equal(c.http_timeout, 16);
	assert_int_equal(c.connect_timeout, 6);
	assert_int_equal(c.kill_grace, 1);
	assert_int_equal(c.shutdown_grace, 0);
	assert_string_equal(c.spool_dir, "/srv/diag spool");
	assert_int_equal(c.outbox_max_results, 12);
	assert_true(c.outbox_max_bytes == 1048576);
	assert_int_equal(c.results_batch, 10000);
	assert_true(c.results_batch_bytes == 65536);
	assert_int_equal(c.max_concurrent_jobs, 64);
	assert_int_equal(c.max_queued_jobs, 100000);
	assert_int_equal(c.max_trace_duration, 86400);
	assert_int_equal(c.max_command_timeout, 1);
	assert_int_equal(c.max_events, 10000000);
	assert_int_equal(c.max_output_bytes, 1024);
	assert_true(c.allow_commands);
	assert_int_equal(c.ncommand_allow, 2);
	assert_string_equal(c.command_allow[0], "^ps aux$");
	assert_string_equal(c.command_allow[1], "uptime|df -h");
	assert_non_null(c.command_re);
	assert_true(c.allow_raw_programs);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_null(c.warnings);
	config_release(&c);
}

/* ---- values ------------------------------------------------------------------------ */

struct value_case {
	const char *line;
	size_t off, size;
	long long want;
};

static void test_suffixes(void **state)
{
	static const struct value_case cases[] = {
		{ "poll_interval = 30s", NUMF(poll_interval), 30 },
		{ "poll_interval = 2m", NUMF(poll_interval), 120 },
		{ "poll_interval = 1h", NUMF(poll_interval), 3600 },
		{ "max_trace_duration = 24h", NUMF(max_trace_duration), 86400 },
		{ "http_timeout = 1", NUMF(http_timeout), 1 },
		{ "kill_grace = 1s", NUMF(kill_grace), 1 },
		{ "outbox_max_bytes = 2G", NUMF(outbox_max_bytes), 2LL << 30 },
		{ "outbox_max_bytes = 512MiB", NUMF(outbox_max_bytes), 512LL << 20 },
		{ "outbox_max_bytes = 1024G", NUMF(outbox_max_bytes), 1LL << 40 },
		{ "outbox_max_bytes = 1024K", NUMF(outbox_max_bytes), 1LL << 20 },
		{ "results_batch_bytes = 64KiB", NUMF(results_batch_bytes), 65536 },
		{ "results_batch_bytes = 1GiB", NUMF(results_batch_bytes), 1LL << 30 },
		{ "max_output_bytes = 64k", NUMF(max_output_bytes), 65536 },
		{ "max_output_bytes = 64M", NUMF(max_output_bytes), 64LL << 20 },
		{ "max_output_bytes = 2000", NUMF(max_output_bytes), 2000 },
		{ "max_events = 007", NUMF(max_events), 7 },
		{ "allow_commands = true", NUMF(allow_commands), 1 },
		{ "allow_commands = Yes", NUMF(allow_commands), 1 },
		{ "allow_commands = on", NUMF(allow_commands), 1 },
		{ "allow_commands = 1", NUMF(allow_commands), 1 },
		{ "allow_raw_programs = false", NUMF(allow_raw_programs), 0 },
		{ "allow_raw_programs = no", NUMF(allow_raw_programs), 0 },
		{ "allow_raw_programs = off", NUMF(allow_raw_programs), 0 },
		{ "allow_raw_programs = 0", NUMF(allow_raw_programs), 0 },
		{ "log_level = error", NUMF(log_level), LOG_ERROR },
		{ "log_level = warn", NUMF(log_level), LOG_WARN },
		{ "log_level = info", NUMF(log_level), LOG_INFO },
		{ "log_level = DEBUG", NUMF(log_level), LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_error err;
		struct config c;
		long long got;
		int rc = parse(&c, cases[i].line, &err);

		if (rc != 0)
			fail_msg("'%s': %d %s", cases[i].line, rc, err.msg);
		if (cases[i].size == sizeof(bool))
			got = *((const bool *)((const char *)&c + cases[i].off));
		else
			got = field_num(&c, cases[i].off, cases[i].size);
		if (got != cases[i].want)
			fail_msg("'%s': got %lld, want %lld", cases[i].line, got, cases[i].want);
		config_release(&c);
	}
}

struct error_case {
	const char *text;
	const char *msg;
	const char *hint; /* NULL: not checked */
};

static void check_errors(const struct error_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct config_error err;
		struct config c;
		int rc = parse(&c, cases[i].text, &err);

		if (rc != -EINVAL)
			fail_msg("'%s': rc %d, want -EINVAL", cases[i].text, rc);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("'%s':\n got  '%s'\n want '%s'", cases[i].text, err.msg, cases[i].msg);
		if (cases[i].hint && strcmp(err.hint, cases[i].hint) != 0)
			fail_msg("'%s': hint\n got  '%s'\n want '%s'", cases[i].text, err.hint, cases[i].hint);
		config_release(&c);
	}
}

static void test_range_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "poll_interval = abc", "t.conf:1: bad value 'abc' for poll_interval: expected seconds (1..86400)",
		  NULL },
		{ "poll_interval = 0", "t.conf:1: bad value '0' for poll_interval: expected seconds (1..86400)", NULL },
		{ "poll_interval = 25h", "t.conf:1: bad value '25h' for poll_interval: expected seconds (1..86400)",
		  NULL },
		{ "poll_interval = 10 s", "t.conf:1: bad value '10 s' for poll_interval: expected seconds (1..86400)",
		  NULL },
		{ "poll_interval = 1d", "t.conf:1: bad value '1d' for poll_interval: expected seconds (1..86400)",
		  NULL },
		{ "heartbeat_interval = 86401",
		  "t.conf:1: bad value '86401' for heartbeat_interval: expected seconds (1..86400)", NULL },
		{ "max_backoff = 0", "t.conf:1: bad value '0' for max_backoff: expected seconds (1..86400)", NULL },
		{ "http_timeout = 3601", "t.conf:1: bad value '3601' for http_timeout: expected seconds (1..3600)",
		  NULL },
		{ "connect_timeout = 0", "t.conf:1: bad value '0' for connect_timeout: expected seconds (1..3600)",
		  NULL },
		{ "kill_grace = -1", "t.conf:1: bad value '-1' for kill_grace: expected seconds (1..300)", NULL },
		{ "kill_grace = 301", "t.conf:1: bad value '301' for kill_grace: expected seconds (1..300)", NULL },
		{ "shutdown_grace = 2h", "t.conf:1: bad value '2h' for shutdown_grace: expected seconds (0..3600)",
		  NULL },
		{ "outbox_max_results = 0",
		  "t.conf:1: bad value '0' for outbox_max_results: expected a number (1..10000000)", NULL },
		{ "outbox_max_results = 1K",
		  "t.conf:1: bad value '1K' for outbox_max_results: expected a number (1..10000000)", NULL },
		{ "outbox_max_bytes = 1048575",
		  "t.conf:1: bad value '1048575' for outbox_max_bytes: expected bytes (1M..1024G)", NULL },
		{ "outbox_max_bytes = 1025G",
		  "t.conf:1: bad value '1025G' for outbox_max_bytes: expected bytes (1M..1024G)", NULL },
		{ "outbox_max_bytes = 99999999999999999999999",
		  "t.conf:1: bad value '99999999999999999999999' for outbox_max_bytes: expected bytes (1M..1024G)",
		  NULL },
		{ "outbox_max_bytes = 9999999999999999G",
		  "t.conf:1: bad value '9999999999999999G' for outbox_max_bytes: expected bytes (1M..1024G)", NULL },
		{ "outbox_max_bytes = 1MB",
		  "t.conf:1: bad value '1MB' for outbox_max_bytes: expected bytes (1M..1024G)", NULL },
		{ "results_batch = 10001",
		  "t.conf:1: bad value '10001' for results_batch: expected a number (1..10000)", NULL },
		{ "results_batch_bytes = 65535",
		  "t.conf:1: bad value '65535' for results_batch_bytes: expected bytes (64K..1G)", NULL },
		{ "max_concurrent_jobs = 65",
		  "t.conf:1: bad value '65' for max_concurrent_jobs: expected a number (1..64)", NULL },
		{ "max_queued_jobs = 0", "t.conf:1: bad value '0' for max_queued_jobs: expected a number (1..100000)",
		  NULL },
		{ "max_trace_duration = 0",
		  "t.conf:1: bad value '0' for max_trace_duration: expected seconds (1..86400)", NULL },
		{ "max_command_timeout = 1.5",
		  "t.conf:1: bad value '1.5' for max_command_timeout: expected seconds (1..86400)", NULL },
		{ "max_events = 10000001",
		  "t.conf:1: bad value '10000001' for max_events: expected a number (1..10000000)", NULL },
		{ "max_output_bytes = 1023",
		  "t.conf:1: bad value '1023' for max_output_bytes: expected bytes (1K..64M)", NULL },
		{ "max_output_bytes = +5K", "t.conf:1: bad value '+5K' for max_output_bytes: expected bytes (1K..64M)",
		  NULL },
		{ "allow_commands = maybe",
		  "t.conf:1: bad value 'maybe' for allow_commands: expected true or false (also yes/no, on/off, 1/0)",
		  NULL },
		{ "allow_raw_programs =",
		  "t.conf:1: bad value '' for allow_raw_programs: expected true or false (also yes/no, on/off, 1/0)",
		  NULL },
		{ "log_level = verbose",
		  "t.conf:1: bad value 'verbose' for log_level: expected error, warn, info or debug", NULL },
		{ "server_url = ftp://x",
		  "t.conf:1: bad value 'ftp://x' for server_url: expected http:// or https:// and a host "
		  "(https://HOST[:PORT][/PATH])",
		  NULL },
		{ "server_url = http://",
		  "t.conf:1: bad value 'http://' for server_url: expected http:// or https:// and a host "
		  "(https://HOST[:PORT][/PATH])",
		  NULL },
		{ "server_url = https://:443/",
		  "t.conf:1: bad value 'https://:443/' for server_url: expected http:// or https:// and a host "
		  "(https://HOST[:PORT][/PATH])",
		  NULL },
		{ "server_url = https://h:99999",
		  "t.conf:1: bad value 'https://h:99999' for server_url: expected http:// or https:// and a host "
		  "(https://HOST[:PORT][/PATH])",
		  NULL },
		/* credentials are never echoed: the message would carry them into the journal */
		{ "server_url = https://u:p@h/",
		  "t.conf:1: server_url must not hold credentials ('user@' or 'user:password@')",
		  "put the token in token_file" },
		{ "server_url = http://tok@127.0.0.1:8080/api",
		  "t.conf:1: server_url must not hold credentials "
		  "('user@' or 'user:password@')",
		  NULL },
		{ "server_url = example.com",
		  "t.conf:1: bad value 'example.com' for server_url: expected http:// or https:// and a host "
		  "(https://HOST[:PORT][/PATH])",
		  NULL },
		{ "agent_id = web 01",
		  "t.conf:1: bad value 'web 01' for agent_id: expected 1..128 characters of A-Z a-z 0-9 . _ -", NULL },
		{ "agent_id =", "t.conf:1: bad value '' for agent_id: expected 1..128 characters of A-Z a-z 0-9 . _ -",
		  NULL },
		{ "spool_dir =", "t.conf:1: spool_dir needs a value (default /var/lib/diagagent)", NULL },
		{ "token_file = \"\"", "t.conf:1: token_file needs a value (default /etc/diagagent/token)", NULL },
		{ "client_cert = /c.pem", "t.conf:1: client_cert is set but client_key is not",
		  "mutual TLS needs both client_cert and client_key: set both or neither" },
		{ "\n\nclient_key = /k.pem", "t.conf:3: client_key is set but client_cert is not", NULL },
	};

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_size_hints(void **state)
{
	static const struct error_case cases[] = {
		{ "poll_interval = x", "t.conf:1: bad value 'x' for poll_interval: expected seconds (1..86400)",
		  "a whole number of seconds; the suffix s, m or h is accepted (90, 90s, 15m, 2h)" },
		{ "max_output_bytes = x", "t.conf:1: bad value 'x' for max_output_bytes: expected bytes (1K..64M)",
		  "a whole number of bytes; the suffix K, M or G (also KiB, MiB, GiB; powers of 1024) is accepted" },
	};

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_agent_id_length(void **state)
{
	char text[200];
	struct config_error err;
	struct config c;

	snprintf(text, sizeof(text), "agent_id = %0128d", 0);
	assert_int_equal(parse(&c, text, &err), 0);
	assert_int_equal(strlen(c.agent_id), 128);
	config_release(&c);
	snprintf(text, sizeof(text), "agent_id = %0129d", 0);
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "for agent_id: expected 1..128 characters"));
	config_release(&c);
}

/* ---- syntax ------------------------------------------------------------------------ */

static void test_unknown_key(void **state)
{
	static const struct error_case cases[] = {
		{ "pol_interval = 5", "t.conf:1: unknown key 'pol_interval'", "did you mean 'poll_interval'?" },
		{ "# c\n\npoll_intervall = 5", "t.conf:3: unknown key 'poll_intervall'",
		  "did you mean 'poll_interval'?" },
		{ "POLL_INTERVAL = 5", "t.conf:1: unknown key 'POLL_INTERVAL'", "did you mean 'poll_interval'?" },
		{ "heartbeat = 5", "t.conf:1: unknown key 'heartbeat'", "did you mean 'heartbeat_interval'?" },
		{ "loglevel = info", "t.conf:1: unknown key 'loglevel'", "did you mean 'log_level'?" },
		{ "max_evnets = 5", "t.conf:1: unknown key 'max_evnets'", "did you mean 'max_events'?" },
		{ "frobnicate = 1", "t.conf:1: unknown key 'frobnicate'", "see agent.conf for the keys" },
		{ "poll_interval 10", "t.conf:1: expected 'key = value'",
		  "a setting is 'key = value'; '#' starts a comment" },
		{ "= 10", "t.conf:1: expected 'key = value'", NULL },
		{ "just words", "t.conf:1: expected 'key = value'", NULL },
	};

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_duplicate_key(void **state)
{
	static const struct error_case cases[] = {
		{ "# top\n\npoll_interval = 5\n\npoll_interval = 6\n",
		  "t.conf:5: poll_interval set twice (first at line 3)", "keep one of them" },
		{ "ca_file =\nca_file = /x\n", "t.conf:2: ca_file set twice (first at line 1)", NULL },
	};
	struct config_error err;
	struct config c;

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
	/* command_allow is the one key that repeats */
	assert_int_equal(parse(&c, "command_allow = a\ncommand_allow = b\ncommand_allow = c\n", &err), 0);
	assert_int_equal(c.ncommand_allow, 3);
	assert_string_equal(c.command_allow[2], "c");
	config_release(&c);
}

static void test_comments_and_quotes(void **state)
{
	static const char text[] = "# a comment\n"
				   "   # an indented comment\n"
				   "\t\n"
				   "poll_interval = 20   # trailing comment\n"
				   "spool_dir = /srv/a#b\n"
				   "token_file = \"/run/my # token\"  # the token\n"
				   "agent_id=\"host-1\"\n"
				   "ca_file = \"/etc/\\\"q\\\\\"\n"
				   "client_cert = /c.pem\t# tab before the comment\r\n"
				   "client_key = \" /k.pem \"\n"
				   "command_allow = ^echo a #b$\n"
				   "command_allow = \"^ls \\\\S+$\" # quoted: a comment may follow\n"
				   "server_url = http://[::1]:8080/\n";
	struct config_error err;
	struct config c;

	assert_int_equal(parse(&c, text, &err), 0);
	assert_int_equal(c.poll_interval, 20);
	assert_string_equal(c.spool_dir, "/srv/a#b");
	assert_string_equal(c.token_file, "/run/my # token");
	assert_string_equal(c.agent_id, "host-1");
	assert_string_equal(c.ca_file, "/etc/\"q\\");
	assert_string_equal(c.client_cert, "/c.pem");
	assert_string_equal(c.client_key, " /k.pem ");
	assert_int_equal(c.ncommand_allow, 2);
	assert_string_equal(c.command_allow[0], "^echo a #b$");
	assert_string_equal(c.command_allow[1], "^ls \\S+$");
	assert_string_equal(c.server_url, "http://[::1]:8080");
	assert_null(c.warnings);
	config_release(&c);
}

static void test_quote_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "spool_dir = \"/srv", "t.conf:1: bad value for spool_dir: no closing '\"'", NULL },
		{ "spool_dir = \"/srv\" x", "t.conf:1: bad value for spool_dir: text after the closing '\"'", NULL },
		{ "spool_dir = /a\x01", "t.conf:1: bad value for spool_dir: control character 0x01 at offset 2", NULL },
	};
	struct config_error err;
	struct config c;
	char *text = malloc(CONFIG_MAX_LINE + 32);

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));

	/* a line over the cap */
	assert_non_null(text);
	memset(text, ' ', CONFIG_MAX_LINE + 10);
	memcpy(text, "# x\nspool_dir = /", 17);
	text[CONFIG_MAX_LINE + 10] = '\0';
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	assert_string_equal(err.msg, "t.conf:2: line longer than 4096 bytes");
	config_release(&c);
	free(text);

	/* a NUL byte inside a line */
	config_init(&c);
	assert_int_equal(config_parse_text(&c, "kill_grace = 1\0", 15, "t.conf", &err), -EINVAL);
	assert_string_equal(err.msg, "t.conf:1: NUL byte in the line");
	config_release(&c);
}

static void test_empty_optional(void **state)
{
	struct config_error err;
	struct config c;

	assert_int_equal(parse(&c, "ca_file =\nclient_cert = \"\"\nclient_key = # none\n", &err), 0);
	assert_null(c.ca_file);
	assert_null(c.client_cert);
	assert_null(c.client_key);
	config_release(&c);
}

/* ---- server_url -------------------------------------------------------------------- */

static void test_server_url(void **state)
{
	static const struct {
		const char *url, *stored;
		bool warn;
	} cases[] = {
		{ "http://127.0.0.1:8080/", "http://127.0.0.1:8080", false },
		{ "http://127.3.2.1", "http://127.3.2.1", false },
		{ "http://localhost:9/diag/", "http://localhost:9/diag", false },
		{ "http://[::1]/", "http://[::1]", false },
		{ "https://diag.example.com/", "https://diag.example.com", false },
		{ "https://10.0.0.1:8443", "https://10.0.0.1:8443", false },
		{ "http://diag.example.com", "http://diag.example.com", true },
		{ "http://10.0.0.1:8080//", "http://10.0.0.1:8080", true },
		{ "https://diag.example.com/api///", "https://diag.example.com/api", false },
		{ "http://[2001:db8::1]:80", "http://[2001:db8::1]:80", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_error err;
		struct config c;
		char text[128];

		snprintf(text, sizeof(text), "server_url = %s\n", cases[i].url);
		assert_int_equal(parse(&c, text, &err), 0);
		assert_string_equal(c.server_url, cases[i].stored);
		if (cases[i].warn)
			assert_string_equal(
				c.warnings,
				"server_url uses plain http: the token crosses the network unencrypted; use https");
		else if (c.warnings)
			fail_msg("'%s': unexpected warning '%s'", cases[i].url, c.warnings);
		config_release(&c);
	}
}

/* ---- command_allow ----------------------------------------------------------------- */

static void test_command_allow(void **state)
{
	static const struct {
		const char *command;
		bool allowed;
	} cases[] = {
		{ "ps aux", true },
		{ "ps aux; rm -rf /", false },
		{ "sudo ps aux", false },
		{ "ps auxf", false },
		{ "uptime", true },
		{ "uptime\n", false },
		{ "uptime\nrm -rf /", false },
		{ " uptime", false },
		{ "df -h", true },
		{ "df -h /var", false },
		{ "free", true },
		{ "free -m", true },
		{ "free -m && reboot", false },
		{ "ls /tmp", true },
		{ "ls /tmp /etc", false },
		{ "", false },
	};
	static const char text[] = "allow_commands = true\n"
				   "command_allow = ps aux\n"
				   "command_allow = ^uptime$\n"
				   "command_allow = df -h|free( -m)?\n"
				   "command_allow = ls \\S+\n";
	struct config_error err;
	struct config c;

	assert_int_equal(parse(&c, text, &err), 0);
	assert_int_equal(c.ncommand_allow, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (config_command_allowed(&c, cases[i].command) != cases[i].allowed)
			fail_msg("'%s': want %s", cases[i].command, cases[i].allowed ? "allowed" : "refused");
	assert_false(config_command_allowed(&c, NULL));
	c.allow_commands = false;
	assert_false(config_command_allowed(&c, "uptime"));
	config_release(&c);

	/* patterns but commands off; commands on but no patterns (a warning) */
	assert_int_equal(parse(&c, "command_allow = uptime\n", &err), 0);
	assert_false(config_command_allowed(&c, "uptime"));
	config_release(&c);
	assert_int_equal(parse(&c, "allow_commands = true\n", &err), 0);
	assert_false(config_command_allowed(&c, "uptime"));
	assert_string_equal(c.warnings, "allow_commands is on but command_allow is empty: no command can run");
	config_release(&c);
}

static void test_bad_pattern(void **state)
{
	static const struct error_case cases[] = {
		{ "allow_commands = on\ncommand_allow = uptime\ncommand_allow = ^(ps$\n",
		  "t.conf:3: bad command_allow pattern '^(ps$': missing closing parenthesis at offset 5",
		  "PCRE2 syntax (man pcre2pattern); the pattern must match the whole command" },
		{ "command_allow = a\n# x\ncommand_allow = [z-a]\n",
		  "t.conf:3: bad command_allow pattern '[z-a]': range out of order in character class at offset 3",
		  NULL },
		{ "command_allow = \"\"\n", "t.conf:1: empty command_allow pattern", NULL },
	};

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_too_many_patterns(void **state)
{
	size_t size = (CONFIG_MAX_PATTERNS + 1) * 32;
	char *text = malloc(size);
	struct config_error err;
	struct config c;
	size_t n = 0;

	assert_non_null(text);
	for (int i = 0; i < CONFIG_MAX_PATTERNS; i++)
		n += snprintf(text + n, size - n, "command_allow = ^cmd%d$\n", i);
	assert_int_equal(parse(&c, text, &err), 0);
	assert_int_equal(c.ncommand_allow, CONFIG_MAX_PATTERNS);
	config_release(&c);
	snprintf(text + n, size - n, "command_allow = ^more$\n");
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	assert_string_equal(err.msg, "t.conf:257: more than 256 command_allow patterns");
	config_release(&c);
	free(text);
}

/* ---- files and the environment ----------------------------------------------------- */

static void test_load_file(void **state)
{
	static const char text[] = "poll_interval = 7\nlog_level = warn\n";
	const char *path = write_file("a.conf", text, sizeof(text) - 1, 0600);
	char *const envp[] = { NULL };
	struct config_error err;
	struct config c;
	char want[256], missing[128];

	config_init(&c);
	assert_int_equal(config_load(&c, path, envp, &err), 0);
	assert_int_equal(c.poll_interval, 7);
	assert_int_equal(c.log_level, LOG_WARN);
	assert_string_equal(c.path, path);
	config_release(&c);

	snprintf(missing, sizeof(missing), "%s/none.conf", tmpdir);
	snprintf(want, sizeof(want), "cannot open '%s': No such file or directory", missing);
	config_init(&c);
	assert_int_equal(config_load(&c, missing, envp, &err), -ENOENT);
	assert_string_equal(err.msg, want);
	config_release(&c);

	/* a file with an error names the file and the line */
	path = write_file("b.conf", "\n\nkill_grace = 1000\n", 19, 0600);
	config_init(&c);
	assert_int_equal(config_load(&c, path, envp, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: bad value '1000' for kill_grace: expected seconds (1..300)", path);
	assert_string_equal(err.msg, want);
	config_release(&c);

	/* no file: defaults and the environment */
	config_init(&c);
	assert_int_equal(config_load(&c, NULL, envp, &err), 0);
	assert_null(c.path);
	assert_int_equal(c.poll_interval, 10);
	config_release(&c);
}

static void test_env_override(void **state)
{
	static const char text[] = "poll_interval = 7\n"
				   "ca_file = /etc/ca.pem\n"
				   "allow_commands = true\n"
				   "command_allow = ^from-file$\n";
	const char *path = write_file("env.conf", text, sizeof(text) - 1, 0600);
	char *const envp[] = {
		"PATH=/usr/bin",
		"DIAGAGENT_POLL_INTERVAL= 3m\n",
		"DIAGAGENT_BPFTRACE=/opt/bpftrace",
		"DIAGAGENT_NOT_A_KEY=1",
		"DIAGAGENT_CA_FILE=",
		"DIAGAGENT_LOG_LEVEL=error",
		"DIAGAGENT_COMMAND_ALLOW=^uptime$\n\n  ^ps aux$  \n",
		"DIAGAGENT_POLL_INTERVAL=99", /* the first one counts, as with getenv() */
		"diagagent_max_events=5",
		NULL,
	};
	struct config_error err;
	struct config c;

	config_init(&c);
	assert_int_equal(config_load(&c, path, envp, &err), 0);
	assert_int_equal(c.poll_interval, 180);
	assert_null(c.ca_file);
	assert_int_equal(c.log_level, LOG_ERROR);
	assert_int_equal(c.max_events, 10000);
	assert_int_equal(c.ncommand_allow, 2);
	assert_string_equal(c.command_allow[0], "^uptime$");
	assert_string_equal(c.command_allow[1], "^ps aux$");
	assert_true(config_command_allowed(&c, "ps aux"));
	assert_false(config_command_allowed(&c, "from-file"));
	config_release(&c);
}

static void test_env_errors(void **state)
{
	static const struct {
		const char *var;
		const char *msg;
	} cases[] = {
		{ "DIAGAGENT_POLL_INTERVAL=abc",
		  "DIAGAGENT_POLL_INTERVAL: bad value 'abc' for poll_interval: expected seconds (1..86400)" },
		{ "DIAGAGENT_OUTBOX_MAX_BYTES=2T",
		  "DIAGAGENT_OUTBOX_MAX_BYTES: bad value '2T' for outbox_max_bytes: expected bytes (1M..1024G)" },
		{ "DIAGAGENT_SPOOL_DIR=", "DIAGAGENT_SPOOL_DIR: spool_dir needs a value (default /var/lib/diagagent)" },
		{ "DIAGAGENT_CLIENT_KEY=/k.pem", "DIAGAGENT_CLIENT_KEY: client_key is set but client_cert is not" },
		{ "DIAGAGENT_TOKEN_FILE=/a\nb",
		  "DIAGAGENT_TOKEN_FILE: bad value for token_file: control character 0x0a at offset 2" },
		{ "DIAGAGENT_COMMAND_ALLOW=ok\n(bad", "DIAGAGENT_COMMAND_ALLOW (line 2): bad command_allow pattern "
						      "'(bad': missing closing parenthesis at offset 4" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *const envp[] = { (char *)cases[i].var, NULL };
		struct config_error err;
		struct config c;

		config_init(&c);
		assert_int_equal(config_load(&c, NULL, envp, &err), -EINVAL);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("'%s':\n got  '%s'\n want '%s'", cases[i].var, err.msg, cases[i].msg);
		config_release(&c);
	}
}

/* ---- printing ---------------------------------------------------------------------- */

static void assert_str_same(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_config_equal(const struct config *a, const struct config *b)
{
	assert_str_same(a->server_url, b->server_url);
	assert_str_same(a->agent_id, b->agent_id);
	assert_str_same(a->token_file, b->token_file);
	assert_str_same(a->ca_file, b->ca_file);
	assert_str_same(a->client_cert, b->client_cert);
	assert_str_same(a->client_key, b->client_key);
	assert_int_equal(a->poll_interval, b->poll_interval);
	assert_int_equal(a->heartbeat_interval, b->heartbeat_interval);
	assert_int_equal(a->max_backoff, b->max_backoff);
	assert_int_equal(a->http_timeout, b->http_timeout);
	assert_int_equal(a->connect_timeout, b->connect_timeout);
	assert_int_equal(a->kill_grace, b->kill_grace);
	assert_int_equal(a->shutdown_grace, b->shutdown_grace);
	assert_str_same(a->spool_dir, b->spool_dir);
	assert_int_equal(a->outbox_max_results, b->outbox_max_results);
	assert_true(a->outbox_max_bytes == b->outbox_max_bytes);
	assert_int_equal(a->results_batch, b->results_batch);
	assert_true(a->results_batch_bytes == b->results_batch_bytes);
	assert_int_equal(a->max_concurrent_jobs, b->max_concurrent_jobs);
	assert_int_equal(a->max_queued_jobs, b->max_queued_jobs);
	assert_int_equal(a->max_trace_duration, b->max_trace_duration);
	assert_int_equal(a->max_command_timeout, b->max_command_timeout);
	assert_int_equal(a->max_events, b->max_events);
	assert_int_equal(a->max_output_bytes, b->max_output_bytes);
	assert_int_equal(a->allow_commands, b->allow_commands);
	assert_int_equal(a->ncommand_allow, b->ncommand_allow);
	for (int i = 0; i < a->ncommand_allow; i++)
		assert_string_equal(a->command_allow[i], b->command_allow[i]);
	assert_int_equal(a->allow_raw_programs, b->allow_raw_programs);
	assert_int_equal(a->log_level, b->log_level);
}

static void round_trip(const char *text, char *const *envp)
{
	struct config_error err;
	struct config a, b;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	config_init(&a);
	if (envp)
		assert_int_equal(config_load(&a, NULL, envp, &err), 0);
	else
		assert_int_equal(config_parse_text(&a, text, strlen(text), "t.conf", &err), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_print(&a, f);
	assert_int_equal(fclose(f), 0);
	config_init(&b);
	if (config_parse_text(&b, out, len, "printed", &err) != 0)
		fail_msg("%s\n%s", err.msg, out);
	assert_config_equal(&a, &b);
	free(out);
	config_release(&a);
	config_release(&b);
}

static void test_print_round_trip(void **state)
{
	char *const envp[] = {
		"DIAGAGENT_SPOOL_DIR=\"quoted\" start",
		"DIAGAGENT_TOKEN_FILE=/a # not a comment",
		"DIAGAGENT_CA_FILE=#hash",
		"DIAGAGENT_CLIENT_CERT=/back\\slash\"",
		"DIAGAGENT_CLIENT_KEY=/k",
		"DIAGAGENT_COMMAND_ALLOW=\"^quoted$\"\n^a #b \\d$",
		NULL,
	};

	round_trip("", NULL);
	round_trip(every_key, NULL);
	round_trip("client_key = \" /k \"\nclient_cert = \"\\\"\"\ncommand_allow = \" x\"\n", NULL);
	round_trip(NULL, envp);
}

static void test_print_format(void **state)
{
	struct config_error err;
	struct config c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(parse(&c, "agent_id = a1\ncommand_allow = x\n", &err), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_print(&c, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(out, "\nserver_url = http://127.0.0.1:8080\n"));
	assert_non_null(strstr(out, "\nagent_id = a1\n"));
	assert_non_null(strstr(out, "\n# ca_file =\n"));
	assert_non_null(strstr(out, "\n# client_cert =\n"));
	assert_non_null(strstr(out, "\noutbox_max_bytes = 268435456\n"));
	assert_non_null(strstr(out, "\ncommand_allow = x\n"));
	assert_non_null(strstr(out, "\nlog_level = info\n"));
	free(out);
	config_release(&c);
}

/* ---- the token --------------------------------------------------------------------- */

static int token_from(const char *text, size_t len, mode_t mode, char **token, struct config_error *err)
{
	struct config c;
	int rc;

	config_init(&c);
	free(c.token_file);
	c.token_file = strdup(write_file("token", text, len, mode));
	assert_non_null(c.token_file);
	rc = config_read_token(&c, token, err);
	config_release(&c);
	return rc;
}

#define TOKEN(text, mode) token_from(text, sizeof(text) - 1, mode, &token, &err)

static void test_token(void **state)
{
	struct config_error err;
	char want[256];
	char *token = NULL;
	char *big;

	assert_int_equal(TOKEN("  s3cr3t-T0ken \t\r\nsecond line\n", 0600), 0);
	assert_string_equal(token, "s3cr3t-T0ken");
	free(token);
	assert_int_equal(TOKEN("abc", 0400), 0);
	assert_string_equal(token, "abc");
	free(token);

	token = (char *)"junk";
	assert_int_equal(TOKEN("s3cr3t\n", 0644), -EPERM);
	assert_null(token);
	snprintf(want, sizeof(want), "token file '%s/token' is readable by group or others (mode 0644)", tmpdir);
	assert_string_equal(err.msg, want);
	snprintf(want, sizeof(want), "chmod 600 %s/token", tmpdir);
	assert_string_equal(err.hint, want);
	assert_null(strstr(err.msg, "s3cr3t"));
	assert_int_equal(TOKEN("s3cr3t\n", 0620), -EPERM);
	assert_non_null(strstr(err.msg, "is writable by group or others (mode 0620)"));
	assert_int_equal(TOKEN("s3cr3t\n", 0604), -EPERM);

	assert_int_equal(TOKEN("", 0600), -EINVAL);
	assert_non_null(strstr(err.msg, "' is empty"));
	assert_int_equal(TOKEN(" \n tok\n", 0600), -EINVAL);
	assert_int_equal(TOKEN("ab cd\n", 0600), -EINVAL);
	assert_non_null(strstr(err.msg, "byte 0x20 at offset 2 is not allowed in an HTTP header"));
	assert_null(strstr(err.msg, "ab"));
	assert_int_equal(TOKEN("ab\x7f"
			       "cd\n",
			       0600),
			 -EINVAL);
	assert_int_equal(TOKEN("ab\0cd\n", 0600), -EINVAL);

	big = malloc(5000);
	assert_non_null(big);
	memset(big, 'a', 5000);
	assert_int_equal(token_from(big, 4096, 0600, &token, &err), 0);
	assert_int_equal(strlen(token), 4096);
	free(token);
	assert_int_equal(token_from(big, 4097, 0600, &token, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is larger than 4096 bytes"));
	free(big);
}

static void test_token_missing(void **state)
{
	struct config_error err;
	struct config c;
	char *token = NULL;
	char path[128], want[256];

	config_init(&c);
	snprintf(path, sizeof(path), "%s/no-token", tmpdir);
	free(c.token_file);
	c.token_file = strdup(path);
	assert_int_equal(config_read_token(&c, &token, &err), -ENOENT);
	snprintf(want, sizeof(want), "cannot open token file '%s': No such file or directory", path);
	assert_string_equal(err.msg, want);
	free(c.token_file);
	c.token_file = strdup(tmpdir);
	assert_int_equal(config_read_token(&c, &token, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	config_release(&c);
}

/* ---- small things ------------------------------------------------------------------ */

static void test_misc(void **state)
{
	struct config c;

	assert_string_equal(config_log_level_name(LOG_ERROR), "error");
	assert_string_equal(config_log_level_name(LOG_WARN), "warn");
	assert_string_equal(config_log_level_name(LOG_INFO), "info");
	assert_string_equal(config_log_level_name(LOG_DEBUG), "debug");
	assert_string_equal(config_log_level_name((enum log_level)9), "?");
	memset(&c, 0, sizeof(c));
	config_release(&c);
	config_release(NULL);
	config_init(&c);
	config_release(&c);
	assert_null(c.server_url);
	assert_int_equal(c.poll_interval, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_suffixes),
		cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_size_hints),
		cmocka_unit_test(test_agent_id_length),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_comments_and_quotes),
		cmocka_unit_test(test_quote_errors),
		cmocka_unit_test(test_empty_optional),
		cmocka_unit_test(test_server_url),
		cmocka_unit_test(test_command_allow),
		cmocka_unit_test(test_bad_pattern),
		cmocka_unit_test(test_too_many_patterns),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_env_override),
		cmocka_unit_test(test_env_errors),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_format),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_token_missing),
		cmocka_unit_test(test_misc),
	};
	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
