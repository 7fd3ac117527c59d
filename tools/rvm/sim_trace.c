/* tools/rvm/sim_trace.c - the `rvm sim` trace reader: JSON Lines to simulator events, errors named by line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

static int name_find(const struct sim_names *n, const char *s)
{
	for (int i = 0; i < (int)SIM_MAX_AGENTS; i++)
		if (n->used[i] && strcmp(n->name[i], s) == 0)
			return i;
	return -1;
}

static int name_add(struct sim_names *n, const char *s)
{
	for (int i = 0; i < (int)SIM_MAX_AGENTS; i++)
		if (!n->used[i]) {
			n->used[i] = true;
			snprintf(n->name[i], SIM_NAME_MAX, "%s", s);
			return i;
		}
	return -1;
}

/* An unsigned integer member of o, at most max. */
static const char *get_uint(const cJSON *o, const char *key, uint64_t max, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return "missing field";
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return "field must be a whole number in range";
	*out = (uint64_t)v->valuedouble;
	return NULL;
}

static const char *get_str(const cJSON *o, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return "missing field";
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) >= SIM_NAME_MAX)
		return "field must be a non-empty string shorter than 64 bytes";
	*out = v->valuestring;
	return NULL;
}

/*
 * Turns one JSON line into an event, resolving agent names. Returns NULL or
 * the problem; *field names the field it concerns.
 */
static const char *parse_line(const char *line, struct sim_names *nm, uint64_t last_t,
			      struct sim_event *ev, const char **field)
{
	cJSON *o = cJSON_Parse(line);
	const char *err = NULL, *op, *a = NULL, *b = NULL;
	uint64_t v = 0;
	int ia, ib;

	*field = "";
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return "not a JSON object";
	}
	memset(ev, 0, sizeof(*ev));
	if ((err = get_uint(o, "t_us", UINT64_MAX >> 12, &ev->t_us))) {
		*field = "t_us";
		goto out;
	}
	if (ev->t_us < last_t) {
		err = "time goes backwards";
		*field = "t_us";
		goto out;
	}
	if ((err = get_str(o, "op", &op))) {
		*field = "op";
		goto out;
	}
	if (strcmp(op, "spawn") == 0 || strcmp(op, "exit") == 0 || strcmp(op, "trust") == 0) {
		ev->op = op[0] == 's' ? SIM_SPAWN : op[0] == 'e' ? SIM_EXIT : SIM_TRUST;
		*field = "agent";
		if ((err = get_str(o, "agent", &a)))
			goto out;
		if (ev->op == SIM_TRUST) {
			*field = "level";
			if ((err = get_uint(o, "level", 100, &v)))
				goto out;
			ev->value = (uint32_t)v;
		}
	} else if (strcmp(op, "send") == 0) {
		ev->op = SIM_SEND;
		*field = "from";
		if ((err = get_str(o, "from", &a)))
			goto out;
		*field = "to";
		if ((err = get_str(o, "to", &b)))
			goto out;
		*field = "bytes";
		if ((err = get_uint(o, "bytes", UINT32_MAX, &v)))
			goto out;
		ev->value = (uint32_t)v;
	} else {
		*field = "op";
		err = "unknown op (spawn, send, trust, exit)";
		goto out;
	}
	*field = ev->op == SIM_SEND ? "from" : "agent";
	ia = name_find(nm, a);
	if (ev->op == SIM_SPAWN) {
		if (ia >= 0) {
			err = "agent is already alive";
			goto out;
		}
		if ((ia = name_add(nm, a)) < 0) {
			err = "more than 256 agents alive at once";
			goto out;
		}
	} else if (ia < 0) {
		err = "no such agent alive";
		goto out;
	}
	ev->a = (uint32_t)ia;
	if (b) {
		*field = "to";
		if ((ib = name_find(nm, b)) < 0) {
			err = "no such agent alive";
			goto out;
		}
		ev->b = (uint32_t)ib;
	}
	if (ev->op == SIM_EXIT)
		nm->used[ia] = false;
out:
	cJSON_Delete(o);
	return err;
}

void sim_trace_init(struct sim_trace *t)
{
	memset(t, 0, sizeof(*t));
}

int sim_trace_line(struct sim_trace *t, struct sim *s, char *line, size_t len, char *msg,
		   size_t msg_len)
{
	struct sim_event ev;
	const char *err, *field;
	char smsg[160];

	t->lineno++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
			   line[len - 1] == '\t'))
		line[--len] = '\0';
	if (len == 0)
		return 0;
	if (strlen(line) != len) {
		snprintf(msg, msg_len, "%" PRIu64 ": NUL byte in line", t->lineno);
		return -1;
	}
	if ((err = parse_line(line, &t->names, t->last_t, &ev, &field))) {
		snprintf(msg, msg_len, "%" PRIu64 ": %s%s%s", t->lineno, *field ? field : "",
			 *field ? ": " : "", err);
		return -1;
	}
	t->last_t = ev.t_us;
	if (sim_event(s, &ev, smsg, sizeof(smsg)) != 0) {
		snprintf(msg, msg_len, "%" PRIu64 ": %s", t->lineno, smsg);
		return -1;
	}
	return 0;
}
