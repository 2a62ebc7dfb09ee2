/* compile.h - from a command line's specs to a program, as script and trace share it.
 *
 * Parses every spec, lowers them by this host's capabilities and generates
 * the program; errors are printed the way bpftrace prints its own: the spec,
 * a caret under the column, the message and a hint.
 */
#ifndef DIAG_COMPILE_H
#define DIAG_COMPILE_H

#include "agent/caps.h"
#include "agent/traceopts.h"
#include "tracespec/codegen.h"

/* The lowering environment for this host: probe kinds that are not known to
 * be impossible here, plus what --assume adds. */
void compile_env(const struct caps *c, const struct traceopts *t, struct lower_env *env);

/* Compile t's specs. Returns CLI_OK with res filled (codegen_release() it),
 * CLI_USAGE for a bad spec or option, CLI_HOST when the host cannot attach
 * what a spec needs, CLI_FAIL otherwise; the error is printed to stderr. */
int compile_specs(const struct traceopts *t, const struct cli_command *cmd, const struct caps *c,
		  struct codegen_result *res);

/* Print a spec error bpftrace-style to stderr: "diagagent CMD: MESSAGE",
 * the text with a caret under err->col (when the column is known), the hint. */
void compile_print_error(const char *cmd, const char *text, const struct spec_error *err);

#endif /* DIAG_COMPILE_H */
