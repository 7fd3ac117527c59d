/* kernel/partition_split.c - DC-8: splitting a partition along the min cut; caps and regions follow their users. */
#include <rvm/bytes.h>
#include <rvm/gate.h>
#include <rvm/witness.h>

#include "partition_priv.h"

#define GO_MOVE 1u
#define GO_DECIDED 2u

struct split_op {
	const struct rvm_reshape_env *env;
	const struct rvm_split_req *rq;
	struct rvm_partition *p;
	uint32_t ps, qs; /* old and new pool slots */
	uint32_t agents; /* agents that leave */
	uint32_t ncaps, nregions, nedges;
	uint64_t mem; /* bytes of the regions that leave */
};

static bool nodeset_subset(const struct rvm_nodeset *a, const struct rvm_nodeset *b)
{
	for (uint32_t i = 0; i < RVM_MINCUT_SET_WORDS; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

/* Adds every use entry to the score of the side its agent is on. */
static enum rvm_err score_uses(struct split_op *op)
{
	const struct rvm_split_req *rq = op->rq;
	struct rvm_reshape_work *w = op->env->work;
	const struct rvm_cap_space *s = op->env->pp->gate->caps;

	for (uint32_t i = 0; i < rq->nuse; i++) {
		const struct rvm_split_use *u = &rq->use[i];
		uint32_t side;

		if (u->agent >= RVM_MINCUT_MAX_NODES || !rvm_nodeset_has(&rq->members, u->agent))
			return RVM_E_INVAL;
		side = rvm_nodeset_has(&rq->move, u->agent) ? 1u : 0u;
		if (u->kind == RVM_USE_CAP) {
			const struct rvm_cap *c;

			if (rvm_cap_resolve_any(s, op->ps, u->handle, &c) != RVM_OK)
				return RVM_E_NOTFOUND;
			w->score[side][rvm_handle_slot(u->handle)] += u->weight;
		} else if (u->kind == RVM_USE_REGION) {
			const struct rvm_region *r;

			r = op->env->regions ? rvm_region_get(op->env->regions, u->handle) : NULL;
			if (!r || r->owner != op->ps)
				return RVM_E_NOTFOUND;
			w->rscore[side][rvm_handle_slot(u->handle)] += u->weight;
		} else {
			return RVM_E_INVAL;
		}
	}
	return RVM_OK;
}

/*
 * Caps decide by object: every cap of the table naming one object goes to
 * the side whose agents use those caps more; ties and unused stay. A group
 * with a cap that cannot move (lease, last generation) stays whole.
 */
static void decide_caps(struct split_op *op)
{
	struct rvm_reshape_work *w = op->env->work;
	const struct rvm_cap_space *s = op->env->pp->gate->caps;
	const struct rvm_cap_table *t = &s->tables[op->ps];

	for (uint32_t i = 0; i < t->hw; i++) {
		uint64_t stay = 0, move = 0, obj = t->slots[i].object;
		bool movable = true;
		uint8_t go;

		if (t->slots[i].state != RVM_CAPS_LIVE || (w->cap_go[i] & GO_DECIDED))
			continue;
		for (uint32_t j = i; j < t->hw; j++)
			if (t->slots[j].state == RVM_CAPS_LIVE && t->slots[j].object == obj) {
				stay += w->score[0][j];
				move += w->score[1][j];
				movable = movable && part_cap_movable(s, rvm_cap_ref(op->ps, j));
			}
		go = (uint8_t)(GO_DECIDED | (movable && move > stay ? GO_MOVE : 0u));
		for (uint32_t j = i; j < t->hw; j++)
			if (t->slots[j].state == RVM_CAPS_LIVE && t->slots[j].object == obj) {
				w->cap_go[j] = go;
				op->ncaps += go & GO_MOVE;
			}
	}
}

/* Regions the moving side uses more; each must be unmapped. */
static enum rvm_err decide_regions(struct split_op *op)
{
	struct rvm_reshape_work *w = op->env->work;
	const struct rvm_region_space *rs = op->env->regions;

	if (!rs)
		return RVM_OK;
	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &rs->slots[i];

		if (!r->used || r->owner != op->ps || w->rscore[1][i] <= w->rscore[0][i])
			continue;
		if (r->nmaps)
			return RVM_E_BUSY;
		w->region_go[i] = 1;
		op->nregions++;
		op->mem += rvm_region_size(r);
	}
	if (op->mem > op->p->mem_bytes)
		op->mem = op->p->mem_bytes;
	return RVM_OK;
}

/* Edges with an end at the partition follow the caps that name them; weights per peer. */
static void decide_edges(struct split_op *op)
{
	struct rvm_reshape_work *w = op->env->work;
	const struct rvm_cap_table *t = &op->env->pp->gate->caps->tables[op->ps];
	struct rvm_ipc *ipc = op->env->ipc;

	if (!ipc)
		return;
	for (uint32_t i = 0; i < ipc->hw && i < RVM_IPC_MAX_EDGES; i++) {
		const struct rvm_edge *e = &ipc->e[i];
		uint32_t peer;
		bool go = false;

		if (e->id == RVM_OBJ_NULL || (e->src != op->ps && e->dst != op->ps))
			continue;
		for (uint32_t j = 0; j < t->hw && !go; j++)
			go = t->slots[j].state == RVM_CAPS_LIVE && t->slots[j].object == e->id &&
			     (w->cap_go[j] & GO_MOVE);
		peer = e->src == op->ps ? e->dst : e->src;
		/* Only graph nodes matter (split_apply reads x < graph n <= RVM_COH_MAX_NODES). */
		if (peer < RVM_COH_MAX_NODES && peer < RVM_MAX_PARTITIONS) {
			w->total_w[peer] += e->weight;
			if (go)
				w->moved_w[peer] += e->weight;
		}
		w->edge_go[i] = go;
		op->nedges += go;
	}
}

/* The split's own preconditions, after P1 on the caller's cap: decides what moves. */
static enum rvm_err split_check(void *ctx, const struct rvm_gate_req *req,
				const struct rvm_cap *cap)
{
	struct split_op *op = ctx;
	const struct rvm_split_req *rq = op->rq;
	struct rvm_reshape_work *w = op->env->work;
	uint32_t nmove = rvm_nodeset_count(&rq->move), nmem = rvm_nodeset_count(&rq->members);
	uint32_t records, hw, nodes;
	enum rvm_err e;

	(void)cap;
	op->p = rvm_partition_find(op->env->pp, req->object);
	if (!op->p)
		return RVM_E_STALE;
	op->ps = rvm_partition_slot(op->env->pp, op->p);
	if (op->env->coh && op->env->coh->degraded)
		return RVM_E_DEGRADED;
	if (op->p->state != RVM_PART_RUNNING && op->p->state != RVM_PART_SUSPENDED)
		return RVM_E_STATE;
	if (op->p->migrating)
		return RVM_E_BUSY;
	if (nmove == 0 || nmove >= nmem || !nodeset_subset(&rq->move, &rq->members) ||
	    nmem != op->p->agents)
		return RVM_E_INVAL;
	op->agents = nmove;
	/* Only what this split reads: the table's used slots, the graph's nodes, used edges. */
	hw = op->env->pp->gate->caps->tables[op->ps].hw;
	rvm_memset(w->score[0], 0, hw * sizeof(w->score[0][0]));
	rvm_memset(w->score[1], 0, hw * sizeof(w->score[1][0]));
	rvm_memset(w->cap_go, 0, sizeof(w->cap_go));
	if (op->env->regions) {
		rvm_memset(w->rscore, 0, sizeof(w->rscore));
		rvm_memset(w->region_go, 0, sizeof(w->region_go));
	}
	if (op->env->ipc)
		rvm_memset(w->edge_go, 0, op->env->ipc->hw * sizeof(w->edge_go[0]));
	nodes = RVM_COH_MAX_NODES < RVM_MAX_PARTITIONS ? RVM_COH_MAX_NODES : RVM_MAX_PARTITIONS;
	rvm_memset(w->moved_w, 0, nodes * sizeof(w->moved_w[0]));
	rvm_memset(w->total_w, 0, nodes * sizeof(w->total_w[0]));
	if ((e = score_uses(op)) != RVM_OK)
		return e;
	decide_caps(op);
	if ((e = decide_regions(op)) != RVM_OK)
		return e;
	decide_edges(op);
	/* Room for every record of the split and of its undo: nothing can fail half way. */
	records = 2u * (4u + op->ncaps + op->nregions + op->nedges) + 8u;
	if (!rvm_witness_can_emit(op->env->pp->gate->wlog, records) ||
	    (op->env->regions && !rvm_witness_can_emit(op->env->regions->wlog, records)))
		return RVM_E_FULL;
	return RVM_OK;
}

/* share of w that moved / total of the traffic is, without overflow: w * moved / total. */
static uint32_t share_of(uint32_t wt, uint64_t moved, uint64_t total)
{
	while (total > UINT32_MAX) {
		total >>= 1;
		moved >>= 1;
	}
	if (total == 0)
		return 0;
	return (uint32_t)((uint64_t)wt * moved / total);
}

static void split_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct split_op *op = ctx;
	struct rvm_partition *q = &op->env->pp->p[op->qs];
	struct rvm_coherence *coh = op->env->coh;
	struct rvm_reshape_work *w = op->env->work;

	(void)req;
	op->p->agents -= op->agents;
	q->agents = op->agents;
	op->p->mem_bytes -= op->mem;
	q->mem_bytes = op->mem;
	/* The graph (node = pool slot): each peer's weight follows the edges re-pointed to it. */
	if (coh && op->ps < coh->graph.n && op->qs < coh->graph.n) {
		struct rvm_mincut_graph *g = &coh->graph;

		for (uint32_t x = 0; x < g->n && x < RVM_COH_MAX_NODES && x < RVM_MAX_PARTITIONS; x++) {
			uint32_t sh;

			if (!w->moved_w[x] || x == op->ps || x == op->qs)
				continue;
			sh = share_of(g->w[op->ps][x], w->moved_w[x], w->total_w[x]);
			/* Weight only moves, so the graph's total never grows: cannot fail. */
			(void)rvm_mincut_graph_set(g, op->ps, x, g->w[op->ps][x] - sh);
			(void)rvm_mincut_graph_set(g, op->qs, x, g->w[op->qs][x] + sh);
		}
		if (op->rq->cut_weight)
			(void)rvm_coh_observe(coh, op->ps, op->qs, op->rq->cut_weight);
	}
	args[0] = op->ps;
	args[1] = op->qs;
}

/* The new partition takes the old one's state: Running, or Suspended. */
struct state_op {
	struct rvm_partition *q;
	uint8_t to;
	bool faulted;
};

static enum rvm_err state_check(void *ctx, const struct rvm_gate_req *req,
				const struct rvm_cap *cap)
{
	struct state_op *op = ctx;

	(void)req;
	(void)cap;
	return op->faulted ? RVM_E_IO : RVM_OK;
}

static void state_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct state_op *op = ctx;

	(void)req;
	args[0] = op->q->state;
	args[1] = op->to;
	op->q->state = op->to;
	if (op->to == RVM_PART_DESTROYED)
		op->q->agents = 0;
}

static enum rvm_err set_state(struct part_run *r, struct rvm_partition *q, uint8_t to, bool fault)
{
	struct state_op op = { .q = q, .to = to };
	struct rvm_gate_req req = { .checks = RVM_GATE_KERNEL, .obj_type = RVM_OBJ_PARTITION,
				    .object = q->id, .check = state_check, .apply = state_apply,
				    .ctx = &op };

	req.action = to == RVM_PART_RUNNING	? RVM_ACT_PARTITION_RESUME
		     : to == RVM_PART_SUSPENDED ? RVM_ACT_PARTITION_SUSPEND
						: RVM_ACT_PARTITION_DESTROY;
	if (fault)
		op.faulted = part_run_fault(r) != RVM_OK;
	return rvm_gate_invoke(r->g, &req);
}

/* Takes the new partition down again: its cap (caller's table), then the partition itself. */
static void unmake(struct part_run *r, uint32_t caller, const struct rvm_split_result *out)
{
	struct rvm_part_pool *pp = r->env->pp;
	struct rvm_partition *q = &pp->p[out->slot];

	(void)rvm_cap_delete(r->g, caller, out->cap);
	(void)set_state(r, q, RVM_PART_DESTROYED, false);
	(void)rvm_obj_destroy(r->g->caps->objs, q->id);
	pp->live--;
}

/* The steps between the authorised check and the PARTITION_SPLIT record. */
static enum rvm_err split_steps(struct part_run *r, struct split_op *op, uint32_t caller,
				struct rvm_split_result *out)
{
	struct rvm_part_pool *pp = r->env->pp;
	struct rvm_reshape_work *w = r->env->work;
	const struct rvm_cap_table *t = &r->g->caps->tables[op->ps];
	uint32_t hw = t->hw;
	enum rvm_err e;

	if ((e = part_run_fault(r)) != RVM_OK)
		return rvm_gate_refuse(r->g, RVM_ACT_GATE_DENIED, 0, 0, RVM_ACT_PARTITION_CREATE,
				       e);
	if ((e = rvm_partition_create(pp, caller, &out->slot, &out->id, &out->cap)) != RVM_OK)
		return e;
	op->qs = out->slot;
	r->to = out->slot;
	if ((e = set_state(r, &pp->p[op->qs], RVM_PART_RUNNING, true)) != RVM_OK)
		return e;
	if (op->p->state == RVM_PART_SUSPENDED &&
	    (e = set_state(r, &pp->p[op->qs], RVM_PART_SUSPENDED, true)) != RVM_OK)
		return e;
	for (uint32_t i = 0; i < hw; i++)
		if ((w->cap_go[i] & GO_MOVE) &&
		    (e = part_run_cap(r, rvm_cap_ref(op->ps, i), op->qs)) != RVM_OK)
			return e;
	for (uint32_t i = 0; r->env->regions && i < RVM_REGION_SLOTS; i++)
		if (w->region_go[i] &&
		    (e = part_run_region(r, (uint64_t)r->env->regions->slots[i].generation << 32 |
						    i)) != RVM_OK)
			return e;
	for (uint32_t i = 0; r->env->ipc && i < r->env->ipc->hw && i < RVM_IPC_MAX_EDGES; i++)
		if (w->edge_go[i] && (e = part_run_edge(r, i)) != RVM_OK)
			return e;
	if ((e = part_run_fault(r)) != RVM_OK)
		return rvm_gate_refuse(r->g, RVM_ACT_GATE_DENIED, caller, op->p->id,
				       RVM_ACT_PARTITION_SPLIT, e);
	return RVM_OK;
}

/* Witnesses the end of a split that was rolled back. */
static void witness_abort(struct rvm_gate *g, rvm_obj_id target, uint32_t step, enum rvm_err e)
{
	struct rvm_gate_req req = { .action = RVM_ACT_SPLIT_ABORT, .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_PARTITION, .object = target,
				    .arg0 = step, .arg1 = (uint64_t)e };

	(void)rvm_gate_invoke(g, &req);
}

enum rvm_err rvm_partition_split(const struct rvm_reshape_env *env, uint32_t caller,
				 const struct rvm_split_req *req, struct rvm_split_result *out)
{
	const struct rvm_cap *c;
	struct split_op op = { .env = env, .rq = req };
	struct rvm_gate_req greq = { .action = RVM_ACT_PARTITION_SPLIT,
				     .checks = RVM_GATE_OWNER,
				     .caller = caller,
				     .rights = RVM_SPLIT_RIGHTS,
				     .obj_type = RVM_OBJ_PARTITION,
				     .owner = RVM_OWNER_NONE,
				     .check = split_check,
				     .apply = split_apply,
				     .ctx = &op };
	struct part_run r;
	enum rvm_err e;

	if (!env || !env->pp || !env->work || !req || !out || caller >= RVM_CAP_TABLES ||
	    (req->nuse && !req->use))
		return RVM_E_INVAL;
	rvm_memset(out, 0, sizeof(*out));
	greq.cap = req->cap;
	if (rvm_cap_resolve(env->pp->gate->caps, caller, req->cap, &c) == RVM_OK)
		greq.object = c->object;
	if ((e = rvm_gate_authorize(env->pp->gate, &greq)) != RVM_OK)
		return e;
	env->work->moves.n = 0;
	env->work->nregions = 0;
	env->work->nedges = 0;
	part_run_init(&r, env, op.ps, RVM_CAP_TABLES);
	e = split_steps(&r, &op, caller, out);
	if (e != RVM_OK) {
		part_run_undo(&r);
		if (out->id != RVM_OBJ_NULL)
			unmake(&r, caller, out);
		witness_abort(env->pp->gate, greq.object, r.step, e);
		rvm_memset(out, 0, sizeof(*out));
		return e;
	}
	env->work->nregions = r.regions_done;
	env->work->nedges = r.edges_done;
	rvm_gate_commit(env->pp->gate, &greq);
	out->agents = op.agents;
	out->caps = r.caps_done;
	out->regions = r.regions_done;
	out->edges = r.edges_done;
	return RVM_OK;
}

enum rvm_err rvm_cap_moves_find(const struct rvm_cap_moves *mv, uint32_t table,
				rvm_cap_t old_handle, uint32_t *new_table, rvm_cap_t *new_handle)
{
	if (!mv || !new_table || !new_handle)
		return RVM_E_INVAL;
	for (uint32_t i = 0; i < mv->n && i < RVM_CAP_TABLE_SLOTS; i++)
		if (mv->m[i].old_table == table && mv->m[i].old_handle == old_handle) {
			*new_table = mv->m[i].new_table;
			*new_handle = mv->m[i].new_handle;
			return RVM_OK;
		}
	return RVM_E_NOTFOUND;
}
