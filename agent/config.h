/* config.h - agent.conf: defaults, the file, DIAGAGENT_<KEY> overrides, checks.
 *
 * Format: `key = value` lines; a line whose first non-blank character is
 * '#' is a comment; blank lines are skipped; a value may be wrapped in
 * double quotes (inside them \" is a quote and \\ a backslash); for
 * every key but command_allow, blanks followed by '#' start a trailing
 * comment. An empty value for ca_file, client_cert or client_key unsets it.
 * A key set twice is an error, except command_allow, which may be repeated
 * (one PCRE2 pattern per line, matched against the whole command). Lines
 * are at most CONFIG_MAX_LINE bytes, values 2000. Numbers are
 * decimal; durations are seconds (a suffix s, m or h is accepted); sizes
 * are bytes (a suffix K, M or G, binary, is accepted). Booleans are
 * true/false, yes/no, on/off, 1/0.
 *
 * Every key can be overridden by the environment variable DIAGAGENT_<KEY>
 * (upper case); DIAGAGENT_COMMAND_ALLOW holds newline-separated patterns
 * and replaces the file's list; an environment value is taken as it is
 * (blanks around it trimmed; no quotes, no comments). Unknown keys, bad
 * values, values out of range and unreadable files are errors with the
 * file, line and a hint.
 * Other DIAGAGENT_* variables (DIAGAGENT_BPFTRACE, ...) are left alone.
 */
#ifndef DIAG_CONFIG_H
#define DIAG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

#define CONFIG_DEFAULT_PATH "/etc/diagagent/agent.conf"
#define CONFIG_MAX_PATTERNS 256	 /* command_allow entries at most */
#define CONFIG_MAX_LINE	    4096 /* longest line of agent.conf */

struct config {
	char *server_url; /* http:// or https://; no trailing '/' kept */
	char *agent_id;	  /* [A-Za-z0-9._-]{1,128}; default: the host name */
	char *token_file;
	char *ca_file;	   /* NULL: the system's roots */
	char *client_cert; /* NULL: none; cert and key go together */
	char *client_key;
	int poll_interval;	       /* seconds, 1..86400, default 10 */
	int heartbeat_interval;	       /* 1..86400, default 60 */
	int max_backoff;	       /* 1..86400, default 300 */
	int http_timeout;	       /* 1..3600, default 15 */
	int connect_timeout;	       /* 1..3600, default 5 */
	int kill_grace;		       /* 1..300, default 5: bpftrace needs a moment to print its maps */
	int shutdown_grace;	       /* 0..3600, default 10 */
	char *spool_dir;	       /* default /var/lib/diagagent */
	long outbox_max_results;       /* 1..10000000, default 10000 */
	long long outbox_max_bytes;    /* 1 MiB..1 TiB, default 256 MiB */
	int results_batch;	       /* results per POST, 1..10000, default 50 */
	long long results_batch_bytes; /* bytes per POST, 64 KiB..1 GiB, default 4 MiB */
	int max_concurrent_jobs;       /* 1..64, default 4 */
	int max_queued_jobs;	       /* jobs waiting to start, 1..100000, default 1000 */
	int max_trace_duration;	       /* 1..86400, default 600 */
	int max_command_timeout;       /* 1..86400, default 300 */
	long max_events;	       /* 1..10000000, default 10000 */
	long max_output_bytes;	       /* 1 KiB..64 MiB, default 64 KiB */
	bool allow_commands;	       /* default false */
	char **command_allow;	       /* pattern texts, ncommand_allow of them */
	int ncommand_allow;
	void **command_re;	  /* compiled pcre2_code *, one per pattern */
	bool allow_raw_programs;  /* default false */
	enum log_level log_level; /* default LOG_INFO */
	char *path;		  /* the file loaded; NULL when none */
	char *warnings;		  /* newline-separated warnings ("server_url uses
	                                plain http: ..."); NULL when none */
};

/* Where loading failed: "agent.conf:12: unknown key 'pol_interval'" and
 * "did you mean 'poll_interval'?". */
struct config_error {
	char msg[512];	/* one line, starting with FILE:LINE: or the variable name */
	char hint[256]; /* "" when there is none */
};

/* Fill c with every default (agent_id: the host name, which config_load()
 * refuses when it is not a valid id and agent_id is not set). Cannot fail
 * except for memory, which leaves NULL strings that config_load() reports. */
void config_init(struct config *c);

/* Load path (NULL: no file, defaults and environment only) into c, which
 * must come from config_init(), then apply DIAGAGENT_<KEY> variables from
 * envp (NULL: environ), then check ranges and compile the patterns.
 * Warnings (not errors) go to c->warnings. Returns 0, or -EINVAL / -ENOENT /
 * -EACCES / -ENOMEM (another errno from open() or read(); -EFBIG for a file
 * over 1 MiB) with err filled; c is then partly loaded: config_release() it.
 * err may be NULL. */
int config_load(struct config *c, const char *path, char *const *envp, struct config_error *err);

/* The same on text already in memory (for tests and the fuzzer); name is
 * used in messages instead of a file name (NULL: "(text)"). No environment
 * is applied; c->path is left alone. */
int config_parse_text(struct config *c, const char *text, size_t len, const char *name, struct config_error *err);

/* Read the bearer token from c->token_file: the first line, blanks
 * trimmed. Refused (-EPERM) when the file is readable or writable by group
 * or others, with the reason and "chmod 600 FILE" as the hint; -ENOENT,
 * -EACCES for an unreadable file; -EINVAL for an empty token, one with
 * characters not allowed in an HTTP header (bytes below 0x21, 0x7f), a file
 * over 4096 bytes or not a regular file. Messages never hold the token.
 * Returns 0 with *token set (free() it), else *token is NULL. */
int config_read_token(const struct config *c, char **token, struct config_error *err);

/* Wipe a secret (a token from config_read_token(), a header holding it)
 * and free it, so it does not linger in freed memory; NULL is a no-op. */
void config_free_secret(char *secret);

/* Check that the TLS files (ca_file, client_cert, client_key) that are set
 * can be read, so a typo shows at start-up and in `config check`, not at
 * the first request. Returns 0, or a negative errno with err filled. */
int config_check_files(const struct config *c, struct config_error *err);

/* True when allow_commands is on and some command_allow pattern matches
 * the whole command (patterns are compiled anchored at both ends, '$' only
 * at the very end). A match that hits PCRE2's backtracking limit counts as
 * no match. Safe to call from several threads on one loaded c. */
bool config_command_allowed(const struct config *c, const char *command);

/* The same with out of memory told apart: 1 allowed, 0 not, -ENOMEM when
 * the match could not be run (config_command_allowed() then says no). */
int config_command_match(const struct config *c, const char *command);

/* Print the effective configuration in agent.conf's own format, every key
 * (defaults included, unset optional keys as comments), so the output loads
 * again. The token itself is never printed (token_file is). */
void config_print(const struct config *c, FILE *out);

/* Free everything c holds; c is left as after memset 0. */
void config_release(struct config *c);

/* "error", "warn", "info", "debug". */
const char *config_log_level_name(enum log_level l);

#endif /* DIAG_CONFIG_H */
