/* kernel/kernel_split.c - a swarm split: agents leave their partition through rvm_partition_split. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "agent_priv.h"
#include "kernel_gpu.h"

/* The CPU with the shortest run queue among the kernel's (lowest on ties). */
static uint32_t least_loaded_cpu(const struct rvm_world *w)
{
	uint32_t best = 0;

	for (uint32_t c = 1; c < w->ncpus; c++)
		if (w->sched.cpu[c].n < w->sched.cpu[best].n)
			best = c;
	return best;
}

/* True if rvm_partition_create would pick a slot that is also a coherence group number. */
static bool group_slot_free(const struct rvm_world *w)
{
	for (uint32_t p = RVM_PART_FIRST; p < RVM_KPARTS; p++)
		if (w->parts.p[p].state == RVM_PART_FREE || w->parts.p[p].state == RVM_PART_DESTROYED)
			return true;
	return false;
}

/* One use entry per cap of from's table an agent holds: its own cap, its channels' edge ends. */
static uint32_t collect_uses(struct rvm_world *w, uint32_t from, struct rvm_split_req *req)
{
	struct rvm_split_use *u = w->split_use;
	uint32_t n = 0;

	for (uint32_t i = 0; i < w->nagents && n < RVM_CAP_TABLE_SLOTS; i++) {
		const struct rvm_agent *a = &w->agents[i];

		if (a->state == RVM_AGENT_FREE || a->part != from)
			continue;
		rvm_nodeset_add(&req->members, i);
		if (a->cap != RVM_CAP_NULL)
			u[n++] = (struct rvm_split_use){ .handle = a->cap, .agent = i, .weight = 1,
							 .kind = RVM_USE_CAP };
	}
	for (uint32_t i = 0; i < w->nchans && n + 2 <= RVM_CAP_TABLE_SLOTS; i++) {
		const struct rvm_chan *c = &w->chans[i];

		if (!c->live || c->edge.id == RVM_OBJ_NULL)
			continue;
		if (c->edge_src == from && w->agents[c->src].part == from)
			u[n++] = (struct rvm_split_use){ .handle = c->edge.send, .agent = c->src,
							 .weight = 1, .kind = RVM_USE_CAP };
		if (c->edge_dst == from && w->agents[c->dst].part == from)
			u[n++] = (struct rvm_split_use){ .handle = c->edge.recv, .agent = c->dst,
							 .weight = 1, .kind = RVM_USE_CAP };
	}
	return n;
}

/* The handle cap of table `table` has now, after the split's moves. */
static rvm_cap_t followed(const struct rvm_world *w, uint32_t table, rvm_cap_t cap)
{
	uint32_t t;
	rvm_cap_t h;

	return rvm_cap_moves_find(&w->rework.moves, table, cap, &t, &h) == RVM_OK ? h : cap;
}

/* After the split: a channel whose edge was re-pointed learns its new ends and caps; one whose
 * ends are now apart (or together) gets its edge made (or dropped). */
static void follow_chan(struct rvm_world *w, struct rvm_chan *c)
{
	const struct rvm_edge *e = rvm_edge_find(&w->ipc, c->edge.id);

	if (c->edge.id != RVM_OBJ_NULL && e) {
		c->edge.send = followed(w, c->edge_src, c->edge.send);
		c->edge.recv = followed(w, c->edge_dst, c->edge.recv);
		c->edge_src = e->src;
		c->edge_dst = e->dst;
	}
	(void)rvm_chan_rebind(w, c);
}

enum rvm_err rvm_kernel_split(struct rvm_kernel *k, uint32_t from, const struct rvm_nodeset *move,
			      uint32_t cut_weight, uint32_t *to)
{
	struct rvm_world *w;
	struct rvm_reshape_env env;
	struct rvm_split_req req;
	struct rvm_split_result out;
	uint32_t q, moved = 0, total;
	enum rvm_err err;

	if (!k || !(w = k->w) || !move || from < RVM_PART_FIRST || from >= RVM_KPARTS)
		return RVM_E_INVAL;
	if (!group_slot_free(w))
		return RVM_E_NOMEM;
	/* A partition in flight between CPUs cannot split (RVM_E_BUSY): land it first. */
	if (w->mig.active && w->mig.part == from)
		(void)rvm_kernel_migration_settle(k);
	rvm_memset(&req, 0, sizeof(req));
	req.cap = w->pcap[from];
	req.move = *move;
	req.use = w->split_use;
	req.nuse = collect_uses(w, from, &req);
	/* GPU objects go with the agents that hold their names; refused here if they cannot. */
	req.nuse += rvm_kernel_gpu_uses(w, from, w->split_use + req.nuse,
					RVM_CAP_TABLE_SLOTS - req.nuse);
	if ((err = rvm_kernel_gpu_split_check(w, from, move)) != RVM_OK)
		return err;
	total = rvm_nodeset_count(&req.members);
	req.cut_weight = cut_weight;
	env = (struct rvm_reshape_env){ .pp = &w->parts, .coh = &w->pcoh, .ipc = &w->ipc,
					.work = &w->rework, .fault_step = w->split_fault_step };
	if (!RVM_HAS_COHERENCE)
		env.coh = NULL;
	if ((err = rvm_partition_split(&env, RVM_CAP_KERNEL_TABLE, &req, &out)) != RVM_OK)
		return err;
	q = out.slot;
	w->pcap[q] = out.cap;
	/* The new partition runs where there is room; it took the old one's state (Running). */
	if (w->parts.p[q].state == RVM_PART_RUNNING)
		(void)rvm_sched_enqueue(&w->sched, least_loaded_cpu(w), q, 0);
	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[i];

		if (a->state == RVM_AGENT_FREE || a->part != from || !rvm_nodeset_has(move, i))
			continue;
		a->cap = followed(w, from, a->cap);
		a->part = q;
		if (RVM_HAS_COHERENCE && !a->quarantined && q < RVM_KPARTS)
			(void)rvm_coh_assign(&w->coh, i, q);
		moved++;
	}
	rvm_kernel_gpu_split_follow(w, from, q, move, total);
	for (uint32_t i = 0; i < w->nchans; i++) {
		struct rvm_chan *c = &w->chans[i];

		if (c->live && (w->agents[c->src].part == q || w->agents[c->dst].part == q))
			follow_chan(w, c);
	}
	w->splits++;
	rvm_kernel_note(w, RVM_ACT_PARTITION_SPLIT, from, q, moved);
	if (to)
		*to = q;
	return RVM_OK;
}
