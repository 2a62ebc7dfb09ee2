/* procfd.h - descriptors of live processes, from /proc: counts per process
 * and what one descriptor points to. The diagnose report's ground truth for
 * what the kernel's counters say (diag.h's struct diag_host).
 */
#ifndef DIAG_PROCFD_H
#define DIAG_PROCFD_H

#include <stdbool.h>
#include <stddef.h>

#include "parser/diag.h"

/* Count the descriptors of every process (only_pid > 0: of that one) into
 * out, sorted by pid (procfd_release() it). Processes that vanish meanwhile
 * or that cannot be read are left out. Returns 0 or -ENOMEM. */
int procfd_snapshot(long only_pid, struct diag_fdsnap *out);

void procfd_release(struct diag_fdsnap *s);

/* struct diag_host's fd_target: readlink of /proc/PID/fd/FD. ud is unused. */
int procfd_target(void *ud, long pid, long fd, char *buf, size_t size);

/* struct diag_host's alive: /proc/PID exists and is not a zombie. */
bool procfd_alive(void *ud, long pid);

#endif /* DIAG_PROCFD_H */
