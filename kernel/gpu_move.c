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

/* ---- Following a swarm split or merge (the partition layer moved the caps already) ---- */

/* The rights of cap in table's slot, 0 when it does not resolve. */
static uint8_t cap_rights(const struct rvm_gpu_space *s, uint32_t table, rvm_cap_t cap)
{
	const struct rvm_cap *c;

	return rvm_cap_resolve(s->gate->caps, table, cap, &c) == RVM_OK ? c->rights : 0;
}

/* x * num / den rounded down, without overflow (num <= den < 2^32). */
static uint64_t share(uint64_t x, uint32_t num, uint32_t den)
{
	return x / den * num + x % den * num / den;
}

/* Registry slots still free. */
static uint32_t objs_room(const struct rvm_gpu_space *s)
{
	const struct rvm_obj_table *t = s->gate->caps->objs;

	return RVM_OBJ_SLOTS - t->live - t->retired;
}

enum rvm_err rvm_gpu_split_check(const struct rvm_gpu_space *s, uint32_t from, uint32_t spare)
{
	uint32_t ci, i = 0;

	if (!s || from >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	if ((ci = s->by_part[from]) == GPU_NONE)
		return RVM_OK; /* nothing to follow */
	if (s->ctxs[ci].busy)
		return RVM_E_BUSY;
	if (s->ctxs[ci].faulted)
		return RVM_E_STATE;
	while (i < RVM_GPU_CONTEXTS && s->ctxs[i].used)
		i++;
	if (i == RVM_GPU_CONTEXTS || objs_room(s) < 1u + spare)
		return RVM_E_NOMEM;
	/* GPU_MOVE and two CAP_MINTs. */
	return rvm_witness_can_emit(s->gate->wlog, 3) ? RVM_OK : RVM_E_FULL;
}

struct follow_op {
	struct rvm_gpu_space *s;
	uint32_t from, to, src, dst; /* partitions, then their context indices */
	uint32_t num, den;
	rvm_obj_id id; /* the new context */
	uint64_t moved_mem; /* split: bytes of the buffers that moved */
	uint32_t moved;	    /* objects that moved */
};

/*
 * Counts the GPU objects of context ci that caps in table name (each once when apply); with
 * apply, moves them to context op->dst and sums the bytes of the buffers among them.
 */
static uint32_t named_objects(struct follow_op *op, uint32_t table, uint32_t ci, bool apply)
{
	static const uint8_t types[] = {RVM_OBJ_GPU_BUFFER, RVM_OBJ_GPU_QUEUE, RVM_OBJ_GPU_KERNEL};
	struct rvm_gpu_space *s = op->s;
	const struct rvm_cap_table *t = &s->gate->caps->tables[table];
	uint32_t n = 0;

	for (unsigned k = 0; k < sizeof(types); k++) {
		uint32_t pn;
		struct rvm_gpu_obj *pool = gpu_pool(s, types[k], &pn);

		for (uint32_t i = 0; i < t->hw; i++) {
			const struct rvm_cap *c = &t->slots[i];
			uint32_t j;

			if (c->state != RVM_CAPS_LIVE || c->type != types[k])
				continue;
			j = gpu_index(s, types[k], c->object);
			if (j == GPU_NONE || pool[j].ctx != ci)
				continue;
			n++;
			if (!apply)
				continue;
			pool[j].ctx = (uint16_t)op->dst; /* a second cap to it finds it moved */
			if (types[k] == RVM_OBJ_GPU_BUFFER)
				op->moved_mem += pool[j].size;
		}
	}
	return n;
}

static enum rvm_err split_follow_check(void *ctx, const struct rvm_gate_req *req,
				       const struct rvm_cap *cap)
{
	struct follow_op *op = ctx;

	(void)req;
	(void)cap;
	if (op->s->by_part[op->to] != GPU_NONE)
		return RVM_E_EXISTS;
	if (gpu_table_room(op->s, op->to) < 2)
		return RVM_E_NOMEM;
	return rvm_witness_can_emit(op->s->gate->wlog, 3) ? RVM_OK : RVM_E_FULL;
}

/*
 * The new context takes the objects its partition's caps name and a share num/den of the
 * old one's limits and of its per-epoch use. Memory is exact (the bytes that moved); its limit
 * is the share, but at least what moved and at most what the old context does not hold.
 */
static void split_follow_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct follow_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	struct rvm_gpu_context *src = &s->ctxs[op->src], *dst = &s->ctxs[op->dst];

	(void)req;
	rvm_memset(dst, 0, sizeof(*dst));
	dst->id = op->id;
	dst->owner = op->to;
	dst->device = src->device;
	dst->used = 1;
	op->moved = named_objects(op, op->to, op->src, true);
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++) {
		uint64_t lim = src->budget.limit[d], used = src->budget.used[d], q, qu;

		if (d == RVM_GPU_DIM_MEMORY) {
			qu = op->moved_mem;
			q = share(lim, op->num, op->den);
			q = q < qu ? qu : q;
			q = q > lim - (used - qu) ? lim - (used - qu) : q;
		} else {
			/* x - share(x) grows with x: the old side stays within its limit too. */
			qu = share(used, op->num, op->den);
			q = share(lim, op->num, op->den);
		}
		dst->budget.limit[d] = q;
		dst->budget.used[d] = qu;
		src->budget.limit[d] = lim - q;
		src->budget.used[d] = used - qu;
	}
	s->by_obj[rvm_handle_slot(op->id)] = (uint16_t)op->dst;
	s->by_part[op->to] = (uint16_t)op->dst;
	args[0] = op->from;
	args[1] = op->to;
}

enum rvm_err rvm_gpu_follow_split(struct rvm_gpu_space *s, uint32_t from, uint32_t to,
				  uint32_t num, uint32_t den, uint32_t *moved)
{
	struct follow_op op = {.s = s, .from = from, .to = to, .num = num, .den = den};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_MOVE,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_CONTEXT,
				   .check = split_follow_check,
				   .apply = split_follow_apply,
				   .ctx = &op};
	struct rvm_gpu_context *dst;
	uint32_t i = 0;
	enum rvm_err e = RVM_OK;

	if (!s)
		return RVM_E_INVAL;
	if (from >= RVM_CAP_TABLES || to >= RVM_CAP_TABLES || to == RVM_CAP_KERNEL_TABLE ||
	    from == to || num > den || den == 0)
		e = RVM_E_RANGE;
	else if ((op.src = s->by_part[from]) == GPU_NONE)
		e = RVM_E_NOTFOUND;
	else if (s->ctxs[op.src].busy)
		e = RVM_E_BUSY;
	while (e == RVM_OK && i < RVM_GPU_CONTEXTS && s->ctxs[i].used)
		i++;
	if (e == RVM_OK && i == RVM_GPU_CONTEXTS)
		e = RVM_E_NOMEM;
	op.dst = i;
	if (e == RVM_OK)
		e = rvm_obj_create(s->gate->caps->objs, RVM_OBJ_GPU_CONTEXT, &op.id);
	if (e != RVM_OK)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE, e);
	req.object = op.id;
	if ((e = rvm_gate_invoke(s->gate, &req)) != RVM_OK) {
		(void)rvm_obj_destroy(s->gate->caps->objs, op.id);
		return e;
	}
	/* Room in the table and the log was checked: both mints succeed. */
	dst = &s->ctxs[op.dst];
	(void)rvm_cap_mint(s->gate, to, RVM_OBJ_GPU, s->devices[dst->device].id,
			   (uint8_t)(cap_rights(s, from, s->ctxs[op.src].dev_cap) &
				     ~RVM_RIGHT_GRANT_ONCE),
			   &dst->dev_cap);
	(void)rvm_cap_mint(s->gate, to, RVM_OBJ_GPU_CONTEXT, op.id,
			   RVM_RIGHT_READ | RVM_RIGHT_WRITE, &dst->ctx_cap);
	if (moved)
		*moved = op.moved;
	return RVM_OK;
}

/* The first live cap of table naming (type, object), as a handle, or RVM_CAP_NULL. */
static rvm_cap_t find_cap(const struct rvm_gpu_space *s, uint32_t table, uint8_t type,
			  rvm_obj_id object)
{
	const struct rvm_cap_table *t = &s->gate->caps->tables[table];

	for (uint32_t i = 0; i < t->hw; i++)
		if (t->slots[i].state == RVM_CAPS_LIVE && t->slots[i].type == type &&
		    t->slots[i].object == object)
			return rvm_cap_handle_of(s->gate->caps, rvm_cap_ref(table, i));
	return RVM_CAP_NULL;
}

/* Can from's context join into's? Device rights are compared while both tables hold their caps. */
static enum rvm_err merge_ok(const struct rvm_gpu_space *s, uint32_t from, uint32_t into,
			     bool rights)
{
	const struct rvm_gpu_context *a, *b;

	if (s->by_part[from] == GPU_NONE)
		return RVM_OK;
	a = &s->ctxs[s->by_part[from]];
	if (a->busy)
		return RVM_E_BUSY;
	if (s->by_part[into] == GPU_NONE)
		return RVM_OK;
	b = &s->ctxs[s->by_part[into]];
	if (b->busy)
		return RVM_E_BUSY;
	/* One context per partition: on one device, with one device grant, both healthy. */
	if (a->device != b->device ||
	    (rights && cap_rights(s, from, a->dev_cap) != cap_rights(s, into, b->dev_cap)))
		return RVM_E_POLICY;
	return a->faulted || b->faulted ? RVM_E_STATE : RVM_OK;
}

enum rvm_err rvm_gpu_merge_check(const struct rvm_gpu_space *s, uint32_t from, uint32_t into)
{
	if (!s || from >= RVM_CAP_TABLES || into >= RVM_CAP_TABLES || from == into)
		return RVM_E_INVAL;
	return merge_ok(s, from, into, true);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* from's context (its caps now in into's table) becomes into's, or joins into's context. */
static void merge_follow_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct follow_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	struct rvm_gpu_context *src = &s->ctxs[op->src], *dst;

	(void)req;
	s->by_part[op->from] = GPU_NONE;
	args[0] = op->from;
	args[1] = op->to;
	if (op->dst == GPU_NONE) {
		src->owner = op->to;
		s->by_part[op->to] = (uint16_t)op->src;
		src->dev_cap = find_cap(s, op->to, RVM_OBJ_GPU, s->devices[src->device].id);
		src->ctx_cap = find_cap(s, op->to, RVM_OBJ_GPU_CONTEXT, src->id);
		return;
	}
	dst = &s->ctxs[op->dst];
	/* Every object of from's context joins into's (their caps are in into's table now). */
	for (uint32_t i = 0; i < RVM_GPU_BUFFERS; i++)
		if (s->bufs[i].used && s->bufs[i].ctx == op->src)
			s->bufs[i].ctx = (uint16_t)op->dst, op->moved++;
	for (uint32_t i = 0; i < RVM_GPU_QUEUES; i++)
		if (s->queues[i].used && s->queues[i].ctx == op->src)
			s->queues[i].ctx = (uint16_t)op->dst, op->moved++;
	for (uint32_t i = 0; i < RVM_GPU_KERNELS; i++)
		if (s->kernels[i].used && s->kernels[i].ctx == op->src)
			s->kernels[i].ctx = (uint16_t)op->dst, op->moved++;
	/* Both stayed within their limits, so the sums stay within the summed limits. */
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++) {
		dst->budget.limit[d] = sat_add(dst->budget.limit[d], src->budget.limit[d]);
		dst->budget.used[d] = sat_add(dst->budget.used[d], src->budget.used[d]);
	}
	dst->overrun_ns = sat_add(dst->overrun_ns, src->overrun_ns);
	/* from's context and its caps go; the partition keeps one device cap, into's. */
	gpu_drop_caps(s, op->to, RVM_OBJ_GPU_CONTEXT, src->id);
	{
		const struct rvm_cap_table *t = &s->gate->caps->tables[op->to];

		for (uint32_t i = 0; i < t->hw; i++) {
			const struct rvm_cap *c = &t->slots[i];
			uint32_t ref = rvm_cap_ref(op->to, i);

			if (c->state == RVM_CAPS_LIVE && c->type == RVM_OBJ_GPU &&
			    c->object == s->devices[dst->device].id &&
			    rvm_cap_handle_of(s->gate->caps, ref) != dst->dev_cap)
				(void)rvm_cap_remove_subtree(s->gate->caps, ref, true);
		}
	}
	s->by_obj[rvm_handle_slot(src->id)] = GPU_NONE;
	(void)rvm_obj_destroy(s->gate->caps->objs, src->id);
	rvm_memset(src, 0, sizeof(*src));
}

enum rvm_err rvm_gpu_follow_merge(struct rvm_gpu_space *s, uint32_t from, uint32_t into)
{
	struct follow_op op = {.s = s, .from = from, .to = into, .dst = GPU_NONE};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_MOVE,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_CONTEXT,
				   .apply = merge_follow_apply,
				   .ctx = &op};
	enum rvm_err e;

	if (!s)
		return RVM_E_INVAL;
	if (from >= RVM_CAP_TABLES || into >= RVM_CAP_TABLES || from == into ||
	    into == RVM_CAP_KERNEL_TABLE)
		e = RVM_E_RANGE;
	else
		e = merge_ok(s, from, into, false);
	if (e == RVM_OK && s->by_part[from] == GPU_NONE)
		return RVM_OK; /* nothing to follow */
	if (e != RVM_OK)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, from, RVM_ACT_GPU_MOVE, e);
	op.src = s->by_part[from];
	op.dst = s->by_part[into];
	req.object = s->ctxs[op.src].id;
	return rvm_gate_invoke(s->gate, &req);
}
