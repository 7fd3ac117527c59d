/* tests/unit/test_gpu_opencl.c - the OpenCL backend on PoCL: results, build errors, deadline and
 * recovery. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rvm/gpu.h>

#include "gpu_opencl.h"
#include "test_cap_fixture.h"

#define P_A 1u

static const char src[] =
	"__kernel void vadd(__global const uint *x, __global const uint *y, __global uint *z,\n"
	"                   const uint n)\n"
	"{\n"
	"	uint i = get_global_id(0);\n"
	"	if (i < n)\n"
	"		z[i] = x[i] + y[i];\n"
	"}\n"
	"__kernel void spin(__global uint *out, const uint n)\n"
	"{\n"
	"	uint acc = get_global_id(0);\n"
	"	for (uint i = 0; i < n; i++)\n"
	"		acc = acc * 1664525u + 1013904223u;\n"
	"	out[get_global_id(0)] = acc;\n"
	"}\n";

struct ocl_fixture {
	struct cap_fixture *f;
	struct rvm_gpu_space gs;
	struct rvm_gpu_opencl *ocl;
	uint32_t dev;
	rvm_cap_t devcap, ctx, q, kadd, kspin;
};

static int setup(void **state)
{
	struct ocl_fixture *o = calloc(1, sizeof(*o));
	const uint64_t lim[RVM_GPU_DIM_COUNT] = {60000000000ull, 1u << 20, 1u << 20, 1000};
	char msg[256];
	enum rvm_err e;

	assert_non_null(o);
	e = rvm_gpu_opencl_open(NULL, &o->ocl, msg, sizeof(msg));
	if (e != RVM_OK) {
		/* The build found OpenCL but this machine has no device: say so plainly. */
		printf("SKIP: no OpenCL device (%s): %s\n", rvm_err_name(e), msg);
		free(o);
		*state = NULL;
		return 0;
	}
	o->f = cap_fixture_new();
	rvm_gpu_init(&o->gs, &o->f->gate, &o->f->plat);
	assert_int_equal(rvm_gpu_device_add(&o->gs, rvm_gpu_opencl_backend(), o->ocl, &o->dev),
			 RVM_OK);
	assert_int_equal(
		rvm_gpu_attach(&o->gs, P_A, o->dev, RVM_RIGHTS_ALL, lim, &o->devcap, &o->ctx),
		RVM_OK);
	assert_int_equal(rvm_gpu_queue(&o->gs, P_A, o->ctx, &o->q), RVM_OK);
	e = rvm_gpu_kernel(&o->gs, P_A, o->ctx, src, sizeof(src) - 1, "vadd", &o->kadd);
	if (e != RVM_OK)
		printf("build log: %s\n", rvm_gpu_opencl_build_log(o->ocl));
	assert_int_equal(e, RVM_OK);
	assert_int_equal(
		rvm_gpu_kernel(&o->gs, P_A, o->ctx, src, sizeof(src) - 1, "spin", &o->kspin),
		RVM_OK);
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	struct ocl_fixture *o = *state;

	if (!o)
		return 0;
	assert_int_equal(rvm_gpu_detach(&o->gs, P_A), RVM_OK);
	assert_int_equal(rvm_gpu_check_invariants(&o->gs), RVM_OK);
	rvm_gpu_opencl_close(o->ocl);
	cap_fixture_free(o->f);
	free(o);
	return 0;
}

static struct rvm_gpu_launch_req req(const struct ocl_fixture *o, rvm_cap_t kernel)
{
	struct rvm_gpu_launch_req r;

	memset(&r, 0, sizeof(r));
	r.device = o->devcap;
	r.queue = o->q;
	r.kernel = kernel;
	r.cfg.dims = 1;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
		r.cfg.local[d] = 1, r.cfg.groups[d] = 1;
	r.cfg.timeout_ns = 5000000000ull; /* first launches compile the kernel (~1 s cold) */
	return r;
}

static void test_limits(void **state)
{
	struct ocl_fixture *o = *state;
	const struct rvm_gpu_limits *l;

	if (!o)
		skip();
	l = &o->gs.devices[o->dev].lim;
	assert_true(l->global_mem > 0 && l->max_alloc > 0 && l->max_alloc <= l->global_mem);
	assert_true(l->max_wg_size >= 1 && l->max_wi_size[0] >= 1);
	assert_false(l->can_cancel);
	printf("device: %s, %llu MiB, work-group <= %u\n", rvm_gpu_opencl_name(o->ocl),
	       (unsigned long long)(l->global_mem >> 20), l->max_wg_size);
}

static void test_vadd(void **state)
{
	struct ocl_fixture *o = *state;
	uint32_t x[1000], y[1000], z[1000];
	rvm_cap_t bx, by, bz;
	struct rvm_gpu_launch_req r;

	if (!o)
		skip();
	for (int i = 0; i < 1000; i++)
		x[i] = (uint32_t)i * 7u, y[i] = 0xFFFFFFF0u + (uint32_t)i;
	assert_int_equal(rvm_gpu_alloc(&o->gs, P_A, o->ctx, sizeof(x), &bx), RVM_OK);
	assert_int_equal(rvm_gpu_alloc(&o->gs, P_A, o->ctx, sizeof(y), &by), RVM_OK);
	assert_int_equal(rvm_gpu_alloc(&o->gs, P_A, o->ctx, sizeof(z), &bz), RVM_OK);
	/* A fresh buffer reads as zeros. */
	assert_int_equal(rvm_gpu_read(&o->gs, P_A, bz, 0, z, sizeof(z)), RVM_OK);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(z[i], 0);
	assert_int_equal(rvm_gpu_write(&o->gs, P_A, bx, 0, x, sizeof(x)), RVM_OK);
	assert_int_equal(rvm_gpu_write(&o->gs, P_A, by, 0, y, sizeof(y)), RVM_OK);
	r = req(o, o->kadd);
	r.cfg.local[0] = 64;
	r.cfg.groups[0] = 16;
	r.nargs = 4;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, bx};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, by};
	r.args[2] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, bz};
	r.args[3] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 4, 1000};
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_OK);
	assert_int_equal(rvm_witness_batch_flush(&o->f->wlog), RVM_OK);
	assert_int_equal(cap_fixture_last(o->f)->action, RVM_ACT_GPU_LAUNCH);
	assert_int_equal(cap_fixture_last(o->f)->flags, RVM_WF_BATCH | RVM_WF_WORDFOLD);
	assert_int_equal(rvm_gpu_read(&o->gs, P_A, bz, 0, z, sizeof(z)), RVM_OK);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(z[i], x[i] + y[i]);
	/* Past the end of a buffer: refused before the device sees it. */
	assert_int_equal(rvm_gpu_read(&o->gs, P_A, bz, 4, z, sizeof(z)), RVM_E_RANGE);
	/* A work-group larger than the device takes: refused by validation. */
	r.cfg.local[0] = o->gs.devices[o->dev].lim.max_wg_size + 1;
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_E_RANGE);
	assert_int_equal(rvm_gpu_free(&o->gs, P_A, bx), RVM_OK);
}

static void test_build_error(void **state)
{
	struct ocl_fixture *o = *state;
	static const char bad[] = "__kernel void broken(__global int *a) { a[0] = nope; }\n";
	rvm_cap_t k;

	if (!o)
		skip();
	assert_int_equal(rvm_gpu_kernel(&o->gs, P_A, o->ctx, bad, sizeof(bad) - 1, "broken", &k),
			 RVM_E_INVAL);
	assert_non_null(strstr(rvm_gpu_opencl_build_log(o->ocl), "nope"));
	assert_int_equal(cap_fixture_last(o->f)->action, RVM_ACT_GATE_DENIED);
	assert_int_equal(cap_fixture_last(o->f)->arg1, RVM_E_INVAL);
	assert_int_equal(rvm_gpu_kernel(&o->gs, P_A, o->ctx, src, sizeof(src) - 1, "missing", &k),
			 RVM_E_NOTFOUND);
}

/* OpenCL cannot stop a running kernel: the launch times out, the context faults, recovery resets.
 */
static void test_deadline_and_recovery(void **state)
{
	struct ocl_fixture *o = *state;
	struct rvm_gpu_launch_req r;
	rvm_cap_t out;
	const struct rvm_witness_record *w;

	if (!o)
		skip();
	assert_int_equal(rvm_gpu_alloc(&o->gs, P_A, o->ctx, 64, &out), RVM_OK);
	r = req(o, o->kspin);
	r.nargs = 2;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, out};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 4, 1};
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_OK); /* compiles spin */
	r.args[1].value = 100000000u; /* ~0.1 s of dependent multiply-adds on an idle core */
	r.cfg.timeout_ns = 10000000;  /* 10 ms */
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_E_TIMEOUT);
	w = cap_fixture_last(o->f);
	assert_int_equal(w->action, RVM_ACT_GPU_CANCEL);
	assert_int_equal(w->arg0, 0); /* not stopped: OpenCL has no way to */
	w = rvm_witness_get(&o->f->wlog, o->f->wlog.next_seq - 2);
	assert_int_equal(w->action, RVM_ACT_GPU_LAUNCH);
	assert_int_equal(w->arg1, 10000000);
	assert_true(rvm_gpu_context_of(&o->gs, P_A)->faulted);
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_E_STATE);
	assert_int_equal(rvm_gpu_recover(&o->gs, P_A), RVM_OK);
	/* The fresh queue works while the overrunning kernel may still be finishing. */
	r.args[1].value = 1;
	r.cfg.timeout_ns = 5000000000ull;
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_OK);
}

/*
 * A deadline shorter than the launch's poll phase: the wait ends at the deadline, not at the end
 * of the poll, and launches after the recovery (polling again, or sleeping while the poll backs
 * off) all complete.
 */
static void test_deadline_inside_poll(void **state)
{
	struct ocl_fixture *o = *state;
	struct rvm_gpu_launch_req r;
	rvm_cap_t out;

	if (!o)
		skip();
	assert_int_equal(rvm_gpu_alloc(&o->gs, P_A, o->ctx, 64, &out), RVM_OK);
	r = req(o, o->kspin);
	r.nargs = 2;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, out};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 4, 1};
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_OK); /* compiled, or already */
	r.args[1].value = 100000000u;
	r.cfg.timeout_ns = 20000; /* 20 us: inside the poll phase */
	assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_E_TIMEOUT);
	assert_true(rvm_gpu_context_of(&o->gs, P_A)->faulted);
	assert_int_equal(rvm_gpu_recover(&o->gs, P_A), RVM_OK);
	r.args[1].value = 1;
	r.cfg.timeout_ns = 5000000000ull;
	for (int i = 0; i < 50; i++)
		assert_int_equal(rvm_gpu_launch(&o->gs, P_A, &r), RVM_OK);
}

/* The settle time after a launch: by device type, RVM_OPENCL_SETTLE_NS when valid, else ignored. */
static void test_settle(void **state)
{
	const struct {
		const char *env;
		long want; /* -1: the device's default */
	} cases[] = {{NULL, -1}, {"0", 0}, {"25000", 25000}, {"100000", 100000},
		     {"100001", -1}, {"4us", -1}, {"-5", -1}, {"", -1}};
	struct ocl_fixture *o = *state;
	cl_device_type type = 0;
	uint64_t dflt;

	if (!o)
		skip();
	clGetDeviceInfo(rvm_gpu_opencl_device(o->ocl), CL_DEVICE_TYPE, sizeof(type), &type, NULL);
	dflt = (type & CL_DEVICE_TYPE_CPU) ? 4000u : 0u;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rvm_gpu_opencl *g = NULL;
		char msg[256];

		if (cases[i].env)
			setenv("RVM_OPENCL_SETTLE_NS", cases[i].env, 1);
		else
			unsetenv("RVM_OPENCL_SETTLE_NS");
		assert_int_equal(rvm_gpu_opencl_open(NULL, &g, msg, sizeof(msg)), RVM_OK);
		assert_int_equal(rvm_gpu_opencl_settle_ns(g),
				 cases[i].want < 0 ? dflt : (uint64_t)cases[i].want);
		rvm_gpu_opencl_close(g);
	}
	unsetenv("RVM_OPENCL_SETTLE_NS");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The settle time is kept between a launch's completion and the device's next command: with
 * 100 us, 21 back-to-back launches of an empty kernel take at least 20 x 100 us (a lower bound,
 * which no machine's speed can break), and each still runs.
 */
static void test_settle_spaces_launches(void **state)
{
	static const char empty[] = "__kernel void empty(void) { }\n";
	const struct rvm_gpu_backend *be = rvm_gpu_opencl_backend();
	struct ocl_fixture *o = *state;
	struct rvm_gpu_launch_cfg cfg;
	struct rvm_gpu_opencl *g = NULL;
	struct rvm_gpu_run run;
	uint64_t q, k, t0;
	char msg[256];

	if (!o)
		skip();
	setenv("RVM_OPENCL_SETTLE_NS", "100000", 1);
	assert_int_equal(rvm_gpu_opencl_open(NULL, &g, msg, sizeof(msg)), RVM_OK);
	unsetenv("RVM_OPENCL_SETTLE_NS");
	assert_int_equal(be->queue_create(g, &q), RVM_OK);
	assert_int_equal(be->kernel_load(g, empty, sizeof(empty) - 1, "empty", &k), RVM_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dims = 1;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
		cfg.local[d] = 1, cfg.groups[d] = 1;
	cfg.timeout_ns = 5000000000ull;
	assert_int_equal(be->launch(g, q, k, &cfg, NULL, 0, &run), RVM_OK); /* compiles */
	t0 = now_ns();
	for (int i = 0; i < 21; i++)
		assert_int_equal(be->launch(g, q, k, &cfg, NULL, 0, &run), RVM_OK);
	assert_true(now_ns() - t0 >= 20u * 100000u);
	be->kernel_free(g, k);
	be->queue_free(g, q);
	rvm_gpu_opencl_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_vadd),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_deadline_and_recovery),
		cmocka_unit_test(test_deadline_inside_poll),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_settle_spaces_launches),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
