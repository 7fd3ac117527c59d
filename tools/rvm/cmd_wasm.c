/* tools/rvm/cmd_wasm.c - `rvm wasm validate|run|spec`: RVM's WebAssembly engine from the shell. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cmd.h"
#include "cmd_wasm.h"
#include "logfile.h"

uint8_t *tool_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f) {
		fprintf(stderr, "rvm wasm: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	if (!buf)
		fprintf(stderr, "rvm wasm: cannot read %s\n", path);
	return buf;
}

int tool_module_load(struct tool_module *tm, const uint8_t *bytes, size_t len,
		     struct rvm_wasm_error *err)
{
	/* Module storage, translated code and translation scratch: generous, lazily touched. */
	tm->arena_size = len * 48 + (4u << 20);
	tm->arena = malloc(tm->arena_size);
	if (!tm->arena) {
		err->err = RVM_E_NOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of host memory");
		return -1;
	}
	tm->mod = rvm_wasm_module_load(bytes, len, tm->arena, tm->arena_size, err);
	if (!tm->mod) {
		free(tm->arena);
		tm->arena = NULL;
		return -1;
	}
	return 0;
}

void tool_module_free(struct tool_module *tm)
{
	free(tm->arena);
	tm->arena = NULL;
	tm->mod = NULL;
}

#define INSTANCE_ARENA (6u << 20)

int tool_instantiate(struct tool_instance *ti, const struct tool_module *tm,
		     const struct rvm_wasm_extern *imports, struct rvm_wasm_error *err,
		     enum rvm_wasm_trap *trap)
{
	struct rvm_wasm_module_info info;
	struct rvm_wasm_config cfg = { 0 };

	memset(ti, 0, sizeof(*ti));
	rvm_wasm_module_info(tm->mod, &info);
	if (info.memories) {
		/* The module's own memory (if it imports one, this stays unused). */
		uint32_t nimp = rvm_wasm_module_import_count(tm->mod);
		int imported = 0;

		for (uint32_t i = 0; i < nimp; i++) {
			struct rvm_wasm_import_desc d;

			rvm_wasm_module_import(tm->mod, i, &d);
			imported |= d.kind == RVM_WASM_KIND_MEMORY;
		}
		if (!imported) {
			uint64_t pages = 65536;

			ti->memory_cap = (size_t)pages * RVM_WASM_PAGE;
			ti->memory = mmap(NULL, ti->memory_cap, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (ti->memory == MAP_FAILED) {
				ti->memory = NULL;
				err->err = RVM_E_NOMEM;
				snprintf(err->msg, sizeof(err->msg), "cannot map linear memory");
				return -1;
			}
			cfg.memory = ti->memory;
			cfg.memory_cap = ti->memory_cap;
		}
	}
	cfg.max_call_depth = 20000;
	ti->arena = malloc(INSTANCE_ARENA);
	if (!ti->arena) {
		tool_instance_free(ti);
		return -1;
	}
	ti->inst = rvm_wasm_instantiate(tm->mod, imports, rvm_wasm_module_import_count(tm->mod),
					&cfg, ti->arena, INSTANCE_ARENA, err, trap);
	if (!ti->inst) {
		/*
		 * A trap in a segment or start function may leave references to this instance's
		 * functions in imported tables: the caller keeps the storage (tool_instance_free).
		 */
		if (err->err != RVM_E_TRAP)
			tool_instance_free(ti);
		return -1;
	}
	return 0;
}

void tool_instance_free(struct tool_instance *ti)
{
	if (ti->memory)
		munmap(ti->memory, ti->memory_cap);
	free(ti->arena);
	memset(ti, 0, sizeof(*ti));
}

const char *tool_valtype_name(uint8_t t)
{
	switch (t) {
	case RVM_WASM_I32: return "i32";
	case RVM_WASM_I64: return "i64";
	case RVM_WASM_F32: return "f32";
	case RVM_WASM_F64: return "f64";
	case RVM_WASM_FUNCREF: return "funcref";
	case RVM_WASM_EXTERNREF: return "externref";
	default: return "?";
	}
}

void tool_print_value(uint8_t type, uint64_t v)
{
	union {
		uint32_t u;
		float f;
	} f32 = { .u = (uint32_t)v };
	union {
		uint64_t u;
		double f;
	} f64 = { .u = v };

	switch (type) {
	case RVM_WASM_I32: printf("i32:%" PRIu32, (uint32_t)v); break;
	case RVM_WASM_I64: printf("i64:%" PRIu64, v); break;
	case RVM_WASM_F32: printf("f32:%.9g", (double)f32.f); break;
	case RVM_WASM_F64: printf("f64:%.17g", f64.f); break;
	default:
		if (v == 0)
			printf("%s:null", tool_valtype_name(type));
		else
			printf("%s:0x%" PRIx64, tool_valtype_name(type), v);
	}
}

static void print_name(const char *s, uint32_t n)
{
	printf("\"%.*s\"", (int)n, s);
}

static void print_desc(const struct rvm_wasm_import_desc *d)
{
	static const char *const kinds[] = { "func", "table", "memory", "global" };

	printf("%s ", kinds[d->kind]);
	if (d->kind == RVM_WASM_KIND_FUNC) {
		printf("(");
		for (uint32_t i = 0; i < d->type->nparams; i++)
			printf("%s%s", i ? " " : "", tool_valtype_name(d->type->params[i]));
		printf(") -> (");
		for (uint32_t i = 0; i < d->type->nresults; i++)
			printf("%s%s", i ? " " : "", tool_valtype_name(d->type->results[i]));
		printf(")");
	} else if (d->kind == RVM_WASM_KIND_GLOBAL) {
		printf("%s%s", d->mut ? "mut " : "", tool_valtype_name(d->valtype));
	} else {
		if (d->kind == RVM_WASM_KIND_TABLE)
			printf("%s ", tool_valtype_name(d->valtype));
		printf("min %u", d->min);
		if (d->has_max)
			printf(" max %u", d->max);
	}
}

static int wasm_validate(int argc, char **argv)
{
	struct tool_module tm;
	struct rvm_wasm_error err;
	struct rvm_wasm_module_info info;
	uint8_t *bytes;
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: rvm wasm validate MODULE.wasm\n");
		return 2;
	}
	bytes = tool_read_file(argv[1], &len);
	if (!bytes)
		return 2;
	if (tool_module_load(&tm, bytes, len, &err) != 0) {
		printf("%s: invalid: %s at byte offset %u (%s)\n", argv[1], err.msg, err.offset,
		       rvm_err_name(err.err));
		free(bytes);
		return 1;
	}
	rvm_wasm_module_info(tm.mod, &info);
	printf("%s: valid (%zu bytes)\n", argv[1], len);
	printf("sections: types %u, imports %u, functions %u, tables %u, memories %u, "
	       "globals %u, exports %u, elements %u, data %u%s\n",
	       info.types, info.imports, info.funcs, info.tables, info.memories, info.globals,
	       info.exports, info.elems, info.datas, info.has_start ? ", start" : "");
	printf("translated code: %u words; module arena used: %zu bytes\n", info.code_words,
	       info.arena_used);
	for (uint32_t i = 0; i < info.imports; i++) {
		struct rvm_wasm_import_desc d;

		rvm_wasm_module_import(tm.mod, i, &d);
		printf("import ");
		print_name(d.module, d.module_len);
		printf(" ");
		print_name(d.name, d.name_len);
		printf(" ");
		print_desc(&d);
		printf("\n");
	}
	for (uint32_t i = 0; i < info.exports; i++) {
		struct rvm_wasm_import_desc d;

		rvm_wasm_module_export(tm.mod, i, &d);
		printf("export ");
		print_name(d.name, d.name_len);
		printf(" ");
		print_desc(&d);
		printf("\n");
	}
	tool_module_free(&tm);
	free(bytes);
	return 0;
}

static int parse_arg(const char *s, uint8_t type, uint64_t *out)
{
	char *end;

	errno = 0;
	switch (type) {
	case RVM_WASM_I32:
	case RVM_WASM_I64: {
		long long v = strtoll(s, &end, 0);

		if (errno == ERANGE)
			*out = strtoull(s, &end, 0), errno = 0;
		else
			*out = (uint64_t)v;
		if (type == RVM_WASM_I32)
			*out = (uint32_t)*out;
		break;
	}
	case RVM_WASM_F32: {
		union {
			float f;
			uint32_t u;
		} x = { .f = strtof(s, &end) };

		*out = x.u;
		break;
	}
	case RVM_WASM_F64: {
		union {
			double f;
			uint64_t u;
		} x = { .f = strtod(s, &end) };

		*out = x.u;
		break;
	}
	default:
		return -1;
	}
	return (*s && !*end && !errno) ? 0 : -1;
}

/* Host functions RVM will bind later are not available to `rvm wasm run`: imports fail. */
static int wasm_run(int argc, char **argv)
{
	const char *path = NULL, *name = NULL;
	uint64_t fuel = UINT64_MAX, args[64];
	char **argstr = NULL;
	int nargs = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--invoke") && i + 1 < argc) {
			name = argv[++i];
			argstr = &argv[i + 1];
			nargs = 0;
			while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
				i++, nargs++;
		} else if (!strcmp(argv[i], "--fuel") && i + 1 < argc) {
			if (!rvm_tool_parse_u64(argv[++i], false, &fuel)) {
				fprintf(stderr,
					"rvm wasm run: --fuel '%s': want a whole number of "
					"instructions\n",
					argv[i]);
				return 2;
			}
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			path = NULL;
			break;
		}
	}
	if (!path || !name || nargs > 64) {
		fprintf(stderr, "usage: rvm wasm run MODULE.wasm --invoke NAME [ARGS...] [--fuel N]\n");
		return 2;
	}
	size_t len;
	uint8_t *bytes = tool_read_file(path, &len);
	struct tool_module tm;
	struct tool_instance ti;
	struct rvm_wasm_error err;
	enum rvm_wasm_trap trap;
	struct rvm_wasm_extern ex;
	int rc = 0;

	if (!bytes)
		return 2;
	if (tool_module_load(&tm, bytes, len, &err) != 0) {
		fprintf(stderr, "rvm wasm run: %s: %s at byte offset %u (%s)\n", path, err.msg,
			err.offset, rvm_err_name(err.err));
		free(bytes);
		return 2;
	}
	if (rvm_wasm_module_import_count(tm.mod) != 0) {
		fprintf(stderr, "rvm wasm run: %s imports %u items; `run` provides none\n", path,
			rvm_wasm_module_import_count(tm.mod));
		rc = 2;
		goto out_mod;
	}
	if (tool_instantiate(&ti, &tm, NULL, &err, &trap) != 0) {
		if (err.err == RVM_E_TRAP) {
			tool_instance_free(&ti);
			printf("trap: %s\n", err.msg);
			rc = 1;
		} else {
			fprintf(stderr, "rvm wasm run: instantiate: %s (%s)\n", err.msg,
				rvm_err_name(err.err));
			rc = 2;
		}
		goto out_mod;
	}
	if (!rvm_wasm_export(ti.inst, name, strlen(name), &ex) || ex.kind != RVM_WASM_KIND_FUNC) {
		fprintf(stderr, "rvm wasm run: no exported function \"%s\"\n", name);
		rc = 2;
		goto out_inst;
	}
	if ((uint32_t)nargs != ex.u.func->type->nparams) {
		fprintf(stderr, "rvm wasm run: \"%s\" takes %u arguments, %d given\n", name,
			ex.u.func->type->nparams, nargs);
		rc = 2;
		goto out_inst;
	}
	for (int i = 0; i < nargs; i++) {
		if (parse_arg(argstr[i], ex.u.func->type->params[i], &args[i]) != 0) {
			fprintf(stderr, "rvm wasm run: bad %s argument '%s'\n",
				tool_valtype_name(ex.u.func->type->params[i]), argstr[i]);
			rc = 2;
			goto out_inst;
		}
	}
	rvm_wasm_call(ti.inst, ex.u.func, args, (uint32_t)nargs);
	uint64_t used = 0;
	enum rvm_wasm_status st = rvm_wasm_run(ti.inst, fuel, &used);

	if (st == RVM_WASM_DONE) {
		uint32_t n;
		const uint64_t *res = rvm_wasm_results(ti.inst, &n);

		for (uint32_t i = 0; i < n; i++) {
			tool_print_value(ex.u.func->type->results[i], res[i]);
			printf("\n");
		}
		if (fuel != UINT64_MAX)
			printf("fuel used: %" PRIu64 "\n", used);
	} else if (st == RVM_WASM_TRAPPED) {
		printf("trap: %s\n", rvm_wasm_trap_str(rvm_wasm_trap_of(ti.inst)));
		rc = 1;
	} else {
		printf("out of fuel after %" PRIu64 "\n", used);
		rc = 1;
	}
out_inst:
	tool_instance_free(&ti);
out_mod:
	tool_module_free(&tm);
	free(bytes);
	return rc;
}

int cmd_wasm(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "validate"))
		return wasm_validate(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return wasm_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "spec"))
		return cmd_wasm_spec(argc - 1, argv + 1);
	fprintf(stderr, "usage: rvm wasm validate MODULE.wasm\n"
			"       rvm wasm run MODULE.wasm --invoke NAME [ARGS...] [--fuel N]\n"
			"       rvm wasm spec FILE.json...\n");
	return 2;
}
