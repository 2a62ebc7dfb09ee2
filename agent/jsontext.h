/* jsontext.h - a jansson tree to JSON text, with every failure seen.
 *
 * jansson 2.14's json_dumps() can return text with an object key missing
 * when memory runs out: dump.c ignores the result of writing a key. The
 * text here is written through a buffer whose first failure sticks, so a
 * failure anywhere gives NULL, never a cut document.
 */
#ifndef DIAG_JSONTEXT_H
#define DIAG_JSONTEXT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* json_dumps(j, flags), checked. Returns the text (free() it), or NULL with
 * errno ENOMEM (out of memory) or EINVAL (j cannot be written with flags). */
char *jsontext_dump(const json_t *j, size_t flags);

/* jsontext_dump(j, flags) and a newline, written to f whole or not at all
 * (the command-line --json outputs). Returns 0, or -ENOMEM / -EINVAL as
 * above, or -EIO when f refused the text. */
int jsontext_print(const json_t *j, size_t flags, FILE *f);

#endif /* DIAG_JSONTEXT_H */
