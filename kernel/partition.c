/* kernel/partition.c - the partition pool and its lifecycle state machine, every move gated. */
#include <rvm/bytes.h>
#include <rvm/partition.h>
#include <rvm/witness.h>

/* next[op][from]: the state op leads to, or FREE for an illegal move. */
static const uint8_t part_next[RVM_PART_OP_COUNT][RVM_PART_STATE_COUNT] = {
	[RVM_PART_START] = { [RVM_PART_CREATED] = RVM_PART_RUNNING },
	[RVM_PART_SUSPEND] = { [RVM_PART_RUNNING] = RVM_PART_SUSPENDED },
	[RVM_PART_RESUME] = { [RVM_PART_SUSPENDED] = RVM_PART_RUNNING },
	[RVM_PART_HIBERNATE] = { [RVM_PART_SUSPENDED] = RVM_PART_HIBERNATED },
	[RVM_PART_WAKE] = { [RVM_PART_HIBERNATED] = RVM_PART_SUSPENDED },
	[RVM_PART_DESTROY] = { [RVM_PART_CREATED] = RVM_PART_DESTROYED,
			       [RVM_PART_SUSPENDED] = RVM_PART_DESTROYED,
			       [RVM_PART_HIBERNATED] = RVM_PART_DESTROYED },
};

static const uint16_t part_action[RVM_PART_OP_COUNT] = {
	[RVM_PART_START] = RVM_ACT_PARTITION_RESUME,
	[RVM_PART_SUSPEND] = RVM_ACT_PARTITION_SUSPEND,
	[RVM_PART_RESUME] = RVM_ACT_PARTITION_RESUME,
	[RVM_PART_HIBERNATE] = RVM_ACT_PARTITION_HIBERNATE,
	[RVM_PART_WAKE] = RVM_ACT_PARTITION_WAKE,
	[RVM_PART_DESTROY] = RVM_ACT_PARTITION_DESTROY,
};

void rvm_part_pool_init(struct rvm_part_pool *pp, struct rvm_gate *gate)
{
	rvm_memset(pp, 0, sizeof(*pp));
	pp->gate = gate;
	for (uint32_t i = 0; i < RVM_MAX_PARTITIONS; i++)
		pp->p[i].vmid = RVM_VMID_NONE;
}

enum rvm_err rvm_part_next_state(uint8_t from, enum rvm_part_op op, uint8_t *to)
{
	if ((unsigned)op >= RVM_PART_OP_COUNT || from >= RVM_PART_STATE_COUNT || !to)
		return RVM_E_INVAL;
	if (part_next[op][from] == RVM_PART_FREE)
		return RVM_E_STATE;
	*to = part_next[op][from];
	return RVM_OK;
}

struct rvm_partition *rvm_partition_find(struct rvm_part_pool *pp, rvm_obj_id id)
{
	uint32_t rs = rvm_handle_slot(id);
	struct rvm_partition *p;

	if (id == RVM_OBJ_NULL || rs >= RVM_OBJ_SLOTS || pp->by_obj[rs] >= RVM_MAX_PARTITIONS)
		return NULL;
	p = &pp->p[pp->by_obj[rs]];
	if (p->id != id || p->state == RVM_PART_FREE || p->state == RVM_PART_DESTROYED)
		return NULL;
	return p;
}

uint32_t rvm_partition_slot(const struct rvm_part_pool *pp, const struct rvm_partition *p)
{
	return (uint32_t)(p - pp->p);
}

/* ---- create ---- */

struct create_op {
	struct rvm_part_pool *pp;
	uint32_t slot;
	rvm_obj_id id;
};

static enum rvm_err create_check(void *ctx, const struct rvm_gate_req *req,
				 const struct rvm_cap *cap)
{
	struct create_op *op = ctx;
	uint8_t st = op->pp->p[op->slot].state;

	(void)req;
	(void)cap;
	return (st == RVM_PART_FREE || st == RVM_PART_DESTROYED) ? RVM_OK : RVM_E_EXISTS;
}

static void create_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct create_op *op = ctx;
	struct rvm_partition *p = &op->pp->p[op->slot];

	(void)req;
	rvm_memset(p, 0, sizeof(*p));
	p->id = op->id;
	p->state = RVM_PART_CREATED;
	p->vmid = RVM_VMID_NONE;
	op->pp->by_obj[rvm_handle_slot(op->id)] = (uint16_t)op->slot;
	op->pp->live++;
	args[0] = op->slot;
}

/* A free pool slot whose cap table is empty (cleared after its last partition). */
static enum rvm_err free_slot(struct rvm_part_pool *pp, uint32_t *slot)
{
	for (uint32_t i = RVM_PART_FIRST; i < RVM_MAX_PARTITIONS && i < RVM_CAP_TABLES; i++) {
		uint8_t st = pp->p[i].state;

		if (st != RVM_PART_FREE && st != RVM_PART_DESTROYED)
			continue;
		/* A destroy whose table clear could not be witnessed left caps behind: retry. */
		if (pp->gate->caps->tables[i].live != 0 &&
		    rvm_cap_table_clear(pp->gate, i) != RVM_OK)
			continue;
		*slot = i;
		return RVM_OK;
	}
	return RVM_E_NOMEM;
}

enum rvm_err rvm_partition_create(struct rvm_part_pool *pp, uint32_t table, uint32_t *slot,
				  rvm_obj_id *id, rvm_cap_t *cap)
{
	struct create_op op = { .pp = pp };
	struct rvm_gate_req req = { .action = RVM_ACT_PARTITION_CREATE,
				    .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_PARTITION,
				    .check = create_check,
				    .apply = create_apply,
				    .ctx = &op };
	enum rvm_err e;

	if (!pp || !slot || !id || !cap || table >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	if ((e = free_slot(pp, &op.slot)) != RVM_OK)
		return rvm_gate_refuse(pp->gate, RVM_ACT_GATE_DENIED, 0, 0,
				       RVM_ACT_PARTITION_CREATE, e);
	if ((e = rvm_obj_create(pp->gate->caps->objs, RVM_OBJ_PARTITION, &op.id)) != RVM_OK)
		return rvm_gate_refuse(pp->gate, RVM_ACT_GATE_DENIED, 0, 0,
				       RVM_ACT_PARTITION_CREATE, e);
	req.object = op.id;
	if ((e = rvm_gate_invoke(pp->gate, &req)) != RVM_OK) {
		(void)rvm_obj_destroy(pp->gate->caps->objs, op.id);
		return e;
	}
	e = rvm_cap_mint(pp->gate, table, RVM_OBJ_PARTITION, op.id, RVM_RIGHTS_ALL, cap);
	if (e != RVM_OK) {
		/* Nobody could ever name it: take it down again (kernel authority). */
		pp->p[op.slot].state = RVM_PART_DESTROYED;
		pp->live--;
		(void)rvm_obj_destroy(pp->gate->caps->objs, op.id);
		(void)rvm_witness_emit(pp->gate->wlog, RVM_ACT_PARTITION_DESTROY, 0, 0, op.id,
				       RVM_PART_CREATED, RVM_PART_DESTROYED, NULL);
		return e;
	}
	*slot = op.slot;
	*id = op.id;
	return RVM_OK;
}

/* ---- lifecycle ops ---- */

struct life_op {
	struct rvm_part_pool *pp;
	struct rvm_partition *p;
	enum rvm_part_op op;
	uint8_t to;
};

static enum rvm_err life_check(void *ctx, const struct rvm_gate_req *req,
			       const struct rvm_cap *cap)
{
	struct life_op *op = ctx;

	(void)cap;
	op->p = rvm_partition_find(op->pp, req->object);
	if (!op->p)
		return RVM_E_STALE;
	if (op->p->migrating)
		return RVM_E_BUSY;
	return rvm_part_next_state(op->p->state, op->op, &op->to);
}

static void life_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct life_op *op = ctx;

	args[0] = op->p->state;
	args[1] = op->to;
	op->p->state = op->to;
	if (op->to == RVM_PART_DESTROYED) {
		(void)rvm_obj_destroy(op->pp->gate->caps->objs, req->object); /* live: checked */
		op->pp->live--;
	}
}

enum rvm_err rvm_partition_op(struct rvm_part_pool *pp, uint32_t caller, rvm_cap_t cap,
			      enum rvm_part_op op)
{
	const struct rvm_cap *c;
	struct life_op lo = { .pp = pp, .op = op };
	struct rvm_gate_req req = { .checks = RVM_GATE_OWNER,
				    .caller = caller,
				    .cap = cap,
				    .obj_type = RVM_OBJ_PARTITION,
				    .owner = RVM_OWNER_NONE,
				    .check = life_check,
				    .apply = life_apply,
				    .ctx = &lo };
	enum rvm_err e;

	if (!pp || (unsigned)op >= RVM_PART_OP_COUNT || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	req.action = part_action[op];
	req.rights = op == RVM_PART_DESTROY ? RVM_PART_DESTROY_RIGHTS : RVM_PART_RIGHTS;
	/* The object is the one the cap names; P1/P2.1 in the gate re-check it. */
	if (rvm_cap_resolve(pp->gate->caps, caller, cap, &c) == RVM_OK)
		req.object = c->object;
	e = rvm_gate_invoke(pp->gate, &req);
	if (e == RVM_OK && lo.to == RVM_PART_DESTROYED)
		(void)rvm_cap_table_clear(pp->gate, rvm_partition_slot(pp, lo.p));
	return e;
}
