/* compile.c - from a command line's specs to a program, as script and trace share it. */
#include "agent/compile.h"

#include "tracespec/dwtypes.h"
#include "tracespec/ktypes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void compile_env(const struct caps *c, const struct traceopts *t, struct lower_env *env)
{
	memset(env, 0, sizeof(*env));
	env->tracefs = c->tracefs_path;
	/* "unknown" (e.g. not root) still lets a program be written; running it
	 * is checked separately. */
	env->can_tracepoint = c->probe[CAPS_TRACEPOINT].state != CAPS_NO;
	env->can_kprobe = c->probe[CAPS_KPROBE].state == CAPS_YES || t->assume_kprobes;
	env->can_kfunc = c->probe[CAPS_KFUNC].state == CAPS_YES || t->assume_kfunc;
	env->can_uprobe = c->probe[CAPS_UPROBE].state != CAPS_NO;
	env->can_usdt = c->probe[CAPS_USDT].state != CAPS_NO;
	env->check_symbols = true;
}

void compile_print_error(const char *cmd, const char *text, const struct spec_error *err)
{
	fprintf(stderr, "diagagent %s: %s\n", cmd, err->msg[0] ? err->msg : "bad spec");
	if (text && err->col >= 0) {
		int col = err->col > (int)strlen(text) ? (int)strlen(text) : err->col;

		fprintf(stderr, "  %s\n  ", text);
		for (int i = 0; i < col; i++)
			fputc(text[i] == '\t' ? '\t' : ' ', stderr);
		fputs("^\n", stderr);
	}
	if (err->hint[0])
		fprintf(stderr, "  hint: %s\n", err->hint);
}

int compile_specs(const struct traceopts *t, const struct cli_command *cmd, const struct caps *c,
		  struct codegen_result *res)
{
	struct trace_spec **specs = calloc((size_t)t->nspecs, sizeof(struct trace_spec *));
	struct spec_error err;
	struct lower_env env;
	int rc = CLI_OK, bad, n = 0;

	memset(res, 0, sizeof(*res));
	if (!specs) {
		fprintf(stderr, "diagagent %s: out of memory\n", cmd->name);
		return CLI_FAIL;
	}
	for (; n < t->nspecs; n++) {
		int prc = spec_parse(t->specs[n], &specs[n], &err);

		if (prc < 0) {
			compile_print_error(cmd->name, t->specs[n], &err);
			rc = prc == -ENOMEM ? CLI_FAIL : CLI_USAGE;
			goto out;
		}
	}
	compile_env(c, t, &env);
	rc = codegen_emit(specs, n, &t->opts, &env, res, &err, &bad);
	if (rc < 0) {
		compile_print_error(cmd->name, bad >= 0 ? t->specs[bad] : NULL, &err);
		rc = rc == -EOPNOTSUPP ? CLI_HOST : rc == -ENOMEM ? CLI_FAIL : CLI_USAGE;
	}
out:
	ktypes_release();
	dwtypes_release();
	for (int i = 0; i < n; i++)
		spec_free(specs[i]);
	free(specs);
	return rc;
}
