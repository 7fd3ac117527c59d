/* kernel/kernel_gpu.c - the swarm's GPU state follows its agents through splits, merges and the
 * end of a partition. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "kernel_gpu.h"

#if RVM_AGENT_GPU_IMPORTS > 0 && defined(RVM_HAS_GPU)

static bool is_object(uint8_t type)
{
	return type == RVM_OBJ_GPU_BUFFER || type == RVM_OBJ_GPU_QUEUE ||
	       type == RVM_OBJ_GPU_KERNEL;
}

/* Does agent a hold any GPU name? */
static bool holds_names(const struct rvm_agent *a)
{
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
		if (a->gpu.h[i].type != RVM_OBJ_NONE)
			return true;
	return false;
}

/* Do any of the agents in move (living in from) hold GPU names? */
static bool movers_hold(const struct rvm_world *w, uint32_t from, const struct rvm_nodeset *move)
{
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == from &&
		    rvm_nodeset_has(move, i) && holds_names(&w->agents[i]))
			return true;
	return false;
}

uint32_t rvm_kernel_gpu_uses(struct rvm_world *w, uint32_t from, struct rvm_split_use *u,
			     uint32_t room)
{
	uint32_t n = 0;

	if (!w->gpu || !rvm_gpu_context_of(w->gpu, from))
		return 0;
	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[i];

		if (a->state == RVM_AGENT_FREE || a->part != from)
			continue;
		for (uint32_t j = 0; j < RVM_AGENT_GPU_HANDLES && n < room; j++) {
			struct rvm_agent_gpu_handle *h = &a->gpu.h[j];
			const struct rvm_cap *c;
			rvm_cap_t cap;

			if (!is_object(h->type) || rvm_agent_gpu_entry_cap(a, j, &cap) != RVM_OK ||
			    rvm_cap_resolve(&w->caps, from, cap, &c) != RVM_OK || c->object != h->obj)
				continue; /* freed under it: nothing to move */
			u[n++] = (struct rvm_split_use){
				.handle = cap, .agent = i, .weight = 1, .kind = RVM_USE_CAP};
		}
	}
	return n;
}

enum rvm_err rvm_kernel_gpu_split_check(struct rvm_world *w, uint32_t from,
					const struct rvm_nodeset *move)
{
	enum rvm_err e;

	if (!w->gpu || !rvm_gpu_context_of(w->gpu, from) || !movers_hold(w, from, move))
		return RVM_OK;
	/* The split itself takes a registry slot for the new partition. */
	if ((e = rvm_gpu_split_check(w->gpu, from, 1)) != RVM_OK)
		return rvm_gate_refuse(&w->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE, e);
	return RVM_OK;
}

void rvm_kernel_gpu_split_follow(struct rvm_world *w, uint32_t from, uint32_t to,
				 const struct rvm_nodeset *move, uint32_t total)
{
	uint32_t n = 0;
	bool hold = false;

	if (!w->gpu || !rvm_gpu_context_of(w->gpu, from) || total == 0)
		return;
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == to &&
		    rvm_nodeset_has(move, i)) {
			n++;
			hold = hold || holds_names(&w->agents[i]);
		}
	/* Checked before the split (rvm_kernel_gpu_split_check): a refusal here is witnessed and
	 * leaves the objects with from's context, out of the new partition's reach. */
	if (hold)
		(void)rvm_gpu_follow_split(w->gpu, from, to, n < total ? n : total, total, NULL);
}

enum rvm_err rvm_kernel_gpu_merge_check(struct rvm_world *w, uint32_t from, uint32_t into)
{
	enum rvm_err e = w->gpu ? rvm_gpu_merge_check(w->gpu, from, into) : RVM_OK;

	if (e != RVM_OK)
		return rvm_gate_refuse(&w->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE, e);
	return RVM_OK;
}

void rvm_kernel_gpu_merge_follow(struct rvm_world *w, uint32_t from, uint32_t into)
{
	if (w->gpu)
		(void)rvm_gpu_follow_merge(w->gpu, from, into);
}

void rvm_kernel_gpu_reap(struct rvm_world *w, uint32_t p)
{
	if (w->gpu && rvm_gpu_context_of(w->gpu, p))
		(void)rvm_gpu_detach(w->gpu, p);
}

#endif
