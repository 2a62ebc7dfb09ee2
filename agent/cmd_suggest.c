/* cmd_suggest.c - `diagagent suggest`: what to trace for a symptom in words. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/caps.h"
#include "agent/cli.h"
#include "agent/compile.h"
#include "agent/jsontext.h"
#include "agent/result.h"
#include "agent/suggestjob.h"

static int suggest_run(int argc, char **argv);

const struct cli_command cli_suggest = {
	.name = "suggest",
	.summary = "Suggest what to trace for a symptom in words, with ready specs",
	.usage = "usage: diagagent suggest [--json] [-n N] [--kb FILE] TEXT...\n"
		 "       diagagent suggest --list [--json] [--kb FILE]",
	.help = "TEXT describes the symptom as you would to a colleague, or is a log line: plain\n"
		"words (\"can't find file\"), errno names, numbers and texts (EACCES, \"errno 13\",\n"
		"\"Permission denied\"), log fragments (\"Too many open files\", \"segfault\"). A PID\n"
		"or process name in it is carried into the specs as -p / -n. '-' reads the text\n"
		"from standard input. Only targets this host can attach are offered; where the\n"
		"best one cannot attach, the nearest one that can is offered and the answer says so.\n"
		"\n"
		"options:\n"
		"  -n, --max N     at most N suggestions (1..50, default 5)\n"
		"  -j, --json      print the protocol's suggestion result\n"
		"      --list      print every family the knowledge base knows and its specs, as\n"
		"                  they would run here (ENOENT, or the family's errno, filled in)\n"
		"      --kb FILE   read the knowledge base from FILE instead of the built-in one\n"
		"                  ($DIAGAGENT_KB does the same)\n"
		"  -h, --help      show this help\n",
	.examples = "examples:\n"
		    "  diagagent suggest \"file not found error\"\n"
		    "  diagagent suggest 'nginx[1234]: accept4() failed (24: Too many open files)'\n"
		    "  dmesg | tail -n 1 | diagagent suggest -\n"
		    "  diagagent suggest --json -n 3 ECONNREFUSED | jq -r '.suggestions[0].command'\n",
	.run = suggest_run,
};

/* The words of argv joined by spaces, or standard input for "-". */
static char *read_text(int argc, char **argv, const char **why)
{
	struct strbuf sb = STRBUF_INIT(SUGGEST_MAX_TEXT + 1);

	if (argc == 1 && strcmp(argv[0], "-") == 0) {
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			if (strbuf_add(&sb, buf, n))
				break;
		if (ferror(stdin))
			*why = "cannot read standard input";
		/* a log line's trailing newline is not part of the symptom */
		while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
			sb.buf[--sb.len] = '\0';
	} else {
		for (int i = 0; i < argc; i++)
			strbuf_addf(&sb, "%s%s", i ? " " : "", argv[i]);
	}
	if (sb.err == -E2BIG)
		*why = "the text is longer than 16384 bytes: quote the key line";
	else if (sb.err)
		*why = "out of memory";
	if (*why) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static void print_read(const struct suggest_result *r)
{
	const char *sep = "";

	if (!r->nerrnos && !r->pid && !r->process[0] && !r->nfixes && !r->syscall[0])
		return;
	printf("read: ");
	if (r->syscall[0]) {
		printf("syscall %s", r->syscall);
		sep = ", ";
	}
	for (int i = 0; i < r->nerrnos; i++, sep = ", ")
		printf("%s%s (%d)", sep, kb_errno_name(r->errnos[i]), r->errnos[i]);
	if (r->pid) {
		printf("%spid %d", sep, r->pid);
		sep = ", ";
	}
	if (r->process[0]) {
		printf("%sprocess '%s'", sep, r->process);
		sep = ", ";
	}
	for (int i = 0; i < r->nfixes; i++, sep = ", ")
		printf("%s'%s' as '%s'", sep, r->fixes[i].from, r->fixes[i].to);
	printf("\n\n");
}

static int print_answer(const char *text, const struct suggest_result *r)
{
	struct strbuf cmd = STRBUF_INIT(SPEC_MAX_LEN * 2);

	print_read(r);
	if (!r->matched)
		printf("No symptom I know matched \"%s\".\nGeneral starting points:\n\n", text);
	for (int i = 0; i < r->nitems; i++) {
		const struct suggest_item *it = &r->items[i];

		if (r->matched)
			printf("%d. %s  (%s)  score %.2f\n", i + 1, it->target, it->target_type, it->score);
		else
			printf("%d. %s  (%s)\n", i + 1, it->target, it->target_type);
		printf("   %s\n", it->reason);
		strbuf_release(&cmd);
		if (suggest_command(it, &cmd) == 0)
			printf("   $ %s\n", strbuf_str(&cmd));
		putchar('\n');
	}
	for (int i = 0; i < r->nunavail; i++)
		printf("cannot run here: %s: %s\n", r->unavail[i].spec, r->unavail[i].why);
	if (!r->matched)
		printf("Describe the symptom in other words, or name the errno or the failing call.\n");
	strbuf_release(&cmd);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static int answer(const struct kb *kb, const struct caps *c, int argc, char **argv, int max, bool json)
{
	struct traceopts none = { 0 };
	struct suggest_result r;
	struct lower_env env;
	const char *why = NULL;
	char err[256];
	char *text = read_text(argc, argv, &why);
	int64_t t0 = result_now_ns();
	int rc;

	if (!text) {
		fprintf(stderr, "diagagent suggest: %s\n", why);
		return CLI_USAGE;
	}
	compile_env(c, &none, &env);
	rc = suggest_query(kb, text, &env, max, &r, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "diagagent suggest: %s\n", err);
		free(text);
		return rc == -ENOMEM ? CLI_FAIL : CLI_USAGE;
	}
	if (json) {
		json_t *res = suggestjob_result(NULL, text, &r, t0);

		rc = res && jsontext_print(res, JSON_INDENT(2) | JSON_PRESERVE_ORDER, stdout) == 0 ? CLI_OK : CLI_FAIL;
		json_decref(res);
		if (rc == CLI_OK && fflush(stdout) != 0)
			rc = CLI_FAIL;
	} else {
		rc = print_answer(text, &r);
	}
	suggest_release(&r);
	free(text);
	return rc;
}

/* --list: every family and its specs as they would run here. */
static int list_kb(const struct kb *kb, const struct caps *c, bool json)
{
	struct traceopts none = { 0 };
	struct lower_env env;
	json_t *fams = json ? json_array() : NULL;
	bool ok = !json || fams;

	compile_env(c, &none, &env);
	for (int i = 0; ok && i < kb->nfam; i++) {
		const struct kb_family *f = &kb->fam[i];
		json_t *specs = json ? json_array() : NULL;
		/* what a query would most likely fill in: the family's errno, a syscall */
		struct kb_vars vars = { f->nerrnos ? f->errnos[0] : ENOENT, "openat" };

		if (!json)
			printf("%s: %s\n", f->id, f->title);
		for (int j = 0; ok && j < f->nsugg; j++) {
			for (int k = -1; ok && k < f->sugg[j].ninstead; k++) {
				struct strbuf sb = STRBUF_INIT(SPEC_MAX_LEN);
				char target[160], lib[PATH_MAX], why[256];
				const char *type = NULL;
				int rc = kb_fill(k < 0 ? f->sugg[j].spec : f->sugg[j].instead[k], &vars, &sb);

				if (rc == 0)
					rc = suggest_target(strbuf_str(&sb), &env, target, sizeof(target), &type, lib,
							    sizeof(lib), why, sizeof(why));
				if (json)
					ok = json_array_append_new(
						     specs, rc == 0 ? json_pack("{sssbssss}", "spec", strbuf_str(&sb),
										"attaches", 1, "target", target,
										"target_type", type) :
								      json_pack("{sssbss}", "spec", strbuf_str(&sb),
										"attaches", 0, "why", why)) == 0;
				else
					printf("  %s%s\n      %s%s\n", k < 0 ? "" : "instead: ", strbuf_str(&sb),
					       rc == 0 ? "-> " : "cannot run here: ", rc == 0 ? target : why);
				strbuf_release(&sb);
			}
		}
		if (json)
			ok = ok && json_array_append_new(fams, json_pack("{sssssiso}", "id", f->id, "title", f->title,
									 "starter", f->starter, "specs", specs)) == 0;
	}
	if (json) {
		json_t *o = ok ? json_pack("{sssO}", "source", kb->source, "families", fams) : NULL;

		ok = o && jsontext_print(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER, stdout) == 0;
		json_decref(o);
		json_decref(fams);
	}
	if (!ok)
		fprintf(stderr, "diagagent suggest: out of memory\n");
	return ok && fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static int suggest_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
		{ "list", no_argument, NULL, 'l' },	 { "kb", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },	 { NULL, 0, NULL, 0 },
	};
	const char *kb_path = NULL;
	struct kb_error kerr;
	struct kb *kb = NULL;
	struct caps c;
	bool json = false, list = false;
	int opt, max = SUGGEST_DEFAULT_ITEMS, rc;

	while ((opt = getopt_long(argc, argv, ":n:jh", longopts, NULL)) != -1) {
		char *end;
		long v;

		switch (opt) {
		case 'n':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 || v > SUGGEST_MAX_ITEMS)
				return cli_usage_error(&cli_suggest, "-n takes a number from 1 to %d, not '%s'",
						       SUGGEST_MAX_ITEMS, optarg);
			max = (int)v;
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			list = true;
			break;
		case 'k':
			kb_path = optarg;
			break;
		case 'h':
			return cli_help(&cli_suggest);
		default:
			return cli_bad_option(&cli_suggest, opt, argv);
		}
	}
	if (!list && optind >= argc)
		return cli_usage_error(&cli_suggest,
				       "describe the symptom, e.g. diagagent suggest \"file not found error\"");
	if (list && optind < argc)
		return cli_usage_error(&cli_suggest, "--list takes no text");
	rc = kb_path ? kb_load_file(kb_path, &kb, &kerr) : kb_load_default(&kb, &kerr);
	if (rc < 0) {
		char msg[600];

		fprintf(stderr, "diagagent suggest: %s\n", kb_error_text(&kerr, msg, sizeof(msg)));
		if (kerr.hint[0])
			fprintf(stderr, "  hint: %s\n", kerr.hint);
		return rc == -ENOMEM ? CLI_FAIL : CLI_USAGE;
	}
	caps_probe_quick(&c);
	if (list)
		rc = list_kb(kb, &c, json);
	else
		rc = answer(kb, &c, argc - optind, argv + optind, max, json);
	kb_free(kb);
	return rc;
}
