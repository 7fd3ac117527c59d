/* fuzz/fuzz_gpu.c - agent-supplied GPU requests (wire-encoded launches, transfers) on the cpu
 * backend. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(RVM_HAS_GPU)
#include <hosted.h>
#include <rvm/gate.h>
#include <rvm/gpu.h>
#include <rvm/witness.h>

#define P_A 1u
#define MEM (64u << 10)

/* Sums the first buffer into the second, within both buffers' sizes. */
static void k_sum(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	uint8_t *in = a->ptr[0], *out = a->ptr[1];

	if (a->n >= 2 && in && out && a->size[1] > 0 && it->global_id[0] < a->size[0])
		out[it->global_id[0] % a->size[1]] += in[it->global_id[0]];
}

static const struct rvm_gpu_cpu_kernel kernels[] = {{"sum", k_sum}};

/* One kernel for the whole run (large; host code may keep it in a static). */
struct world {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_witness_log wlog;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_gpu_space gs;
	struct rvm_gpu_cpu cpu;
	uint8_t mem[MEM], shared[1024];
	rvm_cap_t caps_seen[16];
};

static struct world *w;

static void boot(void)
{
	struct rvm_witness_config cfg;
	/* 20 ms of compute per epoch: a huge launch is refused by the budget, not run. */
	const uint64_t lim[RVM_GPU_DIM_COUNT] = {20000000, 32u << 10, 1u << 20, 64};
	uint32_t dev;
	rvm_cap_t *c;

	w = calloc(1, sizeof(*w));
	if (!w || rvm_hosted_open(&w->hosted, NULL, RVM_HOSTED_QUIET, &w->plat) != RVM_OK)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_FNV1A;
	memset(cfg.boot_nonce, 1, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&w->wlog, &w->plat, &cfg) != RVM_OK)
		abort();
	rvm_obj_init(&w->objs);
	rvm_cap_space_init(&w->caps, &w->objs, NULL);
	rvm_map_init(&w->maps);
	rvm_gate_init(&w->gate, &w->caps, &w->wlog, &w->maps);
	rvm_gpu_init(&w->gs, &w->gate, &w->plat);
	rvm_gpu_cpu_init(&w->cpu, &w->plat, w->mem, MEM, w->shared, sizeof(w->shared), kernels, 1);
	c = w->caps_seen;
	if (rvm_gpu_device_add(&w->gs, rvm_gpu_cpu_backend(), &w->cpu, &dev) != RVM_OK ||
	    rvm_gpu_attach(&w->gs, P_A, dev, RVM_RIGHTS_ALL, lim, &c[0], &c[1]) != RVM_OK ||
	    rvm_gpu_queue(&w->gs, P_A, c[1], &c[2]) != RVM_OK ||
	    rvm_gpu_kernel(&w->gs, P_A, c[1], "x", 1, "sum", &c[3]) != RVM_OK ||
	    rvm_gpu_alloc(&w->gs, P_A, c[1], 256, &c[4]) != RVM_OK ||
	    rvm_gpu_alloc(&w->gs, P_A, c[1], 100, &c[5]) != RVM_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rvm_gpu_launch_req r;
	uint8_t buf[RVM_GPU_WIRE_MAX], scratch[512];
	const struct rvm_gpu_context *cx;

	if (!w)
		boot();
	(void)rvm_gpu_epoch(&w->gs);
	if (size == 0)
		return 0;
	/* First byte picks what the rest is. */
	switch (data[0] % 4) {
	case 0: /* a raw wire request, as an agent could write it */
		if (rvm_gpu_wire_decode(data + 1, size - 1, &r) == RVM_OK)
			(void)rvm_gpu_launch(&w->gs, P_A, &r);
		break;
	case 1: /* a wire request whose caps are picked among the real ones */
		if (size < 2 + RVM_GPU_WIRE_HEAD)
			break;
		memset(buf, 0, sizeof(buf));
		memcpy(buf, data + 2, size - 2 < sizeof(buf) ? size - 2 : sizeof(buf));
		memset(buf + 44, 0, 4);
		for (int i = 0; i < 3; i++)
			memcpy(buf + 8 * i, &w->caps_seen[(data[1] + i) % 6], 8);
		if (rvm_gpu_wire_decode(buf, RVM_GPU_WIRE_HEAD + (buf[28] % 9) * RVM_GPU_WIRE_ARG,
					&r) == RVM_OK) {
			for (uint32_t i = 0; i < r.nargs; i++)
				if (r.args[i].kind == RVM_GPU_ARG_BUFFER)
					r.args[i].value = w->caps_seen[r.args[i].value % 6];
			(void)rvm_gpu_launch(&w->gs, P_A, &r);
		}
		break;
	case 2: /* transfers at any offset and length */
		if (size >= 18) {
			uint64_t off, n;

			memcpy(&off, data + 2, 8);
			memcpy(&n, data + 10, 8);
			n %= sizeof(scratch) + 8; /* past the scratch only when refused */
			if (n > sizeof(scratch))
				break;
			if (data[1] & 1)
				(void)rvm_gpu_write(&w->gs, P_A, w->caps_seen[data[1] % 8], off,
						    scratch, n);
			else
				(void)rvm_gpu_read(&w->gs, P_A, w->caps_seen[data[1] % 8], off,
						   scratch, n);
		}
		break;
	default: /* frees and allocations */
		if (size >= 3) {
			rvm_cap_t *slot = &w->caps_seen[6 + data[1] % 8];

			if (*slot && rvm_gpu_free(&w->gs, P_A, *slot) == RVM_OK)
				*slot = 0;
			else
				(void)rvm_gpu_alloc(&w->gs, P_A, w->caps_seen[1], data[2] * 64u,
						    slot);
		}
	}
	cx = rvm_gpu_context_of(&w->gs, P_A);
	if (rvm_gpu_check_invariants(&w->gs) != RVM_OK || !cx)
		abort();
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		if (cx->budget.used[d] > cx->budget.limit[d])
			abort();
	if (cx->faulted)
		(void)rvm_gpu_recover(&w->gs, P_A);
	return 0;
}

#else

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}

#endif
