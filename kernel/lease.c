/* kernel/lease.c - device leases: grant, check, revoke, and the witnessed expiry sweep. */
#include <rvm/bytes.h>
#include <rvm/gate.h>
#include <rvm/lease.h>
#include <rvm/witness.h>

/* A holder must name both a partition slot and a capability table. */
#define RVM_LEASE_HOLDERS \
	(RVM_MAX_PARTITIONS < RVM_CAP_TABLES ? RVM_MAX_PARTITIONS : RVM_CAP_TABLES)

#define LEASE_NONE 0xffffu

void rvm_lease_init(struct rvm_lease_table *lt, struct rvm_part_pool *parts)
{
	rvm_memset(lt, 0, sizeof(*lt));
	rvm_memset(lt->by_obj, 0xff, sizeof(lt->by_obj));
	lt->parts = parts;
}

static struct rvm_lease *lease_find(struct rvm_lease_table *lt, rvm_obj_id id)
{
	uint32_t rs = rvm_handle_slot(id);
	struct rvm_lease *l;

	if (id == RVM_OBJ_NULL || rs >= RVM_OBJ_SLOTS || lt->by_obj[rs] == LEASE_NONE)
		return NULL;
	l = &lt->l[lt->by_obj[rs]];
	return (l->state == RVM_LEASE_ACTIVE && l->id == id) ? l : NULL;
}

static rvm_obj_id cap_object(struct rvm_lease_table *lt, uint32_t caller, rvm_cap_t cap)
{
	const struct rvm_cap *c;

	if (rvm_cap_resolve(lt->parts->gate->caps, caller, cap, &c) != RVM_OK)
		return RVM_OBJ_NULL;
	return c->object;
}

struct lease_op {
	struct rvm_lease_table *lt;
	struct rvm_lease *l;
	uint32_t index, holder;
	uint64_t device, expiry;
	rvm_obj_id id;
};

static enum rvm_err grant_check(void *ctx, const struct rvm_gate_req *req,
				const struct rvm_cap *cap)
{
	struct lease_op *op = ctx;
	const struct rvm_partition *p = &op->lt->parts->p[op->holder];

	(void)req;
	(void)cap;
	if (p->state < RVM_PART_CREATED || p->state > RVM_PART_HIBERNATED)
		return RVM_E_STATE;
	for (uint32_t i = 0; i < RVM_LEASE_SLOTS; i++)
		if (op->lt->l[i].state == RVM_LEASE_ACTIVE && op->lt->l[i].device == op->device)
			return RVM_E_EXISTS;
	return RVM_OK;
}

static void grant_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct lease_op *op = ctx;
	struct rvm_lease *l = &op->lt->l[op->index];

	(void)req;
	l->id = op->id;
	l->device = op->device;
	l->desc.holder = op->holder;
	l->desc.expiry_ns = op->expiry;
	l->desc.revoked = false;
	l->state = RVM_LEASE_ACTIVE;
	op->lt->by_obj[rvm_handle_slot(op->id)] = (uint16_t)op->index;
	op->lt->active++;
	args[0] = op->device;
	args[1] = op->expiry;
}

static void lease_free(struct rvm_lease_table *lt, struct rvm_lease *l)
{
	lt->by_obj[rvm_handle_slot(l->id)] = LEASE_NONE;
	(void)rvm_obj_destroy(lt->parts->gate->caps->objs, l->id);
	l->state = RVM_LEASE_FREE;
	l->desc.revoked = true;
	lt->active--;
}

enum rvm_err rvm_lease_grant(struct rvm_lease_table *lt, uint32_t holder, uint64_t device,
			     uint64_t now_ns, uint64_t duration_ns, rvm_obj_id *id, rvm_cap_t *cap)
{
	struct rvm_gate *g;
	struct lease_op op = { .lt = lt, .holder = holder, .device = device,
			       .index = RVM_LEASE_SLOTS };
	struct rvm_gate_req req = { .action = RVM_ACT_LEASE_GRANT,
				    .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_LEASE,
				    .check = grant_check,
				    .apply = grant_apply,
				    .ctx = &op };
	enum rvm_err e;

	if (!lt || !id || !cap || holder >= RVM_LEASE_HOLDERS || duration_ns == 0 ||
	    now_ns + duration_ns < now_ns)
		return RVM_E_INVAL;
	g = lt->parts->gate;
	op.expiry = now_ns + duration_ns;
	for (uint32_t i = 0; i < RVM_LEASE_SLOTS; i++)
		if (lt->l[i].state == RVM_LEASE_FREE) {
			op.index = i;
			break;
		}
	if (op.index == RVM_LEASE_SLOTS)
		return rvm_gate_refuse(g, RVM_ACT_GATE_DENIED, 0, device, RVM_ACT_LEASE_GRANT,
				       RVM_E_NOMEM);
	if ((e = rvm_obj_create(g->caps->objs, RVM_OBJ_LEASE, &op.id)) != RVM_OK)
		return rvm_gate_refuse(g, RVM_ACT_GATE_DENIED, 0, device, RVM_ACT_LEASE_GRANT, e);
	req.object = op.id;
	if ((e = rvm_gate_invoke(g, &req)) != RVM_OK) {
		(void)rvm_obj_destroy(g->caps->objs, op.id);
		return e;
	}
	e = rvm_cap_mint(g, holder, RVM_OBJ_LEASE, op.id,
			 RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_REVOKE, cap);
	if (e != RVM_OK) {
		lease_free(lt, &lt->l[op.index]);
		(void)rvm_witness_emit(g->wlog, RVM_ACT_LEASE_REVOKE, 0, 0, op.id, device, e, NULL);
		return e;
	}
	*id = op.id;
	return RVM_OK;
}

enum rvm_err rvm_lease_check(struct rvm_lease_table *lt, uint32_t caller, rvm_cap_t cap,
			     uint64_t now_ns)
{
	struct rvm_lease *l;
	rvm_obj_id id;
	enum rvm_err e;

	if (!lt || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	id = cap_object(lt, caller, cap);
	if ((e = rvm_cap_check(lt->parts->gate, caller, cap, RVM_OBJ_LEASE, id,
			       RVM_RIGHT_READ)) != RVM_OK)
		return e;
	l = lease_find(lt, id);
	e = l ? rvm_p2_lease(&l->desc, caller, now_ns) : RVM_E_STALE;
	if (e != RVM_OK)
		return rvm_gate_refuse(lt->parts->gate, RVM_ACT_GATE_DENIED, caller, id, 0, e);
	return RVM_OK;
}

static enum rvm_err end_check(void *ctx, const struct rvm_gate_req *req,
			      const struct rvm_cap *cap)
{
	struct lease_op *op = ctx;

	(void)cap;
	op->l = lease_find(op->lt, req->object);
	return op->l ? RVM_OK : RVM_E_STALE;
}

static void end_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct lease_op *op = ctx;

	(void)req;
	args[0] = op->l->device;
	args[1] = op->l->desc.expiry_ns;
	lease_free(op->lt, op->l);
}

enum rvm_err rvm_lease_revoke(struct rvm_lease_table *lt, uint32_t caller, rvm_cap_t cap)
{
	struct lease_op op = { .lt = lt };
	struct rvm_gate_req req = { .action = RVM_ACT_LEASE_REVOKE,
				    .checks = RVM_GATE_OWNER,
				    .caller = caller,
				    .cap = cap,
				    .rights = RVM_RIGHT_REVOKE,
				    .obj_type = RVM_OBJ_LEASE,
				    .owner = RVM_OWNER_NONE,
				    .check = end_check,
				    .apply = end_apply,
				    .ctx = &op };

	if (!lt || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	req.object = cap_object(lt, caller, cap);
	return rvm_gate_invoke(lt->parts->gate, &req);
}

enum rvm_err rvm_lease_expire(struct rvm_lease_table *lt, uint64_t now_ns, uint32_t *expired)
{
	uint32_t n = 0;
	enum rvm_err e = RVM_OK;

	if (!lt)
		return RVM_E_INVAL;
	for (uint32_t i = 0; i < RVM_LEASE_SLOTS && e == RVM_OK; i++) {
		struct lease_op op = { .lt = lt };
		struct rvm_gate_req req = { .action = RVM_ACT_LEASE_EXPIRE,
					    .checks = RVM_GATE_KERNEL,
					    .obj_type = RVM_OBJ_LEASE,
					    .check = end_check,
					    .apply = end_apply,
					    .ctx = &op };

		if (lt->l[i].state != RVM_LEASE_ACTIVE || lt->l[i].desc.expiry_ns > now_ns)
			continue;
		req.object = lt->l[i].id;
		if ((e = rvm_gate_invoke(lt->parts->gate, &req)) == RVM_OK)
			n++;
	}
	if (expired)
		*expired = n;
	return e;
}
