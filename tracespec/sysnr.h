/* sysnr.h - syscall numbers to names, for this build's architecture.
 *
 * raw_syscalls and the syscall tracepoints' __syscall_nr give numbers; the
 * diagnose presets key their maps by them. The table is generated at build
 * time from the C library's <asm/unistd.h> (the __NR_ constants), so it is
 * the build architecture's own.
 */
#ifndef DIAG_SYSNR_H
#define DIAG_SYSNR_H

/* The name of syscall nr ("openat"), or NULL when nr is not one. Static string. */
const char *sysnr_name(long nr);

/* The number of syscall name, or -1 when this architecture has none by that name. */
long sysnr_number(const char *name);

#endif /* DIAG_SYSNR_H */
