/* layout.c - the event layout's lifetime. */
#include "tracespec/layout.h"

#include <stdlib.h>

void layout_free(struct event_layout *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nprobes; i++) {
		struct layout_probe *p = &l->probes[i];

		free(p->function);
		free(p->target);
		free(p->probe);
		free(p->format);
		for (int v = 0; v < p->nvalues; v++)
			free(p->values[v].name);
		free(p->values);
		free(p->cols);
	}
	free(l->probes);
	free(l->msg_regex);
	free(l);
}
