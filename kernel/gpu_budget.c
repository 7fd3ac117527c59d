/* kernel/gpu_budget.c - the four-dimensional GPU budget and launch validation: pure checks, no I/O.
 */
#include <rvm/gpu.h>

enum rvm_err rvm_gpu_dim_err(enum rvm_gpu_dim d)
{
	static const enum rvm_err errs[RVM_GPU_DIM_COUNT] = {
		RVM_E_BUDGET_COMPUTE,
		RVM_E_BUDGET_MEMORY,
		RVM_E_BUDGET_TRANSFER,
		RVM_E_BUDGET_LAUNCHES,
	};

	return (unsigned)d < RVM_GPU_DIM_COUNT ? errs[d] : RVM_E_INVAL;
}

enum rvm_err rvm_gpu_budget_charge(struct rvm_gpu_budget *b, const uint64_t cost[RVM_GPU_DIM_COUNT])
{
	/* Every dimension is checked before any is recorded: all or nothing. */
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++) {
		/* used <= limit always holds, so limit - used cannot wrap. */
		if (cost[d] > b->limit[d] - b->used[d])
			return rvm_gpu_dim_err((enum rvm_gpu_dim)d);
	}
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		b->used[d] += cost[d];
	return RVM_OK;
}

void rvm_gpu_budget_release(struct rvm_gpu_budget *b, enum rvm_gpu_dim d, uint64_t amount)
{
	if ((unsigned)d >= RVM_GPU_DIM_COUNT)
		return;
	b->used[d] = amount > b->used[d] ? 0 : b->used[d] - amount;
}

void rvm_gpu_budget_epoch(struct rvm_gpu_budget *b)
{
	b->used[RVM_GPU_DIM_COMPUTE] = 0;
	b->used[RVM_GPU_DIM_TRANSFER] = 0;
	b->used[RVM_GPU_DIM_LAUNCHES] = 0;
}

/* a * b into *out; false when the product does not fit in 64 bits. */
static bool mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	if (a != 0 && b > UINT64_MAX / a)
		return false;
	*out = a * b;
	return true;
}

enum rvm_err rvm_gpu_validate(const struct rvm_gpu_limits *lim, const struct rvm_gpu_launch_cfg *c,
			      uint64_t extra_local, uint64_t *threads, uint64_t *timeout_ns)
{
	uint64_t wg = 1, total = 1, shared;

	if (!lim || !c || c->dims < 1 || c->dims > RVM_GPU_DIMS)
		return RVM_E_INVAL;
	for (uint32_t d = 0; d < RVM_GPU_DIMS; d++) {
		if (c->local[d] == 0 || c->groups[d] == 0)
			return RVM_E_INVAL;
		if (d >= c->dims && (c->local[d] != 1 || c->groups[d] != 1))
			return RVM_E_INVAL;
	}
	for (uint32_t d = 0; d < c->dims; d++) {
		uint64_t global;

		if (c->local[d] > lim->max_wi_size[d] || c->groups[d] > lim->max_groups[d])
			return RVM_E_RANGE;
		wg *= c->local[d]; /* three factors below 2^32 each: checked below */
		if (wg > lim->max_wg_size)
			return RVM_E_RANGE;
		if (!mul_ok(c->groups[d], c->local[d], &global) || !mul_ok(total, global, &total))
			return RVM_E_OVERFLOW;
	}
	shared = c->local_mem + extra_local;
	if (shared < c->local_mem || shared > lim->local_mem)
		return RVM_E_RANGE;
	if (c->timeout_ns > RVM_GPU_MAX_TIMEOUT_NS)
		return RVM_E_RANGE;
	if (threads)
		*threads = total;
	if (timeout_ns)
		*timeout_ns = c->timeout_ns ? c->timeout_ns : RVM_GPU_DEFAULT_TIMEOUT_NS;
	return RVM_OK;
}
