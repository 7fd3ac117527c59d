/* tests/unit/test_gpu.c - GPU objects on the cpu backend: caps, budget, validation, denials, moves.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/gpu.h>

#include "test_cap_fixture.h"

#define P_A	    1u
#define P_B	    2u
#define P_C	    3u
#define MEM_SIZE    (1u << 20)
#define SHARED_SIZE 4096u

/* ---- C kernels ---- */

static void k_vadd(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	uint64_t i = it->global_id[0];
	const uint32_t *x = a->ptr[0], *y = a->ptr[1];
	uint32_t *z = a->ptr[2];

	if (i < a->val[3])
		z[i] = x[i] + y[i];
}

static void k_empty(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	(void)it;
	(void)a;
}

/* Burns about a->val[0] iterations per work-item. */
static void k_spin(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	volatile uint64_t n = 0;

	(void)it;
	for (uint64_t i = 0; i < a->val[0]; i++)
		n = n + i;
}

static const struct rvm_gpu_cpu_kernel kernels[] = {
	{"vadd", k_vadd},
	{"empty", k_empty},
	{"spin", k_spin},
};

/* ---- fixture ---- */

struct gpu_fixture {
	struct cap_fixture *f;
	struct rvm_gpu_space gs;
	struct rvm_gpu_cpu cpu;
	uint8_t mem[MEM_SIZE];
	uint8_t shared[SHARED_SIZE];
	uint32_t dev;
};

static const uint64_t big[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, UINT64_MAX / 2, UINT64_MAX / 2,
						UINT64_MAX / 2};

static struct gpu_fixture *gf_new(void)
{
	struct gpu_fixture *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->f = cap_fixture_new();
	rvm_gpu_init(&g->gs, &g->f->gate, &g->f->plat);
	rvm_gpu_cpu_init(&g->cpu, &g->f->plat, g->mem, MEM_SIZE, g->shared, SHARED_SIZE, kernels,
			 3);
	assert_int_equal(rvm_gpu_device_add(&g->gs, rvm_gpu_cpu_backend(), &g->cpu, &g->dev),
			 RVM_OK);
	return g;
}

static void gf_free(struct gpu_fixture *g)
{
	assert_int_equal(rvm_gpu_check_invariants(&g->gs), RVM_OK);
	cap_fixture_free(g->f);
	free(g);
}

struct part {
	rvm_cap_t dev, ctx, q, kadd, kempty, kspin;
};

static void attach(struct gpu_fixture *g, uint32_t p, const uint64_t lim[RVM_GPU_DIM_COUNT],
		   struct part *pt)
{
	assert_int_equal(rvm_gpu_attach(&g->gs, p, g->dev, RVM_RIGHTS_ALL, lim, &pt->dev, &pt->ctx),
			 RVM_OK);
	assert_int_equal(rvm_gpu_queue(&g->gs, p, pt->ctx, &pt->q), RVM_OK);
	assert_int_equal(rvm_gpu_kernel(&g->gs, p, pt->ctx, "c", 1, "vadd", &pt->kadd), RVM_OK);
	assert_int_equal(rvm_gpu_kernel(&g->gs, p, pt->ctx, "c", 1, "empty", &pt->kempty), RVM_OK);
	assert_int_equal(rvm_gpu_kernel(&g->gs, p, pt->ctx, "c", 1, "spin", &pt->kspin), RVM_OK);
}

static struct rvm_gpu_launch_req one_item(const struct part *pt, rvm_cap_t kernel)
{
	struct rvm_gpu_launch_req r;

	memset(&r, 0, sizeof(r));
	r.device = pt->dev;
	r.queue = pt->q;
	r.kernel = kernel;
	r.cfg.dims = 1;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		r.cfg.local[d] = 1;
		r.cfg.groups[d] = 1;
	}
	return r;
}

static const struct rvm_gpu_budget *budget(struct gpu_fixture *g, uint32_t p)
{
	const struct rvm_gpu_context *c = rvm_gpu_context_of(&g->gs, p);

	assert_non_null(c);
	return &c->budget;
}

/* The last record is a refusal of action with error e. */
static void assert_denied(struct gpu_fixture *g, uint16_t denial, uint16_t action, enum rvm_err e)
{
	const struct rvm_witness_record *r = cap_fixture_last(g->f);

	assert_int_equal(r->action, denial);
	assert_true(r->flags & RVM_WF_DENIED);
	assert_int_equal(r->arg0, action);
	assert_int_equal(r->arg1, e);
}

/* ---- tests ---- */

static void test_vadd_end_to_end(void **state)
{
	struct gpu_fixture *g = gf_new();
	struct part a;
	rvm_cap_t x, y, z;
	uint32_t vx[100], vy[100], vz[100];
	struct rvm_gpu_launch_req r;

	(void)state;
	attach(g, P_A, big, &a);
	for (int i = 0; i < 100; i++) {
		vx[i] = (uint32_t)i * 3;
		vy[i] = 1000u - (uint32_t)i;
	}
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, sizeof(vx), &x), RVM_OK);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, sizeof(vy), &y), RVM_OK);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, sizeof(vz), &z), RVM_OK);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, x, 0, vx, sizeof(vx)), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_TRANSFER);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, y, 0, vy, sizeof(vy)), RVM_OK);
	r = one_item(&a, a.kadd);
	r.cfg.local[0] = 16;
	r.cfg.groups[0] = 7; /* 112 work-items for 100 elements: the kernel checks its bound */
	r.nargs = 4;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, x};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, y};
	r.args[2] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, z};
	r.args[3] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 8, 100};
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	/* A completed launch joins the epoch batch: its record comes with the batch's flush. */
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_TRANSFER);
	assert_int_equal(rvm_witness_batch_flush(&g->f->wlog), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_LAUNCH);
	assert_int_equal(cap_fixture_last(g->f)->flags, RVM_WF_BATCH | RVM_WF_WORDFOLD);
	assert_int_equal(cap_fixture_last(g->f)->actor, P_A);
	assert_int_equal(cap_fixture_last(g->f)->target, 1); /* one launch */
	assert_int_equal(cap_fixture_last(g->f)->arg0, budget(g, P_A)->used[RVM_GPU_DIM_COMPUTE]);
	assert_int_equal(rvm_gpu_read(&g->gs, P_A, z, 0, vz, sizeof(vz)), RVM_OK);
	for (int i = 0; i < 100; i++)
		assert_int_equal(vz[i], vx[i] + vy[i]);
	/* The launch charged its device time, not its whole deadline. */
	assert_true(budget(g, P_A)->used[RVM_GPU_DIM_COMPUTE] < RVM_GPU_DEFAULT_TIMEOUT_NS);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_LAUNCHES], 1);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_TRANSFER], 3 * sizeof(vx));
	assert_int_equal(rvm_gpu_check_invariants(&g->gs), RVM_OK);
	gf_free(g);
}

static void test_budget_memory(void **state)
{
	struct gpu_fixture *g = gf_new();
	uint64_t lim[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, 4096, UINT64_MAX / 2, 100};
	struct part a;
	rvm_cap_t b1, b2;

	(void)state;
	attach(g, P_A, lim, &a);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 4000, &b1), RVM_OK);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 97, &b2), RVM_E_BUDGET_MEMORY);
	assert_denied(g, RVM_ACT_GATE_DENIED, RVM_ACT_GPU_ALLOC, RVM_E_BUDGET_MEMORY);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_MEMORY], 4000);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 96, &b2), RVM_OK);
	/* Memory is a level: a new epoch does not give it back, a free does. */
	assert_int_equal(rvm_gpu_epoch(&g->gs), RVM_OK);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_MEMORY], 4096);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 1, &b2), RVM_E_BUDGET_MEMORY);
	assert_int_equal(rvm_gpu_free(&g->gs, P_A, b1), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_FREE);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_MEMORY], 96);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 4000, &b1), RVM_OK);
	/* The freed cap is gone. */
	assert_int_equal(rvm_gpu_free(&g->gs, P_A, b2), RVM_OK);
	assert_int_not_equal(rvm_gpu_free(&g->gs, P_A, b2), RVM_OK);
	gf_free(g);
}

static void test_budget_transfer(void **state)
{
	struct gpu_fixture *g = gf_new();
	uint64_t lim[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, 4096, 100, 100};
	struct part a;
	rvm_cap_t b;
	uint8_t buf[64] = {1};

	(void)state;
	attach(g, P_A, lim, &a);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 64, &b), RVM_OK);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, b, 0, buf, 64), RVM_OK);
	assert_int_equal(rvm_gpu_read(&g->gs, P_A, b, 0, buf, 37), RVM_E_BUDGET_TRANSFER);
	assert_denied(g, RVM_ACT_GATE_DENIED, RVM_ACT_GPU_TRANSFER, RVM_E_BUDGET_TRANSFER);
	assert_int_equal(rvm_gpu_read(&g->gs, P_A, b, 0, buf, 36), RVM_OK);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_TRANSFER], 100);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, b, 0, buf, 1), RVM_E_BUDGET_TRANSFER);
	assert_int_equal(rvm_gpu_epoch(&g->gs), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_EPOCH);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_TRANSFER], 0);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, b, 0, buf, 64), RVM_OK);
	gf_free(g);
}

static void test_budget_launches(void **state)
{
	struct gpu_fixture *g = gf_new();
	uint64_t lim[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, 4096, 100, 2};
	struct part a;
	struct rvm_gpu_launch_req r;

	(void)state;
	attach(g, P_A, lim, &a);
	r = one_item(&a, a.kempty);
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_BUDGET_LAUNCHES);
	assert_denied(g, RVM_ACT_GATE_DENIED, RVM_ACT_GPU_LAUNCH, RVM_E_BUDGET_LAUNCHES);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_LAUNCHES], 2);
	assert_int_equal(rvm_gpu_epoch(&g->gs), RVM_OK);
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	gf_free(g);
}

static void test_budget_compute(void **state)
{
	struct gpu_fixture *g = gf_new();
	/* 150 ms of device time per epoch. */
	uint64_t lim[RVM_GPU_DIM_COUNT] = {150000000, 4096, 100, 100};
	struct part a;
	struct rvm_gpu_launch_req r;
	uint64_t used;

	(void)state;
	attach(g, P_A, lim, &a);
	r = one_item(&a, a.kempty);
	/* Default deadline 100 ms: charged up front, the unused part given back. */
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	used = budget(g, P_A)->used[RVM_GPU_DIM_COMPUTE];
	assert_true(used < 50000000);
	assert_int_equal(rvm_witness_batch_flush(&g->f->wlog), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->arg0, used); /* the batch: device ns summed */
	/* A 200 ms deadline cannot fit in 150 ms, however fast the kernel would be. */
	r.cfg.timeout_ns = 200000000;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_BUDGET_COMPUTE);
	assert_denied(g, RVM_ACT_GATE_DENIED, RVM_ACT_GPU_LAUNCH, RVM_E_BUDGET_COMPUTE);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_COMPUTE], used);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_LAUNCHES], 1); /* refused: nothing */
	r.cfg.timeout_ns = 150000000 - used;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	assert_int_equal(rvm_gpu_epoch(&g->gs), RVM_OK);
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_COMPUTE], 0);
	gf_free(g);
}

static void test_budget_charge_all_or_nothing(void **state)
{
	struct rvm_gpu_budget b = {.limit = {10, 10, 10, 10}};
	uint64_t c1[RVM_GPU_DIM_COUNT] = {5, 5, 5, 5}, c2[RVM_GPU_DIM_COUNT] = {1, 1, 1, 6};
	uint64_t huge[RVM_GPU_DIM_COUNT] = {0, UINT64_MAX, 0, 0};

	(void)state;
	assert_int_equal(rvm_gpu_budget_charge(&b, c1), RVM_OK);
	assert_int_equal(rvm_gpu_budget_charge(&b, c2), RVM_E_BUDGET_LAUNCHES);
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		assert_int_equal(b.used[d], 5);
	assert_int_equal(rvm_gpu_budget_charge(&b, huge), RVM_E_BUDGET_MEMORY);
	rvm_gpu_budget_release(&b, RVM_GPU_DIM_COMPUTE, 99);
	assert_int_equal(b.used[RVM_GPU_DIM_COMPUTE], 0);
	assert_int_equal(rvm_gpu_dim_err(RVM_GPU_DIM_COUNT), RVM_E_INVAL);
}

static void test_validate_rules(void **state)
{
	struct rvm_gpu_limits lim = {.global_mem = 1 << 20,
				     .max_alloc = 1 << 20,
				     .local_mem = 1024,
				     .max_groups = {1000, 1000, 1000},
				     .max_wi_size = {64, 8, 4},
				     .max_wg_size = 128,
				     .max_args = 8};
	struct rvm_gpu_launch_cfg ok = {.dims = 2, .local = {16, 8, 1}, .groups = {10, 3, 1}};
	struct rvm_gpu_launch_cfg c;
	uint64_t threads = 0, timeout = 0;
	struct rvm_gpu_limits wide = lim;

	(void)state;
	assert_int_equal(rvm_gpu_validate(&lim, &ok, 0, &threads, &timeout), RVM_OK);
	assert_int_equal(threads, 16 * 10 * 8 * 3);
	assert_int_equal(timeout, RVM_GPU_DEFAULT_TIMEOUT_NS);
	c = ok, c.dims = 0;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_INVAL);
	c = ok, c.dims = 4;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_INVAL);
	c = ok, c.groups[2] = 2; /* unused dimension not 1 */
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_INVAL);
	c = ok, c.local[1] = 0;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_INVAL);
	c = ok, c.groups[0] = 0;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_INVAL);
	c = ok, c.local[0] = 65; /* over the dimension's work-group size */
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_RANGE);
	c = ok, c.local[0] = 32; /* 32 x 8 = 256 work-items > 128 per group */
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_RANGE);
	c = ok, c.groups[1] = 1001;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_RANGE);
	c = ok, c.local_mem = 1000;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 24, NULL, NULL), RVM_OK);
	assert_int_equal(rvm_gpu_validate(&lim, &c, 25, NULL, NULL), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_validate(&lim, &c, UINT64_MAX, NULL, NULL), RVM_E_RANGE);
	c = ok, c.timeout_ns = RVM_GPU_MAX_TIMEOUT_NS;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, &timeout), RVM_OK);
	assert_int_equal(timeout, RVM_GPU_MAX_TIMEOUT_NS);
	c.timeout_ns++;
	assert_int_equal(rvm_gpu_validate(&lim, &c, 0, NULL, NULL), RVM_E_RANGE);
	/* Total work-items past 2^64. */
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		wide.max_groups[d] = UINT64_MAX;
		wide.max_wi_size[d] = 4;
	}
	c = (struct rvm_gpu_launch_cfg){
		.dims = 3, .local = {4, 4, 4}, .groups = {1ull << 30, 1ull << 30, 1ull << 30}};
	assert_int_equal(rvm_gpu_validate(&wide, &c, 0, NULL, NULL), RVM_E_OVERFLOW);
	c = (struct rvm_gpu_launch_cfg){
		.dims = 1, .local = {4, 1, 1}, .groups = {UINT64_MAX / 2, 1, 1}};
	assert_int_equal(rvm_gpu_validate(&wide, &c, 0, NULL, NULL), RVM_E_OVERFLOW);
	assert_int_equal(rvm_gpu_validate(NULL, &c, 0, NULL, NULL), RVM_E_INVAL);
}

/* Every validation failure through a launch: refused, witnessed, nothing charged. */
static void test_launch_validation_denied(void **state)
{
	struct gpu_fixture *g = gf_new();
	struct part a;
	struct rvm_gpu_launch_req r;
	uint64_t before = g->f->gate.denied;

	(void)state;
	attach(g, P_A, big, &a);
	r = one_item(&a, a.kempty);
	r.cfg.local[0] = 2048; /* the cpu device takes 1024 */
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_RANGE);
	assert_denied(g, RVM_ACT_GATE_DENIED, RVM_ACT_GPU_LAUNCH, RVM_E_RANGE);
	r = one_item(&a, a.kempty);
	r.cfg.local_mem = SHARED_SIZE + 1;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_RANGE);
	r = one_item(&a, a.kempty);
	r.nargs = 1;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_LOCAL, SHARED_SIZE + 1, 0};
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_RANGE);
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 3, 0};
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_INVAL);
	r.args[0] = (struct rvm_gpu_arg){99, 4, 0};
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_INVAL);
	r = one_item(&a, a.kempty);
	r.nargs = RVM_GPU_MAX_ARGS + 1;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_RANGE);
	r = one_item(&a, a.kempty);
	r.cfg.dims = 0;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_INVAL);
	r = one_item(&a, a.kempty);
	r.cfg.timeout_ns = RVM_GPU_MAX_TIMEOUT_NS + 1;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_RANGE);
	assert_int_equal(g->f->gate.denied - before, 8);
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		assert_int_equal(budget(g, P_A)->used[d], 0);
	gf_free(g);
}

static void test_denials(void **state)
{
	struct gpu_fixture *g = gf_new();
	struct part a, b;
	rvm_cap_t buf, other, weak, noexec;
	uint8_t data[16] = {0};
	struct rvm_gpu_launch_req r;
	const struct rvm_cap *c;

	(void)state;
	attach(g, P_A, big, &a);
	attach(g, P_B, big, &b);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 64, &buf), RVM_OK);
	/* A handle from A's table means nothing in B's. */
	assert_int_not_equal(rvm_gpu_write(&g->gs, P_B, buf, 0, data, 16), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_CAP_DENIED);
	/* Even a cap naming A's buffer, put into B's table, does not make it B's. */
	assert_int_equal(rvm_cap_resolve(&g->f->caps, P_A, buf, &c), RVM_OK);
	assert_int_equal(rvm_cap_mint(&g->f->gate, P_B, RVM_OBJ_GPU_BUFFER, c->object,
				      RVM_RIGHTS_ALL, &other),
			 RVM_OK);
	assert_int_equal(rvm_gpu_write(&g->gs, P_B, other, 0, data, 16), RVM_E_PERM);
	assert_denied(g, RVM_ACT_GATE_DENIED, RVM_ACT_GPU_TRANSFER, RVM_E_PERM);
	assert_int_equal(rvm_gpu_read(&g->gs, P_B, other, 0, data, 16), RVM_E_PERM);
	assert_int_equal(rvm_gpu_free(&g->gs, P_B, other), RVM_E_PERM);
	/* ... nor can B pass it to its own launch. */
	r = one_item(&b, b.kempty);
	r.nargs = 1;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, other};
	assert_int_equal(rvm_gpu_launch(&g->gs, P_B, &r), RVM_E_POLICY);
	/* Rights: a read-only cap cannot write, a write-only one cannot read. */
	assert_int_equal(rvm_cap_derive(&g->f->gate, P_A, buf, RVM_RIGHT_READ, &weak), RVM_OK);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, weak, 0, data, 16), RVM_E_PERM);
	assert_denied(g, RVM_ACT_CAP_DENIED, RVM_ACT_GPU_TRANSFER, RVM_E_PERM);
	assert_int_equal(rvm_gpu_read(&g->gs, P_A, weak, 0, data, 16), RVM_OK);
	/* Launch needs EXECUTE and WRITE on the device cap. */
	assert_int_equal(
		rvm_cap_derive(&g->f->gate, P_A, a.dev, RVM_RIGHT_WRITE | RVM_RIGHT_READ, &noexec),
		RVM_OK);
	r = one_item(&a, a.kempty);
	r.device = noexec;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_PERM);
	assert_denied(g, RVM_ACT_CAP_DENIED, RVM_ACT_GPU_LAUNCH, RVM_E_PERM);
	assert_int_equal(rvm_cap_derive(&g->f->gate, P_A, a.dev, RVM_RIGHT_EXECUTE, &noexec),
			 RVM_OK);
	r.device = noexec;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_PERM);
	/* A cap of the wrong type where a device cap belongs. */
	r.device = a.ctx;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_PERM);
	/* Bounds and sizes. */
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, buf, 60, data, 16), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, buf, UINT64_MAX, data, 2), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, buf, 0, NULL, 2), RVM_E_INVAL);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 0, &other), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, MEM_SIZE + 1, &other), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_kernel(&g->gs, P_A, a.ctx, "c", 1, "nosuch", &other),
			 RVM_E_NOTFOUND);
	assert_int_equal(rvm_gpu_kernel(&g->gs, P_A, a.ctx, "c", 1, "", &other), RVM_E_INVAL);
	/* Kernel-only calls with bad arguments. */
	assert_int_equal(rvm_gpu_attach(&g->gs, P_A, g->dev, RVM_RIGHTS_ALL, big, &other, &other),
			 RVM_E_EXISTS);
	assert_int_equal(rvm_gpu_attach(&g->gs, P_C, 3, RVM_RIGHTS_ALL, big, &other, &other),
			 RVM_E_NOTFOUND);
	assert_int_equal(rvm_gpu_attach(&g->gs, 0, g->dev, RVM_RIGHTS_ALL, big, &other, &other),
			 RVM_E_RANGE);
	assert_int_equal(rvm_gpu_recover(&g->gs, P_A), RVM_E_STATE); /* not faulted */
	assert_int_equal(rvm_gpu_detach(&g->gs, P_C), RVM_E_NOTFOUND);
	assert_int_equal(rvm_gpu_alloc(&g->gs, 0, a.ctx, 16, &other), RVM_E_INVAL);
	gf_free(g);
}

static void test_timeout_cancel_recover(void **state)
{
	struct gpu_fixture *g = gf_new();
	struct part a;
	struct rvm_gpu_launch_req r;
	const struct rvm_witness_record *w;
	rvm_cap_t other;

	(void)state;
	attach(g, P_A, big, &a);
	r = one_item(&a, a.kspin);
	r.cfg.groups[0] = 1u << 20; /* far more work than 5 ms */
	r.cfg.timeout_ns = 5000000;
	r.nargs = 1;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 8, 20000};
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_TIMEOUT);
	w = cap_fixture_last(g->f);
	assert_int_equal(w->action, RVM_ACT_GPU_CANCEL);
	assert_int_equal(w->arg0, 1); /* the cpu backend stops between work-groups */
	assert_true(w->arg1 >= 5000000);
	w = rvm_witness_get(&g->f->wlog, g->f->wlog.next_seq - 2);
	assert_int_equal(w->action, RVM_ACT_GPU_LAUNCH);
	assert_int_equal(w->arg1, 5000000); /* charged: the deadline, no more */
	assert_int_equal(budget(g, P_A)->used[RVM_GPU_DIM_COMPUTE], 5000000);
	assert_true(rvm_gpu_context_of(&g->gs, P_A)->faulted);
	/* Faulted: the context refuses work until the recovery path ran. */
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 16, &other), RVM_E_STATE);
	r = one_item(&a, a.kempty);
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_E_STATE);
	assert_int_equal(rvm_gpu_recover(&g->gs, P_A), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_RECOVER);
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &r), RVM_OK);
	gf_free(g);
}

static void test_buffers_zeroed(void **state)
{
	struct gpu_fixture *g = gf_new();
	struct part a, b;
	rvm_cap_t x;
	uint8_t data[256], back[256];

	(void)state;
	attach(g, P_A, big, &a);
	attach(g, P_B, big, &b);
	memset(data, 0xA5, sizeof(data));
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, sizeof(data), &x), RVM_OK);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, x, 0, data, sizeof(data)), RVM_OK);
	assert_int_equal(rvm_gpu_free(&g->gs, P_A, x), RVM_OK);
	/* B gets the same device memory back, and sees zeros, not A's bytes. */
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_B, b.ctx, sizeof(data), &x), RVM_OK);
	assert_int_equal(rvm_gpu_read(&g->gs, P_B, x, 0, back, sizeof(back)), RVM_OK);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	gf_free(g);
}

static void test_move_owner_and_buffer(void **state)
{
	struct gpu_fixture *g = gf_new();
	uint64_t small[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, 100, UINT64_MAX / 2, 100};
	struct part a, c;
	rvm_cap_t x, y, moved, nb;
	struct rvm_gpu_handle_map map[16];
	uint32_t n = 0;
	uint8_t data[32], back[32];

	(void)state;
	attach(g, P_A, big, &a);
	memset(data, 7, sizeof(data));
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 32, &x), RVM_OK);
	assert_int_equal(rvm_gpu_alloc(&g->gs, P_A, a.ctx, 200, &y), RVM_OK);
	assert_int_equal(rvm_gpu_write(&g->gs, P_A, x, 0, data, 32), RVM_OK);
	/* Migration / merge: A's whole context goes to B; A's handles die, B's work. */
	assert_int_equal(rvm_gpu_move_owner(&g->gs, P_A, P_B, map, 2, &n), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_move_owner(&g->gs, P_A, P_B, map, 16, &n), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_MOVE);
	assert_int_equal(n, 8); /* device, context, queue, 3 kernels, 2 buffers */
	moved = 0;
	for (uint32_t i = 0; i < n; i++)
		if (map[i].from == x)
			moved = map[i].to;
	assert_int_not_equal(moved, 0);
	assert_int_not_equal(rvm_gpu_read(&g->gs, P_A, x, 0, back, 32), RVM_OK);
	assert_int_equal(rvm_gpu_read(&g->gs, P_B, moved, 0, back, 32), RVM_OK);
	assert_memory_equal(back, data, 32);
	assert_null(rvm_gpu_context_of(&g->gs, P_A));
	assert_int_equal(rvm_gpu_context_of(&g->gs, P_B)->budget.used[RVM_GPU_DIM_MEMORY], 232);
	assert_int_equal(rvm_gpu_check_invariants(&g->gs), RVM_OK);
	/* Split: one buffer to C, charged to C's memory budget (100 bytes: 32 fits, 200 not). */
	attach(g, P_C, small, &c);
	assert_int_equal(rvm_gpu_move_buffer(&g->gs, P_B, moved, P_C, &nb), RVM_OK);
	assert_int_equal(rvm_gpu_read(&g->gs, P_C, nb, 0, back, 32), RVM_OK);
	assert_memory_equal(back, data, 32);
	assert_int_not_equal(rvm_gpu_read(&g->gs, P_B, moved, 0, back, 32), RVM_OK);
	assert_int_equal(rvm_gpu_context_of(&g->gs, P_B)->budget.used[RVM_GPU_DIM_MEMORY], 200);
	assert_int_equal(rvm_gpu_context_of(&g->gs, P_C)->budget.used[RVM_GPU_DIM_MEMORY], 32);
	for (uint32_t i = 0; i < n; i++)
		if (map[i].from == y)
			y = map[i].to;
	assert_int_equal(rvm_gpu_move_buffer(&g->gs, P_B, y, P_C, &nb), RVM_E_BUDGET_MEMORY);
	assert_int_equal(rvm_gpu_move_owner(&g->gs, P_B, P_C, NULL, 0, NULL), RVM_E_EXISTS);
	assert_int_equal(rvm_gpu_check_invariants(&g->gs), RVM_OK);
	/* Teardown frees everything. */
	assert_int_equal(rvm_gpu_detach(&g->gs, P_B), RVM_OK);
	assert_int_equal(rvm_gpu_detach(&g->gs, P_C), RVM_OK);
	assert_int_equal(g->gs.devices[g->dev].mem_used, 0);
	assert_int_equal(rvm_gpu_check_invariants(&g->gs), RVM_OK);
	gf_free(g);
}

/* Property: no random sequence of requests takes any dimension over its limit. */
static void test_property_budget_never_exceeded(void **state)
{
	struct gpu_fixture *g = gf_new();
	uint64_t lim[RVM_GPU_DIM_COUNT] = {30000000, 3000, 5000, 12};
	struct part a;
	rvm_cap_t bufs[8] = {0};
	uint64_t rng = 0x6770755f70726f70ull, xfer = 0, launches = 0, compute = 0;
	uint8_t data[512];

	(void)state;
	attach(g, P_A, lim, &a);
	memset(data, 3, sizeof(data));
	for (int step = 0; step < 3000; step++) {
		uint64_t r = rvm_test_rand(&rng);
		unsigned k = (unsigned)(r >> 8) % 8;
		const struct rvm_gpu_budget *b = budget(g, P_A);
		enum rvm_err e = RVM_OK;

		switch (r % 6) {
		case 0:
			if (!bufs[k])
				e = rvm_gpu_alloc(&g->gs, P_A, a.ctx, 1 + (r >> 16) % 1200,
						  &bufs[k]);
			break;
		case 1:
			if (bufs[k] && (e = rvm_gpu_free(&g->gs, P_A, bufs[k])) == RVM_OK)
				bufs[k] = 0;
			break;
		case 2:
		case 3:
			if (bufs[k]) {
				uint64_t n = 1 + (r >> 20) % 512, before = b->used[2];

				e = (r & 8) ? rvm_gpu_write(&g->gs, P_A, bufs[k], 0, data, n)
					    : rvm_gpu_read(&g->gs, P_A, bufs[k], 0, data, n);
				if (e == RVM_OK) {
					xfer += n;
					assert_int_equal(b->used[2], before + n);
				}
			}
			break;
		case 4: {
			struct rvm_gpu_launch_req q = one_item(&a, a.kempty);

			q.cfg.timeout_ns = 1000000 + (r >> 24) % 9000000;
			e = rvm_gpu_launch(&g->gs, P_A, &q);
			if (e == RVM_OK) {
				const struct rvm_witness_record *w;

				/* The batch record of this one launch: count 1, device ns. */
				assert_int_equal(rvm_witness_batch_flush(&g->f->wlog), RVM_OK);
				w = cap_fixture_last(g->f);
				assert_true(w->action == RVM_ACT_GPU_LAUNCH && w->target == 1 &&
					    (w->flags & RVM_WF_BATCH));
				launches++;
				compute += w->arg0;
			} else if (e == RVM_E_TIMEOUT) {
				/* A loaded machine descheduled us past the deadline: recover. */
				launches++;
				compute +=
					rvm_witness_get(&g->f->wlog, g->f->wlog.next_seq - 2)->arg1;
				assert_int_equal(rvm_gpu_recover(&g->gs, P_A), RVM_OK);
				e = RVM_OK;
			}
			break;
		}
		default:
			if ((r >> 32) % 8 == 0) {
				assert_int_equal(rvm_gpu_epoch(&g->gs), RVM_OK);
				xfer = launches = compute = 0;
			}
		}
		assert_true(e == RVM_OK || e == RVM_E_BUDGET_MEMORY || e == RVM_E_BUDGET_TRANSFER ||
			    e == RVM_E_BUDGET_LAUNCHES || e == RVM_E_BUDGET_COMPUTE ||
			    e == RVM_E_RANGE);
		for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
			assert_true(b->used[d] <= b->limit[d]);
		/* What the witness says was spent this epoch is what the budget holds. */
		assert_int_equal(b->used[RVM_GPU_DIM_TRANSFER], xfer);
		assert_int_equal(b->used[RVM_GPU_DIM_LAUNCHES], launches);
		assert_int_equal(b->used[RVM_GPU_DIM_COMPUTE], compute);
		assert_true(xfer <= lim[2] && launches <= lim[3] && compute <= lim[0]);
	}
	assert_int_equal(rvm_gpu_check_invariants(&g->gs), RVM_OK);
	gf_free(g);
}

/* The bytes an agent hands rvm.gpu_launch: round trip, a launch through them, malformed ones. */
static void test_wire(void **state)
{
	struct gpu_fixture *g = gf_new();
	struct part a;
	struct rvm_gpu_launch_req r, back;
	uint8_t buf[RVM_GPU_WIRE_MAX + 1];
	size_t n;

	(void)state;
	attach(g, P_A, big, &a);
	r = one_item(&a, a.kempty);
	r.cfg.groups[0] = 3;
	r.cfg.local[0] = 4;
	r.cfg.timeout_ns = 12345678;
	r.nargs = 2;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 8, 0x0102030405060708ull};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_LOCAL, 64, 0};
	n = rvm_gpu_wire_encode(&r, buf);
	assert_int_equal(n, RVM_GPU_WIRE_HEAD + 2 * RVM_GPU_WIRE_ARG);
	assert_int_equal(buf[0], (uint8_t)a.dev);
	assert_int_equal(buf[24], 1);
	assert_int_equal(buf[88 + 8], 0x08);
	assert_int_equal(rvm_gpu_wire_decode(buf, n, &back), RVM_OK);
	assert_memory_equal(&back, &r, sizeof(r));
	/* The decoded request runs; with a deadline a loaded machine (ASan, load 11) could miss. */
	back.cfg.timeout_ns = 5000000000ull;
	assert_int_equal(rvm_gpu_launch(&g->gs, P_A, &back), RVM_OK);
	assert_int_equal(rvm_witness_batch_flush(&g->f->wlog), RVM_OK);
	assert_int_equal(cap_fixture_last(g->f)->action, RVM_ACT_GPU_LAUNCH);
	assert_int_equal(cap_fixture_last(g->f)->target, 1);
	/* Wrong lengths, too many arguments, a reserved word that is not zero. */
	assert_int_equal(rvm_gpu_wire_decode(buf, n - 1, &back), RVM_E_MALFORMED);
	assert_int_equal(rvm_gpu_wire_decode(buf, n + 1, &back), RVM_E_MALFORMED);
	assert_int_equal(rvm_gpu_wire_decode(buf, 10, &back), RVM_E_MALFORMED);
	assert_int_equal(rvm_gpu_wire_decode(NULL, n, &back), RVM_E_MALFORMED);
	buf[44] = 1;
	assert_int_equal(rvm_gpu_wire_decode(buf, n, &back), RVM_E_MALFORMED);
	buf[44] = 0;
	buf[28] = RVM_GPU_MAX_ARGS + 1;
	assert_int_equal(
		rvm_gpu_wire_decode(
			buf, RVM_GPU_WIRE_HEAD + (RVM_GPU_MAX_ARGS + 1) * RVM_GPU_WIRE_ARG, &back),
		RVM_E_MALFORMED);
	gf_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vadd_end_to_end),
		cmocka_unit_test(test_budget_memory),
		cmocka_unit_test(test_budget_transfer),
		cmocka_unit_test(test_budget_launches),
		cmocka_unit_test(test_budget_compute),
		cmocka_unit_test(test_budget_charge_all_or_nothing),
		cmocka_unit_test(test_validate_rules),
		cmocka_unit_test(test_launch_validation_denied),
		cmocka_unit_test(test_denials),
		cmocka_unit_test(test_timeout_cancel_recover),
		cmocka_unit_test(test_buffers_zeroed),
		cmocka_unit_test(test_move_owner_and_buffer),
		cmocka_unit_test(test_property_budget_never_exceeded),
		cmocka_unit_test(test_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
