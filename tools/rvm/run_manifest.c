/* tools/rvm/run_manifest.c - the `rvm run` manifest: JSON read with cJSON, every key and value checked. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run.h"

struct ctx {
	struct run_manifest *m;
	char *msg;
	size_t len;
	char dir[RUN_PATH];
	const char *agents_dir;
};

static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, c->len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Every key of o must be in the NULL-terminated list. */
static int only_keys(struct ctx *c, const cJSON *o, const char *where, const char *const *keys)
{
	const cJSON *it;

	if (!cJSON_IsObject(o))
		return fail(c, "%s: must be an object", where);
	cJSON_ArrayForEach(it, o)
	{
		const char *const *k;

		for (k = keys; *k; k++)
			if (!strcmp(*k, it->string))
				break;
		if (!*k)
			return fail(c, "%s: unknown key \"%s\"", where, it->string);
	}
	return 0;
}

static int get_u32(struct ctx *c, const cJSON *o, const char *key, const char *where, uint32_t lo,
		   uint32_t hi, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
	    v->valuedouble > hi)
		return fail(c, "%s%s: must be an integer %u..%u", where, key, lo, hi);
	*out = (uint32_t)v->valuedouble;
	return 0;
}

static int get_str(struct ctx *c, const cJSON *o, const char *key, const char *where, char *out,
		   size_t cap, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v) {
		if (required)
			return fail(c, "%s%s: missing", where, key);
		return 0;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= cap)
		return fail(c, "%s%s: must be a non-empty string of at most %zu bytes", where, key,
			    cap - 1);
	strcpy(out, v->valuestring);
	return 0;
}

static const char *const cap_names[] = { "send", "recv", "spawn", "log", "time", NULL };
static const uint8_t cap_rights[] = { RVM_AGENT_RIGHT_SEND, RVM_AGENT_RIGHT_RECV,
				      RVM_AGENT_RIGHT_SPAWN, RVM_AGENT_RIGHT_LOG,
				      RVM_AGENT_RIGHT_TIME };

static int get_caps(struct ctx *c, const cJSON *o, const char *where, uint8_t *rights)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "capabilities"), *it;
	int i = 0;

	*rights = RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG |
		  RVM_AGENT_RIGHT_TIME;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return fail(c, "%scapabilities: must be an array of strings", where);
	*rights = 0;
	cJSON_ArrayForEach(it, v)
	{
		int k;

		for (k = 0; cap_names[k]; k++)
			if (cJSON_IsString(it) && !strcmp(it->valuestring, cap_names[k]))
				break;
		if (!cap_names[k])
			return fail(c, "%scapabilities[%d]: must be one of send, recv, spawn, log, time",
				    where, i);
		*rights |= cap_rights[k];
		i++;
	}
	return 0;
}

static int find_module(struct ctx *c, const char *name)
{
	struct run_manifest *m = c->m;

	for (uint32_t i = 0; i < m->nmodules; i++)
		if (!strcmp(m->modules[i].name, name))
			return (int)i;
	return -1;
}

/* A module by name: declared in "modules", or AGENTS_DIR/<name>.wasm. */
static int module_ref(struct ctx *c, const char *name, const char *where, uint32_t *out)
{
	struct run_manifest *m = c->m;
	int i = find_module(c, name);

	if (i < 0) {
		if (m->nmodules == RUN_MAX_MODULES)
			return fail(c, "%smodule: more than %u modules", where, RUN_MAX_MODULES);
		if (!c->agents_dir)
			return fail(c, "%smodule: \"%s\" is not in \"modules\" and no agents directory "
				       "is known (--agents DIR)",
				    where, name);
		i = (int)m->nmodules++;
		snprintf(m->modules[i].name, RUN_NAME, "%s", name);
		snprintf(m->modules[i].path, RUN_PATH, "%s/%s.wasm", c->agents_dir, name);
	}
	*out = (uint32_t)i;
	return 0;
}

/* out = dir/name (or name when dir is empty); -1 when it does not fit RUN_PATH. */
static int join_path(char out[RUN_PATH], const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);

	if (d + n + 2 > RUN_PATH)
		return -1;
	memcpy(out, dir, d);
	if (d)
		out[d++] = '/';
	memcpy(out + d, name, n + 1);
	return 0;
}

static int parse_modules(struct ctx *c, const cJSON *o)
{
	const cJSON *it;

	if (!o)
		return 0;
	if (!cJSON_IsObject(o))
		return fail(c, "modules: must be an object of name: path");
	cJSON_ArrayForEach(it, o)
	{
		struct run_module *md;

		if (!cJSON_IsString(it) || !it->valuestring[0])
			return fail(c, "modules.%s: must be a path string", it->string);
		if (strlen(it->string) >= RUN_NAME)
			return fail(c, "modules.%s: name longer than %u bytes", it->string, RUN_NAME - 1);
		if (find_module(c, it->string) >= 0)
			return fail(c, "modules.%s: declared twice", it->string);
		if (c->m->nmodules == RUN_MAX_MODULES)
			return fail(c, "modules: more than %u modules", RUN_MAX_MODULES);
		md = &c->m->modules[c->m->nmodules++];
		snprintf(md->name, RUN_NAME, "%s", it->string);
		if (join_path(md->path, it->valuestring[0] == '/' ? "" : c->dir, it->valuestring))
			return fail(c, "modules.%s: path too long", it->string);
	}
	return 0;
}

static int find_agent(const struct run_manifest *m, const char *name)
{
	for (uint32_t i = 0; i < m->nagents; i++)
		if (!strcmp(m->agents[i].name, name))
			return (int)i;
	return -1;
}

static int parse_agents(struct ctx *c, const cJSON *arr)
{
	static const char *const keys[] = { "name",	 "module", "partition", "capabilities",
					    "trust",	 "args",   NULL };
	struct run_manifest *m = c->m;
	const cJSON *o;
	char where[64], mod[RUN_NAME];
	int i = 0;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return fail(c, "agents: must be a non-empty array");
	cJSON_ArrayForEach(o, arr)
	{
		struct run_agent_spec *a;
		const cJSON *args;
		uint32_t trust = 100;

		snprintf(where, sizeof(where), "agents[%d].", i);
		if (m->nagents == RUN_MAX_AGENTS)
			return fail(c, "agents: more than %u agents", RUN_MAX_AGENTS);
		a = &m->agents[m->nagents];
		if (only_keys(c, o, where, keys) || get_str(c, o, "name", where, a->name, RUN_NAME, true) ||
		    get_str(c, o, "module", where, mod, RUN_NAME, true) ||
		    get_str(c, o, "partition", where, a->partition, RUN_NAME, false) ||
		    get_caps(c, o, where, &a->rights) ||
		    get_u32(c, o, "trust", where, 0, 100, &trust) || module_ref(c, mod, where, &a->module))
			return -1;
		if (find_agent(m, a->name) >= 0)
			return fail(c, "%sname: \"%s\" used twice", where, a->name);
		if (!a->partition[0])
			memcpy(a->partition, a->name, RUN_NAME);
		a->trust = (uint8_t)trust;
		args = cJSON_GetObjectItemCaseSensitive(o, "args");
		if (args) {
			const cJSON *v;
			int j = 0;

			if (!cJSON_IsArray(args) || cJSON_GetArraySize(args) > (int)RVM_AGENT_ARGS)
				return fail(c, "%sargs: must be an array of at most %u integers", where,
					    RVM_AGENT_ARGS);
			cJSON_ArrayForEach(v, args)
			{
				if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
				    fabs(v->valuedouble) > 9.0e15)
					return fail(c, "%sargs[%d]: must be an integer", where, j);
				a->args[j++] = (int64_t)v->valuedouble;
			}
		}
		m->nagents++;
		i++;
	}
	return 0;
}

static int parse_templates(struct ctx *c, const cJSON *arr)
{
	static const char *const keys[] = { "module", "capabilities", "trust", NULL };
	const cJSON *o;
	int i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(c, "templates: must be an array");
	cJSON_ArrayForEach(o, arr)
	{
		char where[64], mod[RUN_NAME];
		uint32_t idx, trust = 100;
		uint8_t rights;

		snprintf(where, sizeof(where), "templates[%d].", i++);
		if (only_keys(c, o, where, keys) || get_str(c, o, "module", where, mod, RUN_NAME, true) ||
		    get_caps(c, o, where, &rights) || get_u32(c, o, "trust", where, 0, 100, &trust) ||
		    module_ref(c, mod, where, &idx))
			return -1;
		c->m->modules[idx].is_template = true;
		c->m->modules[idx].rights = rights;
		c->m->modules[idx].trust = (uint8_t)trust;
	}
	return 0;
}

static int add_edge(struct ctx *c, const char *where, const char *from, const char *to)
{
	struct run_manifest *m = c->m;
	int a = find_agent(m, from), b = find_agent(m, to);

	if (a < 0)
		return fail(c, "%s: no agent named \"%s\"", where, from);
	if (b < 0)
		return fail(c, "%s: no agent named \"%s\"", where, to);
	if (a == b)
		return fail(c, "%s: an agent cannot have an edge to itself", where);
	for (uint32_t i = 0; i < m->nedges; i++)
		if (m->edges[i][0] == (uint32_t)a && m->edges[i][1] == (uint32_t)b)
			return fail(c, "%s: edge %s -> %s listed twice", where, from, to);
	if (m->nedges == RUN_MAX_EDGES)
		return fail(c, "%s: more than %u edges", where, RUN_MAX_EDGES);
	m->edges[m->nedges][0] = (uint32_t)a;
	m->edges[m->nedges][1] = (uint32_t)b;
	m->nedges++;
	return 0;
}

static int parse_edges(struct ctx *c, const cJSON *edges, const cJSON *mesh)
{
	const cJSON *e;
	char where[64];
	int i = 0;

	if (edges && !cJSON_IsArray(edges))
		return fail(c, "edges: must be an array of [from, to] pairs");
	cJSON_ArrayForEach(e, edges)
	{
		snprintf(where, sizeof(where), "edges[%d]", i++);
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 ||
		    !cJSON_IsString(cJSON_GetArrayItem(e, 0)) ||
		    !cJSON_IsString(cJSON_GetArrayItem(e, 1)))
			return fail(c, "%s: must be a pair of agent names [\"from\", \"to\"]", where);
		if (add_edge(c, where, cJSON_GetArrayItem(e, 0)->valuestring,
			     cJSON_GetArrayItem(e, 1)->valuestring))
			return -1;
	}
	if (mesh && !cJSON_IsArray(mesh))
		return fail(c, "mesh: must be an array of arrays of agent names");
	i = 0;
	cJSON_ArrayForEach(e, mesh)
	{
		const cJSON *x, *y;

		snprintf(where, sizeof(where), "mesh[%d]", i++);
		if (!cJSON_IsArray(e))
			return fail(c, "%s: must be an array of agent names", where);
		cJSON_ArrayForEach(x, e)
		{
			if (!cJSON_IsString(x))
				return fail(c, "%s: must hold agent names", where);
			cJSON_ArrayForEach(y, e)
			{
				if (x != y && cJSON_IsString(y) &&
				    add_edge(c, where, x->valuestring, y->valuestring))
					return -1;
			}
		}
	}
	return 0;
}

static int parse_events(struct ctx *c, const cJSON *arr)
{
	static const char *const keys[] = { "at", "agent", "trust", NULL };
	const cJSON *o;
	int i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(c, "events: must be an array");
	cJSON_ArrayForEach(o, arr)
	{
		char where[64], name[RUN_NAME];
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
		struct run_event *ev;
		uint32_t trust = 101;
		int a;

		snprintf(where, sizeof(where), "events[%d].", i++);
		if (c->m->nevents == RUN_MAX_EVENTS)
			return fail(c, "events: more than %u", RUN_MAX_EVENTS);
		ev = &c->m->events[c->m->nevents];
		if (only_keys(c, o, where, keys) || get_str(c, o, "agent", where, name, RUN_NAME, true) ||
		    get_u32(c, o, "trust", where, 0, 100, &trust))
			return -1;
		if (!at || !cJSON_IsNumber(at) || at->valuedouble < 0 || at->valuedouble > 86400)
			return fail(c, "%sat: must be seconds 0..86400", where);
		if (trust > 100)
			return fail(c, "%strust: missing", where);
		if ((a = find_agent(c->m, name)) < 0)
			return fail(c, "%sagent: no agent named \"%s\"", where, name);
		ev->at_ns = (uint64_t)(at->valuedouble * 1e9);
		ev->agent = (uint32_t)a;
		ev->trust = (uint8_t)trust;
		c->m->nevents++;
	}
	return 0;
}

static int parse_limits(struct ctx *c, const cJSON *o)
{
	static const char *const keys[] = { "seconds",	    "cpus",	   "epoch_ms",
					    "fuel_per_slice", "max_partition_agents", "trust_floor",
					    "memory_pages",   "max_agents", NULL };
	struct run_manifest *m = c->m;
	const cJSON *s;
	uint32_t fuel = (uint32_t)m->fuel;

	if (!o)
		return 0;
	if (only_keys(c, o, "limits.", keys) ||
	    get_u32(c, o, "cpus", "limits.", 1, RVM_MAX_CPUS, &m->cpus) ||
	    get_u32(c, o, "epoch_ms", "limits.", 1, 10000, &m->epoch_ms) ||
	    get_u32(c, o, "fuel_per_slice", "limits.", 100, 100000000, &fuel) ||
	    get_u32(c, o, "max_partition_agents", "limits.", 1, RVM_AGENT_MAX,
		    &m->max_partition_agents) ||
	    get_u32(c, o, "trust_floor", "limits.", 1, 100, &m->trust_floor) ||
	    get_u32(c, o, "memory_pages", "limits.", 1, 256, &m->memory_pages) ||
	    get_u32(c, o, "max_agents", "limits.", 1, RVM_AGENT_MAX, &m->max_agents))
		return -1;
	m->fuel = fuel;
	s = cJSON_GetObjectItemCaseSensitive(o, "seconds");
	if (s && (!cJSON_IsNumber(s) || s->valuedouble <= 0 || s->valuedouble > 86400))
		return fail(c, "limits.seconds: must be a number of seconds in (0, 86400]");
	if (s)
		m->seconds = s->valuedouble;
	return 0;
}

/* An integer 0..2^53 (exact in a JSON number); required keys say so when missing. */
static int get_u64(struct ctx *c, const cJSON *o, const char *key, const char *where,
		   uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return fail(c, "%s%s: missing", where, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > 9007199254740992.0)
		return fail(c, "%s%s: must be an integer 0..2^53", where, key);
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static const char *const gpu_right_names[] = { "read", "write", "execute", NULL };
static const uint8_t gpu_right_bits[] = { RVM_RIGHT_READ, RVM_RIGHT_WRITE, RVM_RIGHT_EXECUTE };

static int gpu_rights(struct ctx *c, const cJSON *o, const char *where, uint8_t *rights)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "rights"), *it;
	int i = 0;

	*rights = RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return fail(c, "%srights: must be an array of strings", where);
	*rights = 0;
	cJSON_ArrayForEach(it, v)
	{
		int k;

		for (k = 0; gpu_right_names[k]; k++)
			if (cJSON_IsString(it) && !strcmp(it->valuestring, gpu_right_names[k]))
				break;
		if (!gpu_right_names[k])
			return fail(c, "%srights[%d]: must be one of read, write, execute", where, i);
		*rights |= gpu_right_bits[k];
		i++;
	}
	return 0;
}

/* One grant: the partition (by name, or the partition of "agent"), rights and the budget. */
static int parse_grant(struct ctx *c, const cJSON *o, const char *where, struct run_gpu_grant *g)
{
	static const char *const keys[] = { "partition", "agent", "rights", "budget", NULL };
	static const char *const bkeys[] = { "compute_ms", "memory_bytes", "transfer_bytes",
					     "launches", NULL };
	struct run_manifest *m = c->m;
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "budget");
	char agent[RUN_NAME] = "", bw[96];
	uint64_t ms;
	uint32_t i;

	if (only_keys(c, o, where, keys) ||
	    get_str(c, o, "partition", where, g->partition, RUN_NAME, false) ||
	    get_str(c, o, "agent", where, agent, RUN_NAME, false) || gpu_rights(c, o, where, &g->rights))
		return -1;
	if (!g->partition[0] == !agent[0])
		return fail(c, "%spartition: give exactly one of \"partition\" and \"agent\"",
			    where);
	if (agent[0]) {
		int a = find_agent(m, agent);

		if (a < 0)
			return fail(c, "%sagent: no agent named \"%s\"", where, agent);
		memcpy(g->partition, m->agents[a].partition, RUN_NAME);
	}
	for (i = 0; i < m->nagents; i++)
		if (!strcmp(m->agents[i].partition, g->partition))
			break;
	if (i == m->nagents)
		return fail(c, "%spartition: no agent is in a partition named \"%s\"", where,
			    g->partition);
	if (!b)
		return fail(c, "%sbudget: missing", where);
	snprintf(bw, sizeof(bw), "%sbudget.", where);
	if (only_keys(c, b, bw, bkeys) || get_u64(c, b, "compute_ms", bw, &ms) ||
	    get_u64(c, b, "memory_bytes", bw, &g->limit[1]) ||
	    get_u64(c, b, "transfer_bytes", bw, &g->limit[2]) ||
	    get_u64(c, b, "launches", bw, &g->limit[3]))
		return -1;
	if (ms > 86400000u)
		return fail(c, "%scompute_ms: at most 86400000 (a day) per epoch", bw);
	g->limit[0] = ms * 1000000u;
	return 0;
}

/* "gpu": { "backend", "device", "epoch_ms", "grants": [...] } (docs/gpu.md). */
static int parse_gpu(struct ctx *c, const cJSON *o)
{
	static const char *const keys[] = { "backend", "device", "epoch_ms", "grants", NULL };
	struct run_gpu *g = &c->m->gpu;
	const cJSON *arr, *it;
	int i = 0;

	snprintf(g->backend, sizeof(g->backend), "auto");
	g->epoch_ms = 1000;
	if (!o)
		return 0;
	if (only_keys(c, o, "gpu.", keys) ||
	    get_str(c, o, "backend", "gpu.", g->backend, sizeof(g->backend), false) ||
	    get_str(c, o, "device", "gpu.", g->device, sizeof(g->device), false) ||
	    get_u32(c, o, "epoch_ms", "gpu.", 1, 86400000u, &g->epoch_ms))
		return -1;
	if (strcmp(g->backend, "auto") && strcmp(g->backend, "opencl") && strcmp(g->backend, "cpu"))
		return fail(c, "gpu.backend: must be one of auto, opencl, cpu");
	arr = cJSON_GetObjectItemCaseSensitive(o, "grants");
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return fail(c, "gpu.grants: must be a non-empty array");
	cJSON_ArrayForEach(it, arr)
	{
		char where[64];

		snprintf(where, sizeof(where), "gpu.grants[%d].", i++);
		if (g->ngrants == RUN_MAX_GPU_GRANTS)
			return fail(c, "gpu.grants: more than %u", RUN_MAX_GPU_GRANTS);
		if (parse_grant(c, it, where, &g->grants[g->ngrants]))
			return -1;
		for (uint32_t j = 0; j < g->ngrants; j++)
			if (!strcmp(g->grants[j].partition, g->grants[g->ngrants].partition))
				return fail(c, "%spartition: \"%s\" is granted twice", where,
					    g->grants[j].partition);
		g->ngrants++;
	}
	return 0;
}

static int parse_expect(struct ctx *c, const cJSON *o)
{
	static const char *const keys[] = { "splits", "merges", "recoveries", NULL };
	struct run_manifest *m = c->m;

	if (!o)
		return 0;
	return only_keys(c, o, "expect.", keys) ||
			       get_u32(c, o, "splits", "expect.", 0, 1000000, &m->expect_splits) ||
			       get_u32(c, o, "merges", "expect.", 0, 1000000, &m->expect_merges) ||
			       get_u32(c, o, "recoveries", "expect.", 0, 1000000, &m->expect_recoveries)
		       ? -1
		       : 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (16l << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = 0;
	}
	fclose(f);
	return buf;
}

int run_manifest_load(const char *path, const char *agents_dir, struct run_manifest *m, char *msg,
		      size_t msg_len)
{
	static const char *const keys[] = { "name",  "description", "modules", "agents", "templates",
					    "edges", "mesh",	    "events",  "limits", "expect",
					    "gpu",   NULL };
	struct ctx c = { .m = m, .msg = msg, .len = msg_len, .agents_dir = agents_dir };
	const char *slash;
	size_t len = 0;
	char *text;
	cJSON *root;
	int rc;

	memset(m, 0, sizeof(*m));
	m->seconds = 10;
	m->cpus = 2;
	m->epoch_ms = 50;
	m->fuel = 20000;
	m->max_partition_agents = 8;
	m->trust_floor = 50;
	m->memory_pages = 2;
	slash = strrchr(path, '/');
	if (slash)
		snprintf(c.dir, sizeof(c.dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(c.dir, sizeof(c.dir), ".");
	if (!(text = slurp(path, &len)))
		return fail(&c, "cannot read the manifest");
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		rc = fail(&c, "not valid JSON (near byte %ld)", at ? (long)(at - text) : -1l);
		free(text);
		return rc;
	}
	rc = only_keys(&c, root, "manifest", keys);
	if (!rc)
		rc = get_str(&c, root, "name", "", m->name, sizeof(m->name), false);
	if (!rc && cJSON_GetObjectItemCaseSensitive(root, "description") &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "description")))
		rc = fail(&c, "description: must be a string");
	if (!rc)
		rc = parse_modules(&c, cJSON_GetObjectItemCaseSensitive(root, "modules"));
	if (!rc)
		rc = parse_agents(&c, cJSON_GetObjectItemCaseSensitive(root, "agents"));
	if (!rc)
		rc = parse_templates(&c, cJSON_GetObjectItemCaseSensitive(root, "templates"));
	if (!rc)
		rc = parse_edges(&c, cJSON_GetObjectItemCaseSensitive(root, "edges"),
				 cJSON_GetObjectItemCaseSensitive(root, "mesh"));
	if (!rc)
		rc = parse_events(&c, cJSON_GetObjectItemCaseSensitive(root, "events"));
	if (!rc)
		rc = parse_limits(&c, cJSON_GetObjectItemCaseSensitive(root, "limits"));
	if (!rc)
		rc = parse_expect(&c, cJSON_GetObjectItemCaseSensitive(root, "expect"));
	if (!rc)
		rc = parse_gpu(&c, cJSON_GetObjectItemCaseSensitive(root, "gpu"));
	if (!rc && !m->max_agents)
		m->max_agents = m->nagents + 32 < RVM_AGENT_MAX ? m->nagents + 32 : RVM_AGENT_MAX;
	if (!rc && m->max_agents < m->nagents)
		rc = fail(&c, "limits.max_agents: %u is fewer than the %u agents listed",
			  m->max_agents, m->nagents);
	if (!m->name[0])
		snprintf(m->name, sizeof(m->name), "%s", slash ? slash + 1 : path);
	cJSON_Delete(root);
	free(text);
	return rc;
}
