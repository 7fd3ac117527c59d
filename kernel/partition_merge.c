/* kernel/partition_merge.c - merging two coherent partitions (DC-11), through the gate. */
#include <rvm/gate.h>
#include <rvm/proof.h>
#include <rvm/reshape.h>
#include <rvm/witness.h>

#include "partition_priv.h"

static void side_of(struct rvm_part_pool *pp, uint32_t caller, rvm_cap_t cap,
		    struct rvm_merge_side *sd)
{
	const struct rvm_cap *c;
	struct rvm_partition *p = NULL;

	sd->cap = cap;
	sd->partition = RVM_CAP_TABLES; /* invalid unless found */
	if (rvm_cap_resolve(pp->gate->caps, caller, cap, &c) == RVM_OK) {
		sd->object = c->object;
		p = rvm_partition_find(pp, c->object);
	} else if (rvm_cap_resolve_any(pp->gate->caps, caller, cap, &c) == RVM_OK) {
		/* The cap is live but its object is gone: a destroyed partition. */
		sd->object = c->object;
		sd->exists = true;
		sd->destroyed = true;
		/* Its old pool slot, if the registry slot still maps to one. */
		if (pp->by_obj[rvm_handle_slot(c->object) % RVM_OBJ_SLOTS] < RVM_MAX_PARTITIONS)
			sd->partition = pp->by_obj[rvm_handle_slot(c->object) % RVM_OBJ_SLOTS];
		return;
	}
	if (!p)
		return;
	sd->exists = true;
	sd->partition = rvm_partition_slot(pp, p);
	sd->migrating = p->migrating;
	sd->agents = p->agents;
	sd->mem_bytes = p->mem_bytes;
}

static uint64_t degree(const struct rvm_coherence *coh, uint32_t a)
{
	uint64_t sum = 0;

	for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++)
		for (uint64_t x = coh->graph.nz[a].w[wd]; x; x &= x - 1)
			sum += coh->graph.w[a][wd * 64u + rvm_ctz64(x)];
	return sum;
}

struct merge_op {
	struct rvm_part_pool *pp;
	struct rvm_coherence *coh;
	struct rvm_partition *from, *into;
	uint32_t fs, is;
};

static void merge_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct merge_op *op = ctx;
	struct rvm_mincut_graph *g = &op->coh->graph;

	(void)req;
	op->into->agents += op->from->agents;
	op->into->mem_bytes += op->from->mem_bytes;
	op->from->agents = 0;
	op->from->mem_bytes = 0;
	op->from->state = RVM_PART_DESTROYED;
	(void)rvm_obj_destroy(op->pp->gate->caps->objs, op->from->id); /* live: checked */
	op->pp->live--;
	/* from's traffic becomes into's; the edge between them is now internal. */
	if (op->fs < g->n && op->is < g->n) {
		for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++)
			for (uint64_t x = g->nz[op->fs].w[wd]; x; x &= x - 1) {
				uint32_t j = wd * 64u + rvm_ctz64(x), w = g->w[op->fs][j];

				if (j != op->is)
					(void)rvm_mincut_graph_set(g, op->is, j, g->w[op->is][j] + w);
			}
		for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++)
			for (uint64_t x = g->nz[op->fs].w[wd]; x; x &= x - 1)
				(void)rvm_mincut_graph_set(g, op->fs, wd * 64u + rvm_ctz64(x), 0);
	}
	args[0] = op->fs;
	args[1] = op->is;
}

/* Regions from owns: every one must be unmapped (ownership moves only unmapped). */
static enum rvm_err count_regions(const struct rvm_region_space *rs, uint32_t fs, uint32_t *n)
{
	*n = 0;
	for (uint32_t i = 0; rs && i < RVM_REGION_SLOTS; i++) {
		if (!rs->slots[i].used || rs->slots[i].owner != fs)
			continue;
		if (rs->slots[i].nmaps)
			return RVM_E_BUSY;
		(*n)++;
	}
	return RVM_OK;
}

static uint32_t count_edges(const struct rvm_ipc *ipc, uint32_t fs)
{
	uint32_t n = 0;

	for (uint32_t i = 0; ipc && i < ipc->hw && i < RVM_IPC_MAX_EDGES; i++)
		n += ipc->e[i].id != RVM_OBJ_NULL && (ipc->e[i].src == fs || ipc->e[i].dst == fs);
	return n;
}

/* Moves from's caps, regions and edges to into, each step gated; undone on a failure. */
static enum rvm_err merge_steps(struct part_run *r)
{
	const struct rvm_cap_table *t = &r->g->caps->tables[r->from];
	const struct rvm_region_space *rs = r->env->regions;
	const struct rvm_ipc *ipc = r->env->ipc;
	uint32_t hw = t->hw;
	enum rvm_err e;

	for (uint32_t i = 0; i < hw; i++)
		if (part_cap_movable(r->g->caps, rvm_cap_ref(r->from, i)) &&
		    (e = part_run_cap(r, rvm_cap_ref(r->from, i), r->to)) != RVM_OK)
			return e;
	for (uint32_t i = 0; rs && i < RVM_REGION_SLOTS; i++)
		if (rs->slots[i].used && rs->slots[i].owner == r->from &&
		    (e = part_run_region(r, (uint64_t)rs->slots[i].generation << 32 | i)) != RVM_OK)
			return e;
	for (uint32_t i = 0; ipc && i < ipc->hw && i < RVM_IPC_MAX_EDGES; i++)
		if (ipc->e[i].id != RVM_OBJ_NULL &&
		    (ipc->e[i].src == r->from || ipc->e[i].dst == r->from) &&
		    (e = part_run_edge(r, i)) != RVM_OK)
			return e;
	return part_run_fault(r);
}

enum rvm_err rvm_partition_merge_env(const struct rvm_reshape_env *env, uint32_t caller,
				     rvm_cap_t from_cap, rvm_cap_t into_cap,
				     const struct rvm_merge_limits *lim)
{
	struct rvm_part_pool *pp;
	struct rvm_coherence *coh;
	struct rvm_merge_req mr = { .caller = caller };
	struct merge_op op;
	struct rvm_gate_req req = { .action = RVM_ACT_PARTITION_MERGE,
				    .checks = RVM_GATE_OWNER,
				    .caller = caller,
				    .cap = into_cap,
				    .rights = RVM_MERGE_RIGHTS,
				    .obj_type = RVM_OBJ_PARTITION,
				    .owner = RVM_OWNER_NONE,
				    .apply = merge_apply,
				    .ctx = &op };
	struct part_run r;
	uint32_t nreg = 0, records;
	uint64_t w, deg;
	enum rvm_err e;

	if (!env || !env->pp || !env->coh || !lim || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	pp = env->pp;
	coh = env->coh;
	op = (struct merge_op){ .pp = pp, .coh = coh };
	side_of(pp, caller, from_cap, &mr.a);
	side_of(pp, caller, into_cap, &mr.b);
	mr.max_agents = lim->max_agents;
	mr.max_mem_bytes = lim->max_mem_bytes;
	req.object = mr.b.object;
	e = rvm_proof_merge_check(pp->gate->caps, &mr);
	if (e == RVM_OK && coh->degraded)
		e = RVM_E_DEGRADED;
	if (e == RVM_OK) {
		op.fs = mr.a.partition;
		op.is = mr.b.partition;
		w = op.fs < coh->graph.n && op.is < coh->graph.n ? coh->graph.w[op.fs][op.is] : 0;
		if (w == 0) {
			e = RVM_E_NOTFOUND;
		} else {
			deg = degree(coh, op.fs) + degree(coh, op.is);
			if (rvm_bp_ratio(2u * w, deg) < lim->min_mutual)
				e = RVM_E_POLICY;
		}
	}
	if (e == RVM_OK)
		e = count_regions(env->regions, op.fs, &nreg);
	if (e == RVM_OK) {
		/* Room for every step, its undo and the table clear: no step can fail then. */
		records = 2u * (pp->gate->caps->tables[op.fs].live + nreg +
				count_edges(env->ipc, op.fs)) + 8u;
		if (!rvm_witness_can_emit(pp->gate->wlog, records) ||
		    (env->regions && !rvm_witness_can_emit(env->regions->wlog, records)))
			e = RVM_E_FULL;
	}
	if (e != RVM_OK)
		return rvm_gate_refuse(pp->gate, RVM_ACT_GATE_DENIED, caller, mr.b.object,
				       RVM_ACT_PARTITION_MERGE, e);
	op.from = &pp->p[op.fs];
	op.into = &pp->p[op.is];
	if ((e = rvm_gate_authorize(pp->gate, &req)) != RVM_OK)
		return e;
	if (env->work) {
		env->work->moves.n = 0;
		env->work->nregions = 0;
		env->work->nedges = 0;
	}
	part_run_init(&r, env, op.fs, op.is);
	if ((e = merge_steps(&r)) != RVM_OK) {
		part_run_undo(&r);
		return rvm_gate_refuse(pp->gate, RVM_ACT_GATE_DENIED, caller, mr.b.object,
				       RVM_ACT_PARTITION_MERGE, e);
	}
	if (env->work) {
		env->work->nregions = r.regions_done;
		env->work->nedges = r.edges_done;
	}
	rvm_gate_commit(pp->gate, &req);
	/* What could not move (lease caps) ends with from. */
	if (pp->gate->caps->tables[op.fs].live != 0)
		(void)rvm_cap_table_clear(pp->gate, op.fs);
	return RVM_OK;
}

enum rvm_err rvm_partition_merge(struct rvm_part_pool *pp, struct rvm_coherence *coh,
				 uint32_t caller, rvm_cap_t from_cap, rvm_cap_t into_cap,
				 const struct rvm_merge_limits *lim)
{
	/* No work area: caps still move (no remap is kept); regions and edges are not here. */
	struct rvm_reshape_env env = { .pp = pp, .coh = coh };

	return rvm_partition_merge_env(&env, caller, from_cap, into_cap, lim);
}
