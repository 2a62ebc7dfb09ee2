/* scan_bench.c - the scanner's speed: events/s and MB/s over a saved output.
 *
 * Usage: scan_bench FILE   (bpftrace -f json output of test/bench/gen_events.py's
 * program, `sys_read (arg3 > 1024) "read %d bytes", arg3`). Reads FILE in
 * 1 MiB chunks, feeds the scanner and renders every event's message into one
 * reused buffer, as `diagagent trace` does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parser/render.h"
#include "parser/scan.h"

#define CHUNK (1024 * 1024)

struct bench {
	struct strbuf msg;
	unsigned long events, bytes;
	unsigned long maps, attached;
};

static void on_event(void *ud, const struct scan_event *ev)
{
	struct bench *b = ud;

	b->msg.len = 0;
	b->msg.err = 0;
	render_message(ev, &b->msg);
	b->events++;
	b->bytes += b->msg.len;
}

static void on_attached(void *ud, uint64_t nsecs)
{
	struct bench *b = ud;

	(void)nsecs;
	b->attached++;
}

static void on_map(void *ud, const char *name, json_t *value)
{
	struct bench *b = ud;

	(void)name;
	(void)value;
	b->maps++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct layout_value val = { .conv = "d", .name = "arg3", .is_string = false };
	struct layout_col col = { .kind = LC_VALUE, .value = 0 };
	struct layout_probe probe = {
		.function = "sys_read",
		.target = "syscalls:sys_enter_read",
		.probe = "tracepoint:syscalls:sys_enter_read",
		.format = "read %d bytes",
		.values = &val,
		.nvalues = 1,
		.cols = &col,
		.ncols = 1,
	};
	struct event_layout layout = { .probes = &probe, .nprobes = 1, .max_events = -1 };
	struct bench b = { .msg = STRBUF_INIT(1 << 20) };
	struct scan_callbacks cb = { .on_event = on_event, .on_attached = on_attached, .on_map = on_map, .ud = &b };
	const struct scan_stats *st;
	struct scanner *s;
	unsigned long total = 0;
	double t0, dt;
	char *buf;
	FILE *f;
	size_t n;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: scan_bench FILE\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "scan_bench: cannot open '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	buf = malloc(CHUNK);
	s = scan_new(&layout, &cb);
	if (!buf || !s) {
		fprintf(stderr, "scan_bench: out of memory\n");
		goto out;
	}
	t0 = now();
	while ((n = fread(buf, 1, CHUNK, f)) > 0) {
		total += n;
		if (scan_feed(s, buf, n) < 0) {
			fprintf(stderr, "scan_bench: out of memory\n");
			goto out;
		}
	}
	scan_finish(s);
	dt = now() - t0;
	st = scan_stats(s);
	printf("%lu events, %lu lines, %lu malformed, %lu maps, %lu markers in %.3f s: "
	       "%.0f events/s, %.1f MB/s (%lu message bytes)\n",
	       (unsigned long)st->events, (unsigned long)st->lines, (unsigned long)st->malformed, b.maps, b.attached,
	       dt, (double)st->events / dt, (double)total / dt / 1e6, b.bytes);
	rc = 0;
out:
	scan_free(s);
	free(buf);
	strbuf_release(&b.msg);
	fclose(f);
	return rc;
}
