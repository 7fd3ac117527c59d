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

/* ---- relay.wasm: a ~1 KB agent whose rvm.recv blocks by suspending ---- */

static const char *const relay_msgs[] = { "hello", "world", "hello", "rvm", "agents",
					   "Hello", "world", "x", "", "Mixed Case 42" };
#define RELAY_N 10

struct relay_host {
	int next;	    /* next message to deliver */
	int block_each;	    /* recv says "not now" this many times before each message */
	int blocked;	    /* suspensions so far for the pending message */
	int suspends, sends, logs;
	char sent[RELAY_N][32];
	int edge[RELAY_N];
};

static bool guest_range(struct rvm_wasm_instance *in, uint64_t p, uint64_t n)
{
	return p + n <= rvm_wasm_instance_memory(in)->size;
}

static enum rvm_wasm_trap relay_recv(void *ctx, struct rvm_wasm_instance *in, uint64_t *slots)
{
	struct relay_host *h = ctx;
	uint64_t p = (uint32_t)slots[0], cap = (uint32_t)slots[1];
	size_t n;

	if (h->next >= RELAY_N)
		return RVM_WASM_TRAP_HOST;
	if (h->blocked < h->block_each) {
		h->blocked++;
		h->suspends++;
		return RVM_WASM_TRAP_SUSPEND;
	}
	n = strlen(relay_msgs[h->next]);
	if (n > cap || !guest_range(in, p, n))
		return RVM_WASM_TRAP_HOST;
	memcpy(rvm_wasm_instance_memory(in)->data + p, relay_msgs[h->next], n);
	h->next++;
	h->blocked = 0;
	slots[0] = n;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap relay_send(void *ctx, struct rvm_wasm_instance *in, uint64_t *slots)
{
	struct relay_host *h = ctx;
	uint64_t p = (uint32_t)slots[1], n = (uint32_t)slots[2];

	if (!guest_range(in, p, n) || n >= 32 || h->sends >= RELAY_N)
		return RVM_WASM_TRAP_HOST;
	memcpy(h->sent[h->sends], rvm_wasm_instance_memory(in)->data + p, n);
	h->sent[h->sends][n] = 0;
	h->edge[h->sends++] = (int)(uint32_t)slots[0];
	slots[0] = n;
	return RVM_WASM_TRAP_NONE;
}

static enum rvm_wasm_trap relay_log(void *ctx, struct rvm_wasm_instance *in, uint64_t *slots)
{
	struct relay_host *h = ctx;

	if (!guest_range(in, (uint32_t)slots[0], (uint32_t)slots[1]))
		return RVM_WASM_TRAP_HOST;
	h->logs++;
	return RVM_WASM_TRAP_NONE;
}

struct relay_agent {
	struct agent a;
	struct relay_host h;
	struct rvm_wasm_func f[3];
	struct rvm_wasm_extern imports[3];
};

static int relay_open(struct relay_agent *r, int block_each)
{
	static const uint8_t i32s[3] = { RVM_WASM_I32, RVM_WASM_I32, RVM_WASM_I32 };
	static const struct rvm_wasm_functype t_recv = { 2, 1, i32s, i32s },
					      t_send = { 3, 1, i32s, i32s },
					      t_log = { 2, 0, i32s, NULL };
	/* relay.c declares recv, log, send: wasm-ld lists imports in first-use order. */
	static const char *const order[3] = { "recv", "log", "send" };
	char path[512];
	size_t len;
	uint8_t *bytes, *arena;
	struct rvm_wasm_module *m;
	struct rvm_wasm_import_desc d;

	memset(r, 0, sizeof(*r));
	r->h.block_each = block_each;
	if (!RVM_AGENTS_DIR)
		return -1;
	rvm_wasm_host_func(&r->f[0], &t_recv, relay_recv, &r->h);
	rvm_wasm_host_func(&r->f[1], &t_log, relay_log, &r->h);
	rvm_wasm_host_func(&r->f[2], &t_send, relay_send, &r->h);
	snprintf(path, sizeof(path), "%s/relay.wasm", RVM_AGENTS_DIR);
	bytes = (uint8_t *)rvm_test_read_file(path, &len);
	assert_non_null(bytes);
	arena = malloc(ARENA);
	m = rvm_wasm_module_load(bytes, len, arena, ARENA, NULL);
	assert_non_null(m);
	assert_int_equal(rvm_wasm_module_import_count(m), 3);
	for (uint32_t i = 0; i < 3; i++) {
		int k = 0;

		rvm_wasm_module_import(m, i, &d);
		while (k < 3 && (d.name_len != strlen(order[k]) || memcmp(d.name, order[k], d.name_len)))
			k++;
		assert_true(k < 3);
		r->imports[i].kind = RVM_WASM_KIND_FUNC;
		r->imports[i].u.func = &r->f[k];
	}
	free(bytes);
	free(arena);
	return agent_open(&r->a, "relay.wasm", r->imports);
}

/* What relay(n) must return and send, computed natively. */
static uint32_t relay_expect(int *sends, int *logs)
{
	uint32_t fold = 0, recent[8] = { 0 };

	*sends = *logs = 0;
	for (int i = 0; i < RELAY_N; i++) {
		uint32_t h = 2166136261u;
		int dup = 0;

		for (const char *p = relay_msgs[i]; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		fold = (fold << 5 | fold >> 27) ^ h;
		for (int k = 0; k < 8; k++)
			dup |= recent[k] == h;
		if (dup) {
			(*logs)++;
			continue;
		}
		recent[i % 8] = h;
		(*sends)++;
	}
	return fold;
}

/* Runs relay's started call in fuel slices until done; returns fuel used and suspensions. */
static uint64_t relay_finish(struct relay_agent *r, uint64_t slice, int *suspended)
{
	uint64_t total = 0, used;
	enum rvm_wasm_status st;

	while ((st = rvm_wasm_run(r->a.inst, slice, &used)) == RVM_WASM_SUSPENDED ||
	       st == RVM_WASM_OUT_OF_FUEL) {
		total += used;
		*suspended += st == RVM_WASM_SUSPENDED;
	}
	total += used;
	assert_int_equal(st, RVM_WASM_DONE);
	return total;
}

static void relay_start(struct relay_agent *r)
{
	struct rvm_wasm_extern ex;
	uint64_t n = RELAY_N;

	assert_true(rvm_wasm_export(r->a.inst, "relay", 5, &ex));
	assert_int_equal(rvm_wasm_call(r->a.inst, ex.u.func, &n, 1), RVM_OK);
}

/*
 * The relay agent with a blocking recv: the same results, sends and fuel whether recv
 * never blocks or blocks 1 or 3 times per message, in any fuel slicing; and moved through a
 * snapshot at every suspension it finishes identically (the host's state travels with it,
 * as RVM's journal would carry it).
 */
static void test_relay_blocking_recv(void **state)
{
	struct relay_agent ref, r, b;
	int want_sends, want_logs, susp = 0;
	uint32_t want = relay_expect(&want_sends, &want_logs);
	uint64_t want_fuel;
	uint8_t *snap = malloc(1u << 20);

	(void)state;
	if (relay_open(&ref, 0) != 0)
		skip();
	relay_start(&ref);
	want_fuel = relay_finish(&ref, UINT64_MAX, &susp);
	assert_int_equal(susp, 0);
	assert_int_equal((uint32_t)rvm_wasm_results(ref.a.inst, NULL)[0], want);
	assert_int_equal(ref.h.sends, want_sends);
	assert_int_equal(ref.h.logs, want_logs);
	assert_string_equal(ref.h.sent[0], "HELLO");
	assert_string_equal(ref.h.sent[want_sends - 1], "MIXED CASE 42");
	for (int block = 1; block <= 3; block += 2) {
		static const uint64_t slices[] = { UINT64_MAX, 13 };

		for (int s = 0; s < 2; s++) {
			susp = 0;
			relay_open(&r, block);
			relay_start(&r);
			assert_int_equal(relay_finish(&r, slices[s], &susp), want_fuel);
			assert_int_equal(susp, block * RELAY_N);
			assert_int_equal((uint32_t)rvm_wasm_results(r.a.inst, NULL)[0], want);
			assert_int_equal(memcmp(r.h.sent, ref.h.sent, sizeof(ref.h.sent)), 0);
			assert_int_equal(memcmp(r.h.edge, ref.h.edge, sizeof(ref.h.edge)), 0);
			agent_close(&r.a);
		}
	}
	/* Snapshot at the k-th suspension, restore elsewhere, finish there. */
	for (int k = 1; k <= RELAY_N; k++) {
		uint64_t used, fuel = 0;
		size_t len = 0;
		int seen = 0;

		relay_open(&r, 1);
		relay_open(&b, 0);
		relay_start(&r);
		while (seen < k) {
			enum rvm_wasm_status st = rvm_wasm_run(r.a.inst, 29, &used);

			fuel += used;
			seen += st == RVM_WASM_SUSPENDED;
			assert_true(st == RVM_WASM_SUSPENDED || st == RVM_WASM_OUT_OF_FUEL);
		}
		assert_int_equal(rvm_wasm_snapshot(r.a.inst, snap, 1u << 20, &len), RVM_OK);
		assert_int_equal(rvm_wasm_restore(b.a.inst, snap, len), RVM_OK);
		b.h = r.h;
		b.h.block_each = 0;
		fuel += relay_finish(&b, UINT64_MAX, &seen);
		assert_int_equal(fuel, want_fuel);
		assert_int_equal((uint32_t)rvm_wasm_results(b.a.inst, NULL)[0], want);
		assert_int_equal(memcmp(b.h.sent, ref.h.sent, sizeof(ref.h.sent)), 0);
		agent_close(&r.a);
		agent_close(&b.a);
	}
	agent_close(&ref.a);
	free(snap);
}

/*
 * Translation in a module arena of every size around what kernels.wasm needs: each load
 * either fails cleanly with RVM_E_NOMEM or gives the same module as in a roomy arena, and
 * the smallest one that loads runs correctly. The translator's fast path relies on a bound
 * of the code room left; this is where a wrong bound would overflow or change the code.
 */
static void test_tight_module_arena(void **state)
{
	char path[512];
	size_t len, need = 0;
	struct rvm_wasm_error err;
	struct rvm_wasm_module_info roomy, got;
	struct rvm_wasm_module *m;
	struct rvm_wasm_config cfg = { 0 };
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_extern ex;
	uint8_t *bytes, *arena = malloc(ARENA), *inst_arena = malloc(ARENA);
	uint64_t arg = 24;

	(void)state;
	if (!RVM_AGENTS_DIR) {
		free(arena);
		free(inst_arena);
		skip();
	}
	snprintf(path, sizeof(path), "%s/kernels.wasm", RVM_AGENTS_DIR);
	bytes = (uint8_t *)rvm_test_read_file(path, &len);
	assert_non_null(bytes);
	m = rvm_wasm_module_load(bytes, len, arena, ARENA, &err);
	assert_non_null(m);
	rvm_wasm_module_info(m, &roomy);
	/* Coarse steps find the threshold, then every 8 bytes around it. */
	for (size_t size = 0; size < ARENA && !need; size += 1024)
		if (rvm_wasm_module_load(bytes, len, arena, size, &err))
			need = size;
	assert_true(need > 0);
	for (size_t size = need > 2048 ? need - 2048 : 0; size <= need + 2048; size += 8) {
		m = rvm_wasm_module_load(bytes, len, arena, size, &err);
		if (!m) {
			assert_int_equal(err.err, RVM_E_NOMEM);
			continue;
		}
		rvm_wasm_module_info(m, &got);
		assert_int_equal(got.code_words, roomy.code_words);
		assert_int_equal(got.arena_used, roomy.arena_used);
		if (size < need)
			need = size;
	}
	/* The smallest arena that loads holds a module that runs. */
	m = rvm_wasm_module_load(bytes, len, arena, need, &err);
	assert_non_null(m);
	cfg.memory = calloc(1, 64u << 20);
	cfg.memory_cap = 64u << 20;
	inst = rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL);
	assert_non_null(inst);
	assert_true(rvm_wasm_export(inst, "fib", 3, &ex));
	assert_int_equal(rvm_wasm_call(inst, ex.u.func, &arg, 1), RVM_OK);
	assert_int_equal(rvm_wasm_run(inst, UINT64_MAX, NULL), RVM_WASM_DONE);
	assert_int_equal(rvm_wasm_results(inst, NULL)[0], 46368);
	free(cfg.memory);
	free(bytes);
	free(arena);
	free(inst_arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_match_native),
		cmocka_unit_test(test_kernel_snapshot_migrate),
		cmocka_unit_test(test_hello_imports),
		cmocka_unit_test(test_relay_blocking_recv),
		cmocka_unit_test(test_tight_module_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
