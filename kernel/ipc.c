/* kernel/ipc.c - CommEdges: creation, bounded descriptor rings with back-pressure, all gated. */
#include <rvm/bytes.h>
#include <rvm/ipc.h>
#include <rvm/witness.h>

#define EDGE_NONE 0xffffu

void rvm_ipc_init(struct rvm_ipc *ipc, struct rvm_part_pool *parts, struct rvm_coherence *coh)
{
	rvm_memset(ipc, 0, sizeof(*ipc));
	rvm_memset(ipc->by_obj, 0xff, sizeof(ipc->by_obj));
	ipc->parts = parts;
	ipc->coh = coh;
}

struct rvm_edge *rvm_edge_find(struct rvm_ipc *ipc, rvm_obj_id id)
{
	uint32_t rs = rvm_handle_slot(id);
	struct rvm_edge *e;

	if (id == RVM_OBJ_NULL || rs >= RVM_OBJ_SLOTS || ipc->by_obj[rs] == EDGE_NONE)
		return NULL;
	e = &ipc->e[ipc->by_obj[rs]];
	return e->id == id ? e : NULL;
}

static bool part_alive(const struct rvm_partition *p)
{
	return p && p->state >= RVM_PART_CREATED && p->state <= RVM_PART_HIBERNATED;
}

/* The object a cap in caller's table names, or NULL (the gate then reports why). */
static rvm_obj_id cap_object(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap)
{
	const struct rvm_cap *c;

	if (rvm_cap_resolve(ipc->parts->gate->caps, caller, cap, &c) != RVM_OK)
		return RVM_OBJ_NULL;
	return c->object;
}

/* ---- create / destroy ---- */

struct edge_op {
	struct rvm_ipc *ipc;
	struct rvm_partition *src, *dst;
	uint32_t index;
	rvm_obj_id id;
	struct rvm_edge *edge;
	struct rvm_ipc_desc *out;
	const struct rvm_ipc_desc *in;
	uint32_t caller;
	bool ring_full;
};

static enum rvm_err create_check(void *ctx, const struct rvm_gate_req *req,
				 const struct rvm_cap *cap)
{
	struct edge_op *op = ctx;

	(void)cap;
	op->src = rvm_partition_find(op->ipc->parts, req->object);
	if (!part_alive(op->src) || !part_alive(op->dst))
		return RVM_E_STATE;
	if (op->src == op->dst)
		return RVM_E_INVAL;
	return RVM_OK;
}

static void create_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct edge_op *op = ctx;
	struct rvm_edge *e = &op->ipc->e[op->index];

	(void)req;
	rvm_memset(e, 0, sizeof(*e));
	e->id = op->id;
	e->src = rvm_partition_slot(op->ipc->parts, op->src);
	e->dst = rvm_partition_slot(op->ipc->parts, op->dst);
	op->ipc->by_obj[rvm_handle_slot(op->id)] = (uint16_t)op->index;
	if (op->index >= op->ipc->hw)
		op->ipc->hw = op->index + 1u;
	args[0] = e->src;
	args[1] = e->dst;
}

static void edge_free(struct rvm_ipc *ipc, struct rvm_edge *e)
{
	struct rvm_gate *g = ipc->parts->gate;

	ipc->by_obj[rvm_handle_slot(e->id)] = EDGE_NONE;
	(void)rvm_obj_destroy(g->caps->objs, e->id);
	e->id = RVM_OBJ_NULL;
}

enum rvm_err rvm_edge_create(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t src_cap,
			     rvm_cap_t dst_cap, struct rvm_edge_caps *out)
{
	struct rvm_gate *g;
	struct edge_op op = { .ipc = ipc, .index = RVM_IPC_MAX_EDGES };
	struct rvm_gate_req req = { .action = RVM_ACT_EDGE_CREATE,
				    .checks = RVM_GATE_OWNER,
				    .caller = caller,
				    .cap = src_cap,
				    .rights = RVM_EDGE_CREATE_RIGHTS,
				    .obj_type = RVM_OBJ_PARTITION,
				    .owner = RVM_OWNER_NONE,
				    .check = create_check,
				    .apply = create_apply,
				    .ctx = &op };
	rvm_obj_id dst_id;
	enum rvm_err e;

	if (!ipc || !out || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	g = ipc->parts->gate;
	/* The destination cap: resolved and checked (a failure is witnessed by the check). */
	dst_id = cap_object(ipc, caller, dst_cap);
	if ((e = rvm_cap_check(g, caller, dst_cap, RVM_OBJ_PARTITION, dst_id,
			       RVM_EDGE_CREATE_RIGHTS)) != RVM_OK)
		return e;
	op.dst = rvm_partition_find(ipc->parts, dst_id);
	req.object = cap_object(ipc, caller, src_cap);
	for (uint32_t i = 0; i < RVM_IPC_MAX_EDGES; i++)
		if (ipc->e[i].id == RVM_OBJ_NULL) {
			op.index = i;
			break;
		}
	if (op.index == RVM_IPC_MAX_EDGES)
		return rvm_gate_refuse(g, RVM_ACT_GATE_DENIED, caller, req.object,
				       RVM_ACT_EDGE_CREATE, RVM_E_NOMEM);
	if ((e = rvm_obj_create(g->caps->objs, RVM_OBJ_EDGE, &op.id)) != RVM_OK)
		return rvm_gate_refuse(g, RVM_ACT_GATE_DENIED, caller, req.object,
				       RVM_ACT_EDGE_CREATE, e);
	if ((e = rvm_gate_invoke(g, &req)) != RVM_OK) {
		(void)rvm_obj_destroy(g->caps->objs, op.id);
		return e;
	}
	out->id = op.id;
	out->owner = out->send = out->recv = RVM_CAP_NULL;
	e = rvm_cap_mint(g, caller, RVM_OBJ_EDGE, op.id, RVM_RIGHTS_ALL, &out->owner);
	if (e == RVM_OK)
		e = rvm_cap_mint(g, ipc->e[op.index].src, RVM_OBJ_EDGE, op.id, RVM_RIGHT_WRITE,
				 &out->send);
	if (e == RVM_OK)
		e = rvm_cap_mint(g, ipc->e[op.index].dst, RVM_OBJ_EDGE, op.id, RVM_RIGHT_READ,
				 &out->recv);
	if (e != RVM_OK) {
		/* Caps minted so far go stale with the object. */
		edge_free(ipc, &ipc->e[op.index]);
		(void)rvm_witness_emit(g->wlog, RVM_ACT_EDGE_DESTROY, 0, 0, op.id, 0, e, NULL);
	}
	return e;
}

static enum rvm_err edge_check(void *ctx, const struct rvm_gate_req *req,
			       const struct rvm_cap *cap)
{
	struct edge_op *op = ctx;

	(void)cap;
	op->edge = rvm_edge_find(op->ipc, req->object);
	return op->edge ? RVM_OK : RVM_E_STALE;
}

static void destroy_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct edge_op *op = ctx;

	(void)req;
	args[0] = op->edge->head - op->edge->tail; /* discarded descriptors */
	args[1] = op->edge->weight;
	edge_free(op->ipc, op->edge);
}

enum rvm_err rvm_edge_destroy(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap)
{
	struct edge_op op = { .ipc = ipc };
	struct rvm_gate_req req = { .action = RVM_ACT_EDGE_DESTROY,
				    .checks = RVM_GATE_OWNER,
				    .caller = caller,
				    .cap = cap,
				    .rights = RVM_RIGHT_REVOKE,
				    .obj_type = RVM_OBJ_EDGE,
				    .owner = RVM_OWNER_NONE,
				    .check = edge_check,
				    .apply = destroy_apply,
				    .ctx = &op };

	if (!ipc || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	req.object = cap_object(ipc, caller, cap);
	return rvm_gate_invoke(ipc->parts->gate, &req);
}

/* ---- send / receive ---- */

static enum rvm_err send_check(void *ctx, const struct rvm_gate_req *req,
			       const struct rvm_cap *cap)
{
	struct edge_op *op = ctx;
	struct rvm_edge *e;
	enum rvm_err err = edge_check(ctx, req, cap);

	if (err != RVM_OK)
		return err;
	e = op->edge;
	if (op->caller != e->src)
		return RVM_E_PERM;
	if (op->ipc->parts->p[e->src].state != RVM_PART_RUNNING ||
	    !part_alive(&op->ipc->parts->p[e->dst]))
		return RVM_E_STATE;
	if (e->head - e->tail >= RVM_IPC_RING) {
		op->ring_full = true;
		return RVM_E_FULL;
	}
	return RVM_OK;
}

static void send_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct edge_op *op = ctx;
	struct rvm_edge *e = op->edge;

	(void)req;
	e->ring[e->head & (RVM_IPC_RING - 1u)] = *op->in;
	e->head++;
	e->sent++;
	e->weight += op->in->length;
	/* Traffic feeds the coherence graph; a saturated graph keeps what fits. */
	if (op->ipc->coh && e->src < RVM_COH_MAX_NODES && e->dst < RVM_COH_MAX_NODES)
		(void)rvm_coh_observe(op->ipc->coh, e->src, e->dst, op->in->length);
	args[0] = op->in->length;
	args[1] = e->head - e->tail;
}

/* edge: the edge the caller means, or RVM_OBJ_NULL for whatever the cap names. */
static enum rvm_err ipc_send(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap, rvm_obj_id edge,
			     const struct rvm_ipc_desc *d, uint32_t batch)
{
	struct edge_op op = { .ipc = ipc, .in = d, .caller = caller };
	struct rvm_gate_req req = { .action = RVM_ACT_IPC_SEND,
				    .checks = RVM_GATE_OWNER | batch,
				    .caller = caller,
				    .cap = cap,
				    .rights = RVM_RIGHT_WRITE,
				    .obj_type = RVM_OBJ_EDGE,
				    .owner = RVM_OWNER_NONE,
				    .check = send_check,
				    .apply = send_apply,
				    .ctx = &op };
	enum rvm_err e;

	if (!ipc || !d || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	req.object = edge != RVM_OBJ_NULL ? edge : cap_object(ipc, caller, cap);
	e = rvm_gate_invoke(ipc->parts->gate, &req);
	if (e == RVM_E_FULL && op.ring_full)
		op.edge->refused++;
	return e;
}

enum rvm_err rvm_ipc_send(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
			  const struct rvm_ipc_desc *d)
{
	return ipc_send(ipc, caller, cap, RVM_OBJ_NULL, d, 0);
}

enum rvm_err rvm_ipc_send_batched(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
				  rvm_obj_id edge, const struct rvm_ipc_desc *d)
{
	if (edge == RVM_OBJ_NULL)
		return RVM_E_INVAL;
	return ipc_send(ipc, caller, cap, edge, d, RVM_GATE_BATCH);
}

static enum rvm_err recv_check(void *ctx, const struct rvm_gate_req *req,
			       const struct rvm_cap *cap)
{
	struct edge_op *op = ctx;
	enum rvm_err err = edge_check(ctx, req, cap);

	if (err != RVM_OK)
		return err;
	if (op->caller != op->edge->dst)
		return RVM_E_PERM;
	if (op->edge->head == op->edge->tail)
		return RVM_E_EMPTY;
	return RVM_OK;
}

static void recv_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct edge_op *op = ctx;
	struct rvm_edge *e = op->edge;

	(void)req;
	*op->out = e->ring[e->tail & (RVM_IPC_RING - 1u)];
	e->tail++;
	e->received++;
	args[0] = op->out->length;
	args[1] = e->head - e->tail;
}

/* edge: the edge the caller means, or RVM_OBJ_NULL for whatever the cap names. */
static enum rvm_err ipc_recv(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap, rvm_obj_id edge,
			     struct rvm_ipc_desc *d, uint32_t batch)
{
	struct edge_op op = { .ipc = ipc, .out = d, .caller = caller };
	struct rvm_gate_req req = { .action = RVM_ACT_IPC_RECV,
				    .checks = RVM_GATE_OWNER | batch,
				    .caller = caller,
				    .cap = cap,
				    .rights = RVM_RIGHT_READ,
				    .obj_type = RVM_OBJ_EDGE,
				    .owner = RVM_OWNER_NONE,
				    .check = recv_check,
				    .apply = recv_apply,
				    .ctx = &op };

	if (!ipc || !d || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	req.object = edge != RVM_OBJ_NULL ? edge : cap_object(ipc, caller, cap);
	return rvm_gate_invoke(ipc->parts->gate, &req);
}

enum rvm_err rvm_ipc_recv(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
			  struct rvm_ipc_desc *d)
{
	return ipc_recv(ipc, caller, cap, RVM_OBJ_NULL, d, 0);
}

enum rvm_err rvm_ipc_recv_batched(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
				  rvm_obj_id edge, struct rvm_ipc_desc *d)
{
	if (edge == RVM_OBJ_NULL)
		return RVM_E_INVAL;
	return ipc_recv(ipc, caller, cap, edge, d, RVM_GATE_BATCH);
}
