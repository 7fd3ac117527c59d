/* tools/rvm/audit_json.c - the JSON form of `rvm audit`'s report (--json), for tools and agents. */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include <rvm/witness.h>

#include "audit_report.h"
#include "logfile.h"

/* JSON numbers are doubles: counts and seqs above 2^53 would round, so those go as strings. */
static void add_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	if (v <= (1ull << 53)) {
		cJSON_AddNumberToObject(o, key, (double)v);
		return;
	}
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	cJSON_AddStringToObject(o, key, buf);
}

static const char *where_name(enum rvm_witness_where w)
{
	switch (w) {
	case RVM_WHERE_HEADER:
		return "header";
	case RVM_WHERE_RECORD:
		return "record";
	case RVM_WHERE_SIGNATURE:
		return "signature";
	default:
		return "none";
	}
}

/* Prints o on one line and frees it. */
static void emit(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s)
		printf("%s\n", s);
	else
		fprintf(stderr, "rvm audit: %s: out of memory printing JSON\n",
			rvm_err_name(RVM_E_NOMEM));
	free(s);
	cJSON_Delete(o);
}

static const char *verdict_word(int rc, bool found_tamper)
{
	if (rc == 0)
		return "OK";
	if (rc == 2)
		return "BAD INPUT";
	return found_tamper ? "TAMPERED" : "NOT CLEAN";
}

void rvm_audit_json_early(const char *log, int rc, enum rvm_err code, const char *why)
{
	cJSON *o = cJSON_CreateObject(), *e;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "log", log);
	cJSON_AddStringToObject(o, "verdict", verdict_word(rc, true));
	cJSON_AddNumberToObject(o, "exit", rc);
	e = cJSON_AddObjectToObject(o, "error");
	if (e) {
		cJSON_AddStringToObject(e, "code", rvm_err_name(code));
		cJSON_AddStringToObject(e, "where", rc == 1 ? "header" : "input");
		cJSON_AddStringToObject(e, "why", why);
	}
	emit(o);
}

static void add_actions(cJSON *o, const struct audit_counts *c)
{
	cJSON *a = cJSON_AddObjectToObject(o, "actions");
	char hex[8];

	for (uint32_t i = 0; a && i < 65536; i++) {
		const char *name = rvm_action_name((uint16_t)i);

		if (!c->by_action[i])
			continue;
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%04x", i);
			name = hex;
		}
		add_u64(a, name, c->by_action[i]);
	}
	add_u64(o, "batched_events", c->batched_events);
	add_u64(o, "denied", c->denied);
}

static void add_tail(cJSON *o, const struct rvm_witness_verdict *v)
{
	uint64_t unpinned = v->pinned ? v->records - 1 - v->last_pinned_seq : v->records;

	cJSON_AddBoolToObject(o, "clean", v->clean);
	cJSON_AddBoolToObject(o, "pinned", v->pinned);
	if (v->pinned)
		add_u64(o, "last_pinned_seq", v->last_pinned_seq);
	add_u64(o, "unpinned_tail", unpinned);
	add_u64(o, "torn_bytes", v->torn_bytes);
	cJSON_AddBoolToObject(o, "torn_checkpoint", v->torn_checkpoint);
}

static void add_error(cJSON *o, const struct rvm_witness_verdict *v)
{
	cJSON *e = cJSON_AddObjectToObject(o, "error");

	if (!e)
		return;
	cJSON_AddStringToObject(e, "code", rvm_err_name(v->err));
	cJSON_AddStringToObject(e, "where", where_name(v->where));
	cJSON_AddStringToObject(e, "why", v->why ? v->why : rvm_err_str(v->err));
	if (v->where == RVM_WHERE_RECORD || v->where == RVM_WHERE_SIGNATURE) {
		add_u64(e, "first_bad_seq", v->bad_seq);
		add_u64(e, "byte_offset", v->bad_offset);
	}
}

void rvm_audit_json_report(const char *log, const struct rvm_witness_reader *rd,
			   const struct audit_counts *c, const char *keydesc, bool require_clean,
			   int rc)
{
	const struct rvm_witness_verdict *v = &rd->v;
	cJSON *o = cJSON_CreateObject(), *f;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "log", log);
	cJSON_AddStringToObject(o, "verdict", verdict_word(rc, v->err != RVM_OK));
	cJSON_AddNumberToObject(o, "exit", rc);
	cJSON_AddBoolToObject(o, "require_clean", require_clean);
	cJSON_AddStringToObject(o, "key", keydesc);
	cJSON_AddBoolToObject(o, "key_trusted", v->key_trusted);
	if (v->where != RVM_WHERE_HEADER && (f = cJSON_AddObjectToObject(o, "format"))) {
		cJSON_AddNumberToObject(f, "version", rd->hdr.version);
		cJSON_AddStringToObject(f, "chain", rvm_tool_chain_name(rd->hdr.chain));
		cJSON_AddStringToObject(f, "signatures", rvm_tool_sig_name(rd->hdr.sig));
		cJSON_AddNumberToObject(f, "checkpoint_every", rd->hdr.checkpoint_every);
	}
	add_u64(o, "records", v->records);
	if (v->records)
		add_u64(o, "time_span_ns", v->last_time_ns - v->first_time_ns);
	add_u64(o, "checkpoints", v->checkpoints);
	add_u64(o, "signatures_verified", v->signatures_ok);
	add_actions(o, c);
	if (v->err == RVM_OK)
		add_tail(o, v);
	else
		add_error(o, v);
	emit(o);
}
