/* kernel/partition_steps.c - the gated, witnessed, undoable steps of a split or merge. */
#include <rvm/gate.h>

#include "partition_priv.h"

/* Edge ends in a work->edges entry. */
#define END_SRC (1u << 16)
#define END_DST (1u << 17)

void part_run_init(struct part_run *r, const struct rvm_reshape_env *env, uint32_t from,
		   uint32_t to)
{
	r->env = env;
	r->from = from;
	r->to = to;
	r->g = env->pp->gate;
	r->step = 0;
	r->caps_done = 0;
	r->regions_done = 0;
	r->edges_done = 0;
}

enum rvm_err part_run_fault(struct part_run *r)
{
	r->step++;
	return r->env->fault_step != 0 && r->step == r->env->fault_step ? RVM_E_IO : RVM_OK;
}

/* ---- caps ---- */

struct cap_step {
	struct part_run *r;
	uint32_t ref, to, slot;
	bool exact; /* undo: back to slot, old handle */
	bool faulted;
	uint32_t nref;
};

static enum rvm_err cap_step_check(void *ctx, const struct rvm_gate_req *req,
				   const struct rvm_cap *cap)
{
	struct cap_step *op = ctx;
	const struct rvm_cap_table *t = &op->r->g->caps->tables[op->to];

	(void)req;
	(void)cap;
	if (op->faulted)
		return RVM_E_IO;
	if (!part_cap_movable(op->r->g->caps, op->ref))
		return RVM_E_STATE;
	if (op->exact)
		return t->free_head == op->slot ? RVM_OK : RVM_E_CORRUPT;
	return rvm_cap_table_has_room(op->r->g->caps, op->to);
}

static void cap_step_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct cap_step *op = ctx;

	(void)req;
	op->nref = part_cap_relocate(op->r->g->caps, op->ref, op->to, op->exact, op->slot);
	args[0] = (uint64_t)(op->ref / RVM_CAP_TABLE_SLOTS) << 32 | op->ref % RVM_CAP_TABLE_SLOTS;
	args[1] = (uint64_t)op->to << 32 | op->nref % RVM_CAP_TABLE_SLOTS;
}

static enum rvm_err cap_step(struct cap_step *op)
{
	struct rvm_gate_req req = { .action = RVM_ACT_CAP_MOVE, .checks = RVM_GATE_KERNEL,
				    .check = cap_step_check, .apply = cap_step_apply, .ctx = op };
	const struct rvm_cap *c = rvm_cap_at_const(op->r->g->caps, op->ref);

	req.obj_type = c->type;
	req.object = c->object;
	return rvm_gate_invoke(op->r->g, &req);
}

enum rvm_err part_run_cap(struct part_run *r, uint32_t ref, uint32_t to)
{
	struct rvm_cap_space *s = r->g->caps;
	struct cap_step op = { .r = r, .ref = ref, .to = to };
	rvm_cap_t old = rvm_cap_handle_of(s, ref);
	struct rvm_reshape_work *w = r->env->work;
	enum rvm_err e;

	op.faulted = part_run_fault(r) != RVM_OK;
	if ((e = cap_step(&op)) != RVM_OK)
		return e;
	if (w && w->moves.n < RVM_CAP_TABLE_SLOTS) {
		w->moves.m[w->moves.n++] = (struct rvm_cap_move){
			.old_handle = old,
			.new_handle = rvm_cap_handle_of(s, op.nref),
			.old_table = ref / RVM_CAP_TABLE_SLOTS,
			.new_table = to,
		};
		r->caps_done++;
	}
	return RVM_OK;
}

/* ---- regions ---- */

enum rvm_err part_run_region(struct part_run *r, rvm_region_id id)
{
	struct rvm_region_space *rs = r->env->regions;
	struct rvm_reshape_work *w = r->env->work;
	enum rvm_err e = part_run_fault(r);

	if (e != RVM_OK) {
		if (rvm_witness_can_emit(rs->wlog, 1))
			(void)rvm_witness_emit(rs->wlog, RVM_ACT_GATE_DENIED, RVM_WF_DENIED,
					       RVM_PARTITION_KERNEL, id, RVM_ACT_REGION_TRANSFER,
					       (uint64_t)e, NULL);
		return e;
	}
	if ((e = rvm_region_transfer(rs, RVM_PARTITION_KERNEL, id, r->to)) != RVM_OK)
		return e;
	if (w)
		w->regions[r->regions_done] = id;
	r->regions_done++;
	return RVM_OK;
}

/* ---- edges ---- */

struct edge_step {
	struct rvm_edge *e;
	uint32_t index, from, to, ends; /* ends: END_SRC / END_DST to move; 0 = those at from */
	bool faulted;
};

static enum rvm_err edge_step_check(void *ctx, const struct rvm_gate_req *req,
				    const struct rvm_cap *cap)
{
	struct edge_step *op = ctx;

	(void)req;
	(void)cap;
	if (op->faulted)
		return RVM_E_IO;
	if (op->ends == 0) {
		op->ends = (op->e->src == op->from ? END_SRC : 0) |
			   (op->e->dst == op->from ? END_DST : 0);
	}
	return op->e->id != RVM_OBJ_NULL && op->ends ? RVM_OK : RVM_E_NOTFOUND;
}

static void edge_step_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct edge_step *op = ctx;

	(void)req;
	if (op->ends & END_SRC)
		op->e->src = op->to;
	if (op->ends & END_DST)
		op->e->dst = op->to;
	args[0] = op->index;
	args[1] = (uint64_t)op->from << 32 | op->to;
}

static enum rvm_err edge_step(struct part_run *r, struct edge_step *op)
{
	struct rvm_gate_req req = { .action = RVM_ACT_EDGE_REPOINT, .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_EDGE, .check = edge_step_check,
				    .apply = edge_step_apply, .ctx = op };

	op->e = &r->env->ipc->e[op->index];
	req.object = op->e->id;
	return rvm_gate_invoke(r->g, &req);
}

enum rvm_err part_run_edge(struct part_run *r, uint32_t index)
{
	struct edge_step op = { .index = index, .from = r->from, .to = r->to };
	struct rvm_reshape_work *w = r->env->work;
	enum rvm_err e;

	op.faulted = part_run_fault(r) != RVM_OK;
	if ((e = edge_step(r, &op)) != RVM_OK)
		return e;
	if (w)
		w->edges[r->edges_done] = index | op.ends;
	r->edges_done++;
	return RVM_OK;
}

/* ---- undo ---- */

void part_run_undo(struct part_run *r)
{
	struct rvm_reshape_work *w = r->env->work;

	if (!w)
		return; /* nothing was recorded: the caller checked that no step can fail */
	while (r->edges_done > 0) {
		uint32_t x = w->edges[--r->edges_done];
		struct edge_step op = { .index = x & 0xffffu, .from = r->to, .to = r->from,
					.ends = x & (END_SRC | END_DST) };

		(void)edge_step(r, &op);
	}
	while (r->regions_done > 0)
		(void)rvm_region_transfer(r->env->regions, RVM_PARTITION_KERNEL,
					  w->regions[--r->regions_done], r->from);
	while (r->caps_done > 0) {
		const struct rvm_cap_move *m = &w->moves.m[--w->moves.n];
		struct cap_step op = { .r = r, .to = m->old_table, .exact = true,
				       .slot = rvm_handle_slot(m->old_handle) };

		op.ref = rvm_cap_ref(m->new_table, rvm_handle_slot(m->new_handle));
		(void)cap_step(&op);
		r->caps_done--;
	}
}
