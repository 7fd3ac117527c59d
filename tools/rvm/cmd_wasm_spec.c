/* tools/rvm/cmd_wasm_spec.c - `rvm wasm spec`: runs wast2json scripts of the spec test suite. */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd_wasm.h"

/*
 * One script at a time: modules stay alive until the script ends (registered instances are
 * imported by later modules). Expected error texts are matched as prefixes of ours; a
 * rejection with different wording still passes but is counted as a message mismatch.
 */

#define MAX_MODULES 2048
#define MAX_REGISTERED 32

struct loaded {
	char name[64];
	struct tool_module tm;
	struct tool_instance ti;
	uint8_t *bytes;
};

struct spectest {
	struct rvm_wasm_func print[7];
	struct rvm_wasm_functype types[7];
	struct rvm_wasm_global g_i32, g_i64, g_f32, g_f64;
	struct rvm_wasm_table table;
	uint64_t table_elems[20];
	struct rvm_wasm_memory memory;
	uint8_t memory_buf[2 * RVM_WASM_PAGE];
};

struct script {
	const char *dir;
	struct loaded *mods[MAX_MODULES];
	int nmods;
	struct loaded *current;
	struct {
		char as[64];
		struct loaded *l;
	} reg[MAX_REGISTERED];
	int nreg;
	struct spectest *st;
	long passed, failed, skipped, msg_mismatch;
	int verbose;
};

static const uint8_t t_i32[] = { RVM_WASM_I32 }, t_i64[] = { RVM_WASM_I64 },
		     t_f32[] = { RVM_WASM_F32 }, t_f64[] = { RVM_WASM_F64 },
		     t_i32_f32[] = { RVM_WASM_I32, RVM_WASM_F32 },
		     t_f64_f64[] = { RVM_WASM_F64, RVM_WASM_F64 };
static const char *const print_names[7] = { "print",	 "print_i32",	  "print_i64",
					    "print_f32", "print_f64",	  "print_i32_f32",
					    "print_f64_f64" };

static enum rvm_wasm_trap spectest_print(void *ctx, struct rvm_wasm_instance *caller,
					 uint64_t *slots)
{
	(void)ctx;
	(void)caller;
	(void)slots;
	return RVM_WASM_TRAP_NONE;
}

static void spectest_init(struct spectest *st)
{
	const uint8_t *params[7] = { NULL, t_i32, t_i64, t_f32, t_f64, t_i32_f32, t_f64_f64 };
	const uint32_t np[7] = { 0, 1, 1, 1, 1, 2, 2 };
	union {
		float f;
		uint32_t u;
	} f32 = { .f = 666.6f };
	union {
		double f;
		uint64_t u;
	} f64 = { .f = 666.6 };

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 7; i++) {
		st->types[i].nparams = np[i];
		st->types[i].params = params[i];
		rvm_wasm_host_func(&st->print[i], &st->types[i], spectest_print, NULL);
	}
	st->g_i32 = (struct rvm_wasm_global){ 666, RVM_WASM_I32, false };
	st->g_i64 = (struct rvm_wasm_global){ 666, RVM_WASM_I64, false };
	st->g_f32 = (struct rvm_wasm_global){ f32.u, RVM_WASM_F32, false };
	st->g_f64 = (struct rvm_wasm_global){ f64.u, RVM_WASM_F64, false };
	st->table = (struct rvm_wasm_table){ st->table_elems, 10, 20, 20, true, RVM_WASM_FUNCREF };
	st->memory = (struct rvm_wasm_memory){ st->memory_buf, RVM_WASM_PAGE,
					       sizeof(st->memory_buf), 2, true };
}

static int spectest_lookup(struct spectest *st, const char *name, uint32_t len,
			   struct rvm_wasm_extern *out)
{
	for (int i = 0; i < 7; i++)
		if (strlen(print_names[i]) == len && !memcmp(print_names[i], name, len)) {
			out->kind = RVM_WASM_KIND_FUNC;
			out->u.func = &st->print[i];
			return 0;
		}
#define G(n, g)                                                           \
	if (strlen(n) == len && !memcmp(n, name, len)) {                  \
		out->kind = RVM_WASM_KIND_GLOBAL;                         \
		out->u.global = &st->g;                                   \
		return 0;                                                 \
	}
	G("global_i32", g_i32)
	G("global_i64", g_i64)
	G("global_f32", g_f32)
	G("global_f64", g_f64)
#undef G
	if (len == 5 && !memcmp(name, "table", 5)) {
		out->kind = RVM_WASM_KIND_TABLE;
		out->u.table = &st->table;
		return 0;
	}
	if (len == 6 && !memcmp(name, "memory", 6)) {
		out->kind = RVM_WASM_KIND_MEMORY;
		out->u.memory = &st->memory;
		return 0;
	}
	return -1;
}

static struct loaded *find_module(struct script *s, const char *name)
{
	if (!name)
		return s->current;
	for (int i = s->nmods - 1; i >= 0; i--)
		if (!strcmp(s->mods[i]->name, name))
			return s->mods[i];
	return NULL;
}

/* Resolves every import of tm; returns 0 or -1 (unknown import). */
static int resolve_imports(struct script *s, const struct tool_module *tm,
			   struct rvm_wasm_extern *out)
{
	uint32_t n = rvm_wasm_module_import_count(tm->mod);

	for (uint32_t i = 0; i < n; i++) {
		struct rvm_wasm_import_desc d;
		int found = 0;

		rvm_wasm_module_import(tm->mod, i, &d);
		if (d.module_len == 8 && !memcmp(d.module, "spectest", 8)) {
			found = spectest_lookup(s->st, d.name, d.name_len, &out[i]) == 0;
		} else {
			for (int r = s->nreg - 1; r >= 0 && !found; r--) {
				if (strlen(s->reg[r].as) != d.module_len ||
				    memcmp(s->reg[r].as, d.module, d.module_len) != 0)
					continue;
				found = rvm_wasm_export(s->reg[r].l->ti.inst, d.name, d.name_len,
							&out[i]);
				break;
			}
		}
		if (!found)
			return -1;
	}
	return 0;
}

static void free_loaded(struct loaded *l)
{
	if (l->ti.inst || l->ti.arena)
		tool_instance_free(&l->ti);
	if (l->tm.mod)
		tool_module_free(&l->tm);
	free(l->bytes);
	free(l);
}

enum load_stage { LOAD_OK, LOAD_READ, LOAD_DECODE, LOAD_LINK, LOAD_TRAP };

/* Loads and (unless decode_only) instantiates filename; *msg gets the error text. */
static enum load_stage load(struct script *s, const char *filename, struct loaded **out,
			    char *msg, size_t msgcap, int decode_only)
{
	char path[4096];
	struct loaded *l = calloc(1, sizeof(*l));
	struct rvm_wasm_error err;
	enum rvm_wasm_trap trap;
	struct rvm_wasm_extern imports[512];
	size_t len;

	*out = NULL;
	msg[0] = 0;
	if (!l)
		return LOAD_READ;
	snprintf(path, sizeof(path), "%s/%s", s->dir, filename);
	l->bytes = tool_read_file(path, &len);
	if (!l->bytes) {
		snprintf(msg, msgcap, "cannot read the module file");
		free(l);
		return LOAD_READ;
	}
	if (tool_module_load(&l->tm, l->bytes, len, &err) != 0) {
		snprintf(msg, msgcap, "%s", err.msg);
		free_loaded(l);
		return err.err == RVM_E_NOMEM ? LOAD_READ : LOAD_DECODE;
	}
	if (decode_only) {
		*out = l;
		return LOAD_OK;
	}
	if (rvm_wasm_module_import_count(l->tm.mod) > 512 ||
	    resolve_imports(s, &l->tm, imports) != 0) {
		snprintf(msg, msgcap, "unknown import");
		free_loaded(l);
		return LOAD_LINK;
	}
	if (tool_instantiate(&l->ti, &l->tm, imports, &err, &trap) != 0) {
		snprintf(msg, msgcap, "%s", err.msg);
		if (err.err == RVM_E_TRAP && s->nmods < MAX_MODULES) {
			/* Its functions may sit in shared tables now: keep it until the end. */
			s->mods[s->nmods++] = l;
			return LOAD_TRAP;
		}
		free_loaded(l);
		return err.err == RVM_E_TRAP ? LOAD_TRAP : err.err == RVM_E_LINK ? LOAD_LINK :
										    LOAD_READ;
	}
	*out = l;
	return LOAD_OK;
}

static int keep(struct script *s, struct loaded *l, const char *name)
{
	if (s->nmods >= MAX_MODULES) {
		free_loaded(l);
		return -1;
	}
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "");
	s->mods[s->nmods++] = l;
	s->current = l;
	return 0;
}

static uint8_t parse_type(const char *t)
{
	if (!strcmp(t, "i32")) return RVM_WASM_I32;
	if (!strcmp(t, "i64")) return RVM_WASM_I64;
	if (!strcmp(t, "f32")) return RVM_WASM_F32;
	if (!strcmp(t, "f64")) return RVM_WASM_F64;
	if (!strcmp(t, "funcref")) return RVM_WASM_FUNCREF;
	if (!strcmp(t, "externref")) return RVM_WASM_EXTERNREF;
	return 0;
}

/* Argument value: numbers are the unsigned decimal of the bits; externref N is N + 1. */
static int parse_value(const cJSON *v, uint8_t *type, uint64_t *out)
{
	const cJSON *t = cJSON_GetObjectItem(v, "type"), *val = cJSON_GetObjectItem(v, "value");

	if (!cJSON_IsString(t) || !(*type = parse_type(t->valuestring)))
		return -1;
	if (!cJSON_IsString(val))
		return -1;
	if (*type == RVM_WASM_FUNCREF || *type == RVM_WASM_EXTERNREF) {
		*out = !strcmp(val->valuestring, "null") ? 0 :
							   strtoull(val->valuestring, NULL, 10) + 1;
		return 0;
	}
	*out = strtoull(val->valuestring, NULL, 10);
	return 0;
}

static int value_matches(const cJSON *exp, uint64_t got)
{
	const cJSON *t = cJSON_GetObjectItem(exp, "type"), *val = cJSON_GetObjectItem(exp, "value");
	uint8_t type;

	if (!cJSON_IsString(t) || !cJSON_IsString(val) || !(type = parse_type(t->valuestring)))
		return 0;
	const char *s = val->valuestring;

	if (type == RVM_WASM_F32 && !strncmp(s, "nan:", 4)) {
		uint32_t b = (uint32_t)got;

		if ((b & 0x7fffffffu) <= 0x7f800000u)
			return 0;
		return !strcmp(s, "nan:canonical") ? (b & 0x7fffffffu) == 0x7fc00000u :
						     (b & 0x00400000u) != 0;
	}
	if (type == RVM_WASM_F64 && !strncmp(s, "nan:", 4)) {
		if ((got & 0x7fffffffffffffffull) <= 0x7ff0000000000000ull)
			return 0;
		return !strcmp(s, "nan:canonical") ?
			       (got & 0x7fffffffffffffffull) == 0x7ff8000000000000ull :
			       (got & 0x0008000000000000ull) != 0;
	}
	if (type == RVM_WASM_FUNCREF || type == RVM_WASM_EXTERNREF) {
		if (!strcmp(s, "null"))
			return got == 0;
		if (type == RVM_WASM_FUNCREF)
			return got != 0;
		return got == strtoull(s, NULL, 10) + 1;
	}
	uint64_t want = strtoull(s, NULL, 10);

	if (type == RVM_WASM_I32 || type == RVM_WASM_F32)
		return (uint32_t)got == (uint32_t)want;
	return got == want;
}

enum act_result { ACT_OK, ACT_TRAP, ACT_ERROR };

/* Runs an invoke/get action; results into res[]. */
static enum act_result run_action(struct script *s, const cJSON *action, uint64_t *res,
				  uint32_t *nres, char *msg, size_t msgcap)
{
	const cJSON *type = cJSON_GetObjectItem(action, "type");
	const cJSON *field = cJSON_GetObjectItem(action, "field");
	const cJSON *mod = cJSON_GetObjectItem(action, "module");
	struct loaded *l = find_module(s, cJSON_IsString(mod) ? mod->valuestring : NULL);
	struct rvm_wasm_extern ex;

	msg[0] = 0;
	if (!l || !l->ti.inst || !cJSON_IsString(field) || !cJSON_IsString(type)) {
		snprintf(msg, msgcap, "no such module or bad action");
		return ACT_ERROR;
	}
	if (!rvm_wasm_export(l->ti.inst, field->valuestring, strlen(field->valuestring), &ex)) {
		snprintf(msg, msgcap, "no export %s", field->valuestring);
		return ACT_ERROR;
	}
	if (!strcmp(type->valuestring, "get")) {
		if (ex.kind != RVM_WASM_KIND_GLOBAL)
			return ACT_ERROR;
		res[0] = ex.u.global->value;
		*nres = 1;
		return ACT_OK;
	}
	if (ex.kind != RVM_WASM_KIND_FUNC)
		return ACT_ERROR;
	uint64_t args[256];
	uint32_t nargs = 0;
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(action, "args"))
	{
		uint8_t t;

		if (nargs >= 256 || parse_value(a, &t, &args[nargs]) != 0)
			return ACT_ERROR;
		nargs++;
	}
	if (rvm_wasm_call(l->ti.inst, ex.u.func, args, nargs) != RVM_OK) {
		snprintf(msg, msgcap, "bad call");
		return ACT_ERROR;
	}
	enum rvm_wasm_status st = rvm_wasm_run(l->ti.inst, UINT64_MAX, NULL);

	if (st == RVM_WASM_TRAPPED) {
		enum rvm_wasm_trap tr = rvm_wasm_trap_of(l->ti.inst);

		if (tr == RVM_WASM_TRAP_UNDEF_ELEM || tr == RVM_WASM_TRAP_UNINIT_ELEM)
			snprintf(msg, msgcap, "%s %u", rvm_wasm_trap_str(tr),
				 rvm_wasm_trap_index(l->ti.inst));
		else
			snprintf(msg, msgcap, "%s", rvm_wasm_trap_str(tr));
		rvm_wasm_reset(l->ti.inst);
		return ACT_TRAP;
	}
	if (st != RVM_WASM_DONE) {
		rvm_wasm_reset(l->ti.inst);
		return ACT_ERROR;
	}
	const uint64_t *r = rvm_wasm_results(l->ti.inst, nres);

	for (uint32_t i = 0; i < *nres && i < 256; i++)
		res[i] = r[i];
	rvm_wasm_reset(l->ti.inst);
	return ACT_OK;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void result(struct script *s, int ok, const cJSON *cmd, const char *why)
{
	if (ok) {
		s->passed++;
		return;
	}
	s->failed++;
	if (s->verbose) {
		const cJSON *line = cJSON_GetObjectItem(cmd, "line");

		printf("  FAIL line %d %s: %s\n", cJSON_IsNumber(line) ? line->valueint : 0,
		       jstr(cmd, "type"), why);
	}
}

static void check_text(struct script *s, const cJSON *cmd, const char *got)
{
	const char *want = jstr(cmd, "text");

	if (want && strncmp(got, want, strlen(want)) != 0) {
		s->msg_mismatch++;
		if (s->verbose > 1)
			printf("  note line %d: expected \"%s\", engine said \"%s\"\n",
			       cJSON_GetObjectItem(cmd, "line")->valueint, want, got);
	}
}

static void command(struct script *s, const cJSON *cmd)
{
	const char *type = jstr(cmd, "type");
	char msg[160], why[256];
	uint64_t res[256];
	uint32_t nres = 0;
	struct loaded *l;
	enum load_stage st;

	if (!type)
		return;
	if (!strcmp(type, "module")) {
		st = load(s, jstr(cmd, "filename"), &l, msg, sizeof(msg), 0);
		if (st == LOAD_OK)
			keep(s, l, jstr(cmd, "name"));
		else
			s->current = NULL;
		snprintf(why, sizeof(why), "module failed: %s", msg);
		result(s, st == LOAD_OK, cmd, why);
	} else if (!strcmp(type, "register")) {
		l = find_module(s, jstr(cmd, "name"));
		if (l && s->nreg < MAX_REGISTERED) {
			snprintf(s->reg[s->nreg].as, sizeof(s->reg[0].as), "%s", jstr(cmd, "as"));
			s->reg[s->nreg++].l = l;
		}
		result(s, l != NULL, cmd, "register: no module");
	} else if (!strcmp(type, "action")) {
		enum act_result r = run_action(s, cJSON_GetObjectItem(cmd, "action"), res, &nres,
					       msg, sizeof(msg));

		snprintf(why, sizeof(why), "action: %s", msg);
		result(s, r == ACT_OK, cmd, why);
	} else if (!strcmp(type, "assert_return")) {
		enum act_result r = run_action(s, cJSON_GetObjectItem(cmd, "action"), res, &nres,
					       msg, sizeof(msg));
		const cJSON *exp = cJSON_GetObjectItem(cmd, "expected"), *e;
		int ok = r == ACT_OK && (uint32_t)cJSON_GetArraySize(exp) == nres;
		uint32_t i = 0;

		if (ok)
			/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): nres results were written when r == ACT_OK */
			cJSON_ArrayForEach(e, exp) ok &= value_matches(e, res[i++]);
		if (r != ACT_OK)
			snprintf(why, sizeof(why), "%s", msg[0] ? msg : "action failed");
		else if (!ok)
			snprintf(why, sizeof(why), "got %u results, first 0x%" PRIx64, nres,
				 nres ? res[0] : 0);
		result(s, ok, cmd, why);
	} else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
		const cJSON *action = cJSON_GetObjectItem(cmd, "action");
		enum act_result r = run_action(s, action, res, &nres, msg, sizeof(msg));

		if (r == ACT_TRAP)
			check_text(s, cmd, msg);
		snprintf(why, sizeof(why), "expected trap, got %s",
			 r == ACT_OK ? "a result" : msg);
		result(s, r == ACT_TRAP, cmd, why);
	} else if (!strcmp(type, "assert_malformed") || !strcmp(type, "assert_invalid")) {
		const char *mt = jstr(cmd, "module_type");

		if (mt && strcmp(mt, "binary") != 0) {
			s->skipped++;
			return;
		}
		st = load(s, jstr(cmd, "filename"), &l, msg, sizeof(msg), 1);
		if (st == LOAD_OK)
			free_loaded(l);
		else
			check_text(s, cmd, msg);
		snprintf(why, sizeof(why), "module was accepted (expected \"%s\")",
			 jstr(cmd, "text"));
		result(s, st == LOAD_DECODE, cmd, why);
	} else if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable")) {
		int want = !strcmp(type, "assert_unlinkable") ? LOAD_LINK : LOAD_TRAP;

		st = load(s, jstr(cmd, "filename"), &l, msg, sizeof(msg), 0);
		if (st == LOAD_OK)
			keep(s, l, NULL);
		else
			check_text(s, cmd, msg);
		snprintf(why, sizeof(why), "expected %s, got stage %d (%s)", type, st, msg);
		result(s, (int)st == want, cmd, why);
	} else {
		s->skipped++;
	}
}

static int run_file(const char *path, int verbose, long *tp, long *tf, long *ts, long *tm)
{
	size_t len;
	char *text = (char *)tool_read_file(path, &len);
	char *dirbuf = strdup(path);
	struct script *s = calloc(1, sizeof(*s));
	cJSON *root;
	const cJSON *cmd;

	if (!text || !dirbuf || !s) {
		free(text), free(dirbuf), free(s);
		(*tf)++;
		return -1;
	}
	text[len] = 0;
	root = cJSON_Parse(text);
	if (!root) {
		printf("%-40s cannot parse JSON\n", path);
		free(text), free(dirbuf), free(s);
		(*tf)++;
		return -1;
	}
	s->dir = dirname(dirbuf);
	s->verbose = verbose;
	s->st = malloc(sizeof(*s->st));
	if (!s->st) {
		printf("%-40s out of memory\n", path);
		cJSON_Delete(root);
		free(text), free(dirbuf), free(s);
		(*tf)++;
		return -1;
	}
	spectest_init(s->st);
	cmd = cJSON_GetObjectItem(root, "commands");
	for (cmd = cmd ? cmd->child : NULL; cmd; cmd = cmd->next)
		command(s, cmd);
	char *base = strrchr(path, '/');

	printf("%-28s %6ld passed %5ld failed %5ld skipped %5ld msg-diff\n", base ? base + 1 : path,
	       s->passed, s->failed, s->skipped, s->msg_mismatch);
	*tp += s->passed, *tf += s->failed, *ts += s->skipped, *tm += s->msg_mismatch;
	for (int i = 0; i < s->nmods; i++)
		free_loaded(s->mods[i]);
	cJSON_Delete(root);
	free(s->st);
	free(text), free(dirbuf), free(s);
	return 0;
}

int cmd_wasm_spec(int argc, char **argv)
{
	long passed = 0, failed = 0, skipped = 0, mism = 0;
	int verbose = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			verbose++;
			continue;
		}
		run_file(argv[i], verbose, &passed, &failed, &skipped, &mism);
		files++;
	}
	if (!files) {
		fprintf(stderr, "usage: rvm wasm spec [-v] FILE.json...\n");
		return 2;
	}
	printf("(skipped: assert_malformed/assert_invalid on text modules; msg-diff: %ld "
	       "rejections worded differently from the suite)\n", mism);
	printf("%ld passed, %ld failed, %ld skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
