/* codegen.c - specs and options to one bpftrace program and its event layout. */
#include "tracespec/codegen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tracespec/dwtypes.h"
#include "tracespec/etype.h"
#include "tracespec/ktypes.h"

#define TASK_COMM_LEN 16

void trace_opts_init(struct trace_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = o->tid = o->uid = -1;
	o->max_events = -1;
}

void trace_opts_release(struct trace_opts *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->cgroup);
	free(o->msg_regex);
	trace_opts_init(o);
}

/* ---- how one spec's leaves are spelled ------------------------------------ */

struct probe_gen {
	const struct trace_spec *s;
	const struct lowered *lw;
	bool paired; /* syscall saved at entry, event at exit */
	bool filter_at_exit;
	bool exit_side;		  /* emitting the exit probe: arguments come from $__e */
	int saved[TP_FIELDS_MAX]; /* field -> position in the saved tuple (0: not saved) */
	int nsaved;
	int index;
};

static int field_index(const struct tp_format *f, const char *name)
{
	for (int i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return i;
	return -1;
}

static void field_hint(const struct tp_format *f, char *hint, size_t size)
{
	size_t len = (size_t)snprintf(hint, size, "its fields are");

	for (int i = 0; i < f->nfields && len < size; i++)
		len += (size_t)snprintf(hint + len, size - len, "%s args->%s", i ? "," : "", f->fields[i].name);
}

static int emit_field(struct probe_gen *g, int f, struct strbuf *out)
{
	if (g->exit_side && g->paired) {
		if (!g->saved[f])
			return -EINVAL; /* the analysis saved every field the exit side uses */
		/* Read from the map, not a stack copy of the tuple: with -Z 200
		 * a copy would push the program past the 512-byte BPF stack. */
		return strbuf_addf(out, "@__e%d[tid].%d", g->index, g->saved[f]);
	}
	return strbuf_addf(out, "args->%s", g->lw->fields.fields[f].name);
}

static int unknown_field(struct probe_gen *g, const struct expr *e, struct spec_error *err)
{
	char hint[256];

	field_hint(&g->lw->fields, hint, sizeof(hint));
	specerr_set(err, e->col, hint, "'%s' has no field '%s'", g->lw->name, e->u.name);
	return -EINVAL;
}

/* The field index a syscall leaf refers to; -1 when it is not one. */
static int syscall_field(struct probe_gen *g, const struct expr *e)
{
	if (e->kind == EXPR_ARG)
		return e->u.arg.n - 1;
	if (e->kind == EXPR_PARAM)
		return e->u.param.index;
	if (e->kind == EXPR_TPFIELD)
		return field_index(&g->lw->fields, e->u.name);
	return -1;
}

static int emit_arg(struct probe_gen *g, const struct expr *e, int n, struct strbuf *out, struct spec_error *err)
{
	const struct lowered *lw = g->lw;

	switch (lw->kind) {
	case LK_SYSCALL:
		if (n > lw->fields.nfields) {
			specerr_set(err, e->col, NULL, "syscall '%s' has %d argument%s; arg%d is not one", lw->name,
				    lw->fields.nfields, lw->fields.nfields == 1 ? "" : "s", n);
			return -EINVAL;
		}
		return emit_field(g, n - 1, out);
	case LK_KFUNC:
		if (n > lw->kfunc_nparams) {
			specerr_set(err, e->col, NULL, "function '%s' has %d parameters; arg%d is not one", lw->name,
				    lw->kfunc_nparams, n);
			return -EINVAL;
		}
		return strbuf_addf(out, "args->%s", lw->kfunc_params[n - 1]);
	case LK_KPROBE:
	case LK_UPROBE:
		if (lw->ret) {
			specerr_set(err, e->col, "trace the entry (p:...) to see arguments",
				    "arguments are not known in a return probe");
			return -EINVAL;
		}
		/* fall through */
	case LK_USDT:
		if (e->kind == EXPR_ARG && e->u.arg.user && lw->kind == LK_KPROBE)
			return strbuf_addf(out, "uptr(arg%d)", n - 1);
		return strbuf_addf(out, "arg%d", n - 1);
	default:
		specerr_set(err, e->col, "a tracepoint's fields are args->NAME", "arg%d is not defined here", n);
		return -EINVAL;
	}
}

static int emit_cast_open(const struct spec_param *p, struct strbuf *out)
{
	if (p->type != ET_STRUCT_PTR)
		return strbuf_addf(out, "((%s)", expr_type_name(p->type));
	strbuf_addf(out, "((struct %s ", p->struct_name);
	for (int i = 0; i < p->stars; i++)
		strbuf_putc(out, '*');
	return strbuf_putc(out, ')');
}

static int leaf(void *ud, const struct expr *e, struct strbuf *out, struct spec_error *err)
{
	struct probe_gen *g = ud;
	const struct lowered *lw = g->lw;
	int f, rc;

	switch (e->kind) {
	case EXPR_ARG:
		return emit_arg(g, e, e->u.arg.n, out, err);
	case EXPR_PARAM:
		emit_cast_open(&g->s->params[e->u.param.index], out);
		rc = emit_arg(g, e, e->u.param.index + 1, out, err);
		strbuf_putc(out, ')');
		return rc;
	case EXPR_RETVAL:
		return strbuf_puts(out, lw->kind == LK_SYSCALL ? "args->ret" : "retval");
	case EXPR_TPFIELD:
		if (lw->kind == LK_SYSCALL && strcmp(e->u.name, "ret") == 0) {
			if (!lw->ret) {
				specerr_set(err, e->col, "trace the return: r::sys_NAME",
					    "args->ret is only known at the exit");
				return -EINVAL;
			}
			return strbuf_puts(out, "args->ret");
		}
		if (lw->kind == LK_SYSCALL) {
			f = field_index(&lw->fields, e->u.name);
			return f < 0 ? unknown_field(g, e, err) : emit_field(g, f, out);
		}
		if (lw->kind == LK_TRACEPOINT) {
			if (field_index(&lw->fields, e->u.name) < 0)
				return unknown_field(g, e, err);
			return strbuf_addf(out, "args->%s", e->u.name);
		}
		if (lw->kind == LK_KFUNC)
			return strbuf_addf(out, "args->%s", e->u.name);
		specerr_set(err, e->col, "use arg1..arg6", "args->%s is only defined for tracepoints and syscalls",
			    e->u.name);
		return -EINVAL;
	default:
		specerr_set(err, e->col, NULL, "cannot emit this expression here");
		return -EINVAL;
	}
}

/* A char array field (args->prev_comm) is a string in bpftrace already. */
static bool leaf_is_string(void *ud, const struct expr *e)
{
	struct probe_gen *g = ud;
	int f;

	if (e->kind != EXPR_TPFIELD || (g->lw->kind != LK_TRACEPOINT && g->lw->kind != LK_SYSCALL))
		return false;
	f = field_index(&g->lw->fields, e->u.name);
	return f >= 0 && g->lw->fields.fields[f].is_string && !g->lw->fields.fields[f].is_pointer;
}

static bool value_is_string(struct probe_gen *g, const struct expr *e)
{
	return expr_is_string(e) || leaf_is_string(g, e);
}

/* ---- what a spec needs ------------------------------------------------------- */

static int find_string_read(const struct expr *e, void *ud)
{
	(void)ud;
	if (e->kind == EXPR_STRCMP)
		return 1;
	if (e->kind == EXPR_BINARY && (e->u.op == OP_EQ || e->u.op == OP_NE) &&
	    ((e->a->kind == EXPR_STR && !expr_is_string(e->b)) || (e->b->kind == EXPR_STR && !expr_is_string(e->a))))
		return 1;
	return 0;
}

static bool reads_string(const struct expr *e)
{
	return e && expr_walk(e, find_string_read, NULL) == 1;
}

static bool needs_strings(const struct trace_spec *s)
{
	for (int i = 0; i < s->nvalues; i++)
		if (strcmp(s->convs[i].conv, "s") == 0 && !expr_is_string(s->values[i]))
			return true;
	return reads_string(s->filter);
}

static int mark_saved(const struct expr *e, void *ud)
{
	struct probe_gen *g = ud;
	int f = syscall_field(g, e);

	if (f >= 0 && f < g->lw->fields.nfields && !g->saved[f])
		g->saved[f] = ++g->nsaved;
	return 0;
}

static void analyse(struct probe_gen *g)
{
	const struct trace_spec *s = g->s;

	g->paired = g->lw->kind == LK_SYSCALL && (g->lw->ret || needs_strings(s));
	g->filter_at_exit = g->paired && s->filter &&
			    (expr_has(s->filter, EXPR_RETVAL) || reads_string(s->filter) ||
			     expr_has(s->filter, EXPR_TPFIELD));
	if (!g->paired)
		return;
	for (int i = 0; i < s->nvalues; i++)
		expr_walk(s->values[i], mark_saved, g);
	if (g->filter_at_exit)
		expr_walk(s->filter, mark_saved, g);
}

/* ---- kernel types, checked against BTF ---------------------------------------- *
 * bpftrace would refuse these too, but only when the trace starts, and without
 * saying that `struct timespec` is `struct __kernel_timespec` in BTF or that
 * sk_dport is a C macro. Expression types (etype.c) catch the rest of what
 * bpftrace refuses: pointers in && or !, members that are not there, ... */

/* The binary whose DWARF types come first in bpftrace: a uprobe's; NULL for every other probe. */
static const char *dwarf_binary(const struct probe_gen *g)
{
	return g->lw->kind == LK_UPROBE ? g->lw->path : NULL;
}

/* struct NAME must be the uprobe binary's (DWARF) or the kernel's (BTF). */
static int check_struct(const struct probe_gen *g, const char *name, int col, struct spec_error *err)
{
	const char *bin = dwarf_binary(g);
	char suggest[160], hint[256];
	int dw = bin ? dwtypes_struct_check(bin, name) : -ENODATA;

	if (dw == -ENOMEM) {
		specerr_set(err, col, NULL, "out of memory reading the debug info of %s", bin);
		return -ENOMEM;
	}
	if (dw == 1 || (dw < 0 && dw != -ENODATA))
		return 0; /* the binary's, or its DWARF cannot be read: leave it to bpftrace */
	if (ktypes_struct_check(name, suggest, sizeof(suggest)) != 0)
		return 0; /* present, or no BTF to ask: leave it to bpftrace */
	if (suggest[0])
		snprintf(hint, sizeof(hint), "in BTF it is struct %s", suggest);
	else if (bin && dw == 0)
		snprintf(hint, sizeof(hint),
			 "bpftrace finds a uprobe's structs in the binary's debug info, then in BTF");
	else if (bin)
		snprintf(hint, sizeof(hint),
			 "the binary has no debug info (DWARF): bpftrace knows only kernel structs");
	else
		snprintf(hint, sizeof(hint), "kernel types come from BTF; list them with: bpftrace -lv 'struct *'");
	if (bin)
		specerr_set(err, col, hint, "neither %s nor the kernel has struct '%s'", bin, name);
	else
		specerr_set(err, col, hint, "the kernel has no struct '%s'", name);
	return -EINVAL;
}

struct cast_check {
	const struct probe_gen *g;
	struct spec_error *err;
};

static int check_cast_node(const struct expr *e, void *ud)
{
	struct cast_check *c = ud;

	if (e->kind == EXPR_CAST && e->u.cast.type == ET_STRUCT_PTR)
		return check_struct(c->g, e->u.cast.name, e->col, c->err);
	return 0;
}

/* A leaf's type on this probe: syscall arguments and tracepoint fields from
 * their format, parameters from the signature, arguments of kernel and
 * user functions are integers (bpftrace's argN). */
static void leaf_type(void *ud, const struct expr *e, struct ktype *out)
{
	const struct probe_gen *g = ud;
	const struct lowered *lw = g->lw;
	int f = -1;

	memset(out, 0, sizeof(*out));
	out->kind = KT_UNKNOWN;
	if (e->kind == EXPR_RETVAL || (e->kind == EXPR_TPFIELD && strcmp(e->u.name, "ret") == 0)) {
		out->kind = KT_INT;
		return;
	}
	if (e->kind == EXPR_PARAM) {
		const struct spec_param *p = &g->s->params[e->u.param.index];

		out->kind = p->type == ET_STRUCT_PTR ? KT_PTR : KT_INT;
		out->stars = p->stars;
		if (p->type == ET_STRUCT_PTR)
			snprintf(out->name, sizeof(out->name), "%s", p->struct_name);
		return;
	}
	if (lw->kind == LK_SYSCALL || lw->kind == LK_TRACEPOINT)
		f = e->kind == EXPR_ARG	    ? e->u.arg.n - 1 :
		    e->kind == EXPR_TPFIELD ? field_index(&lw->fields, e->u.name) :
					      -1;
	if (f >= 0 && f < lw->fields.nfields) {
		const struct tp_field *tf = &lw->fields.fields[f];

		etype_of_ctype(tf->type, tf->is_pointer, tf->is_string, out);
	} else if (e->kind == EXPR_ARG && (lw->kind == LK_KPROBE || lw->kind == LK_UPROBE || lw->kind == LK_USDT)) {
		out->kind = KT_INT;
	}
}

static int check_types(const struct probe_gen *g, struct spec_error *err)
{
	const struct trace_spec *s = g->s;
	struct etype_ctx ctx = { leaf_type, (void *)g, dwarf_binary(g) };
	struct cast_check cc = { g, err };
	struct ktype t;
	int rc;

	for (int i = 0; i < s->nparams; i++) {
		rc = s->params[i].type == ET_STRUCT_PTR ? check_struct(g, s->params[i].struct_name, 0, err) : 0;
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < s->nvalues; i++) {
		rc = expr_walk(s->values[i], check_cast_node, &cc);
		if (rc != 0)
			return rc;
		rc = etype_of(s->values[i], &ctx, &t, err);
		if (rc < 0)
			return rc;
		if (t.kind == KT_STRUCT || t.kind == KT_ARRAY) {
			specerr_set(err, s->values[i]->col, "print one of its members",
				    "a struct or an array cannot be printed");
			return -EINVAL;
		}
	}
	if (!s->filter)
		return 0;
	rc = expr_walk(s->filter, check_cast_node, &cc);
	return rc < 0 ? rc : etype_check_filter(s->filter, &ctx, err);
}

/* A pointer printed with an integer conversion (%d, %x, ...): bpftrace
 * prints no pointers, so it goes out as its address, (uint64). */
static bool value_is_pointer(struct probe_gen *g, const struct expr *e)
{
	struct etype_ctx ctx = { leaf_type, g, dwarf_binary(g) };
	struct spec_error ignored;
	struct ktype t;

	return etype_of(e, &ctx, &t, &ignored) == 0 && t.kind == KT_PTR;
}

/* ---- text ---------------------------------------------------------------------- */

static bool leaf_is_pointer(void *ud, const struct expr *e)
{
	return value_is_pointer(ud, e);
}

static int emit_expr(struct probe_gen *g, const struct expr *e, struct strbuf *out, struct spec_error *err)
{
	struct expr_emit_ctx ctx = { leaf, g, leaf_is_string, leaf_is_pointer };

	return expr_emit(e, &ctx, out, err);
}

/* trace.py's -n: the command name contains NAME. Strings cannot be indexed
 * in bpftrace 0.17, so the bytes of task->comm are compared where they lie
 * (offset from BTF), at every position NAME fits in. */
static int emit_comm_contains(const char *name, struct strbuf *out, struct spec_error *err)
{
	size_t len = strlen(name);
	int off;

	if (len == 0) {
		specerr_set(err, -1, NULL, "-n needs a non-empty name");
		return -EINVAL;
	}
	if (len >= TASK_COMM_LEN) { /* the kernel keeps 15 bytes: compare those */
		strbuf_puts(out, "comm == ");
		return expr_emit_string(name, TASK_COMM_LEN - 1, out);
	}
	off = ktypes_member_offset("task_struct", "comm");
	if (off < 0) {
		specerr_set(err, -1, "the kernel needs BTF (/sys/kernel/btf/vmlinux)",
			    "-n cannot find task_struct.comm in the kernel's BTF");
		return -EINVAL;
	}
	strbuf_putc(out, '(');
	for (size_t k = 0; k + len < TASK_COMM_LEN; k++) {
		strbuf_puts(out, k ? " || (" : "(");
		for (size_t j = 0; j < len; j++)
			strbuf_addf(out, "%s*(uint8 *)((uint64)curtask + %zu) == %u", j ? " && " : "",
				    (size_t)off + k + j, (unsigned char)name[j]);
		strbuf_putc(out, ')');
	}
	return strbuf_putc(out, ')');
}

static int global_pred(const struct trace_opts *o, struct strbuf *out, struct spec_error *err)
{
	const char *sep = "";
	struct stat st;

	if (!o->include_self) {
		strbuf_puts(out, "pid != $1");
		sep = " && ";
	}
	if (o->pid >= 0) {
		strbuf_addf(out, "%spid == %ld", sep, o->pid);
		sep = " && ";
	}
	if (o->tid >= 0) {
		strbuf_addf(out, "%stid == %ld", sep, o->tid);
		sep = " && ";
	}
	if (o->uid >= 0) {
		strbuf_addf(out, "%suid == %ld", sep, o->uid);
		sep = " && ";
	}
	if (o->cgroup) {
		if (stat(o->cgroup, &st) != 0 || !S_ISDIR(st.st_mode)) {
			specerr_set(err, -1,
				    "give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice/nginx.service",
				    "cgroup '%s' is not a directory", o->cgroup);
			return -EINVAL;
		}
		strbuf_addf(out, "%scgroup == cgroupid(", sep);
		expr_emit_string(o->cgroup, strlen(o->cgroup), out);
		strbuf_putc(out, ')');
		sep = " && ";
	}
	if (o->name) {
		int rc;

		strbuf_puts(out, sep);
		rc = emit_comm_contains(o->name, out, err);
		if (rc < 0)
			return rc;
	}
	return out->err;
}

static void attach_point(const struct probe_gen *g, bool exit_side, struct strbuf *out)
{
	const struct lowered *lw = g->lw;
	const struct trace_spec *s = g->s;

	switch (lw->kind) {
	case LK_SYSCALL:
		strbuf_addf(out, "tracepoint:syscalls:sys_%s_%s", exit_side ? "exit" : "enter", lw->name);
		break;
	case LK_TRACEPOINT:
		strbuf_addf(out, "tracepoint:%s:%s", lw->category, lw->name);
		break;
	case LK_KPROBE:
		strbuf_addf(out, "%s:%s", lw->ret ? "kretprobe" : "kprobe", lw->name);
		break;
	case LK_KFUNC:
		strbuf_addf(out, "%s:%s", lw->ret ? "kretfunc" : "kfunc", lw->name);
		break;
	case LK_UPROBE:
		strbuf_addf(out, "%s:%s:%s", lw->ret ? "uretprobe" : "uprobe", lw->path, lw->name);
		break;
	case LK_USDT:
		strbuf_addf(out, "usdt:%s:%s:%s", lw->path, lw->category, lw->name);
		break;
	}
	if (s->has_offset && (lw->kind == LK_KPROBE || lw->kind == LK_UPROBE))
		strbuf_addf(out, "+%" PRIu64, s->offset);
}

/* The tuple's columns after the header, and the layout that says what they are. */
static int emit_columns(struct probe_gen *g, const struct trace_opts *o, struct layout_probe *lp, struct strbuf *out,
			struct spec_error *err)
{
	const struct trace_spec *s = g->s;
	int n = 0;

	lp->cols = calloc((size_t)s->nvalues + 4, sizeof(*lp->cols));
	lp->values = calloc((size_t)(s->nvalues ? s->nvalues : 1), sizeof(*lp->values));
	if (!lp->cols || !lp->values)
		return -ENOMEM;
	lp->has_retval = g->lw->ret || g->paired; /* a paired syscall knows its return value */
	lp->has_latency = g->paired;
	if (lp->has_retval) {
		strbuf_puts(out, g->lw->kind == LK_SYSCALL ? ", args->ret" : ", retval");
		lp->cols[n++].kind = LC_RETVAL;
	}
	if (lp->has_latency) {
		strbuf_addf(out, ", nsecs - @__e%d[tid].0", g->index);
		lp->cols[n++].kind = LC_LATENCY;
	}
	for (int i = 0; i < s->nvalues; i++) {
		const char *conv = s->convs[i].conv;
		const struct expr *v = s->values[i];
		struct strbuf name = STRBUF_INIT(CODEGEN_MAX_PROGRAM);
		int rc = 0, prc;

		strbuf_puts(out, ", ");
		/* NOLINTNEXTLINE(bugprone-branch-clone): a string with %s is emitted as is, before the str() wrap */
		if (strcmp(conv, "s") == 0 && value_is_string(g, v)) {
			rc = emit_expr(g, v, out, err);
		} else if (strcmp(conv, "s") == 0 || strcmp(conv, "K") == 0 || strcmp(conv, "U") == 0) {
			strbuf_puts(out, conv[0] == 's' ? "str(" : conv[0] == 'K' ? "ksym(" : "usym(");
			rc = emit_expr(g, v, out, err);
			if (conv[0] == 's' && o->string_size > 0)
				strbuf_addf(out, ", %d", o->string_size);
			strbuf_putc(out, ')');
		} else if (value_is_string(g, v)) {
			specerr_set(err, v->col, "print it with %s", "a string cannot be printed with %%%s", conv);
			rc = -EINVAL;
		} else if (value_is_pointer(g, v)) {
			strbuf_puts(out, "(uint64)(");
			rc = emit_expr(g, v, out, err);
			strbuf_putc(out, ')');
		} else {
			rc = emit_expr(g, v, out, err);
		}
		/* a name cut by an error in the buffer would be a wrong raw_args key */
		prc = expr_print(v, &name);
		if (prc == 0)
			lp->values[i].name = strbuf_detach(&name, NULL);
		strbuf_release(&name);
		snprintf(lp->values[i].conv, sizeof(lp->values[i].conv), "%s", conv);
		lp->values[i].is_string = strchr("sKU", conv[0]) != NULL;
		lp->nvalues = i + 1;
		lp->cols[n].kind = LC_VALUE;
		lp->cols[n++].value = i;
		if (rc < 0 || !lp->values[i].name)
			return rc < 0 ? rc : prc < 0 ? prc : -ENOMEM;
	}
	if (o->kstack) {
		strbuf_puts(out, o->stack_addr ? ", kstack(perf)" : ", kstack");
		lp->cols[n++].kind = LC_KSTACK;
	}
	if (o->ustack) {
		strbuf_puts(out, o->stack_addr ? ", ustack(perf)" : ", ustack");
		lp->cols[n++].kind = LC_USTACK;
	}
	lp->ncols = n;
	return out->err;
}

/* Count the match in the kernel, then print the event unless the cap is reached. */
static int emit_event(struct probe_gen *g, const struct trace_opts *o, struct layout_probe *lp, const char *indent,
		      struct strbuf *out, struct spec_error *err)
{
	int rc;

	strbuf_addf(out, "%s" LAYOUT_MAP_HITS "[%d] = count();\n", indent, g->index);
	strbuf_addf(out, "%s" LAYOUT_MAP_PROCS "[pid, comm] = count();\n", indent);
	if (o->max_events >= 0) {
		strbuf_addf(out, "%s$__n = " LAYOUT_MAP_STREAMED ";\n", indent);
		strbuf_addf(out, "%sif ($__n < %ld) {\n", indent, o->max_events);
		strbuf_addf(out, "%s\t" LAYOUT_MAP_STREAMED " = $__n + 1;\n", indent);
		strbuf_addf(out, "%s\t", indent);
	} else {
		strbuf_puts(out, indent);
	}
	strbuf_addf(out, "print((nsecs, cpu, pid, tid, uid, comm, %d", g->index);
	rc = emit_columns(g, o, lp, out, err);
	if (rc < 0)
		return rc;
	strbuf_puts(out, "));\n");
	if (o->max_events >= 0)
		strbuf_addf(out, "%s}\n", indent);
	return out->err;
}

/* The filter as a condition: a pointer is true when not NULL, as in C; in
 * bpftrace a pointer can be neither an operand of && nor an if() condition. */
static int emit_filter(struct probe_gen *g, const struct expr *filter, struct strbuf *out, struct spec_error *err)
{
	bool ptr = value_is_pointer(g, filter);
	int rc = emit_expr(g, filter, out, err);

	if (rc < 0)
		return rc;
	return ptr ? strbuf_puts(out, " != 0") : 0;
}

static int emit_predicate(const char *global, struct probe_gen *g, const struct expr *filter, struct strbuf *out,
			  struct spec_error *err)
{
	int rc;

	if (!*global && !filter)
		return 0;
	strbuf_putc(out, '/');
	strbuf_puts(out, global);
	if (filter) {
		strbuf_puts(out, *global ? " && (" : "(");
		rc = emit_filter(g, filter, out, err);
		if (rc < 0)
			return rc;
		strbuf_putc(out, ')');
	}
	return strbuf_puts(out, "/\n");
}

static int emit_probe(struct probe_gen *g, const struct trace_opts *o, const char *global, struct layout_probe *lp,
		      struct strbuf *out, struct spec_error *err)
{
	const struct trace_spec *s = g->s;
	int rc;

	if (!g->paired) {
		attach_point(g, false, out);
		strbuf_putc(out, '\n');
		rc = emit_predicate(global, g, s->filter, out, err);
		if (rc < 0)
			return rc;
		strbuf_puts(out, "{\n");
		rc = emit_event(g, o, lp, "\t", out, err);
		strbuf_puts(out, "}\n");
		return rc;
	}

	/* Entry: save the time and the arguments the exit side uses. */
	attach_point(g, false, out);
	strbuf_putc(out, '\n');
	rc = emit_predicate(global, g, g->filter_at_exit ? NULL : s->filter, out, err);
	if (rc < 0)
		return rc;
	strbuf_addf(out, "{\n\t@__e%d[tid] = (nsecs", g->index);
	for (int pos = 1; pos <= g->nsaved; pos++)
		for (int f = 0; f < g->lw->fields.nfields; f++)
			if (g->saved[f] == pos)
				strbuf_addf(out, ", args->%s", g->lw->fields.fields[f].name);
	strbuf_puts(out, g->nsaved ? ");\n}\n\n" : ", 0);\n}\n\n");

	/* Exit: the event, with the return value and the latency. */
	g->exit_side = true;
	attach_point(g, true, out);
	strbuf_addf(out, "\n/@__e%d[tid].0/\n{\n", g->index);
	if (g->filter_at_exit) {
		strbuf_puts(out, "\tif (");
		rc = emit_filter(g, s->filter, out, err);
		if (rc < 0)
			return rc;
		strbuf_puts(out, ") {\n");
		rc = emit_event(g, o, lp, "\t\t", out, err);
		strbuf_puts(out, "\t}\n");
	} else {
		rc = emit_event(g, o, lp, "\t", out, err);
	}
	strbuf_addf(out, "\tdelete(@__e%d[tid]);\n}\n", g->index);
	return rc;
}

static int fill_probe_names(const struct probe_gen *g, struct layout_probe *lp)
{
	const struct lowered *lw = g->lw;
	struct strbuf target = STRBUF_INIT(8192), probe = STRBUF_INIT(8192);

	switch (lw->kind) {
	case LK_SYSCALL:
		if (asprintf(&lp->function, "sys_%s", lw->name) < 0)
			lp->function = NULL; /* out of memory: the caller checks */
		strbuf_addf(&target, "syscalls:sys_%s_%s", lw->ret ? "exit" : "enter", lw->name);
		break;
	case LK_TRACEPOINT:
		lp->function = strdup(lw->name);
		strbuf_addf(&target, "%s:%s", lw->category, lw->name);
		break;
	case LK_UPROBE:
		lp->function = strdup(lw->name);
		strbuf_addf(&target, "%s:%s", lw->path, lw->name);
		break;
	case LK_USDT:
		lp->function = strdup(lw->name);
		strbuf_addf(&target, "%s:%s:%s", lw->path, lw->category, lw->name);
		break;
	default:
		lp->function = strdup(lw->name);
		strbuf_puts(&target, lw->name);
		break;
	}
	attach_point(g, false, &probe);
	if (g->paired) {
		strbuf_puts(&probe, ",");
		attach_point(g, true, &probe);
	}
	if (target.err || probe.err) {
		int rc = target.err ? target.err : probe.err;

		strbuf_release(&target);
		strbuf_release(&probe);
		return rc;
	}
	lp->target = strbuf_detach(&target, NULL);
	lp->probe = strbuf_detach(&probe, NULL);
	if (g->s->format)
		lp->format = strdup(g->s->format);
	if (!lp->function || !lp->target || !lp->probe || (g->s->format && !lp->format))
		return -ENOMEM;
	return 0;
}

static int check_opts(const struct trace_opts *o, struct spec_error *err)
{
	if (o->string_size < 0 || o->string_size > CODEGEN_MAX_STRLEN) {
		specerr_set(err, -1, "bpftrace 0.17 reads at most 200 bytes of a string",
			    "-Z %d is out of range (1..%d)", o->string_size, CODEGEN_MAX_STRLEN);
		return -EINVAL;
	}
	if (o->duration < 0) {
		specerr_set(err, -1, NULL, "the duration cannot be negative");
		return -EINVAL;
	}
	return 0;
}

static int emit_header(struct trace_spec *const *specs, int nspecs, struct strbuf *out)
{
	strbuf_puts(out, "// generated by diagagent " DIAG_VERSION " for bpftrace 0.17 and later\n");
	strbuf_puts(
		out,
		"// run: bpftrace -f json PROGRAM PID, where PID ($1) is bpftrace's own, left out of every probe\n");
	strbuf_puts(out, "// each event: print((nsecs, cpu, pid, tid, uid, comm, probe, columns...))\n");
	for (int i = 0; i < nspecs; i++) {
		strbuf_addf(out, "// probe %d: ", i);
		spec_print(specs[i], out);
		strbuf_putc(out, '\n');
	}
	return strbuf_putc(out, '\n');
}

int codegen_emit(struct trace_spec *const *specs, int nspecs, const struct trace_opts *o, const struct lower_env *env,
		 struct codegen_result *res, struct spec_error *err, int *bad)
{
	struct strbuf out = STRBUF_INIT(CODEGEN_MAX_PROGRAM), global = STRBUF_INIT(16384);
	struct event_layout *l = NULL;
	struct lowered *lw = NULL;
	bool any_paired = false;
	int rc;

	memset(res, 0, sizeof(*res));
	specerr_clear(err);
	*bad = -1;
	if (nspecs < 1 || nspecs > CODEGEN_MAX_SPECS) {
		specerr_set(err, -1, NULL, "give 1 to %d specs", CODEGEN_MAX_SPECS);
		return -EINVAL;
	}
	rc = check_opts(o, err);
	if (rc < 0)
		return rc;
	l = calloc(1, sizeof(*l));
	lw = calloc((size_t)nspecs, sizeof(*lw));
	if (!l || !lw) {
		rc = -ENOMEM;
		goto cleanup;
	}
	l->probes = calloc((size_t)nspecs, sizeof(*l->probes));
	if (!l->probes) {
		rc = -ENOMEM;
		goto cleanup;
	}
	l->max_events = o->max_events;
	l->duration = o->duration;
	l->string_size = o->string_size > 0 ? o->string_size : 64;
	l->aggregate = o->aggregate;
	l->buffer_pages = o->buffer_pages;
	l->kstack = o->kstack;
	l->ustack = o->ustack;
	if (o->msg_regex) {
		l->msg_regex = strdup(o->msg_regex);
		if (!l->msg_regex) {
			rc = -ENOMEM;
			goto cleanup;
		}
	}
	rc = global_pred(o, &global, err);
	if (rc < 0)
		goto cleanup;
	emit_header(specs, nspecs, &out);
	/* bpftrace runs BEGIN once every probe is attached: the marker tells
	 * user space when the trace really starts. */
	strbuf_puts(&out, "BEGIN\n{\n\tprint((\"attached\", nsecs));\n}\n\n");
	for (int i = 0; i < nspecs; i++) {
		struct probe_gen g = { .s = specs[i], .lw = &lw[i], .index = i };

		*bad = i;
		rc = lower_spec(specs[i], env, &lw[i], err);
		if (rc < 0)
			goto cleanup;
		rc = check_types(&g, err);
		if (rc < 0)
			goto cleanup;
		analyse(&g);
		any_paired |= g.paired;
		l->nprobes = i + 1;
		rc = fill_probe_names(&g, &l->probes[i]);
		if (rc < 0)
			goto cleanup;
		rc = emit_probe(&g, o, strbuf_str(&global), &l->probes[i], &out, err);
		if (rc < 0)
			goto cleanup;
		strbuf_putc(&out, '\n');
	}
	*bad = -1;
	if (o->duration > 0)
		strbuf_addf(&out, "interval:s:%d\n{\n\texit();\n}\n\n", o->duration);
	if (any_paired) {
		/* Calls still in flight at the end are not events: keep them out of the map dump. */
		strbuf_puts(&out, "END\n{\n");
		for (int i = 0; i < nspecs; i++)
			if (l->probes[i].has_latency)
				strbuf_addf(&out, "\tclear(@__e%d);\n", i);
		strbuf_puts(&out, "}\n");
	}
	rc = out.err;
	if (rc < 0)
		goto cleanup;
	res->program = strbuf_detach(&out, NULL);
	res->layout = l;
	l = NULL;
	rc = res->program ? 0 : -ENOMEM;
cleanup:
	/* a strbuf's error can surface anywhere above: name it once here */
	if (rc == -ENOMEM)
		specerr_set(err, -1, NULL, "out of memory");
	else if (rc == -E2BIG)
		specerr_set(err, -1, NULL, "the generated program would be larger than %d bytes", CODEGEN_MAX_PROGRAM);
	strbuf_release(&out);
	strbuf_release(&global);
	layout_free(l);
	free(lw);
	return rc;
}

void codegen_release(struct codegen_result *res)
{
	if (!res)
		return;
	free(res->program);
	layout_free(res->layout);
	res->program = NULL;
	res->layout = NULL;
}
