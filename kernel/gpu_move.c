/* kernel/gpu_move.c - GPU objects follow their owner: whole contexts (merge, migration) and buffers
 * (split). */
#include <rvm/bytes.h>
#include <rvm/gpu.h>
#include <rvm/witness.h>

#include "gpu_priv.h"

static bool is_gpu_type(uint8_t type)
{
	return type >= RVM_OBJ_GPU && type <= RVM_OBJ_GPU_KERNEL;
}

/* Does (type, object) belong to context ci (its device, itself, or one of its objects)? */
static bool belongs(const struct rvm_gpu_space *s, uint32_t ci, uint8_t type, rvm_obj_id object)
{
	const struct rvm_gpu_context *cx = &s->ctxs[ci];
	uint32_t i, n;

	if (type == RVM_OBJ_GPU)
		return object == s->devices[cx->device].id;
	if (type == RVM_OBJ_GPU_CONTEXT)
		return object == cx->id;
	i = gpu_index(s, type, object);
	return i != GPU_NONE && gpu_pool((struct rvm_gpu_space *)s, type, &n)[i].ctx == ci;
}

struct move_op {
	struct rvm_gpu_space *s;
	uint32_t from, to, ci, count;
	struct rvm_gpu_handle_map *map;
	uint32_t cap;
};

static enum rvm_err move_check(void *ctx, const struct rvm_gate_req *req, const struct rvm_cap *cap)
{
	struct move_op *op = ctx;
	const struct rvm_cap_table *t = &op->s->gate->caps->tables[op->from];

	(void)req;
	(void)cap;
	if (op->s->by_part[op->to] != GPU_NONE)
		return RVM_E_EXISTS;
	if (op->s->ctxs[op->ci].busy)
		return RVM_E_BUSY;
	op->count = 0;
	for (uint32_t i = 0; i < t->hw; i++) {
		const struct rvm_cap *c = &t->slots[i];

		if (c->state == RVM_CAPS_LIVE && is_gpu_type(c->type) &&
		    belongs(op->s, op->ci, c->type, c->object))
			op->count++;
	}
	if (gpu_table_room(op->s, op->to) < op->count)
		return RVM_E_NOMEM;
	if (op->map && op->cap < op->count)
		return RVM_E_RANGE;
	return RVM_OK;
}

static void move_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct move_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	struct rvm_cap_space *cs = s->gate->caps;
	const struct rvm_cap_table *t = &cs->tables[op->from];
	uint32_t k = 0;

	(void)req;
	/* New roots in to's table first, while from's caps still say what to copy. */
	for (uint32_t i = 0; i < t->hw; i++) {
		const struct rvm_cap *c = &t->slots[i];
		uint32_t ref;

		if (c->state != RVM_CAPS_LIVE || !is_gpu_type(c->type) ||
		    !belongs(s, op->ci, c->type, c->object))
			continue;
		struct rvm_gpu_context *cx = &s->ctxs[op->ci];
		rvm_cap_t old, new;

		ref = rvm_cap_insert(cs, op->to, RVM_CAP_NIL, c->type, c->object,
				     (uint8_t)(c->rights & ~RVM_RIGHT_GRANT_ONCE));
		old = rvm_cap_handle_of(cs, rvm_cap_ref(op->from, i));
		new = rvm_cap_handle_of(cs, ref);
		if (op->map) {
			op->map[k].from = old;
			op->map[k].to = new;
		}
		/* The context keeps naming the caps its owner reaches it by (rvm.gpu_open). */
		if (old == cx->dev_cap)
			cx->dev_cap = new;
		else if (old == cx->ctx_cap)
			cx->ctx_cap = new;
		k++;
	}
	for (uint32_t i = 0; i < t->hw; i++) {
		const struct rvm_cap *c = &t->slots[i];

		if (c->state == RVM_CAPS_LIVE && is_gpu_type(c->type) &&
		    belongs(s, op->ci, c->type, c->object))
			(void)rvm_cap_remove_subtree(cs, rvm_cap_ref(op->from, i), true);
	}
	s->ctxs[op->ci].owner = op->to;
	s->by_part[op->to] = (uint16_t)op->ci;
	s->by_part[op->from] = GPU_NONE;
	op->count = k;
	args[0] = op->from;
	args[1] = op->to;
}

enum rvm_err rvm_gpu_move_owner(struct rvm_gpu_space *s, uint32_t from, uint32_t to,
				struct rvm_gpu_handle_map *map, uint32_t cap, uint32_t *n)
{
	struct move_op op = {.s = s, .from = from, .to = to, .map = map, .cap = cap};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_MOVE,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_CONTEXT,
				   .check = move_check,
				   .apply = move_apply,
				   .ctx = &op};
	enum rvm_err e;

	if (!s)
		return RVM_E_INVAL;
	if (from >= RVM_CAP_TABLES || to >= RVM_CAP_TABLES || to == RVM_CAP_KERNEL_TABLE ||
	    from == to)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE,
				       RVM_E_RANGE);
	if (s->by_part[from] == GPU_NONE)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE,
				       RVM_E_NOTFOUND);
	op.ci = s->by_part[from];
	req.object = s->ctxs[op.ci].id;
	e = rvm_gate_invoke(s->gate, &req);
	if (e == RVM_OK && n)
		*n = op.count;
	return e;
}

struct movebuf_op {
	struct rvm_gpu_space *s;
	uint32_t from, to, bi, src_ci, dst_ci;
	rvm_cap_t buf, out;
	uint64_t cost[RVM_GPU_DIM_COUNT];
	bool charged;
};

static enum rvm_err movebuf_check(void *ctx, const struct rvm_gate_req *req,
				  const struct rvm_cap *cap)
{
	struct movebuf_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	rvm_obj_id id;
	enum rvm_err e = gpu_find(s, op->from, op->buf, RVM_OBJ_GPU_BUFFER, 0, &id, &op->bi);

	(void)req;
	(void)cap;
	if (e != RVM_OK)
		return e;
	op->src_ci = s->bufs[op->bi].ctx;
	if (s->ctxs[op->src_ci].owner != op->from)
		return RVM_E_PERM;
	if (s->by_part[op->to] == GPU_NONE)
		return RVM_E_NOTFOUND;
	op->dst_ci = s->by_part[op->to];
	if (s->ctxs[op->dst_ci].device != s->ctxs[op->src_ci].device)
		return RVM_E_POLICY;
	if (s->ctxs[op->src_ci].busy || s->ctxs[op->dst_ci].busy)
		return RVM_E_BUSY;
	if (gpu_table_room(s, op->to) < 1)
		return RVM_E_NOMEM;
	op->cost[RVM_GPU_DIM_MEMORY] = s->bufs[op->bi].size;
	/* Last: the charge is recorded only when everything else passed. */
	e = rvm_gpu_budget_charge(&s->ctxs[op->dst_ci].budget, op->cost);
	op->charged = e == RVM_OK;
	return e;
}

static void movebuf_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct movebuf_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	struct rvm_gpu_obj *b = &s->bufs[op->bi];
	uint32_t ref;

	(void)req;
	rvm_gpu_budget_release(&s->ctxs[op->src_ci].budget, RVM_GPU_DIM_MEMORY, b->size);
	gpu_drop_caps(s, op->from, RVM_OBJ_GPU_BUFFER, b->id);
	b->ctx = (uint16_t)op->dst_ci;
	ref = rvm_cap_insert(s->gate->caps, op->to, RVM_CAP_NIL, RVM_OBJ_GPU_BUFFER, b->id,
			     RVM_GPU_BUF_RIGHTS);
	op->out = rvm_cap_handle_of(s->gate->caps, ref);
	args[0] = op->from;
	args[1] = op->to;
}

enum rvm_err rvm_gpu_move_buffer(struct rvm_gpu_space *s, uint32_t from, rvm_cap_t buf, uint32_t to,
				 rvm_cap_t *new_cap)
{
	struct movebuf_op op = {.s = s, .from = from, .to = to, .buf = buf};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_MOVE,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_BUFFER,
				   .check = movebuf_check,
				   .apply = movebuf_apply,
				   .ctx = &op};
	const struct rvm_cap *c;
	enum rvm_err e;

	if (!s || !new_cap)
		return RVM_E_INVAL;
	if (from >= RVM_CAP_TABLES || to >= RVM_CAP_TABLES || to == RVM_CAP_KERNEL_TABLE ||
	    from == to)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE,
				       RVM_E_RANGE);
	if (rvm_cap_resolve(s->gate->caps, from, buf, &c) == RVM_OK)
		req.object = c->object;
	e = rvm_gate_authorize(s->gate, &req);
	if (e != RVM_OK) {
		/* A refusal after the charge (a full log) gives it back. */
		if (op.charged)
			rvm_gpu_budget_release(&s->ctxs[op.dst_ci].budget, RVM_GPU_DIM_MEMORY,
					       op.cost[RVM_GPU_DIM_MEMORY]);
		return e;
	}
	rvm_gate_commit(s->gate, &req);
	*new_cap = op.out;
	return RVM_OK;
}
