/* kernel/gpu_cpu.c - the cpu reference backend: C-function kernels over a caller-owned memory
 * arena. */
#include <rvm/bytes.h>
#include <rvm/gpu_backend.h>

void rvm_gpu_cpu_init(struct rvm_gpu_cpu *c, const struct rvm_platform *plat, uint8_t *mem,
		      uint64_t mem_size, uint8_t *shared, uint64_t shared_size,
		      const struct rvm_gpu_cpu_kernel *kernels, uint32_t nkernels)
{
	rvm_memset(c, 0, sizeof(*c));
	c->plat = plat;
	c->mem = mem;
	c->mem_size = mem ? mem_size : 0;
	c->shared = shared;
	c->shared_size = shared ? shared_size : 0;
	c->kernels = kernels;
	c->nkernels = kernels ? nkernels : 0;
}

static enum rvm_err cpu_limits(void *dev, struct rvm_gpu_limits *out)
{
	const struct rvm_gpu_cpu *c = dev;

	rvm_memset(out, 0, sizeof(*out));
	out->global_mem = c->mem_size;
	out->max_alloc = c->mem_size;
	out->local_mem = c->shared_size;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		out->max_groups[d] = 1ull << 31;
		out->max_wi_size[d] = 1024;
	}
	out->max_wg_size = 1024;
	out->max_args = RVM_GPU_MAX_ARGS;
	out->can_cancel = true;
	return RVM_OK;
}

/* First fit: the lowest aligned offset where len bytes overlap no used extent. */
static enum rvm_err cpu_buf_alloc(void *dev, uint64_t size, uint64_t *h)
{
	struct rvm_gpu_cpu *c = dev;
	uint32_t slot = RVM_GPU_CPU_BUFS;
	uint64_t len = (size + RVM_GPU_CPU_ALIGN - 1) & ~(uint64_t)(RVM_GPU_CPU_ALIGN - 1);
	uint64_t at = 0;
	bool moved = true;

	if (size == 0 || len < size || len > c->mem_size)
		return RVM_E_NOMEM;
	for (uint32_t i = 0; i < RVM_GPU_CPU_BUFS && slot == RVM_GPU_CPU_BUFS; i++)
		if (!c->ext[i].used)
			slot = i;
	if (slot == RVM_GPU_CPU_BUFS)
		return RVM_E_NOMEM;
	/* Push `at` past every extent it overlaps until none does (each pass moves it up). */
	while (moved) {
		moved = false;
		if (at > c->mem_size - len)
			return RVM_E_NOMEM;
		for (uint32_t i = 0; i < RVM_GPU_CPU_BUFS; i++)
			if (c->ext[i].used && at < c->ext[i].off + c->ext[i].len &&
			    c->ext[i].off < at + len) {
				at = c->ext[i].off + c->ext[i].len;
				moved = true;
			}
	}
	c->ext[slot].off = at;
	c->ext[slot].len = len;
	c->ext[slot].used = 1;
	rvm_memset(c->mem + at, 0, len); /* never show a buffer's old contents */
	*h = slot + 1u;
	return RVM_OK;
}

static void cpu_buf_free(void *dev, uint64_t h)
{
	struct rvm_gpu_cpu *c = dev;

	if (h >= 1 && h <= RVM_GPU_CPU_BUFS)
		c->ext[h - 1].used = 0;
}

static uint8_t *cpu_buf_at(struct rvm_gpu_cpu *c, uint64_t h, uint64_t off, uint64_t n)
{
	if (h < 1 || h > RVM_GPU_CPU_BUFS || !c->ext[h - 1].used || off > c->ext[h - 1].len ||
	    n > c->ext[h - 1].len - off)
		return NULL;
	return c->mem + c->ext[h - 1].off + off;
}

static enum rvm_err cpu_buf_write(void *dev, uint64_t h, uint64_t off, const void *src, uint64_t n)
{
	uint8_t *p = cpu_buf_at(dev, h, off, n);

	if (!p)
		return RVM_E_RANGE;
	rvm_memcpy(p, src, (size_t)n);
	return RVM_OK;
}

static enum rvm_err cpu_buf_read(void *dev, uint64_t h, uint64_t off, void *dst, uint64_t n)
{
	const uint8_t *p = cpu_buf_at(dev, h, off, n);

	if (!p)
		return RVM_E_RANGE;
	rvm_memcpy(dst, p, (size_t)n);
	return RVM_OK;
}

/* Queues hold no state on the cpu: launches run to completion in order. */
static enum rvm_err cpu_queue_create(void *dev, uint64_t *h)
{
	struct rvm_gpu_cpu *c = dev;

	*h = ++c->next_queue;
	return RVM_OK;
}

static void cpu_queue_free(void *dev, uint64_t h)
{
	(void)dev;
	(void)h;
}

static enum rvm_err cpu_queue_reset(void *dev, uint64_t h)
{
	(void)dev;
	(void)h;
	return RVM_OK;
}

static bool name_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* The cpu backend runs C functions: the source is not compiled, the name picks the function. */
static enum rvm_err cpu_kernel_load(void *dev, const char *src, size_t src_len, const char *name,
				    uint64_t *h)
{
	const struct rvm_gpu_cpu *c = dev;

	(void)src;
	(void)src_len;
	for (uint32_t i = 0; i < c->nkernels; i++)
		if (name_eq(c->kernels[i].name, name)) {
			*h = i + 1u;
			return RVM_OK;
		}
	return RVM_E_NOTFOUND;
}

static void cpu_kernel_free(void *dev, uint64_t h)
{
	(void)dev;
	(void)h;
}

/* Binds the arguments; local arguments are carved from shared memory after cfg->local_mem. */
static enum rvm_err cpu_bind(struct rvm_gpu_cpu *c, const struct rvm_gpu_launch_cfg *cfg,
			     const struct rvm_gpu_arg *args, uint32_t nargs,
			     struct rvm_gpu_cpu_args *a)
{
	uint64_t local_at = cfg->local_mem;

	rvm_memset(a, 0, sizeof(*a));
	a->n = nargs;
	for (uint32_t i = 0; i < nargs && i < RVM_GPU_MAX_ARGS; i++) {
		if (args[i].kind == RVM_GPU_ARG_BUFFER) {
			uint64_t h = args[i].value;

			if (!(a->ptr[i] = cpu_buf_at(c, h, 0, 0)))
				return RVM_E_INVAL;
			a->size[i] = c->ext[h - 1].len;
		} else if (args[i].kind == RVM_GPU_ARG_LOCAL) {
			if (args[i].size > c->shared_size - local_at)
				return RVM_E_RANGE;
			a->ptr[i] = c->shared + local_at;
			a->size[i] = args[i].size;
			local_at += args[i].size;
		} else {
			a->val[i] = args[i].value;
		}
	}
	return RVM_OK;
}

/* Runs every work-item of group g. */
static void cpu_group(const struct rvm_gpu_cpu_kernel *k, const struct rvm_gpu_launch_cfg *cfg,
		      struct rvm_gpu_cpu_item *it, const uint64_t g[RVM_GPU_DIMS],
		      const struct rvm_gpu_cpu_args *a)
{
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
		it->group_id[d] = g[d];
	for (uint32_t z = 0; z < cfg->local[2]; z++)
		for (uint32_t y = 0; y < cfg->local[1]; y++)
			for (uint32_t x = 0; x < cfg->local[0]; x++) {
				it->local_id[0] = x;
				it->local_id[1] = y;
				it->local_id[2] = z;
				for (unsigned d = 0; d < RVM_GPU_DIMS; d++)
					it->global_id[d] = g[d] * cfg->local[d] + it->local_id[d];
				k->fn(it, a);
			}
}

static enum rvm_err cpu_launch(void *dev, uint64_t queue, uint64_t kernel,
			       const struct rvm_gpu_launch_cfg *cfg, const struct rvm_gpu_arg *args,
			       uint32_t nargs, struct rvm_gpu_run *run)
{
	struct rvm_gpu_cpu *c = dev;
	struct rvm_gpu_cpu_args a;
	struct rvm_gpu_cpu_item it;
	const struct rvm_gpu_cpu_kernel *k;
	uint64_t g[RVM_GPU_DIMS], t0 = rvm_platform_now_ns(c->plat);
	enum rvm_err e;

	(void)queue;
	run->timed_out = false;
	run->cancelled = false;
	if (kernel < 1 || kernel > c->nkernels || cfg->local_mem > c->shared_size)
		return RVM_E_INVAL;
	k = &c->kernels[kernel - 1];
	if ((e = cpu_bind(c, cfg, args, nargs, &a)) != RVM_OK)
		return e;
	rvm_memset(&it, 0, sizeof(it));
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		it.local_size[d] = cfg->local[d];
		it.global_size[d] = cfg->groups[d] * cfg->local[d]; /* validated: no overflow */
	}
	it.shared = c->shared;
	if (c->shared_size)
		rvm_memset(c->shared, 0, (size_t)c->shared_size);
	for (g[2] = 0; g[2] < cfg->groups[2]; g[2]++)
		for (g[1] = 0; g[1] < cfg->groups[1]; g[1]++)
			for (g[0] = 0; g[0] < cfg->groups[0]; g[0]++) {
				cpu_group(k, cfg, &it, g, &a);
				/* Cancellation point: between work-groups. */
				if (rvm_platform_now_ns(c->plat) - t0 > cfg->timeout_ns) {
					run->timed_out = true;
					run->cancelled = true;
					return RVM_E_TIMEOUT;
				}
			}
	return RVM_OK;
}

static const struct rvm_gpu_backend cpu_backend = {
	.name = "cpu",
	.limits = cpu_limits,
	.buf_alloc = cpu_buf_alloc,
	.buf_free = cpu_buf_free,
	.buf_write = cpu_buf_write,
	.buf_read = cpu_buf_read,
	.queue_create = cpu_queue_create,
	.queue_free = cpu_queue_free,
	.queue_reset = cpu_queue_reset,
	.kernel_load = cpu_kernel_load,
	.kernel_free = cpu_kernel_free,
	.launch = cpu_launch,
};

const struct rvm_gpu_backend *rvm_gpu_cpu_backend(void)
{
	return &cpu_backend;
}
