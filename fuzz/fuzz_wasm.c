/* fuzz/fuzz_wasm.c - libFuzzer: decode + validate + instantiate + run any bytes, bounded fuel. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/wasm.h>

/*
 * Every import is satisfied by a stand-in of the declared type (host functions returning
 * zeros, and saying "not now" every other call; fresh tables, memories and globals), then
 * every exported function is called with zero arguments and run in fuel slices. At each
 * stop (out of fuel or suspended) the instance is snapshotted and restored into a second
 * instance, which runs a slice too. Any crash, sanitizer report or hang is a finding.
 */

#define ARENA (4u << 20)
#define MEMORY (1u << 20)
#define MAX_IMPORTS 64

#define SNAP (MEMORY + (1u << 20))

static uint8_t mod_arena[ARENA], inst_arena[ARENA], inst_arena2[ARENA];
static uint8_t memory[MEMORY], memory2[MEMORY], imported_memory[MEMORY];
static uint8_t snap[SNAP];
static uint64_t table_elems[MAX_IMPORTS][64];
static unsigned host_calls; /* reset per input: runs stay deterministic */

static enum rvm_wasm_trap zeros(void *ctx, struct rvm_wasm_instance *caller, uint64_t *slots)
{
	const struct rvm_wasm_functype *t = ctx;

	(void)caller;
	if (++host_calls & 1)
		return RVM_WASM_TRAP_SUSPEND;
	for (uint32_t i = 0; i < t->nresults; i++)
		slots[i] = 0;
	return RVM_WASM_TRAP_NONE;
}

/* Moves a stopped call of inst into a fresh instance of m and runs one slice there. */
static void migrate(const struct rvm_wasm_module *m, const struct rvm_wasm_instance *inst,
		    const struct rvm_wasm_extern *imports, uint32_t n)
{
	struct rvm_wasm_config cfg = { .memory = memory2, .memory_cap = MEMORY,
				       .max_call_depth = 2000, .table_cap_limit = 4096,
				       .start_fuel = 20000 };
	struct rvm_wasm_instance *b;
	size_t len;

	if (rvm_wasm_snapshot(inst, snap, SNAP, &len) != RVM_OK)
		return;
	b = rvm_wasm_instantiate(m, imports, n, &cfg, inst_arena2, ARENA, NULL, NULL);
	if (!b || rvm_wasm_restore(b, snap, len) != RVM_OK)
		return;
	(void)rvm_wasm_run(b, 5000, NULL);
	rvm_wasm_reset(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rvm_wasm_func funcs[MAX_IMPORTS];
	static struct rvm_wasm_table tables[MAX_IMPORTS];
	static struct rvm_wasm_global globals[MAX_IMPORTS];
	static struct rvm_wasm_memory mem;
	struct rvm_wasm_extern imports[MAX_IMPORTS];
	struct rvm_wasm_config cfg = { .memory = memory, .memory_cap = MEMORY,
				       .max_call_depth = 2000, .table_cap_limit = 4096,
				       .start_fuel = 20000 };
	struct rvm_wasm_module *m;
	struct rvm_wasm_instance *inst;
	uint32_t n;

	host_calls = 0;
	m = rvm_wasm_module_load(data, size, mod_arena, ARENA, NULL);
	if (!m)
		return 0;
	n = rvm_wasm_module_import_count(m);
	if (n > MAX_IMPORTS)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct rvm_wasm_import_desc d;

		rvm_wasm_module_import(m, i, &d);
		imports[i].kind = d.kind;
		switch (d.kind) {
		case RVM_WASM_KIND_FUNC:
			rvm_wasm_host_func(&funcs[i], d.type, zeros, (void *)d.type);
			imports[i].u.func = &funcs[i];
			break;
		case RVM_WASM_KIND_TABLE:
			if (d.min > 64)
				return 0;
			memset(table_elems[i], 0, sizeof(table_elems[i]));
			tables[i] = (struct rvm_wasm_table){ table_elems[i], d.min, 64,
							     d.has_max ? d.max : 64, d.has_max,
							     d.valtype };
			if (tables[i].max > 64 || tables[i].max < d.min)
				tables[i].max = 64;
			imports[i].u.table = &tables[i];
			break;
		case RVM_WASM_KIND_MEMORY:
			if ((uint64_t)d.min * RVM_WASM_PAGE > MEMORY)
				return 0;
			memset(imported_memory, 0, (size_t)d.min * RVM_WASM_PAGE);
			mem = (struct rvm_wasm_memory){ imported_memory, (uint64_t)d.min * RVM_WASM_PAGE,
							MEMORY, d.has_max ? d.max : 65536, d.has_max };
			imports[i].u.memory = &mem;
			break;
		default:
			globals[i] = (struct rvm_wasm_global){ 0, d.valtype, d.mut };
			imports[i].u.global = &globals[i];
			break;
		}
	}
	inst = rvm_wasm_instantiate(m, imports, n, &cfg, inst_arena, ARENA, NULL, NULL);
	if (!inst)
		return 0;
	for (uint32_t i = 0; i < rvm_wasm_module_export_count(m); i++) {
		struct rvm_wasm_import_desc d;
		struct rvm_wasm_extern ex;
		uint64_t args[32] = { 0 };

		rvm_wasm_module_export(m, i, &d);
		if (d.kind != RVM_WASM_KIND_FUNC || d.type->nparams > 32 ||
		    !rvm_wasm_export(inst, d.name, d.name_len, &ex))
			continue;
		if (rvm_wasm_call(inst, ex.u.func, args, d.type->nparams) != RVM_OK)
			continue;
		/* In slices: suspension, resumption, snapshots and restores get fuzzed too. */
		for (int k = 0; k < 4; k++) {
			enum rvm_wasm_status st = rvm_wasm_run(inst, 5000, NULL);

			if (st != RVM_WASM_OUT_OF_FUEL && st != RVM_WASM_SUSPENDED)
				break;
			migrate(m, inst, imports, n);
		}
		rvm_wasm_reset(inst);
	}
	return 0;
}
