/* lower.c - decide how a spec attaches on this host. */
#include "tracespec/lower.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tracespec/ktypes.h"
#include "tracespec/libresolve.h"

/* Kernel functions that trace.py examples name, and the tracepoint that
 * sees the same event where kprobes cannot attach. */
static const struct {
	const char *func;
	const char *tracepoint;
} nearest_tp[] = {
	{ "do_sys_open", "syscalls:sys_enter_openat" },
	{ "do_sys_openat2", "syscalls:sys_enter_openat" },
	{ "vfs_open", "syscalls:sys_enter_openat" },
	{ "do_filp_open", "syscalls:sys_enter_openat" },
	{ "vfs_read", "syscalls:sys_enter_read" },
	{ "vfs_write", "syscalls:sys_enter_write" },
	{ "vfs_fsync", "syscalls:sys_enter_fsync" },
	{ "vfs_unlink", "syscalls:sys_enter_unlinkat" },
	{ "do_unlinkat", "syscalls:sys_enter_unlinkat" },
	{ "vfs_rename", "syscalls:sys_enter_renameat2" },
	{ "vfs_mkdir", "syscalls:sys_enter_mkdirat" },
	{ "do_execve", "sched:sched_process_exec" },
	{ "do_execveat_common", "sched:sched_process_exec" },
	{ "do_exit", "sched:sched_process_exit" },
	{ "kernel_clone", "sched:sched_process_fork" },
	{ "_do_fork", "sched:sched_process_fork" },
	{ "do_fork", "sched:sched_process_fork" },
	{ "wake_up_new_task", "sched:sched_process_fork" },
	{ "tcp_v4_connect", "sock:inet_sock_set_state" },
	{ "tcp_v6_connect", "sock:inet_sock_set_state" },
	{ "tcp_connect", "sock:inet_sock_set_state" },
	{ "tcp_set_state", "sock:inet_sock_set_state" },
	{ "inet_csk_accept", "sock:inet_sock_set_state" },
	{ "tcp_close", "sock:inet_sock_set_state" },
	{ "tcp_retransmit_skb", "tcp:tcp_retransmit_skb" },
	{ "tcp_send_reset", "tcp:tcp_send_reset" },
	{ "tcp_sendmsg", "syscalls:sys_enter_sendto" },
	{ "tcp_recvmsg", "syscalls:sys_enter_recvfrom" },
	{ "kfree_skb", "skb:kfree_skb" },
	{ "consume_skb", "skb:consume_skb" },
	{ "schedule", "sched:sched_switch" },
	{ "finish_task_switch", "sched:sched_switch" },
	{ "try_to_wake_up", "sched:sched_wakeup" },
	{ "ttwu_do_wakeup", "sched:sched_wakeup" },
	{ "blk_account_io_start", "block:block_rq_issue" },
	{ "blk_mq_start_request", "block:block_rq_issue" },
	{ "blk_account_io_done", "block:block_rq_complete" },
	{ "submit_bio", "block:block_bio_queue" },
	{ "oom_kill_process", "oom:mark_victim" },
	{ "handle_mm_fault", "exceptions:page_fault_user" },
	{ "__kmalloc", "kmem:kmalloc" },
	{ "kmalloc", "kmem:kmalloc" },
	{ "kmem_cache_alloc", "kmem:kmem_cache_alloc" },
	{ "kfree", "kmem:kfree" },
	{ "clockevents_program_event", "timer:hrtimer_start" },
	{ "hrtimer_start_range_ns", "timer:hrtimer_start" },
	{ "do_nanosleep", "syscalls:sys_enter_clock_nanosleep" },
	{ "futex_wait", "syscalls:sys_enter_futex" },
	{ "do_futex", "syscalls:sys_enter_futex" },
	{ "security_file_open", "syscalls:sys_enter_openat" },
	{ "ext4_sync_file", "syscalls:sys_enter_fsync" },
	{ "ext4_file_write_iter", "syscalls:sys_enter_write" },
	{ "ext4_file_read_iter", "syscalls:sys_enter_read" },
	{ "pick_next_task_fair", "sched:sched_switch" },
	{ "update_curr", "sched:sched_stat_runtime" },
	{ "signal_generate", "signal:signal_generate" },
	{ "do_send_sig_info", "signal:signal_generate" },
	{ "__send_signal", "signal:signal_generate" },
};

static const char *const syscall_prefixes[] = { "__x64_sys_", "__arm64_sys_", "__ia32_sys_", "sys_", "SyS_" };

/* The syscall a kernel function name stands for, or NULL. */
static const char *syscall_stem(const char *func)
{
	for (size_t i = 0; i < sizeof(syscall_prefixes) / sizeof(syscall_prefixes[0]); i++) {
		size_t n = strlen(syscall_prefixes[i]);

		if (strncmp(func, syscall_prefixes[i], n) == 0 && func[n])
			return func + n;
	}
	return NULL;
}

static bool have_tracefs(const struct lower_env *env)
{
	return env->tracefs && *env->tracefs;
}

static void join_names(char *out, size_t size, char names[][SYSCALLS_NAME_MAX], int n, const char *prefix)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len + 2 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s%s", i ? ", " : "", prefix, names[i]);
}

static int lower_syscall(const char *stem, const struct trace_spec *s, const struct lower_env *env, struct lowered *out,
			 struct spec_error *err)
{
	const char *repl;
	int rc;

	if (!env->can_tracepoint) {
		specerr_set(err, 0, "see 'diagagent caps'",
			    "syscall tracepoints cannot attach on this host, so '%s' cannot be traced", s->function);
		return -EOPNOTSUPP;
	}
	rc = syscalls_args(env->tracefs, stem, &out->fields);
	if (rc == -ENOENT) {
		char similar[3][SYSCALLS_NAME_MAX], list[224], hint[256];
		int n;

		repl = syscalls_replacement(env->tracefs, stem);
		if (repl) {
			specerr_set(err, 0, NULL, "this kernel has no syscall '%s'", stem);
			if (err)
				snprintf(err->hint, sizeof(err->hint), "its name here is '%s': use sys_%s", repl, repl);
			return -ENOENT;
		}
		n = syscalls_similar(env->tracefs, stem, similar, 3);
		if (n == -ENOMEM)
			return n;
		join_names(list, sizeof(list), similar, n > 0 ? n : 0, "sys_");
		snprintf(hint, sizeof(hint), "did you mean %s?", list);
		specerr_set(err, 0, n > 0 ? hint : "see /sys/kernel/tracing/events/syscalls",
			    "this kernel has no syscall '%s'", stem);
		return -ENOENT;
	}
	if (rc < 0) {
		specerr_set(err, 0, NULL, "cannot read the format of syscall '%s': %s", stem, strerror(-rc));
		return rc;
	}
	out->kind = LK_SYSCALL;
	snprintf(out->name, sizeof(out->name), "%s", stem);
	return 0;
}

static void nearest_hint(const char *func, struct spec_error *err)
{
	char stem_hint[160] = "";

	if (!err)
		return;
	for (size_t i = 0; i < sizeof(nearest_tp) / sizeof(nearest_tp[0]); i++)
		if (strcmp(nearest_tp[i].func, func) == 0) {
			snprintf(err->hint, sizeof(err->hint),
				 "the nearest tracepoint is t:%s (or a syscall: sys_NAME)", nearest_tp[i].tracepoint);
			return;
		}
	snprintf(stem_hint, sizeof(stem_hint),
		 "trace a syscall (sys_NAME) or a tracepoint (t:CATEGORY:EVENT) instead; see "
		 "/sys/kernel/tracing/available_events");
	snprintf(err->hint, sizeof(err->hint), "%s", stem_hint);
}

static int lower_kernel_function(const struct trace_spec *s, const struct lower_env *env, struct lowered *out,
				 struct spec_error *err)
{
	bool kprobe = env->can_kprobe;
	bool kfunc = !kprobe && env->can_kfunc && !s->has_offset;
	int rc;

	if (!kprobe && !kfunc) {
		specerr_set(err, 0, NULL, "cannot trace kernel function '%s': %s", s->function,
			    env->can_kfunc ? "fentry cannot take an offset and kprobes are unavailable on this kernel" :
					     "kprobes and fentry are unavailable on this kernel");
		nearest_hint(s->function, err);
		return -EOPNOTSUPP;
	}
	/* kallsyms that cannot be read (not root) leaves the check to bpftrace */
	rc = env->check_symbols ? syscalls_ksym_exists(s->function) : 1;
	if (rc == -ENOMEM)
		return rc;
	if (rc == 0) {
		char similar[3][SYSCALLS_NAME_MAX], list[224], hint[300];
		int n = syscalls_similar_ksyms(s->function, similar, 3);

		if (n == -ENOMEM)
			return n;
		join_names(list, sizeof(list), similar, n > 0 ? n : 0, "");
		snprintf(hint, sizeof(hint), "did you mean %s? (kernel functions are renamed across versions)", list);
		specerr_set(err, 0, n > 0 ? hint : "see /proc/kallsyms", "this kernel has no function '%s'",
			    s->function);
		return -ENOENT;
	}
	out->kind = kprobe ? LK_KPROBE : LK_KFUNC;
	snprintf(out->name, sizeof(out->name), "%s", s->function);
	if (out->kind == LK_KFUNC) {
		int n = ktypes_func_params(s->function, out->kfunc_params, 6);

		if (n < 0) {
			specerr_set(err, 0, "use a tracepoint", "no BTF for kernel function '%s', needed by fentry",
				    s->function);
			return -EINVAL;
		}
		out->kfunc_nparams = n;
	}
	return 0;
}

static int resolve_binary(const struct trace_spec *s, struct lowered *out, struct spec_error *err)
{
	int rc = libresolve_find(s->library, out->path, sizeof(out->path));
	const char *c;

	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		specerr_set(err, 0, "give a path, e.g. p:/usr/lib/x86_64-linux-gnu/libssl.so.3:SSL_read",
			    "cannot find library or binary '%s'", s->library);
		return rc;
	}
	for (c = out->path; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-", *c)) {
			specerr_set(err, 0, "copy or link it to a plain path",
				    "the path '%s' has characters bpftrace cannot take", out->path);
			return -EINVAL;
		}
	return 0;
}

static int lower_uprobe(const struct trace_spec *s, const struct lower_env *env, struct lowered *out,
			struct spec_error *err)
{
	int rc;

	if (!env->can_uprobe) {
		specerr_set(err, 0, "see 'diagagent caps'", "uprobes cannot attach on this host");
		return -EOPNOTSUPP;
	}
	rc = resolve_binary(s, out, err);
	if (rc < 0)
		return rc;
	rc = libresolve_has_symbol(out->path, s->function);
	if (rc == 0) {
		specerr_set(err, 0, "list its functions with: nm -D --defined-only PATH", "no function '%s' in '%s'",
			    s->function, out->path);
		return -ENOENT;
	}
	if (rc < 0) {
		specerr_set(err, 0, NULL, "cannot read '%s' as an ELF file: %s", out->path, strerror(-rc));
		return rc;
	}
	out->kind = LK_UPROBE;
	snprintf(out->name, sizeof(out->name), "%s", s->function);
	return 0;
}

static int lower_usdt(const struct trace_spec *s, const struct lower_env *env, struct lowered *out,
		      struct spec_error *err)
{
	int rc;

	if (!env->can_usdt) {
		specerr_set(err, 0, "see 'diagagent caps'", "USDT probes cannot attach on this host");
		return -EOPNOTSUPP;
	}
	if (strlen(s->function) >= sizeof(out->name)) { /* cut, it would name another probe */
		specerr_set(err, 0, NULL, "USDT probe name '%.64s...' is longer than %zu bytes", s->function,
			    sizeof(out->name) - 1);
		return -ENAMETOOLONG;
	}
	rc = resolve_binary(s, out, err);
	if (rc < 0)
		return rc;
	rc = libresolve_find_usdt(out->path, s->category, s->function, out->category, sizeof(out->category));
	if (rc == 0) {
		specerr_set(err, 0, "list its probes with: readelf -n PATH (stapsdt notes)",
			    "no USDT probe '%s%s%s' in '%s'", s->category ? s->category : "", s->category ? ":" : "",
			    s->function, out->path);
		return -ENOENT;
	}
	if (rc < 0) {
		specerr_set(err, 0, NULL, "cannot read '%s' as an ELF file: %s", out->path, strerror(-rc));
		return rc;
	}
	out->kind = LK_USDT;
	snprintf(out->name, sizeof(out->name), "%s", s->function);
	return 0;
}

static int lower_tracepoint(const struct trace_spec *s, const struct lower_env *env, struct lowered *out,
			    struct spec_error *err)
{
	int rc;

	if (!env->can_tracepoint || !have_tracefs(env)) {
		specerr_set(err, 0, "mount tracefs (scripts/setup-host) and see 'diagagent caps'",
			    "tracepoints cannot attach on this host");
		return -EOPNOTSUPP;
	}
	rc = syscalls_tp_format(env->tracefs, s->category, s->function, &out->fields);
	if (rc == -ENOENT) {
		char similar[3][2 * SYSCALLS_NAME_MAX], hint[400];
		int n = syscalls_similar_tracepoints(env->tracefs, s->category, s->function, similar, 3);
		size_t len = (size_t)snprintf(hint, sizeof(hint), "did you mean ");

		if (n == -ENOMEM)
			return n;
		for (int i = 0; i < n && len < sizeof(hint); i++)
			len += (size_t)snprintf(hint + len, sizeof(hint) - len, "%st:%s%s%s", i ? ", " : "",
						strchr(similar[i], ':') ? "" : s->category,
						strchr(similar[i], ':') ? "" : ":", similar[i]);
		if (len < sizeof(hint))
			snprintf(hint + len, sizeof(hint) - len, "?");
		specerr_set(err, 0, n > 0 ? hint : "see /sys/kernel/tracing/available_events",
			    "this kernel has no tracepoint '%s:%s'", s->category, s->function);
		return -ENOENT;
	}
	if (rc < 0) {
		specerr_set(err, 0, NULL, "cannot read tracepoint '%s:%s': %s", s->category, s->function,
			    strerror(-rc));
		return rc;
	}
	out->kind = LK_TRACEPOINT;
	snprintf(out->name, sizeof(out->name), "%s", s->function);
	snprintf(out->category, sizeof(out->category), "%s", s->category);
	return 0;
}

int lower_spec(const struct trace_spec *s, const struct lower_env *env, struct lowered *out, struct spec_error *err)
{
	const char *stem;

	memset(out, 0, sizeof(*out));
	out->ret = s->type == SPEC_RETURN;
	switch (s->type) {
	case SPEC_TRACEPOINT:
		return lower_tracepoint(s, env, out, err);
	case SPEC_USDT:
		return lower_usdt(s, env, out, err);
	default:
		break;
	}
	if (s->library && *s->library)
		return lower_uprobe(s, env, out, err);

	/* A syscall: sys_X and its aliases always, a bare X when it is one. */
	stem = syscall_stem(s->function);
	if (!s->has_offset && have_tracefs(env)) {
		if (stem)
			return lower_syscall(stem, s, env, out, err);
		if (syscalls_exists(env->tracefs, s->function))
			return lower_syscall(s->function, s, env, out, err);
	}
	if (stem && s->has_offset && !env->can_kprobe) {
		specerr_set(err, 0, "drop the offset: sys_NAME then maps to the syscall's tracepoint",
			    "'%s' with an offset needs kprobes, which are unavailable on this kernel", s->function);
		return -EOPNOTSUPP;
	}
	return lower_kernel_function(s, env, out, err);
}
