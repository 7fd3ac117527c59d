/* tools/rvm/cmd_sim.c - `rvm sim`: run an agent communication trace through a placement policy. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "sim.h"

#define NAME_MAX_LEN 64

/* Agent names to numbers; a number is free again once its agent exits. */
struct names {
	char name[SIM_MAX_AGENTS][NAME_MAX_LEN];
	bool used[SIM_MAX_AGENTS];
};

static int name_find(const struct names *n, const char *s)
{
	for (int i = 0; i < (int)SIM_MAX_AGENTS; i++)
		if (n->used[i] && strcmp(n->name[i], s) == 0)
			return i;
	return -1;
}

static int name_add(struct names *n, const char *s)
{
	for (int i = 0; i < (int)SIM_MAX_AGENTS; i++)
		if (!n->used[i]) {
			n->used[i] = true;
			snprintf(n->name[i], NAME_MAX_LEN, "%s", s);
			return i;
		}
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: rvm sim TRACE --nodes N --slots S "
			"--placement coherence|naive|static [--epoch-us U] [--trust-floor F] "
			"[--json]\n"
			"  TRACE: JSON Lines, one event per line, e.g.\n"
			"    {\"t_us\":0,\"op\":\"spawn\",\"agent\":\"a1\"}\n"
			"    {\"t_us\":5,\"op\":\"send\",\"from\":\"a1\",\"to\":\"a2\",\"bytes\":512}\n"
			"    {\"t_us\":9,\"op\":\"trust\",\"agent\":\"a2\",\"level\":20}\n"
			"    {\"t_us\":12,\"op\":\"exit\",\"agent\":\"a1\"}\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || *s == '-' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
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
	    strlen(v->valuestring) >= NAME_MAX_LEN)
		return "field must be a non-empty string shorter than 64 bytes";
	*out = v->valuestring;
	return NULL;
}

/*
 * Turns one JSON line into an event, resolving agent names. Returns NULL or
 * the problem; *field names the field it concerns.
 */
static const char *parse_line(const char *line, struct names *nm, uint64_t last_t,
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

static void print_result(const struct sim_config *c, const struct sim_result *r, bool json)
{
	static const char *const pname[] = { "naive", "static", "coherence" };

	if (json) {
		printf("{\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"remote_bytes\":%" PRIu64
		       ",\"splits\":%" PRIu64 ",\"merges\":%" PRIu64 ",\"migrations\":%" PRIu64
		       ",\"degraded_epochs\":%" PRIu64 ",\"mincut_p50_ns\":%" PRIu64
		       ",\"mincut_p99_ns\":%" PRIu64 "}\n",
		       r->messages, r->bytes, r->remote_bytes, r->splits, r->merges, r->migrations,
		       r->degraded_epochs, r->mincut_p50_ns, r->mincut_p99_ns);
		return;
	}
	printf("placement        %s (%u nodes x %u slots)\n", pname[c->placement], c->nodes,
	       c->slots);
	printf("messages         %" PRIu64 "\n", r->messages);
	printf("bytes            %" PRIu64 "\n", r->bytes);
	printf("remote_bytes     %" PRIu64 " (%.1f%%)\n", r->remote_bytes,
	       r->bytes ? 100.0 * (double)r->remote_bytes / (double)r->bytes : 0.0);
	printf("splits           %" PRIu64 "\n", r->splits);
	printf("merges           %" PRIu64 "\n", r->merges);
	printf("migrations       %" PRIu64 "\n", r->migrations);
	printf("degraded_epochs  %" PRIu64 " of %" PRIu64 "\n", r->degraded_epochs, r->epochs);
	printf("mincut_p50_ns    %" PRIu64 "\n", r->mincut_p50_ns);
	printf("mincut_p99_ns    %" PRIu64 "\n", r->mincut_p99_ns);
}

int rvm_cmd_sim(int argc, char **argv)
{
	struct sim_config cfg = { .epoch_us = 1000, .trust_floor = 50 };
	const char *path = NULL;
	bool json = false, have_p = false;
	struct sim *s;
	struct names *nm;
	FILE *f;
	char *line = NULL, msg[160];
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0, last_t = 0;
	uint32_t epoch_us = 1000;
	struct sim_result res;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;

		if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--nodes") == 0 && has_val) {
			if (parse_u32(argv[++i], &cfg.nodes))
				goto bad_num;
		} else if (strcmp(a, "--slots") == 0 && has_val) {
			if (parse_u32(argv[++i], &cfg.slots))
				goto bad_num;
		} else if (strcmp(a, "--epoch-us") == 0 && has_val) {
			if (parse_u32(argv[++i], &epoch_us))
				goto bad_num;
			cfg.epoch_us = epoch_us;
		} else if (strcmp(a, "--trust-floor") == 0 && has_val) {
			if (parse_u32(argv[++i], &cfg.trust_floor) || cfg.trust_floor > 100)
				goto bad_num;
		} else if (strcmp(a, "--placement") == 0 && has_val) {
			const char *p = argv[++i];

			have_p = true;
			if (strcmp(p, "coherence") == 0)
				cfg.placement = SIM_COHERENCE;
			else if (strcmp(p, "naive") == 0)
				cfg.placement = SIM_NAIVE;
			else if (strcmp(p, "static") == 0)
				cfg.placement = SIM_STATIC;
			else {
				fprintf(stderr, "rvm sim: unknown placement '%s'\n", p);
				usage();
				return 2;
			}
		} else if (a[0] != '-' && !path) {
			path = a;
		} else {
			fprintf(stderr, "rvm sim: unexpected argument '%s'\n", a);
			usage();
			return 2;
		}
		continue;
bad_num:
		fprintf(stderr, "rvm sim: %s needs a whole number in range, got '%s'\n", a,
			argv[i]);
		return 2;
	}
	if (!path || !cfg.nodes || !cfg.slots || !have_p) {
		usage();
		return 2;
	}
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "rvm sim: %s: %s\n", path, strerror(errno));
		return 2;
	}
	s = malloc(sizeof(*s));
	nm = calloc(1, sizeof(*nm));
	if (!s || !nm || sim_init(s, &cfg, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "rvm sim: %s\n", s && nm ? msg : "out of memory");
		free(s);
		free(nm);
		fclose(f);
		return 2;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct sim_event ev;
		const char *err, *field;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
				   line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (strlen(line) != (size_t)len) {
			fprintf(stderr, "rvm sim: %s:%" PRIu64 ": NUL byte in line\n", path,
				lineno);
			rc = 2;
			break;
		}
		if ((err = parse_line(line, nm, last_t, &ev, &field))) {
			fprintf(stderr, "rvm sim: %s:%" PRIu64 ": %s%s%s\n", path, lineno,
				*field ? field : "", *field ? ": " : "", err);
			rc = 2;
			break;
		}
		last_t = ev.t_us;
		if (sim_event(s, &ev, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "rvm sim: %s:%" PRIu64 ": %s\n", path, lineno, msg);
			rc = 2;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "rvm sim: %s: read error\n", path);
		rc = 2;
	}
	if (rc == 0) {
		sim_finish(s, &res);
		print_result(&cfg, &res, json);
	}
	free(line);
	fclose(f);
	sim_free(s);
	free(s);
	free(nm);
	return rc;
}
