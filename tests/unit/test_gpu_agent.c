/* tests/unit/test_gpu_agent.c - the rvm.gpu_* host functions: results, traps on bad pointers,
 * denials as negative codes, budgets, witness records and journal entries; a wasm agent's
 * matmul and reduction on the cpu backend. */
#include "gpu_kernels.h"
#include "kernel_world.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>
#include <rvm/gpu.h>
#include <rvm/kernel_recover.h>
#include <rvm/witness_file.h>
#include <rvm/world.h>

#define SCR	70000u /* scratch in the agent's second page, above its own data */
#define DEV_MEM (1u << 20)

/* ---- fixture: a booted world, the cpu device, the gpu_offload module ---- */

struct fx {
	struct rvm_tw tw;
	struct rvm_gpu_space gs;
	struct rvm_gpu_cpu cpu;
	uint8_t dev_mem[DEV_MEM];
	uint8_t shared[64u << 10];
	uint32_t dev, mod;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	if (!rvm_tw_have_agents(&f->tw, "gpu_offload")) {
		free(f);
		return NULL;
	}
	rvm_tw_boot(&f->tw, 2, 0);
	rvm_gpu_init(&f->gs, &f->tw.world->gate, &f->tw.plat);
	rvm_gpu_cpu_init(&f->cpu, &f->tw.plat, f->dev_mem, DEV_MEM, f->shared, sizeof(f->shared),
			 rvm_tool_gpu_kernels, rvm_tool_gpu_nkernels);
	assert_int_equal(rvm_gpu_device_add(&f->gs, rvm_gpu_cpu_backend(), &f->cpu, &f->dev),
			 RVM_OK);
	f->tw.world->gpu = &f->gs;
	f->mod = rvm_tw_load(&f->tw, "gpu_offload", 0);
	return f;
}

static void fx_free(struct fx *f)
{
	if (!f)
		return;
	rvm_tw_free(&f->tw);
	free(f);
}

/* A new partition with one gpu_offload agent (n, extra launches); returns the agent. */
static struct rvm_agent *agent(struct fx *f, int64_t n, int64_t extra)
{
	uint32_t num =
		rvm_tw_spawn(&f->tw, f->mod, "g", rvm_tw_part(&f->tw), RVM_TW_ALL_RIGHTS, n, extra);

	return &f->tw.world->agents[num];
}

/* Agent a has logged (its work is done). */
static bool logged(const struct rvm_tw *tw, const void *a)
{
	(void)tw;
	return ((const struct rvm_agent *)a)->last_log[0] != 0;
}

static void grant(struct fx *f, struct rvm_agent *a, uint8_t rights, const uint64_t lim[4])
{
	rvm_cap_t d, c;

	assert_int_equal(rvm_gpu_attach(&f->gs, a->part, f->dev, rights, lim, &d, &c), RVM_OK);
}

static const uint64_t big[4] = {1ull << 50, 1u << 20, 1ull << 40, 1u << 20};

/* Calls host function `name` of agent a the way the engine does; slots in, result in s[0]. */
static enum rvm_wasm_trap call(struct rvm_agent *a, const char *name, uint64_t *s)
{
	for (uint32_t j = 0; j < RVM_AGENT_IMPORTS; j++)
		if (!strcmp(rvm_agent_imports[j].name, name)) {
			struct rvm_wasm_func *fn = &a->imports[j];

			assert_non_null(fn->host); /* gpu_offload imports every rvm.gpu_* */
			return fn->host(fn->host_ctx, a->inst, s);
		}
	fail_msg("no import %s", name);
	return RVM_WASM_TRAP_HOST;
}

/* The call's result as the agent sees it (i32 results sign-extended). */
static int64_t ok_call(struct rvm_agent *a, const char *name, uint64_t s0, uint64_t s1, uint64_t s2,
		       uint64_t s3, uint64_t s4)
{
	uint64_t s[5] = {s0, s1, s2, s3, s4};

	assert_int_equal(call(a, name, s), RVM_WASM_TRAP_NONE);
	if (!strcmp(name, "gpu_alloc") || !strcmp(name, "gpu_queue") || !strcmp(name, "gpu_kernel"))
		return (int64_t)s[0];
	return (int32_t)(uint32_t)s[0];
}

static uint8_t *memory(struct rvm_agent *a, uint32_t *size)
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(a->inst);

	assert_non_null(m);
	*size = (uint32_t)m->size;
	return m->data;
}

/* Journal entries of kind GPU so far: their aux in order (at most cap), and the count. */
static size_t gpu_entries(struct fx *f, uint32_t *aux, size_t cap, uint8_t *read_bytes,
			  size_t *nread)
{
	struct rvm_journal_entry e;
	struct rvm_epoch_report rep;
	size_t off = RVM_JOURNAL_HEADER, n = 0;

	/* An epoch binds every agent's staged journal entries (one hostcall batch record each). */
	assert_int_equal(rvm_kernel_epoch(&f->tw.kern, &rep), RVM_OK);
	assert_int_equal(rvm_journal_flush(&f->tw.world->journal), RVM_OK);
	if (nread)
		*nread = 0;
	while (rvm_journal_next(f->tw.ms.buf[RVM_SINK_JOURNAL], f->tw.ms.len[RVM_SINK_JOURNAL],
				&off, &e) == RVM_OK) {
		if (e.kind != RVM_JK_GPU)
			continue;
		assert_true(e.len >= 8 && e.len <= RVM_JOURNAL_MAX_PAYLOAD);
		if (n < cap)
			aux[n] = e.aux;
		if (read_bytes && e.aux == RVM_AGPU_READ) {
			memcpy(read_bytes + *nread, e.payload + 8, e.len - 8);
			*nread += e.len - 8;
		}
		n++;
	}
	return n;
}

/* Flushes the batch, verifies the whole witness stream so far and counts events of action (with
 * arg1 = err when err is not RVM_OK: refusals). */
static size_t count(struct fx *f, uint16_t action, enum rvm_err err)
{
	const struct rvm_witness_record *recs;
	size_t n = 0;

	assert_int_equal(rvm_witness_batch_flush(&f->tw.kern.witness), RVM_OK);
	rvm_tw_read_log(&f->tw);
	recs = f->tw.recs;
	/* A batch record stands for target events (completed launches are batched). */
	for (size_t i = 0; i < f->tw.nrecs; i++)
		if (recs[i].action == action && (err == RVM_OK || recs[i].arg1 == (uint64_t)err))
			n += (recs[i].flags & RVM_WF_BATCH) ? recs[i].target : 1;
	return n;
}

/* Journal entries bound so far: one per agent.hostcall record, arg0 per hostcall batch. */
static size_t bound_entries(struct fx *f)
{
	size_t n = count(f, RVM_ACT_HOSTCALL, RVM_OK);

	for (size_t i = 0; i < f->tw.nrecs; i++)
		if (f->tw.recs[i].action == RVM_ACT_HOSTCALL_BATCH)
			n += f->tw.recs[i].arg0;
	return n;
}

/* A launch of kernel k on queue q of device dev: one work-item, no arguments. */
static struct rvm_gpu_launch_req one_item(uint64_t dev, uint64_t q, uint64_t k)
{
	struct rvm_gpu_launch_req r;

	memset(&r, 0, sizeof(r));
	r.device = dev;
	r.queue = q;
	r.kernel = k;
	r.cfg.dims = 1;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
		r.cfg.local[d] = 1, r.cfg.groups[d] = 1;
	return r;
}

/* Writes request r in its wire form at SCR + at of a's memory; returns its length. */
static uint32_t put_wire(struct rvm_agent *a, uint32_t at, const struct rvm_gpu_launch_req *r)
{
	uint8_t wire[RVM_GPU_WIRE_MAX];
	uint32_t size;
	size_t n = rvm_gpu_wire_encode(r, wire);

	memcpy(memory(a, &size) + SCR + at, wire, n);
	return (uint32_t)n;
}

/* Writes an empty-kernel launch request at SCR + at; returns its length. */
static uint32_t put_req(struct rvm_agent *a, uint32_t at, uint64_t dev, uint64_t q, uint64_t k)
{
	struct rvm_gpu_launch_req r = one_item(dev, q, k);

	return put_wire(a, at, &r);
}

/* open, queue, the empty kernel: fills dev/ctx/q/k. */
static void setup_calls(struct rvm_agent *a, uint64_t *dev, uint64_t *ctx, uint64_t *q, uint64_t *k)
{
	uint32_t size;
	uint8_t *m = memory(a, &size);

	assert_int_equal(ok_call(a, "gpu_open", SCR, 0, 0, 0, 0), 0);
	*dev = rvm_load_le64(m + SCR);
	*ctx = rvm_load_le64(m + SCR + 8);
	assert_true((int64_t)(*q = (uint64_t)ok_call(a, "gpu_queue", *ctx, 0, 0, 0, 0)) > 0);
	memcpy(m + SCR + 100, "-", 1);
	memcpy(m + SCR + 200, "empty", 5);
	assert_true((int64_t)(*k = (uint64_t)ok_call(a, "gpu_kernel", *ctx, SCR + 100, 1, SCR + 200,
						     5)) > 0);
}

/* ---- tests ---- */

static void test_calls_witnessed_and_journaled(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k;
	int64_t buf;
	uint32_t size, aux[32], len;
	uint8_t *m, *pattern = malloc(10000), *journaled = malloc(20000);
	size_t n, nread;
	const struct rvm_gpu_context *cx;
	static const uint32_t want[] = {RVM_AGPU_OPEN,	 RVM_AGPU_QUEUE, RVM_AGPU_KERNEL,
					RVM_AGPU_ALLOC,	 RVM_AGPU_WRITE, RVM_AGPU_READ,
					RVM_AGPU_READ,	 RVM_AGPU_READ,	 RVM_AGPU_LAUNCH,
					RVM_AGPU_BUDGET, RVM_AGPU_FREE,	 RVM_AGPU_FREE};

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	cx = rvm_gpu_context_of(&f->gs, a->part);
	setup_calls(a, &dev, &ctx, &q, &k);
	/* Names of the agent's, not caps: they outlive moves of the partition's caps. */
	assert_true(dev != ctx && (int64_t)dev > 0 && (int64_t)ctx > 0);
	(void)cx;
	buf = ok_call(a, "gpu_alloc", ctx, 10000, 0, 0, 0);
	assert_true(buf > 0);
	m = memory(a, &size);
	for (int i = 0; i < 10000; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memcpy(m + SCR + 1000, pattern, 10000);
	assert_int_equal(ok_call(a, "gpu_write", (uint64_t)buf, 0, SCR + 1000, 10000, 0), 0);
	memset(m + SCR + 20000, 0, 10000);
	/* A read longer than a journal entry's payload: three entries. */
	assert_int_equal(ok_call(a, "gpu_read", (uint64_t)buf, 0, SCR + 20000, 10000, 0), 0);
	assert_memory_equal(m + SCR + 20000, pattern, 10000);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(ok_call(a, "gpu_budget", SCR + 50000, 0, 0, 0, 0), 0);
	assert_true(rvm_load_le64(m + SCR + 50000 + 8 * RVM_GPU_DIM_LAUNCHES) == big[3]);
	assert_true(rvm_load_le64(m + SCR + 50032 + 8 * RVM_GPU_DIM_LAUNCHES) == 1);
	assert_true(rvm_load_le64(m + SCR + 50032 + 8 * RVM_GPU_DIM_TRANSFER) == 20000);
	assert_true(rvm_load_le64(m + SCR + 50032 + 8 * RVM_GPU_DIM_MEMORY) == 10000);
	assert_int_equal(ok_call(a, "gpu_free", (uint64_t)buf, 0, 0, 0, 0), 0);
	/* A freed buffer's cap is gone: a negative code, never a crash. */
	assert_true(ok_call(a, "gpu_free", (uint64_t)buf, 0, 0, 0, 0) < 0);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 0);

	/* Every call is journaled in order, a read's bytes included. */
	n = gpu_entries(f, aux, 32, journaled, &nread);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_memory_equal(aux, want, sizeof(want));
	assert_int_equal(nread, 10000);
	assert_memory_equal(journaled, pattern, 10000);
	/* And witnessed: the gate's records, and every journal entry bound to the log. */
	assert_int_equal(count(f, RVM_ACT_GPU_LAUNCH, RVM_OK), 1);
	assert_int_equal(count(f, RVM_ACT_GPU_TRANSFER, RVM_OK), 2);
	assert_int_equal(count(f, RVM_ACT_GPU_ALLOC, RVM_OK), 1);
	assert_int_equal(count(f, RVM_ACT_GPU_FREE, RVM_OK), 1);
	assert_int_equal(bound_entries(f), n + 1 /* the agent's START */);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	free(pattern);
	free(journaled);
	fx_free(f);
}

static void test_bad_pointers_trap(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k, s[5];
	int64_t buf;
	uint32_t size, aux[64];
	size_t before, witnessed;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	setup_calls(a, &dev, &ctx, &q, &k);
	buf = ok_call(a, "gpu_alloc", ctx, 64, 0, 0, 0);
	(void)memory(a, &size);
	before = gpu_entries(f, aux, 64, NULL, NULL);
	witnessed = bound_entries(f);
	const struct {
		const char *fn;
		uint64_t s[5];
	} bad[] = {
		{"gpu_open", {size - 8}},
		{"gpu_open", {0xffffffffu}},
		{"gpu_budget", {size - 63}},
		{"gpu_write", {(uint64_t)buf, 0, size - 4, 8}},
		{"gpu_write", {(uint64_t)buf, 0, 16, 0xffffffffu}},
		{"gpu_read", {(uint64_t)buf, 0, size, 1}},
		{"gpu_read", {(uint64_t)buf, 0, 0xfffffff0u, 0x20}},
		{"gpu_kernel", {ctx, size, 1, SCR + 200, 5}},
		{"gpu_kernel", {ctx, SCR + 100, 1, size - 2, 5}},
		{"gpu_launch", {size - 10, RVM_GPU_WIRE_HEAD}},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(s, bad[i].s, sizeof(s));
		assert_int_equal(call(a, bad[i].fn, s), RVM_WASM_TRAP_HOST);
	}
	/* init may not call the host. */
	a->initialising = true;
	s[0] = SCR;
	assert_int_equal(call(a, "gpu_open", s), RVM_WASM_TRAP_HOST);
	a->initialising = false;
	/* A trap is no input: nothing journaled, nothing witnessed. */
	assert_int_equal(gpu_entries(f, aux, 64, NULL, NULL), before);
	assert_int_equal(bound_entries(f), witnessed);
	fx_free(f);
}

static void test_denials_are_negative_and_witnessed(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a, *b, *c;
	uint64_t dev, ctx, q, k, bdev, bctx, bq, bk;
	int64_t buf;
	uint32_t size, len;
	uint8_t *m;
	const struct rvm_gpu_context *cx;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	b = agent(f, 8, 0);
	c = agent(f, 8, 0);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE,
	      (const uint64_t[4]){1ull << 50, 4096, 8192, 2});
	/* b's device cap lacks EXECUTE: it may allocate but not launch. */
	grant(f, b, RVM_RIGHT_READ | RVM_RIGHT_WRITE, big);
	setup_calls(a, &dev, &ctx, &q, &k);
	setup_calls(b, &bdev, &bctx, &bq, &bk);
	cx = rvm_gpu_context_of(&f->gs, a->part);

	/* No grant: refused, the agent's memory untouched, the refusal witnessed. */
	m = memory(c, &size);
	memset(m + SCR, 0xee, 16);
	assert_int_equal(ok_call(c, "gpu_open", SCR, 0, 0, 0, 0), -(int64_t)RVM_E_PERM);
	assert_int_equal(m[SCR], 0xee);
	assert_int_equal(ok_call(c, "gpu_alloc", ctx, 64, 0, 0, 0), -(int64_t)RVM_E_PERM);
	assert_int_equal(count(f, RVM_ACT_GATE_DENIED, RVM_E_PERM), 2);

	/* Budgets: memory, transfer, launches, each its own error. */
	assert_int_equal(ok_call(a, "gpu_alloc", ctx, 8192, 0, 0, 0),
			 -(int64_t)RVM_E_BUDGET_MEMORY);
	buf = ok_call(a, "gpu_alloc", ctx, 4096, 0, 0, 0);
	assert_true(buf > 0);
	assert_int_equal(ok_call(a, "gpu_write", (uint64_t)buf, 0, SCR, 4096, 0), 0);
	assert_int_equal(ok_call(a, "gpu_write", (uint64_t)buf, 0, SCR, 4096, 0), 0);
	assert_int_equal(ok_call(a, "gpu_read", (uint64_t)buf, 0, SCR, 1, 0),
			 -(int64_t)RVM_E_BUDGET_TRANSFER);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0),
			 -(int64_t)RVM_E_BUDGET_LAUNCHES);
	assert_int_equal(count(f, RVM_ACT_GATE_DENIED, RVM_E_BUDGET_LAUNCHES), 1);
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		assert_true(cx->budget.used[d] <= cx->budget.limit[d]);
	/* A new epoch gives launches back. */
	assert_int_equal(rvm_gpu_epoch(&f->gs), RVM_OK);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);

	/* The request's own checks. */
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len - 1, 0, 0, 0),
			 -(int64_t)RVM_E_MALFORMED);
	assert_int_equal(ok_call(a, "gpu_kernel", ctx, SCR + 100, 1, SCR + 200, 0),
			 -(int64_t)RVM_E_RANGE);
	assert_int_equal(
		ok_call(a, "gpu_kernel", ctx, SCR + 100, 1, SCR + 200, RVM_AGENT_GPU_NAME_MAX + 1),
		-(int64_t)RVM_E_RANGE);
	assert_int_equal(ok_call(a, "gpu_alloc", ctx, 0, 0, 0, 0), -(int64_t)RVM_E_RANGE);

	/* b: no EXECUTE on its device cap. */
	len = put_req(b, 40000, bdev, bq, bk);
	assert_int_equal(ok_call(b, "gpu_launch", SCR + 40000, len, 0, 0, 0), -(int64_t)RVM_E_PERM);
	/* b presenting a's caps: they do not resolve in b's table. */
	len = put_req(b, 40000, dev, q, k);
	assert_true(ok_call(b, "gpu_launch", SCR + 40000, len, 0, 0, 0) < 0);
	assert_true(ok_call(b, "gpu_read", (uint64_t)buf, 0, SCR, 16, 0) < 0);
	assert_true(ok_call(b, "gpu_free", (uint64_t)buf, 0, 0, 0, 0) < 0);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 4096); /* a's buffer lives on */

	/* While a launch of a's context is on the device, its other calls wait their turn. */
	((struct rvm_gpu_context *)cx)->busy = 1;
	assert_int_equal(ok_call(a, "gpu_alloc", ctx, 64, 0, 0, 0), -(int64_t)RVM_E_BUSY);
	((struct rvm_gpu_context *)cx)->busy = 0;

	/* A kernel without GPU objects at all. */
	f->tw.world->gpu = NULL;
	assert_int_equal(ok_call(a, "gpu_open", SCR, 0, 0, 0, 0), -(int64_t)RVM_E_UNSUPPORTED);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0),
			 -(int64_t)RVM_E_UNSUPPORTED);
	f->tw.world->gpu = &f->gs;
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* The real agent, run by the scheduler: a matmul and a reduction on the cpu backend, checked by
 * the agent against its own result; then extra launches until the budget refuses one. */
static void test_offload_agent_on_cpu_backend(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	const struct rvm_gpu_context *cx;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 16, 100);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE,
	      (const uint64_t[4]){1ull << 50, 1u << 20, 1u << 20, 7});
	cx = rvm_gpu_context_of(&f->gs, a->part);
	rvm_tw_run(&f->tw, 2000, 200000, logged, a);
	printf("agent log: %s\n", a->last_log);
	assert_true(!strncmp(a->last_log, "ok mm=", 6));
	assert_non_null(strstr(a->last_log, " stop=00000028")); /* E_BUDGET_LAUNCHES */
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_LAUNCHES], 7);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 0); /* it freed its buffers */
	assert_int_equal(count(f, RVM_ACT_GPU_LAUNCH, RVM_OK), 7);
	assert_int_equal(a->traps, 0);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* ---- GPU state follows agents through splits and merges (issue 11) ---- */

/* Another gpu_offload agent in a's partition. */
static struct rvm_agent *sibling(struct fx *f, struct rvm_agent *a)
{
	uint32_t num = rvm_tw_spawn(&f->tw, f->mod, "h", a->part, RVM_TW_ALL_RIGHTS, 8, 0);

	return &f->tw.world->agents[num];
}

/* The raw cap in table naming the live buffer of this size (0: none). */
static rvm_cap_t raw_buf(struct fx *f, uint32_t table, uint64_t size)
{
	const struct rvm_cap_table *t = &f->tw.world->caps.tables[table];

	for (uint32_t i = 0; i < RVM_GPU_BUFFERS; i++) {
		if (!f->gs.bufs[i].used || f->gs.bufs[i].size != size)
			continue;
		for (uint32_t j = 0; j < t->hw; j++)
			if (t->slots[j].state == RVM_CAPS_LIVE &&
			    t->slots[j].object == f->gs.bufs[i].id)
				return rvm_cap_handle_of(&f->tw.world->caps, rvm_cap_ref(table, j));
	}
	return RVM_CAP_NULL;
}

/* Writes a pattern seeded by seed into buffer name of agent x (n bytes at SCR + at). */
static void fill(struct rvm_agent *x, int64_t name, uint32_t at, uint32_t n, uint8_t seed)
{
	uint32_t size;
	uint8_t *m = memory(x, &size);

	for (uint32_t i = 0; i < n; i++)
		m[SCR + at + i] = (uint8_t)(seed + i * 13u);
	assert_int_equal(ok_call(x, "gpu_write", (uint64_t)name, 0, SCR + at, n, 0), 0);
}

/* Reads buffer name back and checks the pattern. */
static void check(struct rvm_agent *x, int64_t name, uint32_t n, uint8_t seed)
{
	uint32_t size;
	uint8_t *m = memory(x, &size);

	memset(m + SCR + 30000, 0, n);
	assert_int_equal(ok_call(x, "gpu_read", (uint64_t)name, 0, SCR + 30000, n, 0), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(m[SCR + 30000 + i], (uint8_t)(seed + i * 13u));
}

static void test_split_and_merge_carry_gpu_state(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a, *b;
	uint64_t dev, ctx, q, k, bdev, bctx, bq, bk;
	int64_t abuf, bbuf;
	uint32_t p, to, len;
	rvm_cap_t araw, braw;
	struct rvm_nodeset move = {0};
	const struct rvm_gpu_context *pc, *qc;
	static const uint64_t lim[4] = {1ull << 40, 64000, 1u << 20, 100};
	uint64_t used_before[4];

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	b = sibling(f, a);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, lim);
	setup_calls(a, &dev, &ctx, &q, &k);
	setup_calls(b, &bdev, &bctx, &bq, &bk);
	abuf = ok_call(a, "gpu_alloc", ctx, 3000, 0, 0, 0);
	bbuf = ok_call(b, "gpu_alloc", bctx, 5000, 0, 0, 0);
	assert_true(abuf > 0 && bbuf > 0);
	fill(a, abuf, 0, 3000, 7);
	fill(b, bbuf, 0, 5000, 9);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	/* Names are the agent's own: b cannot use a's buffer, even in the same partition. */
	assert_int_equal(ok_call(b, "gpu_read", (uint64_t)abuf, 0, SCR, 16, 0),
			 -(int64_t)RVM_E_NOTFOUND);
	araw = raw_buf(f, p, 3000);
	braw = raw_buf(f, p, 5000);
	assert_true(araw && braw);
	pc = rvm_gpu_context_of(&f->gs, p);
	memcpy(used_before, pc->budget.used, sizeof(used_before));

	/* a splits off, with a cut weight so the two may merge again. */
	rvm_nodeset_add(&move, a->num);
	assert_int_equal(rvm_kernel_split(&f->tw.kern, p, &move, 1000, &to), RVM_OK);
	assert_int_equal(a->part, to);
	assert_int_equal(b->part, p);
	qc = rvm_gpu_context_of(&f->gs, to);
	assert_non_null(qc);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	/* Memory went exactly with the buffers; the other limits and uses were shared (1 of 2
	 * agents), and the two limits add up to the old one: splitting makes no budget. */
	assert_int_equal(qc->budget.used[RVM_GPU_DIM_MEMORY], 3000);
	assert_int_equal(pc->budget.used[RVM_GPU_DIM_MEMORY], 5000);
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++) {
		assert_true(qc->budget.limit[d] + pc->budget.limit[d] == lim[d]);
		assert_true(qc->budget.used[d] + pc->budget.used[d] == used_before[d]);
		assert_true(qc->budget.used[d] <= qc->budget.limit[d]);
		assert_true(pc->budget.used[d] <= pc->budget.limit[d]);
	}
	assert_int_equal(qc->budget.limit[RVM_GPU_DIM_LAUNCHES], 50);

	/* a keeps its names: its data is there, it launches, it allocates in its new context. */
	check(a, abuf, 3000, 7);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_true(ok_call(a, "gpu_alloc", ctx, 100, 0, 0, 0) > 0);
	assert_int_equal(qc->budget.used[RVM_GPU_DIM_MEMORY], 3100);
	/* b's stay with b. */
	check(b, bbuf, 5000, 9);
	/* The old partition cannot reach a's buffer: not through its old cap, not at all. */
	assert_true(rvm_gpu_read(&f->gs, p, araw, 0, memory(a, &len) + SCR, 16) != RVM_OK);
	assert_int_equal(raw_buf(f, p, 3000), RVM_CAP_NULL);
	assert_true(raw_buf(f, to, 3000) != RVM_CAP_NULL);
	assert_int_equal(
		rvm_gpu_read(&f->gs, to, raw_buf(f, to, 3000), 0, memory(a, &len) + SCR, 16),
		RVM_OK);
	/* ... and the new one cannot reach b's. */
	assert_true(rvm_gpu_read(&f->gs, to, braw, 0, memory(a, &len) + SCR, 16) != RVM_OK);
	assert_int_equal(ok_call(b, "gpu_read", (uint64_t)abuf, 0, SCR, 16, 0),
			 -(int64_t)RVM_E_NOTFOUND);
	assert_int_equal(count(f, RVM_ACT_GPU_MOVE, RVM_OK), 1);

	/* Merge back: one context again, limits added up, every name still good. */
	assert_int_equal(rvm_kernel_merge(&f->tw.kern, p, to), RVM_OK);
	assert_int_equal(a->part, b->part);
	pc = rvm_gpu_context_of(&f->gs, a->part);
	assert_non_null(pc);
	assert_null(rvm_gpu_context_of(&f->gs, a->part == p ? to : p));
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		assert_true(pc->budget.limit[d] == lim[d]);
	assert_int_equal(pc->budget.used[RVM_GPU_DIM_MEMORY], 8100);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	check(a, abuf, 3000, 7);
	check(b, bbuf, 5000, 9);
	len = put_req(b, 40000, bdev, bq, bk);
	assert_int_equal(ok_call(b, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(count(f, RVM_ACT_GPU_MOVE, RVM_OK), 2);
	/* One device cap and one context cap in the merged table. */
	{
		const struct rvm_cap_table *t = &f->tw.world->caps.tables[a->part];
		uint32_t ndev = 0, nctx = 0;

		for (uint32_t i = 0; i < t->hw; i++) {
			ndev += t->slots[i].state == RVM_CAPS_LIVE &&
				t->slots[i].type == RVM_OBJ_GPU;
			nctx += t->slots[i].state == RVM_CAPS_LIVE &&
				t->slots[i].type == RVM_OBJ_GPU_CONTEXT;
		}
		assert_int_equal(ndev, 1);
		assert_int_equal(nctx, 1);
	}
	fx_free(f);
}

static void test_split_abort_leaves_gpu_state(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a, *b;
	uint64_t dev, ctx, q, k, bdev, bctx, bq, bk;
	int64_t abuf;
	uint32_t p, to = 0, len;
	rvm_cap_t araw;
	struct rvm_nodeset move = {0};
	const struct rvm_gpu_context *pc;
	struct rvm_gpu_context saved;
	size_t aborts;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	b = sibling(f, a);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	setup_calls(a, &dev, &ctx, &q, &k);
	setup_calls(b, &bdev, &bctx, &bq, &bk);
	abuf = ok_call(a, "gpu_alloc", ctx, 3000, 0, 0, 0);
	fill(a, abuf, 0, 3000, 21);
	araw = raw_buf(f, p, 3000);
	pc = rvm_gpu_context_of(&f->gs, p);
	saved = *pc;
	rvm_nodeset_add(&move, a->num);
	aborts = count(f, RVM_ACT_SPLIT_ABORT, RVM_OK);
	/* Every step of the split in turn fails; each time everything is as it was. */
	for (uint32_t step = 1; step < 40; step++) {
		enum rvm_err e;

		f->tw.world->split_fault_step = step;
		e = rvm_kernel_split(&f->tw.kern, p, &move, 0, &to);
		if (e == RVM_OK) {
			/* Past the last step: this one went through; the test is done. */
			assert_true(step > 4);
			assert_int_equal(a->part, to);
			break;
		}
		assert_int_equal(e, RVM_E_IO);
		assert_int_equal(a->part, p);
		assert_int_equal(raw_buf(f, p, 3000), araw); /* same cap, same handle */
		assert_memory_equal(rvm_gpu_context_of(&f->gs, p), &saved, sizeof(saved));
		assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
		check(a, abuf, 3000, 21);
		assert_int_equal(count(f, RVM_ACT_SPLIT_ABORT, RVM_OK), aborts + step);
		/* The read charged transfer: the saved copy follows. */
		saved = *rvm_gpu_context_of(&f->gs, p);
	}
	f->tw.world->split_fault_step = 0;
	assert_int_equal(a->part, to);
	check(a, abuf, 3000, 21);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* A split the GPU side could not follow is refused before anything moves; so is a merge of two
 * partitions whose contexts cannot be one. */
static void test_gpu_refusals_keep_partitions(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a, *b, *c;
	uint64_t dev, ctx, q, k, bdev, bctx, bq, bk;
	uint32_t p, to;
	struct rvm_nodeset move = {0};
	struct rvm_gpu_context *pc;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	b = sibling(f, a);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	setup_calls(a, &dev, &ctx, &q, &k);
	setup_calls(b, &bdev, &bctx, &bq, &bk);
	pc = (struct rvm_gpu_context *)rvm_gpu_context_of(&f->gs, p);
	rvm_nodeset_add(&move, a->num);
	pc->busy = 1; /* a launch is on the device */
	assert_int_equal(rvm_kernel_split(&f->tw.kern, p, &move, 0, &to), RVM_E_BUSY);
	pc->busy = 0;
	assert_int_equal(a->part, p);
	assert_int_equal(count(f, RVM_ACT_GATE_DENIED, RVM_E_BUSY), 1);
	pc->faulted = 1; /* a kernel overran: recover first */
	assert_int_equal(rvm_kernel_split(&f->tw.kern, p, &move, 0, &to), RVM_E_STATE);
	pc->faulted = 0;
	assert_int_equal(rvm_kernel_split(&f->tw.kern, p, &move, 500, &to), RVM_OK);
	/* A partition with a grant of other rights cannot merge with it. */
	c = agent(f, 8, 0);
	grant(f, c, RVM_RIGHT_READ | RVM_RIGHT_WRITE, big);
	assert_int_equal(rvm_gpu_merge_check(&f->gs, to, c->part), RVM_E_POLICY);
	assert_int_equal(rvm_gpu_merge_check(&f->gs, to, p), RVM_OK);
	/* The split's own pair merges back into one context. */
	assert_int_equal(rvm_kernel_merge(&f->tw.kern, p, to), RVM_OK);
	assert_int_equal(a->part, b->part);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* A migration moves the partition between CPUs, not between tables: its GPU state stays put. */
static void test_migration_keeps_gpu_state(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k;
	int64_t buf;
	uint32_t p, cpu, len;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	setup_calls(a, &dev, &ctx, &q, &k);
	buf = ok_call(a, "gpu_alloc", ctx, 2000, 0, 0, 0);
	fill(a, buf, 0, 2000, 33);
	cpu = f->tw.world->sched.cpu_of[p];
	assert_int_equal(rvm_migrate_begin(&f->tw.world->parts, &f->tw.world->sched,
					   RVM_CAP_KERNEL_TABLE, f->tw.world->pcap[p], cpu ^ 1u,
					   rvm_platform_now_ns(&f->tw.plat), &f->tw.world->mig),
			 RVM_OK);
	assert_int_equal(rvm_migrate_finish(&f->tw.world->parts, &f->tw.world->sched,
					    &f->tw.world->mig, rvm_platform_now_ns(&f->tw.plat)),
			 RVM_OK);
	assert_int_equal(f->tw.world->sched.cpu_of[p], cpu ^ 1u);
	check(a, buf, 2000, 33);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(rvm_gpu_context_of(&f->gs, p)->budget.used[RVM_GPU_DIM_MEMORY], 2000);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* ---- F1: a restart brings the agent's GPU state back with its memory ---- */

static void attach_recovery(struct fx *f)
{
	rvm_tw_recovery(&f->tw, NULL);
}

/* Runs slices until a has done its work (its log says so) and waits for mail. */
static void run_to_idle(struct fx *f, struct rvm_agent *a)
{
	rvm_tw_run(&f->tw, 2000, 200000, logged, a);
	assert_true(!strncmp(a->last_log, "ok mm=", 6));
}

/* a's next receive traps (the real trap path: rvm_kernel_run_slice, recovery, F1). */
static void trap(struct fx *f, struct rvm_agent *a)
{
	uint64_t traps = a->traps;

	assert_int_equal(rvm_kernel_inject_fault(&f->tw.kern, a->num), RVM_OK);
	rvm_tw_run_until(&f->tw, &a->traps, traps + 1, 100, 200000);
	assert_int_equal(a->traps, traps + 1);
	assert_int_equal(a->state, RVM_AGENT_READY);
}

/* Names an agent keeps in its memory at SCR + 60000 (the snapshot holds them). */
#define NAMES (SCR + 60000u)

static uint64_t kept(struct rvm_agent *a, unsigned i)
{
	uint32_t size;

	return rvm_load_le64(memory(a, &size) + NAMES + 8 * i);
}

static void keep(struct rvm_agent *a, unsigned i, uint64_t name)
{
	uint32_t size;

	rvm_store_le64(memory(a, &size) + NAMES + 8 * i, name);
}

static void test_f1_restart_from_snapshot_restores_gpu(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k, cq;
	int64_t ba, bc, bb;
	uint32_t p, len;
	uint64_t xfer;
	size_t ckpt_reads, marked = 0;
	struct rvm_ckpt_info info;
	const struct rvm_gpu_context *cx;

	(void)state;
	if (!f)
		skip();
	attach_recovery(f);
	a = agent(f, 8, 0);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	cx = rvm_gpu_context_of(&f->gs, p);
	run_to_idle(f, a);
	setup_calls(a, &dev, &ctx, &q, &k);
	ba = ok_call(a, "gpu_alloc", ctx, 4000, 0, 0, 0);
	bc = ok_call(a, "gpu_alloc", ctx, 1500, 0, 0, 0);
	cq = (uint64_t)ok_call(a, "gpu_queue", ctx, 0, 0, 0, 0);
	fill(a, ba, 0, 4000, 1);
	fill(a, bc, 0, 1500, 2);
	keep(a, 0, (uint64_t)ba);
	keep(a, 1, (uint64_t)bc);
	keep(a, 2, cq);
	keep(a, 3, dev);
	keep(a, 4, q);
	keep(a, 5, k);
	xfer = cx->budget.used[RVM_GPU_DIM_TRANSFER];
	assert_int_equal(rvm_kernel_checkpoint(&f->tw.kern, p, &info), RVM_OK);
	assert_int_equal(info.agents, 1);
	/* The capture read both buffers through the gate, witnessed, not charged to the agent. */
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_TRANSFER], xfer);
	ckpt_reads = count(f, RVM_ACT_GPU_TRANSFER, RVM_OK);

	/* After the snapshot: A overwritten, C and the extra queue freed, B made. */
	fill(a, ba, 0, 4000, 99);
	assert_int_equal(ok_call(a, "gpu_free", (uint64_t)bc, 0, 0, 0, 0), 0);
	assert_int_equal(ok_call(a, "gpu_free", cq, 0, 0, 0, 0), 0);
	bb = ok_call(a, "gpu_alloc", ctx, 700, 0, 0, 0);
	assert_true(bb > 0);
	keep(a, 6, (uint64_t)bb);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 4700);

	/* The agent traps: F1 restarts it from its snapshot, GPU state included. */
	trap(f, a);
	assert_int_equal(f->tw.rec->from_snapshot, 1);
	assert_int_equal(kept(a, 6), 0); /* its memory is the snapshot's */
	check(a, (int64_t)kept(a, 0), 4000, 1);
	check(a, (int64_t)kept(a, 1), 1500, 2); /* C made again, its contents back */
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 5500); /* B is gone */
	assert_int_equal(ok_call(a, "gpu_read", (uint64_t)bb, 0, SCR, 16, 0),
			 -(int64_t)RVM_E_STALE);
	/* Two checkpoint reads, then two checkpoint writes, each marked (arg0 bit 62). */
	assert_true(count(f, RVM_ACT_GPU_TRANSFER, RVM_OK) > ckpt_reads);
	for (size_t i = 0; i < f->tw.nrecs; i++)
		marked += f->tw.recs[i].action == RVM_ACT_GPU_TRANSFER &&
			  (f->tw.recs[i].arg0 >> 62 & 1);
	assert_int_equal(marked, 4);
	/* The queue made again works, the kernel and the device too. */
	len = put_req(a, 40000, kept(a, 3), kept(a, 2), kept(a, 5));
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	len = put_req(a, 40000, kept(a, 3), kept(a, 4), kept(a, 5));
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);

	/* A second fault from the same snapshot: the same state again. */
	fill(a, (int64_t)kept(a, 1), 0, 1500, 77);
	trap(f, a);
	check(a, (int64_t)kept(a, 1), 1500, 2);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 5500);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* With no snapshot an agent starts from its module: everything it held on the GPU is freed and
 * its old names are stale; it opens the GPU again. */
static void test_f1_restart_from_module_releases_gpu(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k;
	int64_t buf;
	const struct rvm_gpu_context *cx;

	(void)state;
	if (!f)
		skip();
	attach_recovery(f);
	a = agent(f, 8, 0);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	cx = rvm_gpu_context_of(&f->gs, a->part);
	run_to_idle(f, a);
	setup_calls(a, &dev, &ctx, &q, &k);
	buf = ok_call(a, "gpu_alloc", ctx, 4000, 0, 0, 0);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 4000);
	trap(f, a);
	assert_int_equal(f->tw.rec->from_module, 1);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 0);
	assert_int_equal(ok_call(a, "gpu_read", (uint64_t)buf, 0, SCR, 16, 0),
			 -(int64_t)RVM_E_STALE);
	assert_int_equal(ok_call(a, "gpu_alloc", ctx, 64, 0, 0, 0), -(int64_t)RVM_E_STALE);
	setup_calls(a, &dev, &ctx, &q, &k);
	assert_true(ok_call(a, "gpu_alloc", ctx, 64, 0, 0, 0) > 0);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* Objects of the agent's that live now (buffers, queues, kernels), and in the pools at all. */
static uint32_t held(const struct rvm_agent *a)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
		n += a->gpu.h[i].type == RVM_OBJ_GPU_BUFFER ||
		     a->gpu.h[i].type == RVM_OBJ_GPU_QUEUE ||
		     a->gpu.h[i].type == RVM_OBJ_GPU_KERNEL;
	return n;
}

static uint32_t live_objects(const struct rvm_gpu_space *s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < RVM_GPU_BUFFERS; i++)
		n += s->bufs[i].used;
	for (uint32_t i = 0; i < RVM_GPU_QUEUES; i++)
		n += s->queues[i].used;
	for (uint32_t i = 0; i < RVM_GPU_KERNELS; i++)
		n += s->kernels[i].used;
	return n;
}

/* Without recovery attached, F1 restarts the agent from its module in the run loop itself: its GPU
 * objects go too (each free witnessed), so restart after restart nothing leaks. */
static void test_f1_without_recovery_releases_gpu(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k;
	int64_t buf = 0, old = 0;
	const struct rvm_gpu_context *cx;
	size_t frees;
	uint32_t n;

	(void)state;
	if (!f)
		skip();
	a = agent(f, 8, 0);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	cx = rvm_gpu_context_of(&f->gs, a->part);
	assert_null(f->tw.world->rec);
	for (unsigned round = 0; round < 6; round++) {
		a->last_log[0] = 0; /* wait for this life's own work (its log outlives a restart) */
		run_to_idle(f, a);
		setup_calls(a, &dev, &ctx, &q, &k);
		buf = ok_call(a, "gpu_alloc", ctx, 4000, 0, 0, 0);
		assert_true(buf > 0);
		/* One allocation's worth, however often it started over. */
		assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 4000);
		if (old)
			assert_int_equal(ok_call(a, "gpu_read", (uint64_t)old, 0, SCR, 16, 0),
					 -(int64_t)RVM_E_STALE);
		n = held(a);
		assert_true(n >= 3); /* queue, kernel, buffer (and whatever its run kept) */
		frees = count(f, RVM_ACT_GPU_FREE, RVM_OK);
		trap(f, a);
		assert_int_equal(a->restarts, round + 1);
		assert_int_equal(count(f, RVM_ACT_GPU_FREE, RVM_OK), frees + n);
		assert_int_equal(held(a), 0);
		assert_int_equal(live_objects(&f->gs), 0);
		assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 0);
		assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
		old = buf;
	}
	fx_free(f);
}

/*
 * An agent stopped for good gives its GPU objects back at once: after F1's restart limit (the run
 * loop's stop, with and without recovery attached) and at F4 (recovery's stop). Every object it
 * named is freed through the gate (one witnessed GPU_FREE each), the partition's memory use drops
 * by exactly its buffers, its capture leaves the store, and its sibling in the same partition
 * keeps its buffer, contents and all. Before, they stayed charged until the partition was reaped.
 */
static void stop_releases(bool recovery, bool f4)
{
	struct fx *f = fx_new();
	struct rvm_agent *a, *b;
	uint64_t dev, ctx, q, k, bdev, bctx, bq, bk;
	int64_t abuf, bbuf;
	const struct rvm_gpu_context *cx;
	struct rvm_ckpt_info info;
	size_t frees;
	uint32_t n, live;

	if (!f)
		skip();
	if (recovery)
		attach_recovery(f);
	a = agent(f, 8, 0);
	b = sibling(f, a);
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	cx = rvm_gpu_context_of(&f->gs, a->part);
	run_to_idle(f, a);
	run_to_idle(f, b);
	setup_calls(a, &dev, &ctx, &q, &k);
	setup_calls(b, &bdev, &bctx, &bq, &bk);
	abuf = ok_call(a, "gpu_alloc", ctx, 4000, 0, 0, 0);
	bbuf = ok_call(b, "gpu_alloc", bctx, 1000, 0, 0, 0);
	assert_true(abuf > 0 && bbuf > 0);
	fill(a, abuf, 0, 4000, 3);
	fill(b, bbuf, 0, 1000, 9);
	if (recovery) {
		/* Both captured with their snapshots: a's capture must leave the store too. */
		assert_int_equal(rvm_kernel_checkpoint(&f->tw.kern, a->part, &info), RVM_OK);
		assert_true(a->gpu.snap_len >= 4000 && b->gpu.snap_len >= 1000);
		assert_int_equal(f->gs.capture_len, a->gpu.snap_len + b->gpu.snap_len);
	}
	n = held(a);
	assert_true(n >= 3);
	live = live_objects(&f->gs);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 5000);
	frees = count(f, RVM_ACT_GPU_FREE, RVM_OK);
	if (f4) {
		struct rvm_fault ft = {.kind = RVM_FAULT_KERNEL,
				       .partition = a->part,
				       .agent = a->num,
				       .seq = RVM_SEQ_NONE};
		struct rvm_recovery_result res;

		assert_int_equal(rvm_recovery_handle(&f->tw.rec->rec, &ft, 0, &res), RVM_OK);
		assert_int_equal(res.cls, RVM_F4);
		assert_int_equal(f->tw.rec->stopped, 1);
	} else {
		/* Its restarts are used up: the next trap stops it. */
		a->restarts = RVM_AGENT_MAX_RESTARTS;
		assert_int_equal(rvm_kernel_inject_fault(&f->tw.kern, a->num), RVM_OK);
		rvm_tw_run_until(&f->tw, &a->traps, 1, 100, 200000);
		assert_int_equal(a->traps, 1);
	}
	assert_int_equal(a->state, RVM_AGENT_STOPPED);
	assert_int_equal(count(f, RVM_ACT_GPU_FREE, RVM_OK), frees + n);
	assert_int_equal(held(a), 0);
	assert_int_equal(live_objects(&f->gs), live - n);
	assert_int_equal(cx->budget.used[RVM_GPU_DIM_MEMORY], 1000);
	assert_int_equal(a->gpu.snap_len, 0);
	assert_int_equal(f->gs.capture_len, b->gpu.snap_len);
	/* Its names are stale; the sibling's still work, and its partition's context lives on. */
	assert_int_equal(ok_call(a, "gpu_read", (uint64_t)abuf, 0, SCR, 16, 0),
			 -(int64_t)RVM_E_STALE);
	check(b, bbuf, 1000, 9);
	assert_true(held(b) >= 3);
	assert_non_null(rvm_gpu_context_of(&f->gs, b->part));
	assert_true(ok_call(b, "gpu_alloc", bctx, 64, 0, 0, 0) > 0);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

static void test_stop_releases_gpu(void **state)
{
	(void)state;
	stop_releases(false, false);
}

static void test_stop_releases_gpu_with_recovery(void **state)
{
	(void)state;
	stop_releases(true, false);
}

static void test_f4_stop_releases_gpu(void **state)
{
	(void)state;
	stop_releases(true, true);
}

/* The OpenCL source an agent ships for its reduce kernel (the cpu backend runs reduce by name;
 * a real device builds the source, so a rebuild must have it). */
static const char reduce_src[] =
	"__kernel void reduce(__global const uint *in, __global uint *partial,\n"
	"\t\t     __local uint *scratch, const uint n)\n"
	"{ /* one partial sum per work-group */ }\n";

/* Writes a reduce launch (in, partial: 64 uints in 4 groups of 16) at SCR + 40000. */
static uint32_t put_reduce(struct rvm_agent *a, uint64_t dev, uint64_t q, uint64_t k, uint64_t in,
			   uint64_t part)
{
	struct rvm_gpu_launch_req r = one_item(dev, q, k);

	r.cfg.local[0] = 16;
	r.cfg.groups[0] = 4;
	r.nargs = 4;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 8, in};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 8, part};
	r.args[2] = (struct rvm_gpu_arg){RVM_GPU_ARG_LOCAL, 64, 0};
	r.args[3] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 4, 64};
	return put_wire(a, 40000, &r);
}

/* Loads reduce (with reduce_src) for agent a through rvm.gpu_kernel; returns its name. */
static int64_t load_reduce(struct rvm_agent *a, uint64_t ctx)
{
	uint32_t size;
	uint8_t *m = memory(a, &size);

	memcpy(m + SCR + 300, reduce_src, sizeof(reduce_src) - 1);
	memcpy(m + SCR + 200, "reduce", 6);
	return ok_call(a, "gpu_kernel", ctx, SCR + 300, sizeof(reduce_src) - 1, SCR + 200, 6);
}

/* The space's kept record of the kernel agent a names (name, NUL, source), or NULL. */
static const uint8_t *kept_src(struct fx *f, struct rvm_agent *a, uint64_t name, uint32_t *len)
{
	const uint8_t *rec;

	if (rvm_gpu_kernel_source(&f->gs, a->gpu.h[(name & 0xffffu) - 1].obj, &rec, len) != RVM_OK)
		return NULL;
	return rec;
}

static void test_f1_restore_rebuilds_freed_kernel(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k, sum = 0, want = 0;
	int64_t rk, e2, in, part;
	uint32_t p, len, size, reclen;
	uint8_t *m, rec[256];
	size_t kernels, rebuilt = 0;
	struct rvm_ckpt_info info;
	const uint8_t *src;
	uint32_t kept_before;

	(void)state;
	if (!f)
		skip();
	attach_recovery(f);
	a = agent(f, 8, 0);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	run_to_idle(f, a);
	setup_calls(a, &dev, &ctx, &q, &k);
	kept_before = f->gs.ksrc_used; /* the agent's own kernels' and the empty one's */
	rk = load_reduce(a, ctx);
	/* One more after it, whose record the store packs down when reduce's goes. */
	m = memory(a, &size);
	memcpy(m + SCR + 500, "xyz", 3);
	memcpy(m + SCR + 510, "empty", 5);
	e2 = ok_call(a, "gpu_kernel", ctx, SCR + 500, 3, SCR + 510, 5);
	assert_true(e2 > 0);
	in = ok_call(a, "gpu_alloc", ctx, 256, 0, 0, 0);
	part = ok_call(a, "gpu_alloc", ctx, 16, 0, 0, 0);
	assert_true(rk > 0 && in > 0 && part > 0);
	m = memory(a, &size);
	for (uint32_t i = 0; i < 64; i++) {
		rvm_store_le32(m + SCR + 1000 + 4 * i, i * 3u + 1u);
		want += i * 3u + 1u;
	}
	assert_int_equal(ok_call(a, "gpu_write", (uint64_t)in, 0, SCR + 1000, 256, 0), 0);
	/* What the kernel is built from is kept while it lives: name, NUL, source. */
	memcpy(rec, "reduce", 7);
	memcpy(rec + 7, reduce_src, sizeof(reduce_src) - 1);
	assert_non_null(src = kept_src(f, a, (uint64_t)rk, &reclen));
	assert_int_equal(reclen, 7 + sizeof(reduce_src) - 1);
	assert_memory_equal(src, rec, reclen);
	keep(a, 0, (uint64_t)rk);
	keep(a, 1, (uint64_t)in);
	keep(a, 2, (uint64_t)part);
	assert_int_equal(rvm_kernel_checkpoint(&f->tw.kern, p, &info), RVM_OK);
	assert_int_equal(f->gs.capture_no_src, 0);

	/* After the snapshot the agent frees its kernel: the name is stale now. */
	assert_int_equal(ok_call(a, "gpu_free", (uint64_t)rk, 0, 0, 0, 0), 0);
	len = put_reduce(a, dev, q, (uint64_t)rk, (uint64_t)in, (uint64_t)part);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0),
			 -(int64_t)RVM_E_STALE);
	/* Its record went with it; the empty kernel's stayed good as the store packed down. */
	assert_int_equal(f->gs.ksrc_used, kept_before + 9);
	assert_non_null(src = kept_src(f, a, k, &reclen));
	assert_memory_equal(src, "empty\0-", 7);
	assert_non_null(src = kept_src(f, a, (uint64_t)e2, &reclen));
	assert_int_equal(reclen, 9);
	assert_memory_equal(src, "empty\0xyz", 9);
	kernels = count(f, RVM_ACT_GPU_KERNEL, RVM_OK);

	/* The trap: F1 restores the snapshot, and the kernel is built again from its source. */
	trap(f, a);
	assert_int_equal(f->tw.rec->from_snapshot, 1);
	assert_int_equal(count(f, RVM_ACT_GPU_KERNEL, RVM_OK), kernels + 1);
	for (size_t i = 0; i < f->tw.nrecs; i++)
		if (f->tw.recs[i].action == RVM_ACT_GPU_KERNEL)
			rebuilt = f->tw.recs[i].arg1; /* the last one's source bytes */
	assert_int_equal(rebuilt, sizeof(reduce_src) - 1);
	assert_non_null(src = kept_src(f, a, kept(a, 0), &reclen));
	assert_memory_equal(src, rec, reclen);
	/* The agent's restored name works: the launch runs and sums right on the cpu backend. */
	len = put_reduce(a, dev, q, kept(a, 0), kept(a, 1), kept(a, 2));
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	m = memory(a, &size);
	memset(m + SCR + 30000, 0, 16);
	assert_int_equal(ok_call(a, "gpu_read", kept(a, 2), 0, SCR + 30000, 16, 0), 0);
	for (uint32_t g = 0; g < 4; g++)
		sum += rvm_load_le32(m + SCR + 30000 + 4 * g);
	assert_true(sum == want);
	assert_true(rvm_load_le32(m + SCR + 30000) == 16 * 1 + 3 * (15 * 16 / 2));
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	fx_free(f);
}

/* Over the source store's limit the kernel is not kept: a restore after the agent freed it
 * leaves its name stale (the documented limit), counted, and nothing else breaks. */
static void test_kernel_source_over_limit_stays_stale(void **state)
{
	struct fx *f = fx_new();
	struct rvm_agent *a;
	uint64_t dev, ctx, q, k;
	int64_t rk, buf;
	uint32_t p, len, reclen;
	char *filler = malloc(RVM_GPU_KSRC_BYTES);
	rvm_cap_t fk;
	const struct rvm_gpu_context *cx;
	struct rvm_ckpt_info info;
	uint32_t kept_before;

	(void)state;
	if (!f) {
		free(filler);
		skip();
	}
	attach_recovery(f);
	a = agent(f, 8, 0);
	p = a->part;
	grant(f, a, RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, big);
	cx = rvm_gpu_context_of(&f->gs, p);
	run_to_idle(f, a);
	setup_calls(a, &dev, &ctx, &q, &k);
	kept_before = f->gs.ksrc_used;
	/* The kernel itself fills the store all but a few bytes. */
	memset(filler, ' ', RVM_GPU_KSRC_BYTES);
	assert_int_equal(rvm_gpu_kernel(&f->gs, p, cx->ctx_cap, filler,
					RVM_GPU_KSRC_BYTES - f->gs.ksrc_used - 16, "empty", &fk),
			 RVM_OK);
	rk = load_reduce(a, ctx);
	assert_true(rk > 0);
	assert_null(kept_src(f, a, (uint64_t)rk, &reclen));
	buf = ok_call(a, "gpu_alloc", ctx, 64, 0, 0, 0);
	keep(a, 0, (uint64_t)rk);
	keep(a, 1, (uint64_t)buf);
	assert_int_equal(rvm_kernel_checkpoint(&f->tw.kern, p, &info), RVM_OK);
	assert_int_equal(f->gs.capture_no_src, 1);
	assert_int_equal(ok_call(a, "gpu_free", (uint64_t)rk, 0, 0, 0, 0), 0);
	assert_int_equal(rvm_gpu_free(&f->gs, p, fk), RVM_OK);
	assert_int_equal(f->gs.ksrc_used, kept_before);
	trap(f, a);
	assert_int_equal(f->tw.rec->from_snapshot, 1);
	len = put_reduce(a, dev, q, kept(a, 0), kept(a, 1), kept(a, 1));
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0),
			 -(int64_t)RVM_E_STALE);
	/* The rest of the snapshot's GPU state is back: the buffer, the empty kernel. */
	assert_int_equal(ok_call(a, "gpu_read", kept(a, 1), 0, SCR, 16, 0), 0);
	len = put_req(a, 40000, dev, q, k);
	assert_int_equal(ok_call(a, "gpu_launch", SCR + 40000, len, 0, 0, 0), 0);
	assert_int_equal(rvm_gpu_check_invariants(&f->gs), RVM_OK);
	free(filler);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_witnessed_and_journaled),
		cmocka_unit_test(test_bad_pointers_trap),
		cmocka_unit_test(test_denials_are_negative_and_witnessed),
		cmocka_unit_test(test_offload_agent_on_cpu_backend),
		cmocka_unit_test(test_split_and_merge_carry_gpu_state),
		cmocka_unit_test(test_split_abort_leaves_gpu_state),
		cmocka_unit_test(test_gpu_refusals_keep_partitions),
		cmocka_unit_test(test_migration_keeps_gpu_state),
		cmocka_unit_test(test_f1_restart_from_snapshot_restores_gpu),
		cmocka_unit_test(test_f1_restart_from_module_releases_gpu),
		cmocka_unit_test(test_f1_without_recovery_releases_gpu),
		cmocka_unit_test(test_stop_releases_gpu),
		cmocka_unit_test(test_stop_releases_gpu_with_recovery),
		cmocka_unit_test(test_f4_stop_releases_gpu),
		cmocka_unit_test(test_f1_restore_rebuilds_freed_kernel),
		cmocka_unit_test(test_kernel_source_over_limit_stays_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
