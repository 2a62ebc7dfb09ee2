/* suggestjob.c - suggestion answers as the protocol's JSON. */
#include "agent/suggestjob.h"

#include <string.h>

#include "agent/compile.h"
#include "agent/result.h"

/* Set key to a new value; false when out of memory. */
static bool put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0;
}

static json_t *item_json(const struct suggest_item *it)
{
	struct strbuf cmd = STRBUF_INIT(SPEC_MAX_LEN * 2);
	json_t *o = json_object(), *filters = json_object();
	bool ok = o && filters;

	ok = ok && put(o, "target", json_string(it->target));
	ok = ok && put(o, "target_type", json_string(it->target_type));
	if (it->library)
		ok = ok && put(o, "library", json_string(it->library));
	ok = ok && put(o, "spec", json_string(it->spec));
	/* two decimals: a score is a ranking, not a measurement */
	ok = ok && put(o, "score", json_real((double)(long)(it->score * 100 + 0.5) / 100));
	ok = ok && put(o, "reason", json_string(it->reason));
	ok = ok && put(o, "family", json_string(it->fam->id));
	if (it->pid)
		ok = ok && put(filters, "pid", json_integer(it->pid));
	if (it->process)
		ok = ok && put(filters, "process", json_string(it->process));
	ok = ok && json_object_set(o, "filters", filters) == 0;
	ok = ok && suggest_command(it, &cmd) == 0 && put(o, "command", json_string(strbuf_str(&cmd)));
	if (it->instead_of) {
		ok = ok && put(o, "instead_of", json_string(it->instead_of));
		ok = ok && put(o, "instead_why", json_string(it->instead_why));
	}
	strbuf_release(&cmd);
	json_decref(filters);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* What the engine read in the text: errnos, PID, process, corrections. */
static json_t *read_json(const struct suggest_result *r)
{
	json_t *o = json_object(), *errnos = json_array(), *fixes = json_array();
	bool ok = o && errnos && fixes;

	for (int i = 0; ok && i < r->nerrnos; i++)
		ok = json_array_append_new(errnos, json_string(kb_errno_name(r->errnos[i]))) == 0;
	for (int i = 0; ok && i < r->nfixes; i++)
		ok = json_array_append_new(fixes,
					   json_pack("{ssss}", "from", r->fixes[i].from, "to", r->fixes[i].to)) == 0;
	ok = ok && json_object_set(o, "errnos", errnos) == 0;
	if (ok && r->syscall[0])
		ok = put(o, "syscall", json_string(r->syscall));
	if (ok && r->pid)
		ok = put(o, "pid", json_integer(r->pid));
	if (ok && r->process[0])
		ok = put(o, "process", json_string(r->process));
	ok = ok && json_object_set(o, "corrections", fixes) == 0;
	json_decref(errnos);
	json_decref(fixes);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *suggestjob_result(const char *id, const char *query, const struct suggest_result *r, int64_t started_ns)
{
	json_t *res = json_object(), *list = json_array(), *un = json_array();
	bool ok = res && list && un;

	if (id)
		ok = ok && put(res, "id", json_string(id));
	ok = ok && put(res, "kind", json_string("suggestion"));
	if (ok)
		result_set_status(res, "completed", NULL);
	ok = ok && put(res, "query", json_string(query));
	ok = ok && put(res, "matched", json_boolean(r->matched));
	for (int i = 0; ok && i < r->nitems; i++)
		ok = json_array_append_new(list, item_json(&r->items[i])) == 0;
	for (int i = 0; ok && i < r->nunavail; i++)
		ok = json_array_append_new(un, json_pack("{ssssss}", "family", r->unavail[i].fam->id, "spec",
							 r->unavail[i].spec, "why", r->unavail[i].why)) == 0;
	ok = ok && json_object_set(res, "suggestions", list) == 0;
	ok = ok && json_object_set(res, "unavailable", un) == 0;
	ok = ok && put(res, "read", read_json(r));
	if (ok) {
		result_set_time(res, "started_at", started_ns);
		result_set_time(res, "finished_at", result_now_ns());
	}
	json_decref(list);
	json_decref(un);
	if (!ok) {
		json_decref(res);
		return NULL;
	}
	return res;
}

json_t *suggestjob_run(const struct kb *kb, const struct caps *c, const char *id, const char *query, int max)
{
	struct traceopts none = { 0 };
	struct suggest_result r;
	struct lower_env env;
	int64_t t0 = result_now_ns();
	char err[256];
	json_t *res;

	compile_env(c, &none, &env);
	if (suggest_query(kb, query, &env, max, &r, err, sizeof(err)) < 0)
		return result_new_final(id, "suggestion", t0, "failed", "%s", err);
	res = suggestjob_result(id, query, &r, t0);
	suggest_release(&r);
	return res;
}
