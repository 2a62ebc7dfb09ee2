/* libresolve.h - find the binary a uprobe or USDT spec names, as trace.py does,
 * and look inside it (ELF symbols, USDT notes).
 *
 * trace.py resolves `lib` in `p:lib:func` like this: a name containing '/' is
 * a path; "c" is libc; otherwise libNAME.so from the ld.so cache, then the
 * standard library directories; failing those, an executable NAME in PATH.
 */
#ifndef DIAG_LIBRESOLVE_H
#define DIAG_LIBRESOLVE_H

#include <stddef.h>

/* Resolve NAME to an absolute, canonical path (realpath) in out. Returns 0,
 * -ENOENT when no such library or executable exists, -ENAMETOOLONG, or
 * another -errno. */
int libresolve_find(const char *name, char *out, size_t size);

/* 1 when the ELF file at path defines function symbol SYM (.symtab or
 * .dynsym, STT_FUNC or STT_GNU_IFUNC, defined), 0 when not, -errno when the
 * file cannot be read as ELF. */
int libresolve_has_symbol(const char *path, const char *sym);

/* Look for USDT probe NAME (optionally of PROVIDER; NULL means any) in the
 * .note.stapsdt notes of the ELF file at path. On a match copies the
 * provider into provider_out (when not NULL). Returns 1 found, 0 not found
 * (no such probe, or no USDT notes), -errno when the file cannot be read. */
int libresolve_find_usdt(const char *path, const char *provider, const char *name, char *provider_out, size_t size);

#endif /* DIAG_LIBRESOLVE_H */
