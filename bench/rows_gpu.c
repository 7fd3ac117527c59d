/* bench/rows_gpu.c - GPU launches: RVM's gated, budgeted, witnessed launch vs raw OpenCL; the gate
 * path alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench.h"

#if defined(RVM_HAS_GPU)
#include <rvm/gpu.h>

#include "hosted.h"
#if defined(RVM_HAS_OPENCL)
#include "gpu_opencl.h"
#endif

#define P_A 1u

/* One kernel with the gate, caps and witness log it needs (large: heap only). */
struct gpu_bench {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_gpu_space gs;
	struct rvm_gpu_launch_req req;
	rvm_cap_t ctx;
};

static struct gpu_bench *bench_boot(void)
{
	struct gpu_bench *b = calloc(1, sizeof(*b));
	struct rvm_witness_config cfg;

	if (!b || rvm_hosted_open(&b->hosted, NULL, RVM_HOSTED_QUIET, &b->plat) != RVM_OK)
		return free(b), NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	cfg.sig = RVM_SIG_NONE;
	cfg.checkpoint_every = 0;
	memset(cfg.boot_nonce, 7, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&b->wlog, &b->plat, &cfg) != RVM_OK)
		return free(b), NULL;
	rvm_obj_init(&b->objs);
	rvm_cap_space_init(&b->caps, &b->objs, b->plat.sha256);
	rvm_map_init(&b->maps);
	rvm_gate_init(&b->gate, &b->caps, &b->wlog, &b->maps);
	rvm_gpu_init(&b->gs, &b->gate, &b->plat);
	return b;
}

/* Attaches P_A to device idx, makes a queue and builds `name`; fills b->req for 1 work-item. */
static int bench_part(struct gpu_bench *b, uint32_t idx, const char *src, const char *name)
{
	const uint64_t lim[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, 1u << 20, 1u << 20,
						 UINT64_MAX / 2};
	struct rvm_gpu_launch_req *r = &b->req;

	memset(r, 0, sizeof(*r));
	if (rvm_gpu_attach(&b->gs, P_A, idx, RVM_RIGHTS_ALL, lim, &r->device, &b->ctx) != RVM_OK ||
	    rvm_gpu_queue(&b->gs, P_A, b->ctx, &r->queue) != RVM_OK ||
	    rvm_gpu_kernel(&b->gs, P_A, b->ctx, src, strlen(src), name, &r->kernel) != RVM_OK)
		return -1;
	r->cfg.dims = 1;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
		r->cfg.local[d] = 1, r->cfg.groups[d] = 1;
	r->cfg.timeout_ns = 5000000000ull; /* the first launch compiles */
	return rvm_gpu_launch(&b->gs, P_A, r) == RVM_OK ? 0 : -1;
}

static void ours_launch(void *ctx, uint64_t iters)
{
	struct gpu_bench *b = ctx;
	enum rvm_err e = RVM_OK;

	for (uint64_t i = 0; i < iters; i++)
		e |= rvm_gpu_launch(&b->gs, P_A, &b->req);
	if (e != RVM_OK)
		fprintf(stderr, "gpu bench: launch refused: %s\n", rvm_err_name(e));
}

/* ---- gpu_gate: a device that does nothing, so only RVM's own path is timed ---- */

static enum rvm_err null_limits(void *dev, struct rvm_gpu_limits *out)
{
	(void)dev;
	memset(out, 0, sizeof(*out));
	out->global_mem = out->max_alloc = 1u << 20;
	out->local_mem = 1024;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
		out->max_groups[d] = 1u << 20, out->max_wi_size[d] = 1024;
	out->max_wg_size = 1024;
	out->max_args = RVM_GPU_MAX_ARGS;
	return RVM_OK;
}

static enum rvm_err null_handle(void *dev, uint64_t *h)
{
	(void)dev;
	*h = 1;
	return RVM_OK;
}

static void null_free(void *dev, uint64_t h)
{
	(void)dev;
	(void)h;
}

static enum rvm_err null_reset(void *dev, uint64_t h)
{
	(void)dev;
	(void)h;
	return RVM_OK;
}

static enum rvm_err null_load(void *dev, const char *src, size_t n, const char *name, uint64_t *h)
{
	(void)src;
	(void)n;
	(void)name;
	return null_handle(dev, h);
}

static enum rvm_err null_launch(void *dev, uint64_t q, uint64_t k,
				const struct rvm_gpu_launch_cfg *cfg, const struct rvm_gpu_arg *a,
				uint32_t n, struct rvm_gpu_run *run)
{
	(void)dev, (void)q, (void)k, (void)cfg, (void)a, (void)n;
	run->timed_out = run->cancelled = false;
	return RVM_OK;
}

static const struct rvm_gpu_backend null_backend = {
	.name = "none",
	.limits = null_limits,
	.queue_create = null_handle,
	.queue_free = null_free,
	.queue_reset = null_reset,
	.kernel_load = null_load,
	.kernel_free = null_free,
	.launch = null_launch,
};

/* One witness record alone, on the same log: the share of the gate path the chain costs. */
static void emit_only(void *ctx, uint64_t iters)
{
	struct gpu_bench *b = ctx;

	for (uint64_t i = 0; i < iters; i++)
		(void)rvm_witness_emit(&b->wlog, RVM_ACT_GPU_LAUNCH, 0, P_A, i, 1, 2, NULL);
}

/* Thread CPU time per call of fn over iters calls: what the path costs when the wall clock also
 * counts other processes' time slices on a loaded machine. */
static double thread_cpu_ns(rvm_bench_fn *fn, void *ctx, uint64_t iters)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	fn(ctx, iters);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	       (double)iters;
}

static void run_gpu_gate_row(struct rvm_bench_result *out)
{
	double emit_ns, cpu_ns;

	struct gpu_bench *b = bench_boot();
	uint32_t idx;

	if (!b || rvm_gpu_device_add(&b->gs, &null_backend, NULL, &idx) != RVM_OK ||
	    bench_part(b, idx, "-", "empty") != 0) {
		snprintf(out->note, sizeof(out->note), "setup failed");
		free(b);
		return;
	}
	out->ours_ns = rvm_bench_time(ours_launch, b, 20000, 21);
	emit_ns = rvm_bench_time(emit_only, b, 20000, 21);
	cpu_ns = thread_cpu_ns(ours_launch, b, 200000);
	snprintf(out->note, sizeof(out->note),
		 "gate+budget+batched witness: %.0f ns thread CPU; a hashed record %.0f ns", cpu_ns,
		 emit_ns);
	rvm_hosted_close(&b->hosted);
	free(b);
}

RVM_BENCH_ROW(gpu_gate, NULL, "< 300 ns", run_gpu_gate_row)

#if defined(RVM_HAS_OPENCL)
/* ---- gpu_launch: an agent's launch of an empty kernel through RVM vs the same raw OpenCL ---- */

#include "hosted_world.h"

#ifndef RVM_AGENTS_DIR
#define RVM_AGENTS_DIR NULL
#endif

/*
 * A booted full kernel (ring-only log, counted journal) with one agent, agents/gpu_bench.wasm,
 * granted the OpenCL device: each timed batch calls its export launch_n(n), which calls
 * rvm.gpu_launch n times: the interpreter, the host function (request decode, gate, budget,
 * batch witness, the journaled result) and the backend.
 */
struct agent_bench {
	struct rvm_hosted_world *hw;
	struct rvm_gpu_space gs;
	struct rvm_agent *a;
};

/* Calls export name(arg) of the agent's instance to the end; its i32 result, or INT32_MIN. */
static int32_t agent_call(struct agent_bench *b, const char *name, uint64_t arg)
{
	struct rvm_wasm_extern fn;
	const uint64_t *res;
	uint32_t n;

	if (!rvm_wasm_export(b->a->inst, name, strlen(name), &fn) ||
	    rvm_wasm_call(b->a->inst, fn.u.func, &arg, 1) != RVM_OK ||
	    rvm_wasm_run(b->a->inst, UINT64_MAX, NULL) != RVM_WASM_DONE ||
	    !(res = rvm_wasm_results(b->a->inst, &n)) || n != 1)
		return INT32_MIN;
	return (int32_t)res[0];
}

static void agent_free(struct agent_bench *b)
{
	if (!b)
		return;
	rvm_hosted_world_free(b->hw);
	free(b);
}

static struct agent_bench *agent_boot(struct rvm_gpu_opencl *o, char *why, size_t cap)
{
	const uint64_t lim[RVM_GPU_DIM_COUNT] = {UINT64_MAX / 2, 1u << 20, 1u << 20,
						 UINT64_MAX / 2};
	const struct rvm_hosted_world_config cfg = {.nmem = 1, .pages = 4, .ncpus = 1, .nonce = 5};
	struct agent_bench *b = calloc(1, sizeof(*b));
	uint32_t mod, part, num, idx;
	rvm_cap_t dev, ctx;
	enum rvm_err e;

	if (!b || rvm_hosted_world_new(&cfg, &b->hw) != RVM_OK) {
		snprintf(why, cap, "boot failed");
		agent_free(b);
		return NULL;
	}
	rvm_gpu_init(&b->gs, &b->hw->w->gate, &b->hw->plat);
	b->hw->w->gpu = &b->gs;
	if ((e = rvm_gpu_device_add(&b->gs, rvm_gpu_opencl_backend(), o, &idx)) != RVM_OK ||
	    (e = rvm_hosted_world_load(b->hw, RVM_AGENTS_DIR ? RVM_AGENTS_DIR : ".", "gpu_bench",
				       RVM_HOSTED_WORLD_MOD_ARENA, &mod)) != RVM_OK ||
	    (e = rvm_kernel_partition_new(&b->hw->k, RVM_MAX_CPUS, &part)) != RVM_OK ||
	    (e = rvm_kernel_agent_spawn(&b->hw->k, mod, "bench", part, RVM_AGENT_RIGHT_LOG, 100,
					NULL, &num)) != RVM_OK ||
	    (e = rvm_gpu_attach(&b->gs, part, idx, RVM_RIGHTS_ALL, lim, &dev, &ctx)) != RVM_OK) {
		snprintf(why, cap, "%s",
			 e == RVM_E_NOTFOUND ? "agents/gpu_bench.wasm not built"
					     : "agent setup failed");
		agent_free(b);
		return NULL;
	}
	b->a = &b->hw->w->agents[num];
	/* Not scheduled: the pending call of run() gives way to the bench's calls. */
	rvm_wasm_reset(b->a->inst);
	/* The first launch compiles (PoCL, per work-group size): a long deadline for it. */
	if (agent_call(b, "setup", 5000000000ull) != 0 || agent_call(b, "launch_n", 1) != 0 ||
	    agent_call(b, "deadline", 0) != 0) {
		snprintf(why, cap, "agent's first launch failed");
		agent_free(b);
		return NULL;
	}
	return b;
}

static void agent_launches(void *ctx, uint64_t iters)
{
	struct agent_bench *b = ctx;
	int32_t r = agent_call(b, "launch_n", iters);

	if (r != 0)
		fprintf(stderr, "gpu bench: the agent's launch failed: %d\n", (int)r);
}

static const char empty_src[] = "__kernel void empty(void) { }\n";

/* The raw peer's queue and kernel, on the same device and context as RVM's backend. */
struct raw {
	cl_command_queue q;
	cl_kernel k;
	cl_program p;
};

/* The peer: the plain blocking launch, enqueue + clFinish. */
static void peer_launch(void *ctx, uint64_t iters)
{
	struct raw *r = ctx;
	const size_t one = 1;
	cl_int err = CL_SUCCESS;

	for (uint64_t i = 0; i < iters; i++) {
		err |= clEnqueueNDRangeKernel(r->q, r->k, 1, NULL, &one, &one, 0, NULL, NULL);
		err |= clFinish(r->q);
	}
	if (err != CL_SUCCESS)
		fprintf(stderr, "gpu bench: raw OpenCL launch failed\n");
}

static int raw_open(struct raw *r, struct rvm_gpu_opencl *o)
{
	cl_context c = rvm_gpu_opencl_context(o);
	cl_device_id d = rvm_gpu_opencl_device(o);
	const char *s = empty_src;
	cl_int err;

	r->q = clCreateCommandQueue(c, d, 0, &err);
	if (err != CL_SUCCESS)
		return -1;
	r->p = clCreateProgramWithSource(c, 1, &s, NULL, &err);
	if (err != CL_SUCCESS || clBuildProgram(r->p, 1, &d, "-cl-std=CL1.2", NULL, NULL))
		return -1;
	r->k = clCreateKernel(r->p, "empty", &err);
	if (err != CL_SUCCESS)
		return -1;
	peer_launch(r, 1); /* compiles at the first launch, like ours */
	return 0;
}

/*
 * gpu_launch: the agent's launches against raw enqueue + clFinish, interleaved. The agent's launch
 * carries its deadline (the backend's bounded wait, see platform/hosted/gpu_opencl.c); clFinish
 * has none, so the peer is the fastest plain way to run the kernel, not a matching construction.
 */
static void run_gpu_launch(struct rvm_bench_result *out)
{
	struct agent_bench *b = NULL;
	struct rvm_gpu_opencl *o = NULL;
	struct raw raw = {0};
	char msg[256];

	/* PoCL finds no device without a writable kernel cache. */
	if (!getenv("POCL_CACHE_DIR")) {
		(void)mkdir("/tmp/rvm-pocl-cache", 0700);
		setenv("POCL_CACHE_DIR", "/tmp/rvm-pocl-cache", 0);
	}
	if (rvm_gpu_opencl_open(NULL, &o, msg, sizeof(msg)) != RVM_OK) {
		snprintf(out->note, sizeof(out->note), "no OpenCL device: %.70s", msg);
		return;
	}
	if (!(b = agent_boot(o, msg, sizeof(msg))) || raw_open(&raw, o) != 0) {
		snprintf(out->note, sizeof(out->note), "setup failed: %.60s", b ? "raw" : msg);
	} else {
		rvm_bench_pair(agent_launches, b, peer_launch, &raw, 200, 15, &out->ours_ns,
			       &out->peer_ns);
		snprintf(out->note, sizeof(out->note), "agent's rvm.gpu_launch vs enqueue+clFinish, %.40s",
			 rvm_gpu_opencl_name(o));
	}
	if (raw.k)
		clReleaseKernel(raw.k);
	if (raw.p)
		clReleaseProgram(raw.p);
	if (raw.q) {
		clFinish(raw.q);
		clReleaseCommandQueue(raw.q);
	}
	if (b)
		(void)rvm_gpu_detach(&b->gs, b->a->part);
	agent_free(b);
	rvm_gpu_opencl_close(o);
}

RVM_BENCH_ROW(gpu_launch, "raw-opencl-enqueue+finish", "ratio <= 1.05", run_gpu_launch)
#endif
#endif
