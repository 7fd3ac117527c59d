/* tests/unit/test_wasm_agents.c - agents compiled from C to wasm32 run in RVM's engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <rvm/wasm.h>

#include "support.h"

/* The kernels, compiled natively: the reference the wasm build must agree with. */
#include "../../agents/kernels.c"

#ifndef RVM_AGENTS_DIR
#define RVM_AGENTS_DIR NULL
#endif

#define ARENA (8u << 20)

struct agent {
	uint8_t *bytes, *mod_arena, *inst_arena, *mem;
	struct rvm_wasm_module *mod;
	struct rvm_wasm_instance *inst;
};

static int agent_open(struct agent *a, const char *name, const struct rvm_wasm_extern *imports)
{
	char path[512];
	size_t len;
	struct rvm_wasm_error err;
	struct rvm_wasm_config cfg = { 0 };

	memset(a, 0, sizeof(*a));
	if (!RVM_AGENTS_DIR)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", RVM_AGENTS_DIR, name);
	a->bytes = (uint8_t *)rvm_test_read_file(path, &len);
	assert_non_null(a->bytes);
	a->mod_arena = malloc(ARENA);
	a->inst_arena = malloc(ARENA);
	a->mem = calloc(1, 64u << 20);
	a->mod = rvm_wasm_module_load(a->bytes, len, a->mod_arena, ARENA, &err);
	assert_non_null(a->mod);
	cfg.memory = a->mem;
	cfg.memory_cap = 64u << 20;
	a->inst = rvm_wasm_instantiate(a->mod, imports, rvm_wasm_module_import_count(a->mod), &cfg,
				       a->inst_arena, ARENA, &err, NULL);
	if (!a->inst)
		fail_msg("instantiate %s: %s", name, err.msg);
	return 0;
}

static void agent_close(struct agent *a)
{
	free(a->bytes);
	free(a->mod_arena);
	free(a->inst_arena);
	free(a->mem);
}

static uint64_t call(struct agent *a, const char *fn, const uint64_t *args, uint32_t n)
{
	struct rvm_wasm_extern ex;

	assert_true(rvm_wasm_export(a->inst, fn, strlen(fn), &ex));
	assert_int_equal(rvm_wasm_call(a->inst, ex.u.func, args, n), RVM_OK);
	assert_int_equal(rvm_wasm_run(a->inst, UINT64_MAX, NULL), RVM_WASM_DONE);
	return rvm_wasm_results(a->inst, NULL)[0];
}

static void test_kernels_match_native(void **state)
{
	struct agent a;
	uint64_t args[2];
	uint8_t pattern[1000], digest[32];

	(void)state;
	if (agent_open(&a, "kernels.wasm", NULL) != 0)
		skip();
	args[0] = 24;
	assert_int_equal(call(&a, "fib", args, 1), 46368);
	args[0] = 100000, args[1] = 2;
	assert_int_equal(call(&a, "sieve", args, 2), 9592);
	/* One round hashes the bytes 0, 1, 2, ... unchanged: OpenSSL must agree. */
	for (int i = 0; i < 1000; i++)
		pattern[i] = (uint8_t)i;
	SHA256(pattern, sizeof(pattern), digest);
	args[0] = 1000, args[1] = 1;
	assert_int_equal((uint32_t)call(&a, "sha256", args, 2),
			 (uint32_t)digest[0] << 24 | digest[1] << 16 | digest[2] << 8 | digest[3]);
	args[0] = 5000, args[1] = 3;
	assert_int_equal((uint32_t)call(&a, "sha256", args, 2), k_sha256(5000, 3));
	args[0] = 40, args[1] = 3;
	assert_int_equal(call(&a, "matmul", args, 2), (uint64_t)k_matmul(40, 3));
	args[0] = 7;
	assert_int_equal((uint32_t)call(&a, "mix", args, 1), k_mix(7));
	agent_close(&a);
}

/* A C agent suspended by fuel anywhere and moved through a snapshot finishes identically. */
static void test_kernel_snapshot_migrate(void **state)
{
	struct agent a, b;
	uint64_t arg = 3, total = 0, seed = 7, want;
	uint8_t *snap = malloc(4u << 20);
	struct rvm_wasm_extern ex;

	(void)state;
	if (agent_open(&a, "kernels.wasm", NULL) != 0)
		skip();
	want = k_mix(3);
	assert_true(rvm_wasm_export(a.inst, "mix", 3, &ex));
	rvm_wasm_call(a.inst, ex.u.func, &arg, 1);
	assert_int_equal(rvm_wasm_run(a.inst, UINT64_MAX, &total), RVM_WASM_DONE);
	for (int i = 0; i < 20; i++) {
		uint64_t point = 1 + rvm_test_rand(&seed) % total;
		size_t len;

		agent_close(&a);
		agent_open(&a, "kernels.wasm", NULL);
		agent_open(&b, "kernels.wasm", NULL);
		rvm_wasm_export(a.inst, "mix", 3, &ex);
		rvm_wasm_call(a.inst, ex.u.func, &arg, 1);
		assert_int_equal(rvm_wasm_run(a.inst, point, NULL), RVM_WASM_OUT_OF_FUEL);
		assert_int_equal(rvm_wasm_snapshot(a.inst, snap, 4u << 20, &len), RVM_OK);
		assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_OK);
		assert_int_equal(rvm_wasm_run(b.inst, UINT64_MAX, NULL), RVM_WASM_DONE);
		assert_int_equal((uint32_t)rvm_wasm_results(b.inst, NULL)[0], want);
		agent_close(&b);
	}
	agent_close(&a);
	free(snap);
}

struct host_log {
	char lines[16][32];
	int n;
	int64_t clock;
};

static enum rvm_wasm_trap host_log(void *ctx, struct rvm_wasm_instance *caller, uint64_t *slots)
{
	struct host_log *h = ctx;
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(caller);
	uint64_t p = (uint32_t)slots[0], n = (uint32_t)slots[1];

	/* The host checks the agent's pointer like the engine does: bad ranges trap. */
	if (p + n > m->size || n >= sizeof(h->lines[0]) || h->n >= 16)
		return RVM_WASM_TRAP_HOST;
	memcpy(h->lines[h->n], m->data + p, n);
	h->lines[h->n++][n] = 0;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap host_now(void *ctx, struct rvm_wasm_instance *caller, uint64_t *slots)
{
	struct host_log *h = ctx;

	(void)caller;
	h->clock += 1000;
	slots[0] = (uint64_t)h->clock;
	return RVM_WASM_TRAP_NONE;
}

static void test_hello_imports(void **state)
{
	static const uint8_t p_log[] = { RVM_WASM_I32, RVM_WASM_I32 }, r_now[] = { RVM_WASM_I64 };
	const struct rvm_wasm_functype t_log = { 2, 0, p_log, NULL }, t_now = { 0, 1, NULL, r_now };
	struct host_log h = { .n = 0 };
	struct rvm_wasm_func f_log, f_now;
	struct rvm_wasm_extern imports[2];
	struct rvm_wasm_import_desc d;
	struct agent a;
	uint64_t arg = 5;

	(void)state;
	rvm_wasm_host_func(&f_log, &t_log, host_log, &h);
	rvm_wasm_host_func(&f_now, &t_now, host_now, &h);
	if (!RVM_AGENTS_DIR)
		skip();
	/* Imports are bound by name, in the order the module lists them. */
	{
		char path[512];
		size_t len;
		uint8_t *bytes, *arena = malloc(ARENA);
		struct rvm_wasm_module *m;

		snprintf(path, sizeof(path), "%s/hello.wasm", RVM_AGENTS_DIR);
		bytes = (uint8_t *)rvm_test_read_file(path, &len);
		m = rvm_wasm_module_load(bytes, len, arena, ARENA, NULL);
		assert_non_null(m);
		assert_int_equal(rvm_wasm_module_import_count(m), 2);
		for (uint32_t i = 0; i < 2; i++) {
			rvm_wasm_module_import(m, i, &d);
			imports[i].kind = RVM_WASM_KIND_FUNC;
			imports[i].u.func = d.name_len == 3 && !memcmp(d.name, "log", 3) ? &f_log : &f_now;
		}
		free(bytes);
		free(arena);
	}
	agent_open(&a, "hello.wasm", imports);
	assert_int_equal(call(&a, "ticks", &arg, 1), 1000 + 2000 + 3000 + 4000 + 5000);
	assert_int_equal(h.n, 5);
	assert_string_equal(h.lines[0], "tick 0");
	assert_string_equal(h.lines[4], "tick 4");
	/* A host-side trap reaches the caller as a trap. */
	arg = 20;
	{
		struct rvm_wasm_extern ex;

		rvm_wasm_export(a.inst, "ticks", 5, &ex);
		rvm_wasm_call(a.inst, ex.u.func, &arg, 1);
		assert_int_equal(rvm_wasm_run(a.inst, UINT64_MAX, NULL), RVM_WASM_TRAPPED);
		assert_int_equal(rvm_wasm_trap_of(a.inst), RVM_WASM_TRAP_HOST);
	}
	agent_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_match_native),
		cmocka_unit_test(test_kernel_snapshot_migrate),
		cmocka_unit_test(test_hello_imports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
