/* kernel/gpu.c - GPU devices and contexts: registration, attach/detach, epochs, recovery,
 * invariants. */
#include <rvm/bytes.h>
#include <rvm/gpu.h>
#include <rvm/witness.h>

#include "gpu_priv.h"

void rvm_gpu_init(struct rvm_gpu_space *s, struct rvm_gate *gate, const struct rvm_platform *plat)
{
	rvm_memset(s, 0, sizeof(*s));
	rvm_memset(s->by_obj, 0xff, sizeof(s->by_obj));
	rvm_memset(s->by_part, 0xff, sizeof(s->by_part));
	s->gate = gate;
	s->plat = plat;
	s->epoch = 1;
}

/* ---- Shared helpers (gpu_priv.h) ---- */

struct rvm_gpu_obj *gpu_pool(struct rvm_gpu_space *s, uint8_t type, uint32_t *n)
{
	switch (type) {
	case RVM_OBJ_GPU_BUFFER:
		*n = RVM_GPU_BUFFERS;
		return s->bufs;
	case RVM_OBJ_GPU_QUEUE:
		*n = RVM_GPU_QUEUES;
		return s->queues;
	case RVM_OBJ_GPU_KERNEL:
		*n = RVM_GPU_KERNELS;
		return s->kernels;
	default:
		*n = 0;
		return NULL;
	}
}

uint32_t gpu_index(const struct rvm_gpu_space *s, uint8_t type, rvm_obj_id id)
{
	uint32_t rs = rvm_handle_slot(id), i, n;
	const struct rvm_gpu_obj *pool;

	if (id == RVM_OBJ_NULL || rs >= RVM_OBJ_SLOTS || s->by_obj[rs] == GPU_NONE)
		return GPU_NONE;
	i = s->by_obj[rs];
	switch (type) {
	case RVM_OBJ_GPU:
		return i < RVM_GPU_DEVICES && s->devices[i].used && s->devices[i].id == id
			       ? i
			       : GPU_NONE;
	case RVM_OBJ_GPU_CONTEXT:
		return i < RVM_GPU_CONTEXTS && s->ctxs[i].used && s->ctxs[i].id == id ? i
										      : GPU_NONE;
	default:
		pool = gpu_pool((struct rvm_gpu_space *)s, type, &n);
		return pool && i < n && pool[i].used && pool[i].id == id ? i : GPU_NONE;
	}
}

uint32_t gpu_free_slot(const struct rvm_gpu_obj *pool, uint32_t n)
{
	uint32_t i = 0;

	while (i < n && pool[i].used)
		i++;
	return i;
}

enum rvm_err gpu_find(const struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t cap, uint8_t type,
		      uint8_t rights, rvm_obj_id *obj, uint32_t *idx)
{
	const struct rvm_cap *c;
	enum rvm_err e = rvm_cap_resolve(s->gate->caps, caller, cap, &c);

	*obj = RVM_OBJ_NULL;
	*idx = GPU_NONE;
	if (e != RVM_OK)
		return e;
	*obj = c->object;
	if (c->type != type)
		return RVM_E_POLICY;
	if (rights && (e = rvm_proof_p1(c->rights, rights)) != RVM_OK)
		return e;
	*idx = gpu_index(s, type, c->object);
	return *idx == GPU_NONE ? RVM_E_STALE : RVM_OK;
}

void gpu_drop_caps(struct rvm_gpu_space *s, uint32_t table, uint8_t type, rvm_obj_id object)
{
	struct rvm_cap_space *cs = s->gate->caps;
	const struct rvm_cap_table *t = &cs->tables[table];

	for (uint32_t i = 0; i < t->hw; i++) {
		const struct rvm_cap *c = &t->slots[i];

		if (c->state == RVM_CAPS_LIVE && c->type == type && c->object == object)
			(void)rvm_cap_remove_subtree(cs, rvm_cap_ref(table, i), true);
	}
}

uint32_t gpu_table_room(const struct rvm_gpu_space *s, uint32_t table)
{
	const struct rvm_cap_table *t = &s->gate->caps->tables[table];

	return RVM_CAP_TABLE_SLOTS - t->live - t->retired;
}

void gpu_obj_release(struct rvm_gpu_space *s, uint8_t type, uint32_t idx)
{
	uint32_t n;
	struct rvm_gpu_obj *o = &gpu_pool(s, type, &n)[idx];
	struct rvm_gpu_context *cx = &s->ctxs[o->ctx];
	struct rvm_gpu_device *d = &s->devices[cx->device];

	if (type == RVM_OBJ_GPU_BUFFER) {
		d->be->buf_free(d->dev, o->handle);
		d->mem_used -= o->size;
		rvm_gpu_budget_release(&cx->budget, RVM_GPU_DIM_MEMORY, o->size);
	} else if (type == RVM_OBJ_GPU_QUEUE) {
		d->be->queue_free(d->dev, o->handle);
	} else {
		d->be->kernel_free(d->dev, o->handle);
		gpu_ksrc_drop(s, idx);
	}
	gpu_drop_caps(s, cx->owner, type, o->id);
	s->by_obj[rvm_handle_slot(o->id)] = GPU_NONE;
	(void)rvm_obj_destroy(s->gate->caps->objs, o->id); /* live: the pool entry is */
	rvm_memset(o, 0, sizeof(*o));
}

/* ---- Devices ---- */

struct dev_op {
	struct rvm_gpu_space *s;
	const struct rvm_gpu_backend *be;
	void *dev;
	struct rvm_gpu_limits lim;
	uint32_t index;
	rvm_obj_id id;
};

static void device_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct dev_op *op = ctx;
	struct rvm_gpu_device *d = &op->s->devices[op->index];

	(void)req;
	d->id = op->id;
	d->be = op->be;
	d->dev = op->dev;
	d->lim = op->lim;
	d->mem_used = 0;
	d->used = 1;
	op->s->by_obj[rvm_handle_slot(op->id)] = (uint16_t)op->index;
	args[0] = op->index;
	args[1] = op->lim.global_mem;
}

enum rvm_err rvm_gpu_device_add(struct rvm_gpu_space *s, const struct rvm_gpu_backend *be,
				void *dev, uint32_t *index)
{
	struct dev_op op = {.s = s, .be = be, .dev = dev, .index = RVM_GPU_DEVICES};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_ATTACH,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU,
				   .apply = device_apply,
				   .ctx = &op};
	enum rvm_err e;

	if (!s || !be || !index)
		return RVM_E_INVAL;
	for (uint32_t i = 0; i < RVM_GPU_DEVICES; i++)
		if (!s->devices[i].used) {
			op.index = i;
			break;
		}
	e = op.index == RVM_GPU_DEVICES ? RVM_E_NOMEM : be->limits(dev, &op.lim);
	if (e == RVM_OK && (op.lim.max_args > RVM_GPU_MAX_ARGS || op.lim.max_wg_size == 0))
		e = RVM_E_INVAL;
	if (e == RVM_OK)
		e = rvm_obj_create(s->gate->caps->objs, RVM_OBJ_GPU, &op.id);
	if (e != RVM_OK)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, 0, RVM_ACT_GPU_ATTACH, e);
	req.object = op.id;
	if ((e = rvm_gate_invoke(s->gate, &req)) != RVM_OK) {
		(void)rvm_obj_destroy(s->gate->caps->objs, op.id);
		return e;
	}
	*index = op.index;
	return RVM_OK;
}

/* ---- Contexts ---- */

struct attach_op {
	struct rvm_gpu_space *s;
	const uint64_t *limit;
	uint32_t partition, device, index;
	rvm_obj_id id;
};

static enum rvm_err attach_check(void *ctx, const struct rvm_gate_req *req,
				 const struct rvm_cap *cap)
{
	struct attach_op *op = ctx;

	(void)req;
	(void)cap;
	if (op->s->by_part[op->partition] != GPU_NONE)
		return RVM_E_EXISTS;
	if (op->device >= RVM_GPU_DEVICES || !op->s->devices[op->device].used)
		return RVM_E_NOTFOUND;
	if (gpu_table_room(op->s, op->partition) < 2)
		return RVM_E_NOMEM;
	/* GPU_ATTACH and two CAP_MINTs. */
	return rvm_witness_can_emit(op->s->gate->wlog, 3) ? RVM_OK : RVM_E_FULL;
}

static void attach_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct attach_op *op = ctx;
	struct rvm_gpu_context *cx = &op->s->ctxs[op->index];

	(void)req;
	rvm_memset(cx, 0, sizeof(*cx));
	cx->id = op->id;
	cx->owner = op->partition;
	cx->device = (uint16_t)op->device;
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		cx->budget.limit[d] = op->limit[d];
	cx->used = 1;
	op->s->by_obj[rvm_handle_slot(op->id)] = (uint16_t)op->index;
	op->s->by_part[op->partition] = (uint16_t)op->index;
	args[0] = op->partition;
	args[1] = op->device;
}

enum rvm_err rvm_gpu_attach(struct rvm_gpu_space *s, uint32_t partition, uint32_t index,
			    uint8_t dev_rights, const uint64_t limit[RVM_GPU_DIM_COUNT],
			    rvm_cap_t *dev_cap, rvm_cap_t *ctx_cap)
{
	struct attach_op op = {.s = s,
			       .limit = limit,
			       .partition = partition,
			       .device = index,
			       .index = RVM_GPU_CONTEXTS};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_ATTACH,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_CONTEXT,
				   .check = attach_check,
				   .apply = attach_apply,
				   .ctx = &op};
	enum rvm_err e = RVM_OK;

	if (!s || !limit || !dev_cap || !ctx_cap)
		return RVM_E_INVAL;
	if (partition == RVM_CAP_KERNEL_TABLE || partition >= RVM_CAP_TABLES ||
	    (dev_rights & ~RVM_RIGHTS_ALL))
		e = RVM_E_RANGE;
	for (uint32_t i = 0; e == RVM_OK && i < RVM_GPU_CONTEXTS; i++)
		if (!s->ctxs[i].used) {
			op.index = i;
			break;
		}
	if (e == RVM_OK && op.index == RVM_GPU_CONTEXTS)
		e = RVM_E_NOMEM;
	if (e == RVM_OK)
		e = rvm_obj_create(s->gate->caps->objs, RVM_OBJ_GPU_CONTEXT, &op.id);
	if (e != RVM_OK)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, partition,
				       RVM_ACT_GPU_ATTACH, e);
	req.object = op.id;
	if ((e = rvm_gate_invoke(s->gate, &req)) != RVM_OK) {
		(void)rvm_obj_destroy(s->gate->caps->objs, op.id);
		return e;
	}
	/* Room in the table and the log was checked: both mints succeed. */
	(void)rvm_cap_mint(s->gate, partition, RVM_OBJ_GPU, s->devices[index].id, dev_rights,
			   dev_cap);
	(void)rvm_cap_mint(s->gate, partition, RVM_OBJ_GPU_CONTEXT, op.id,
			   RVM_RIGHT_READ | RVM_RIGHT_WRITE, ctx_cap);
	s->ctxs[op.index].dev_cap = *dev_cap;
	s->ctxs[op.index].ctx_cap = *ctx_cap;
	return RVM_OK;
}

struct detach_op {
	struct rvm_gpu_space *s;
	uint32_t partition;
};

static void detach_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	static const uint8_t types[] = {RVM_OBJ_GPU_KERNEL, RVM_OBJ_GPU_QUEUE, RVM_OBJ_GPU_BUFFER};
	struct detach_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	uint32_t ci = s->by_part[op->partition], freed = 0;
	struct rvm_gpu_context *cx = &s->ctxs[ci];

	(void)req;
	for (unsigned t = 0; t < sizeof(types); t++) {
		uint32_t n;
		struct rvm_gpu_obj *pool = gpu_pool(s, types[t], &n);

		for (uint32_t i = 0; i < n; i++)
			if (pool[i].used && pool[i].ctx == ci) {
				gpu_obj_release(s, types[t], i);
				freed++;
			}
	}
	gpu_drop_caps(s, cx->owner, RVM_OBJ_GPU, s->devices[cx->device].id);
	gpu_drop_caps(s, cx->owner, RVM_OBJ_GPU_CONTEXT, cx->id);
	s->by_obj[rvm_handle_slot(cx->id)] = GPU_NONE;
	(void)rvm_obj_destroy(s->gate->caps->objs, cx->id);
	s->by_part[op->partition] = GPU_NONE;
	rvm_memset(cx, 0, sizeof(*cx));
	args[0] = op->partition;
	args[1] = freed;
}

enum rvm_err rvm_gpu_detach(struct rvm_gpu_space *s, uint32_t partition)
{
	struct detach_op op = {.s = s, .partition = partition};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_DETACH,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_CONTEXT,
				   .apply = detach_apply,
				   .ctx = &op};

	if (!s)
		return RVM_E_INVAL;
	if (partition >= RVM_CAP_TABLES || s->by_part[partition] == GPU_NONE)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, partition,
				       RVM_ACT_GPU_DETACH, RVM_E_NOTFOUND);
	if (s->ctxs[s->by_part[partition]].busy)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, partition,
				       RVM_ACT_GPU_DETACH, RVM_E_BUSY);
	req.object = s->ctxs[s->by_part[partition]].id;
	return rvm_gate_invoke(s->gate, &req);
}

const struct rvm_gpu_context *rvm_gpu_context_of(const struct rvm_gpu_space *s, uint32_t partition)
{
	if (!s || partition >= RVM_CAP_TABLES || s->by_part[partition] == GPU_NONE)
		return NULL;
	return &s->ctxs[s->by_part[partition]];
}

/* ---- Epochs and recovery ---- */

static void epoch_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct rvm_gpu_space *s = ctx;
	uint64_t n = 0;

	(void)req;
	for (uint32_t i = 0; i < RVM_GPU_CONTEXTS; i++)
		if (s->ctxs[i].used) {
			rvm_gpu_budget_epoch(&s->ctxs[i].budget);
			n++;
		}
	s->epoch++;
	args[0] = s->epoch;
	args[1] = n;
}

enum rvm_err rvm_gpu_epoch(struct rvm_gpu_space *s)
{
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_EPOCH,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU,
				   .apply = epoch_apply,
				   .ctx = s};

	if (!s)
		return RVM_E_INVAL;
	/* The epoch's batched launches are on record before it closes. */
	(void)rvm_witness_batch_flush(s->gate->wlog);
	return rvm_gate_invoke(s->gate, &req);
}

struct recover_op {
	struct rvm_gpu_space *s;
	uint32_t ci;
	enum rvm_err err; /* first queue reset that failed */
};

static enum rvm_err recover_check(void *ctx, const struct rvm_gate_req *req,
				  const struct rvm_cap *cap)
{
	struct recover_op *op = ctx;

	(void)req;
	(void)cap;
	if (op->s->ctxs[op->ci].busy)
		return RVM_E_BUSY;
	return op->s->ctxs[op->ci].faulted ? RVM_OK : RVM_E_STATE;
}

static void recover_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct recover_op *op = ctx;
	struct rvm_gpu_context *cx = &op->s->ctxs[op->ci];
	const struct rvm_gpu_device *d = &op->s->devices[cx->device];
	uint64_t n = 0;

	(void)req;
	for (uint32_t i = 0; i < RVM_GPU_QUEUES; i++) {
		struct rvm_gpu_obj *q = &op->s->queues[i];
		enum rvm_err e;

		if (!q->used || q->ctx != op->ci)
			continue;
		e = d->be->queue_reset(d->dev, q->handle);
		if (e != RVM_OK && op->err == RVM_OK)
			op->err = e;
		n++;
	}
	/* A queue that could not be reset keeps the context faulted. */
	cx->faulted = op->err == RVM_OK ? 0 : 1;
	args[0] = cx->owner;
	args[1] = n | (uint64_t)op->err << 32;
}

enum rvm_err rvm_gpu_recover(struct rvm_gpu_space *s, uint32_t partition)
{
	struct recover_op op = {.s = s};
	struct rvm_gate_req req = {.action = RVM_ACT_GPU_RECOVER,
				   .checks = RVM_GATE_KERNEL,
				   .obj_type = RVM_OBJ_GPU_CONTEXT,
				   .check = recover_check,
				   .apply = recover_apply,
				   .ctx = &op};
	enum rvm_err e;

	if (!s)
		return RVM_E_INVAL;
	if (partition >= RVM_CAP_TABLES || s->by_part[partition] == GPU_NONE)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, 0, partition,
				       RVM_ACT_GPU_RECOVER, RVM_E_NOTFOUND);
	op.ci = s->by_part[partition];
	req.object = s->ctxs[op.ci].id;
	e = rvm_gate_invoke(s->gate, &req);
	return e != RVM_OK ? e : op.err;
}

/* ---- Invariants ---- */

static enum rvm_err check_pool(const struct rvm_gpu_space *s, uint8_t type, uint64_t *mem)
{
	uint32_t n;
	const struct rvm_gpu_obj *pool = gpu_pool((struct rvm_gpu_space *)s, type, &n);

	for (uint32_t i = 0; i < n; i++) {
		const struct rvm_gpu_obj *o = &pool[i];

		if (!o->used)
			continue;
		if (o->ctx >= RVM_GPU_CONTEXTS || !s->ctxs[o->ctx].used || o->handle == 0 ||
		    gpu_index(s, type, o->id) != i ||
		    rvm_obj_lookup(s->gate->caps->objs, o->id, (enum rvm_obj_type)type) != RVM_OK)
			return RVM_E_CORRUPT;
		if (type == RVM_OBJ_GPU_BUFFER)
			mem[o->ctx] += o->size;
	}
	return RVM_OK;
}

enum rvm_err rvm_gpu_check_invariants(const struct rvm_gpu_space *s)
{
	uint64_t mem[RVM_GPU_CONTEXTS] = {0}, dev_mem[RVM_GPU_DEVICES] = {0}, ksrc = 0;
	static const uint8_t types[] = {RVM_OBJ_GPU_BUFFER, RVM_OBJ_GPU_QUEUE, RVM_OBJ_GPU_KERNEL};

	for (unsigned t = 0; t < sizeof(types); t++)
		if (check_pool(s, types[t], mem) != RVM_OK)
			return RVM_E_CORRUPT;
	/* Kept kernel sources: only live kernels have one, inside the store, adding up. */
	for (uint32_t i = 0; i < RVM_GPU_KERNELS; i++) {
		if (!s->ksrc_len[i])
			continue;
		if (!s->kernels[i].used || s->ksrc_off[i] > s->ksrc_used ||
		    s->ksrc_len[i] > s->ksrc_used - s->ksrc_off[i])
			return RVM_E_CORRUPT;
		ksrc += s->ksrc_len[i];
	}
	if (ksrc != s->ksrc_used || s->ksrc_used > RVM_GPU_KSRC_BYTES)
		return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < RVM_GPU_CONTEXTS; i++) {
		const struct rvm_gpu_context *cx = &s->ctxs[i];

		if (!cx->used) {
			if (mem[i])
				return RVM_E_CORRUPT;
			continue;
		}
		if (cx->owner >= RVM_CAP_TABLES || s->by_part[cx->owner] != i ||
		    cx->device >= RVM_GPU_DEVICES || !s->devices[cx->device].used ||
		    gpu_index(s, RVM_OBJ_GPU_CONTEXT, cx->id) != i ||
		    cx->budget.used[RVM_GPU_DIM_MEMORY] != mem[i])
			return RVM_E_CORRUPT;
		for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
			if (cx->budget.used[d] > cx->budget.limit[d])
				return RVM_E_CORRUPT;
		dev_mem[cx->device] += mem[i];
	}
	for (uint32_t i = 0; i < RVM_GPU_DEVICES; i++)
		if (s->devices[i].used && s->devices[i].mem_used != dev_mem[i])
			return RVM_E_CORRUPT;
	return RVM_OK;
}
