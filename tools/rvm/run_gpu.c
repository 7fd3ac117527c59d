/* tools/rvm/run_gpu.c - `rvm run` and the GPU: the manifest's backend, device and grants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"

#if defined(RVM_HAS_GPU)
#include <rvm/gpu.h>

#include "gpu_kernels.h"
#if defined(RVM_HAS_OPENCL)
#include "gpu_opencl.h"
#endif

_Static_assert(RUN_GPU_DIMS == RVM_GPU_DIM_COUNT, "manifest budget dimensions");

#define CPU_MEM	   (16u << 20)
#define CPU_SHARED (64u << 10)

struct run_gpu_state {
	struct rvm_kernel *k;
	const struct run_manifest *m;
	struct rvm_gpu_space gs;
	struct rvm_gpu_cpu cpu;
	uint8_t *cpu_mem, *cpu_shared;
#if defined(RVM_HAS_OPENCL)
	struct rvm_gpu_opencl *ocl;
#endif
	const char *backend;
	uint64_t epoch_start_ns;
};

#if defined(RVM_HAS_OPENCL)
/* PoCL finds no device without a writable kernel cache: give it one when none is set. */
static void pocl_cache(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4200];

	if (getenv("POCL_CACHE_DIR"))
		return;
	snprintf(dir, sizeof(dir), "%s/rvm-pocl-cache", tmp && *tmp ? tmp : "/tmp");
	(void)mkdir(dir, 0700);
	setenv("POCL_CACHE_DIR", dir, 0);
}
#endif

/* Opens the backend the manifest asks for and registers it: 0, or 2 with a message. */
static int open_device(struct run_gpu_state *g, uint32_t *idx)
{
	const struct run_gpu *mg = &g->m->gpu;
	enum rvm_err e;

#if defined(RVM_HAS_OPENCL)
	if (strcmp(mg->backend, "cpu")) {
		char msg[256];

		pocl_cache();
		e = rvm_gpu_opencl_open(mg->device[0] ? mg->device : NULL, &g->ocl, msg, sizeof(msg));
		if (e == RVM_OK) {
			g->backend = "opencl";
			e = rvm_gpu_device_add(&g->gs, rvm_gpu_opencl_backend(), g->ocl, idx);
			if (e != RVM_OK) {
				fprintf(stderr, "rvm run: gpu: device: %s\n", rvm_err_name(e));
				return 2;
			}
			fprintf(stderr, "rvm run: gpu: opencl device %s\n",
				rvm_gpu_opencl_name(g->ocl));
			return 0;
		}
		if (!strcmp(mg->backend, "opencl")) {
			fprintf(stderr, "rvm run: gpu.backend opencl: %s: %s\n", rvm_err_name(e), msg);
			return 2;
		}
		fprintf(stderr, "rvm run: gpu: no OpenCL device (%s); using the cpu backend\n", msg);
	}
#else
	if (!strcmp(mg->backend, "opencl")) {
		fprintf(stderr, "rvm run: gpu.backend opencl: this rvm was built without OpenCL\n");
		return 2;
	}
#endif
	g->cpu_mem = calloc(1, CPU_MEM);
	g->cpu_shared = calloc(1, CPU_SHARED);
	if (!g->cpu_mem || !g->cpu_shared) {
		fprintf(stderr, "rvm run: gpu: out of memory for the cpu device\n");
		return 2;
	}
	rvm_gpu_cpu_init(&g->cpu, g->k->plat, g->cpu_mem, CPU_MEM, g->cpu_shared, CPU_SHARED,
			 rvm_tool_gpu_kernels, rvm_tool_gpu_nkernels);
	g->backend = "cpu";
	if ((e = rvm_gpu_device_add(&g->gs, rvm_gpu_cpu_backend(), &g->cpu, idx)) != RVM_OK) {
		fprintf(stderr, "rvm run: gpu: cpu device: %s\n", rvm_err_name(e));
		return 2;
	}
	return 0;
}

/* The partition slot the manifest's agents of partition `name` live in (agents are spawned in
 * manifest order, so agent i is agent number i). */
static int slot_of(const struct rvm_world *w, const struct run_manifest *m, const char *name,
		   uint32_t *slot)
{
	for (uint32_t i = 0; i < m->nagents && i < w->nagents; i++)
		if (!strcmp(m->agents[i].partition, name) &&
		    !strncmp(w->agents[i].name, m->agents[i].name, RVM_AGENT_NAME - 1)) {
			*slot = w->agents[i].part;
			return 0;
		}
	return -1;
}

int run_gpu_setup(struct rvm_kernel *k, const struct run_manifest *m, struct run_gpu_state **out)
{
	struct run_gpu_state *g;
	uint32_t idx;
	int rc;

	*out = NULL;
	if (!m->gpu.ngrants)
		return 0;
	if (!(g = calloc(1, sizeof(*g)))) {
		fprintf(stderr, "rvm run: gpu: out of memory\n");
		return 2;
	}
	g->k = k;
	g->m = m;
	rvm_gpu_init(&g->gs, &k->w->gate, k->plat);
	/* A launch lets the other CPUs run while the device works. */
	g->gs.drop.lock = k->w->lock.lock;
	g->gs.drop.unlock = k->w->lock.unlock;
	g->gs.drop.ctx = k->w->lock.ctx;
	*out = g; /* released by the caller whatever happens next */
	if ((rc = open_device(g, &idx)) != 0)
		return rc;
	for (uint32_t i = 0; i < m->gpu.ngrants; i++) {
		const struct run_gpu_grant *gr = &m->gpu.grants[i];
		rvm_cap_t dev, ctx;
		uint32_t slot;
		enum rvm_err e;

		if (slot_of(k->w, m, gr->partition, &slot) != 0) {
			fprintf(stderr, "rvm run: gpu.grants[%u]: partition %s has no agent\n", i,
				gr->partition);
			return 2;
		}
		e = rvm_gpu_attach(&g->gs, slot, idx, gr->rights, gr->limit, &dev, &ctx);
		if (e != RVM_OK) {
			fprintf(stderr, "rvm run: gpu.grants[%u]: partition %s: %s: %s\n", i,
				gr->partition, rvm_err_name(e), rvm_err_str(e));
			return 2;
		}
	}
	g->epoch_start_ns = rvm_platform_now_ns(k->plat) - k->boot_start_ns;
	k->w->gpu = &g->gs;
	return 0;
}

void run_gpu_tick(struct run_gpu_state *g, uint64_t t_ns)
{
	if (!g || t_ns - g->epoch_start_ns < (uint64_t)g->m->gpu.epoch_ms * 1000000u)
		return;
	g->epoch_start_ns = t_ns;
	(void)rvm_gpu_epoch(&g->gs);
}

const char *run_gpu_backend(const struct run_gpu_state *g)
{
	return g ? g->backend : NULL;
}

void run_gpu_stop(struct run_gpu_state *g)
{
	if (!g || !g->k->w->gpu)
		return;
	for (uint32_t p = 0; p < RVM_CAP_TABLES; p++)
		if (rvm_gpu_context_of(&g->gs, p))
			(void)rvm_gpu_detach(&g->gs, p);
	g->k->w->gpu = NULL;
}

void run_gpu_release(struct run_gpu_state *g)
{
	if (!g)
		return;
#if defined(RVM_HAS_OPENCL)
	rvm_gpu_opencl_close(g->ocl);
#endif
	free(g->cpu_mem);
	free(g->cpu_shared);
	free(g);
}

#else

struct run_gpu_state;

int run_gpu_setup(struct rvm_kernel *k, const struct run_manifest *m, struct run_gpu_state **out)
{
	(void)k;
	*out = NULL;
	if (!m->gpu.ngrants)
		return 0;
	fprintf(stderr, "rvm run: gpu: this rvm was built without RVM_GPU\n");
	return 2;
}

void run_gpu_tick(struct run_gpu_state *g, uint64_t t_ns)
{
	(void)g;
	(void)t_ns;
}

const char *run_gpu_backend(const struct run_gpu_state *g)
{
	(void)g;
	return NULL;
}

void run_gpu_stop(struct run_gpu_state *g)
{
	(void)g;
}

void run_gpu_release(struct run_gpu_state *g)
{
	(void)g;
}

#endif
