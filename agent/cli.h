/* cli.h - the command-line front: command table, exit codes, usage errors.
 *
 * Each command lives in its own cmd_NAME.c and exports one struct
 * cli_command. main.c dispatches; only main() exits.
 */
#ifndef DIAG_CLI_H
#define DIAG_CLI_H

/* Exit codes shared by every command. */
enum cli_exit {
	CLI_OK = 0,    /* success */
	CLI_FAIL = 1,  /* failure while running */
	CLI_USAGE = 2, /* bad usage or bad input (spec, config) */
	CLI_HOST = 3,  /* the host cannot do it (missing capability, not root) */
};

struct cli_command {
	const char *name;
	const char *summary;		   /* one line for the command list */
	const char *usage;		   /* "usage: diagagent NAME ..." line(s) */
	const char *help;		   /* what the arguments are, and the command's own options */
	const char *common;		   /* options shared with other commands, or NULL */
	const char *examples;		   /* "examples:\n  ..." */
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct cli_command cli_caps;
extern const struct cli_command cli_config;
extern const struct cli_command cli_diagnose;
extern const struct cli_command cli_run;
extern const struct cli_command cli_script;
extern const struct cli_command cli_suggest;
extern const struct cli_command cli_trace;

/* Print the command's usage and help to stdout (for --help). Returns CLI_OK. */
int cli_help(const struct cli_command *cmd);

/* Print "diagagent NAME: MESSAGE" and the usage to stderr. Returns CLI_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last of SIGINT, SIGTERM, SIGHUP caught since it was reset to 0
 * (cli_catch_stop_signals()); for the foreground commands' loops. */
extern volatile int cli_stop_signal;

/* Catch SIGINT, SIGTERM and SIGHUP into cli_stop_signal. */
void cli_catch_stop_signals(void);

/* Report an unknown option or a missing argument from getopt_long() (opterr
 * must be 0, optstring start with ':'). Returns CLI_USAGE. */
int cli_bad_option(const struct cli_command *cmd, int opt, char **argv);

#endif /* DIAG_CLI_H */
