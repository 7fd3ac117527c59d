/* kernel/gpu_ops.c - what agents do with the GPU: alloc, free, transfer, queue, kernel, launch. */
#include <rvm/bytes.h>
#include <rvm/gpu.h>
#include <rvm/witness.h>

#include "gpu_priv.h"

/*
 * One operation on its way through the gate. The gate's check runs, in
 * order: the object the primary cap names is ours and the caller's, the
 * context is healthy, the operation's own checks (more), room for every
 * witness record the operation writes, the budget charge (check-and-record
 * in one step), then act: the backend call that may still fail (a failure
 * gives the charge back and is witnessed as a refusal). After that nothing
 * can fail: apply does the bookkeeping and the gate witnesses it.
 */
struct gpu_op {
	struct rvm_gpu_space *s;
	uint32_t caller;
	uint8_t type;	       /* of the object the primary cap names */
	uint32_t idx;	       /* its pool index */
	rvm_obj_id obj;	       /* its id */
	enum rvm_err find_err; /* looking it up */
	uint32_t ci;	       /* the context it belongs to */
	uint32_t witnesses;    /* records the operation writes on success */
	uint64_t cost[RVM_GPU_DIM_COUNT];
	bool charged;
	enum rvm_err (*more)(struct gpu_op *op);
	enum rvm_err (*act)(struct gpu_op *op);
	void (*undo)(struct gpu_op *op); /* reverses act if the gate refuses after it */
	bool acted;
	/* per operation */
	uint64_t size, off, handle;
	bool write;
	bool ckpt; /* a transfer of the kernel's checkpoints: not charged */
	uint32_t slot;
	rvm_obj_id new_id;
	const void *src;
	void *dst;
	const char *name;
	size_t src_len;
	const struct rvm_gpu_launch_req *lreq;
	struct rvm_gpu_arg bargs[RVM_GPU_MAX_ARGS];
	uint64_t threads, timeout, elapsed;
	uint64_t qh, kh; /* backend queue and kernel */
	uint32_t kidx;
	struct rvm_gpu_run run;
	enum rvm_err run_err;
};

static struct rvm_gpu_device *op_device(struct gpu_op *op)
{
	return &op->s->devices[op->s->ctxs[op->ci].device];
}

static void refund(struct rvm_gpu_budget *b, const uint64_t cost[RVM_GPU_DIM_COUNT])
{
	for (unsigned d = 0; d < RVM_GPU_DIM_COUNT; d++)
		rvm_gpu_budget_release(b, (enum rvm_gpu_dim)d, cost[d]);
}

static enum rvm_err op_check(void *ctx, const struct rvm_gate_req *req, const struct rvm_cap *cap)
{
	struct gpu_op *op = ctx;
	struct rvm_gpu_space *s = op->s;
	struct rvm_gpu_context *cx;
	uint32_t n;
	enum rvm_err e;

	(void)req;
	(void)cap;
	if (op->find_err != RVM_OK)
		return op->find_err;
	if (op->type == RVM_OBJ_GPU_CONTEXT)
		op->ci = op->idx;
	else if (op->type == RVM_OBJ_GPU)
		op->ci = s->by_part[op->caller];
	else
		op->ci = gpu_pool(s, op->type, &n)[op->idx].ctx;
	if (op->ci == GPU_NONE)
		return RVM_E_NOTFOUND; /* a device cap, but no context on it */
	cx = &s->ctxs[op->ci];
	/* Never visible across partitions, whatever cap is presented. */
	if (cx->owner != op->caller)
		return RVM_E_PERM;
	if (op->type == RVM_OBJ_GPU && s->devices[cx->device].id != op->obj)
		return RVM_E_POLICY;
	if (cx->faulted)
		return RVM_E_STATE;
	if (cx->busy)
		return RVM_E_BUSY;
	if (op->more && (e = op->more(op)) != RVM_OK)
		return e;
	if (!rvm_witness_can_emit(s->gate->wlog, op->witnesses))
		return RVM_E_FULL;
	if ((e = rvm_gpu_budget_charge(&cx->budget, op->cost)) != RVM_OK)
		return e;
	op->charged = true;
	if (op->act && (e = op->act(op)) != RVM_OK) {
		refund(&cx->budget, op->cost);
		op->charged = false;
		return e;
	}
	op->acted = true;
	return RVM_OK;
}

/* The gate with op_check; a refusal after the charge or the act undoes both. */
static enum rvm_err op_run(struct gpu_op *op, uint16_t action, rvm_cap_t cap, uint8_t rights,
			   rvm_gate_apply_fn *apply)
{
	struct rvm_gate_req req = {.action = action,
				   .checks = RVM_GATE_OWNER,
				   .caller = op->caller,
				   .cap = cap,
				   .rights = rights,
				   .obj_type = op->type,
				   .owner = RVM_OWNER_NONE,
				   .check = op_check,
				   .apply = apply,
				   .ctx = op};
	enum rvm_err e;

	op->find_err = gpu_find(op->s, op->caller, cap, op->type, 0, &op->obj, &op->idx);
	req.object = op->obj;
	e = rvm_gate_authorize(op->s->gate, &req);
	if (e != RVM_OK) {
		if (op->acted && op->undo)
			op->undo(op);
		if (op->charged)
			refund(&op->s->ctxs[op->ci].budget, op->cost);
		return e;
	}
	rvm_gate_commit(op->s->gate, &req);
	return RVM_OK;
}

static bool caller_ok(const struct rvm_gpu_space *s, uint32_t caller)
{
	return s && caller != RVM_CAP_KERNEL_TABLE && caller < RVM_CAP_TABLES;
}

/* ---- alloc ---- */

static enum rvm_err alloc_more(struct gpu_op *op)
{
	const struct rvm_gpu_device *d = op_device(op);

	if (op->size == 0 || op->size > d->lim.max_alloc)
		return RVM_E_RANGE;
	if (op->size > d->lim.global_mem - d->mem_used)
		return RVM_E_NOMEM;
	op->slot = gpu_free_slot(op->s->bufs, RVM_GPU_BUFFERS);
	if (op->slot == RVM_GPU_BUFFERS || gpu_table_room(op->s, op->caller) < 1)
		return RVM_E_NOMEM;
	return RVM_OK;
}

static enum rvm_err alloc_act(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);
	enum rvm_err e = rvm_obj_create(op->s->gate->caps->objs, RVM_OBJ_GPU_BUFFER, &op->new_id);

	if (e == RVM_OK && (e = d->be->buf_alloc(d->dev, op->size, &op->handle)) != RVM_OK)
		(void)rvm_obj_destroy(op->s->gate->caps->objs, op->new_id);
	return e;
}

static void alloc_undo(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);

	d->be->buf_free(d->dev, op->handle);
	(void)rvm_obj_destroy(op->s->gate->caps->objs, op->new_id);
}

/* Files the new object of pool type at op->slot. */
static void file_obj(struct gpu_op *op, uint8_t type)
{
	uint32_t n;
	struct rvm_gpu_obj *o = &gpu_pool(op->s, type, &n)[op->slot];

	o->id = op->new_id;
	o->handle = op->handle;
	o->size = op->size;
	o->ctx = (uint16_t)op->ci;
	o->used = 1;
	op->s->by_obj[rvm_handle_slot(op->new_id)] = (uint16_t)op->slot;
}

static void alloc_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct gpu_op *op = ctx;

	(void)req;
	file_obj(op, RVM_OBJ_GPU_BUFFER);
	op_device(op)->mem_used += op->size;
	args[0] = op->new_id;
	args[1] = op->size;
}

enum rvm_err rvm_gpu_alloc(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t ctx_cap,
			   uint64_t size, rvm_cap_t *buf)
{
	struct gpu_op op = {.s = s,
			    .caller = caller,
			    .type = RVM_OBJ_GPU_CONTEXT,
			    .witnesses = 2,
			    .size = size,
			    .more = alloc_more,
			    .act = alloc_act,
			    .undo = alloc_undo};
	enum rvm_err e;

	if (!caller_ok(s, caller) || !buf)
		return RVM_E_INVAL;
	op.cost[RVM_GPU_DIM_MEMORY] = size;
	if ((e = op_run(&op, RVM_ACT_GPU_ALLOC, ctx_cap, RVM_GPU_CTX_RIGHTS, alloc_apply)) !=
	    RVM_OK)
		return e;
	/* Room in the table and the log was checked. */
	return rvm_cap_mint(s->gate, caller, RVM_OBJ_GPU_BUFFER, op.new_id, RVM_GPU_BUF_RIGHTS,
			    buf);
}

/* ---- queues and kernels ---- */

static enum rvm_err pool_more(struct gpu_op *op, struct rvm_gpu_obj *pool, uint32_t n)
{
	op->slot = gpu_free_slot(pool, n);
	if (op->slot == n || gpu_table_room(op->s, op->caller) < 1)
		return RVM_E_NOMEM;
	return RVM_OK;
}

static enum rvm_err queue_more(struct gpu_op *op)
{
	return pool_more(op, op->s->queues, RVM_GPU_QUEUES);
}

static enum rvm_err queue_act(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);
	enum rvm_err e = rvm_obj_create(op->s->gate->caps->objs, RVM_OBJ_GPU_QUEUE, &op->new_id);

	if (e == RVM_OK && (e = d->be->queue_create(d->dev, &op->handle)) != RVM_OK)
		(void)rvm_obj_destroy(op->s->gate->caps->objs, op->new_id);
	return e;
}

static void queue_undo(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);

	d->be->queue_free(d->dev, op->handle);
	(void)rvm_obj_destroy(op->s->gate->caps->objs, op->new_id);
}

static void queue_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct gpu_op *op = ctx;

	(void)req;
	file_obj(op, RVM_OBJ_GPU_QUEUE);
	args[0] = op->new_id;
	args[1] = 0;
}

enum rvm_err rvm_gpu_queue(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t ctx_cap,
			   rvm_cap_t *queue)
{
	struct gpu_op op = {.s = s,
			    .caller = caller,
			    .type = RVM_OBJ_GPU_CONTEXT,
			    .witnesses = 2,
			    .more = queue_more,
			    .act = queue_act,
			    .undo = queue_undo};
	enum rvm_err e;

	if (!caller_ok(s, caller) || !queue)
		return RVM_E_INVAL;
	if ((e = op_run(&op, RVM_ACT_GPU_QUEUE, ctx_cap, RVM_GPU_CTX_RIGHTS, queue_apply)) !=
	    RVM_OK)
		return e;
	return rvm_cap_mint(s->gate, caller, RVM_OBJ_GPU_QUEUE, op.new_id,
			    RVM_RIGHT_READ | RVM_RIGHT_WRITE, queue);
}

static enum rvm_err kernel_more(struct gpu_op *op)
{
	if (!op->src || op->src_len == 0 || !op->name || !op->name[0])
		return RVM_E_INVAL;
	return pool_more(op, op->s->kernels, RVM_GPU_KERNELS);
}

static enum rvm_err kernel_act(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);
	enum rvm_err e = rvm_obj_create(op->s->gate->caps->objs, RVM_OBJ_GPU_KERNEL, &op->new_id);

	if (e == RVM_OK &&
	    (e = d->be->kernel_load(d->dev, op->src, op->src_len, op->name, &op->handle)) != RVM_OK)
		(void)rvm_obj_destroy(op->s->gate->caps->objs, op->new_id);
	return e;
}

static void kernel_undo(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);

	d->be->kernel_free(d->dev, op->handle);
	(void)rvm_obj_destroy(op->s->gate->caps->objs, op->new_id);
}

/* Keeps what kernel idx is built from (name, NUL, source) if the store has room: a restore may
 * need to build it again after its agent freed it. */
static void ksrc_keep(struct rvm_gpu_space *s, uint32_t idx, const char *name, const void *src,
		      size_t src_len)
{
	size_t nl = rvm_strlen(name), room = RVM_GPU_KSRC_BYTES - s->ksrc_used;

	s->ksrc_off[idx] = s->ksrc_used;
	s->ksrc_len[idx] = 0;
	if (src_len > room || nl + 1 > room - src_len)
		return;
	rvm_memcpy(s->ksrc + s->ksrc_used, name, nl + 1);
	rvm_memcpy(s->ksrc + s->ksrc_used + nl + 1, src, src_len);
	s->ksrc_len[idx] = (uint32_t)(nl + 1 + src_len);
	s->ksrc_used += s->ksrc_len[idx];
}

void gpu_ksrc_drop(struct rvm_gpu_space *s, uint32_t idx)
{
	uint32_t off = s->ksrc_off[idx], len = s->ksrc_len[idx];

	s->ksrc_off[idx] = s->ksrc_len[idx] = 0;
	if (!len)
		return;
	rvm_memmove(s->ksrc + off, s->ksrc + off + len, s->ksrc_used - off - len);
	s->ksrc_used -= len;
	for (uint32_t i = 0; i < RVM_GPU_KERNELS; i++)
		if (s->ksrc_len[i] && s->ksrc_off[i] > off)
			s->ksrc_off[i] -= len;
}

enum rvm_err rvm_gpu_kernel_source(const struct rvm_gpu_space *s, rvm_obj_id kernel,
				   const uint8_t **rec, uint32_t *len)
{
	uint32_t i = gpu_index(s, RVM_OBJ_GPU_KERNEL, kernel);

	*rec = NULL;
	*len = 0;
	if (i == GPU_NONE)
		return RVM_E_NOTFOUND;
	if (!s->ksrc_len[i])
		return RVM_E_NOMEM;
	*rec = s->ksrc + s->ksrc_off[i];
	*len = s->ksrc_len[i];
	return RVM_OK;
}

static void kernel_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct gpu_op *op = ctx;

	(void)req;
	file_obj(op, RVM_OBJ_GPU_KERNEL);
	ksrc_keep(op->s, op->slot, op->name, op->src, op->src_len);
	args[0] = op->new_id;
	args[1] = op->src_len;
}

enum rvm_err rvm_gpu_kernel(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t ctx_cap,
			    const char *src, size_t src_len, const char *name, rvm_cap_t *kernel)
{
	struct gpu_op op = {.s = s,
			    .caller = caller,
			    .type = RVM_OBJ_GPU_CONTEXT,
			    .witnesses = 2,
			    .src = src,
			    .src_len = src_len,
			    .name = name,
			    .more = kernel_more,
			    .act = kernel_act,
			    .undo = kernel_undo};
	enum rvm_err e;

	if (!caller_ok(s, caller) || !kernel)
		return RVM_E_INVAL;
	if ((e = op_run(&op, RVM_ACT_GPU_KERNEL, ctx_cap, RVM_GPU_CTX_RIGHTS, kernel_apply)) !=
	    RVM_OK)
		return e;
	return rvm_cap_mint(s->gate, caller, RVM_OBJ_GPU_KERNEL, op.new_id,
			    RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, kernel);
}

/* ---- free ---- */

static void free_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct gpu_op *op = ctx;
	uint32_t n;

	(void)req;
	args[0] = op->type;
	args[1] = gpu_pool(op->s, op->type, &n)[op->idx].size;
	gpu_obj_release(op->s, op->type, op->idx);
}

enum rvm_err rvm_gpu_free(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t cap)
{
	struct gpu_op op = {.s = s, .caller = caller, .type = RVM_OBJ_GPU_BUFFER, .witnesses = 1};
	const struct rvm_cap *c;

	if (!caller_ok(s, caller))
		return RVM_E_INVAL;
	/* The kind of object comes from the cap; anything but a buffer, queue or kernel is refused.
	 */
	if (rvm_cap_resolve(s->gate->caps, caller, cap, &c) == RVM_OK &&
	    (c->type == RVM_OBJ_GPU_QUEUE || c->type == RVM_OBJ_GPU_KERNEL))
		op.type = c->type;
	return op_run(&op, RVM_ACT_GPU_FREE, cap, RVM_RIGHT_WRITE, free_apply);
}

/* ---- transfers ---- */

static enum rvm_err xfer_more(struct gpu_op *op)
{
	const struct rvm_gpu_obj *b = &op->s->bufs[op->idx];

	if (op->size == 0 || (op->write ? !op->src : !op->dst))
		return RVM_E_INVAL;
	/* Room left, never off + size (which could wrap). */
	if (op->off > b->size || op->size > b->size - op->off)
		return RVM_E_RANGE;
	return RVM_OK;
}

static enum rvm_err xfer_act(struct gpu_op *op)
{
	struct rvm_gpu_device *d = op_device(op);
	uint64_t h = op->s->bufs[op->idx].handle;

	if (op->write)
		return d->be->buf_write(d->dev, h, op->off, op->src, op->size);
	return d->be->buf_read(d->dev, h, op->off, op->dst, op->size);
}

static void xfer_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct gpu_op *op = ctx;

	(void)req;
	args[0] = op->off | (op->write ? 0 : 1ull << 63) | (op->ckpt ? 1ull << 62 : 0);
	args[1] = op->size;
}

static enum rvm_err xfer(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t buf, uint64_t off,
			 const void *src, void *dst, uint64_t n, bool write, bool ckpt)
{
	struct gpu_op op = {.s = s,
			    .caller = caller,
			    .type = RVM_OBJ_GPU_BUFFER,
			    .witnesses = 1,
			    .off = off,
			    .size = n,
			    .src = src,
			    .dst = dst,
			    .write = write,
			    .ckpt = ckpt,
			    .more = xfer_more,
			    .act = xfer_act};

	if (!caller_ok(s, caller))
		return RVM_E_INVAL;
	op.cost[RVM_GPU_DIM_TRANSFER] = ckpt ? 0 : n;
	return op_run(&op, RVM_ACT_GPU_TRANSFER, buf, op.write ? RVM_RIGHT_WRITE : RVM_RIGHT_READ,
		      xfer_apply);
}

enum rvm_err rvm_gpu_write(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t buf, uint64_t off,
			   const void *src, uint64_t n)
{
	return xfer(s, caller, buf, off, src, NULL, n, true, false);
}

enum rvm_err rvm_gpu_read(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t buf, uint64_t off,
			  void *dst, uint64_t n)
{
	return xfer(s, caller, buf, off, NULL, dst, n, false, false);
}

enum rvm_err rvm_gpu_ckpt_xfer(struct rvm_gpu_space *s, uint32_t partition, rvm_cap_t buf,
			       void *data, uint64_t n, bool write)
{
	return xfer(s, partition, buf, 0, write ? data : NULL, write ? NULL : data, n, write, true);
}

/* ---- launch ---- */

/* A cap of the caller naming an object of the same context, with rights. */
static enum rvm_err launch_obj(struct gpu_op *op, rvm_cap_t cap, uint8_t type, uint8_t rights,
			       uint32_t *idx)
{
	uint32_t n;
	rvm_obj_id id;
	enum rvm_err e = gpu_find(op->s, op->caller, cap, type, rights, &id, idx);

	if (e != RVM_OK)
		return e;
	return gpu_pool(op->s, type, &n)[*idx].ctx == op->ci ? RVM_OK : RVM_E_POLICY;
}

static enum rvm_err launch_more(struct gpu_op *op)
{
	const struct rvm_gpu_launch_req *r = op->lreq;
	const struct rvm_gpu_device *d = op_device(op);
	uint64_t extra_local = 0;
	uint32_t qi, bi;
	enum rvm_err e;

	if ((e = launch_obj(op, r->queue, RVM_OBJ_GPU_QUEUE, RVM_RIGHT_WRITE, &qi)) != RVM_OK ||
	    (e = launch_obj(op, r->kernel, RVM_OBJ_GPU_KERNEL, RVM_RIGHT_EXECUTE, &op->kidx)) !=
		    RVM_OK)
		return e;
	op->qh = op->s->queues[qi].handle;
	op->kh = op->s->kernels[op->kidx].handle;
	if (r->nargs > d->lim.max_args)
		return RVM_E_RANGE;
	for (uint32_t i = 0; i < r->nargs; i++) {
		const struct rvm_gpu_arg *a = &r->args[i];

		op->bargs[i] = *a;
		switch (a->kind) {
		case RVM_GPU_ARG_BUFFER:
			e = launch_obj(op, a->value, RVM_OBJ_GPU_BUFFER, RVM_GPU_BUF_RIGHTS, &bi);
			if (e != RVM_OK)
				return e;
			op->bargs[i].value = op->s->bufs[bi].handle;
			op->bargs[i].size = 0;
			break;
		case RVM_GPU_ARG_SCALAR:
			if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
				return RVM_E_INVAL;
			break;
		case RVM_GPU_ARG_LOCAL:
			if (a->size == 0)
				return RVM_E_INVAL;
			extra_local += a->size;
			break;
		default:
			return RVM_E_INVAL;
		}
	}
	e = rvm_gpu_validate(&d->lim, &r->cfg, extra_local, &op->threads, &op->timeout);
	op->cost[RVM_GPU_DIM_COMPUTE] = op->timeout;
	return e;
}

static void launch_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct gpu_op *op = ctx;
	struct rvm_gpu_device *d = op_device(op);
	struct rvm_gpu_context *cx = &op->s->ctxs[op->ci];
	struct rvm_gpu_launch_cfg cfg = op->lreq->cfg;
	uint64_t t0, charged;

	(void)req;
	cfg.timeout_ns = op->timeout;
	/* Busy: nothing of this context changes while the embedder's lock is down. */
	cx->busy = 1;
	if (op->s->drop.unlock)
		op->s->drop.unlock(op->s->drop.ctx);
	t0 = rvm_platform_now_ns(op->s->plat);
	op->run_err =
		d->be->launch(d->dev, op->qh, op->kh, &cfg, op->bargs, op->lreq->nargs, &op->run);
	op->elapsed = rvm_platform_now_ns(op->s->plat) - t0;
	if (op->s->drop.lock)
		op->s->drop.lock(op->s->drop.ctx);
	cx->busy = 0;
	/* The whole deadline was charged; keep what was used, give back the rest. */
	charged = op->elapsed < op->timeout ? op->elapsed : op->timeout;
	rvm_gpu_budget_release(&cx->budget, RVM_GPU_DIM_COMPUTE, op->timeout - charged);
	if (op->elapsed > op->timeout)
		cx->overrun_ns += op->elapsed - op->timeout;
	if (op->run_err != RVM_OK)
		cx->faulted = 1; /* until the recovery path has reset its queues */
	args[0] = op->threads;
	args[1] = charged;
}

enum rvm_err rvm_gpu_launch(struct rvm_gpu_space *s, uint32_t caller,
			    const struct rvm_gpu_launch_req *req)
{
	/*
	 * The hot path: the op and the gate request are filled field by field (what the launch
	 * and the gate's OWNER check read), not zeroed whole: clearing both structs cost more
	 * than the rest of the gate's work.
	 */
	struct gpu_op op;
	struct rvm_gate_req g;
	uint64_t args[2];
	enum rvm_err e;

	if (!caller_ok(s, caller) || !req || !s->plat)
		return RVM_E_INVAL;
	op.s = s;
	op.caller = caller;
	op.type = RVM_OBJ_GPU;
	op.witnesses = 3; /* a batch flush, or the launch and its cancel */
	op.lreq = req;
	op.more = launch_more;
	op.act = NULL;
	op.undo = NULL;
	op.charged = op.acted = false;
	op.ci = GPU_NONE;
	op.cost[RVM_GPU_DIM_COMPUTE] = 0; /* set by launch_more once the deadline is known */
	op.cost[RVM_GPU_DIM_MEMORY] = 0;
	op.cost[RVM_GPU_DIM_TRANSFER] = 0;
	op.cost[RVM_GPU_DIM_LAUNCHES] = 1;
	op.run.timed_out = op.run.cancelled = false;
	op.run_err = RVM_OK;
	op.find_err = gpu_find(s, caller, req->device, RVM_OBJ_GPU, 0, &op.obj, &op.idx);
	g.action = RVM_ACT_GPU_LAUNCH;
	g.checks = RVM_GATE_OWNER;
	g.caller = caller;
	g.cap = req->device;
	g.rights = RVM_GPU_LAUNCH_RIGHTS;
	g.obj_type = RVM_OBJ_GPU;
	g.object = op.obj;
	g.owner = RVM_OWNER_NONE;
	g.quota = NULL;
	g.arg0 = g.arg1 = 0;
	g.check = op_check;
	g.apply = NULL;
	g.ctx = &op;
	if ((e = rvm_gate_authorize(s->gate, &g)) != RVM_OK) {
		if (op.charged)
			refund(&s->ctxs[op.ci].budget, op.cost);
		return e;
	}
	/* Checked and charged in one step; now the device, then the record. */
	launch_apply(&op, &g, args);
	s->gate->allowed++;
	if (op.run_err == RVM_OK) {
		/*
		 * A launch that ran to completion joins the epoch batch (DC-10): its partition,
		 * kernel and charged device time are folded into the batch's record, which the
		 * next GPU epoch, kernel epoch, another partition's launch or shutdown writes
		 * (target the count, arg0 the device ns summed). No per-launch hash or clock read.
		 */
		(void)rvm_witness_batch_add(s->gate->wlog, RVM_ACT_GPU_LAUNCH, caller,
					    s->kernels[op.kidx].id, args[1]);
		return RVM_OK;
	}
	/* A launch that did not end well keeps its own records (room was checked). arg0 of the
	 * cancel: 1 stopped, 0 still running, 2 device error. */
	(void)rvm_witness_emit(s->gate->wlog, RVM_ACT_GPU_LAUNCH, 0, caller, s->kernels[op.kidx].id,
			       args[0], args[1], NULL);
	(void)rvm_witness_emit(s->gate->wlog, RVM_ACT_GPU_CANCEL, 0, caller, s->kernels[op.kidx].id,
			       op.run_err == RVM_E_TIMEOUT ? (op.run.cancelled ? 1u : 0u) : 2u,
			       op.elapsed, NULL);
	return op.run_err;
}
