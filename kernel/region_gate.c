/* kernel/region_gate.c - regions as objects of the security gate: registry ids, root caps, gated
 * entry points. */
#include <rvm/bytes.h>
#include <rvm/gate.h>
#include <rvm/region.h>

#include "region_priv.h"

void rvm_region_space_set_gate(struct rvm_region_space *s, struct rvm_gate *gate)
{
	if (s)
		s->gate = gate;
}

bool region_gate_room(const struct rvm_region_space *s, uint32_t owner, uint32_t n)
{
	const struct rvm_obj_table *o;
	const struct rvm_cap_table *t;

	if (!s->gate)
		return true;
	if (owner >= RVM_CAP_TABLES)
		return false;
	o = s->gate->caps->objs;
	t = &s->gate->caps->tables[owner];
	/* Free slots: never used (above hw) plus freed ones (neither live nor retired). */
	return RVM_OBJ_SLOTS - o->live - o->retired >= n &&
	       RVM_CAP_TABLE_SLOTS - t->live - t->retired >= n;
}

uint64_t region_gate_attach(struct rvm_region_space *s, uint32_t slot)
{
	struct rvm_region *r = &s->slots[slot];
	struct rvm_cap_space *caps;
	uint32_t ref;
	rvm_cap_t h;

	r->obj = 0;
	if (!s->gate)
		return 0;
	caps = s->gate->caps;
	/* region_gate_room was checked: neither can fail. */
	if (rvm_obj_create(caps->objs, RVM_OBJ_REGION, &r->obj) != RVM_OK)
		return 0;
	ref = rvm_cap_insert(caps, r->owner, RVM_CAP_NIL, RVM_OBJ_REGION, r->obj, RVM_RIGHTS_ALL);
	h = rvm_cap_handle_of(caps, ref);
	/* As rvm_cap_mint witnesses it: arg0 the handle, arg1 table << 32 | type << 8 | rights. */
	(void)rvm_witness_emit(
		s->wlog, RVM_ACT_CAP_MINT, 0, 0, r->obj, h,
		(uint64_t)r->owner << 32 | (uint64_t)RVM_OBJ_REGION << 8 | RVM_RIGHTS_ALL, NULL);
	return h;
}

void region_gate_detach(struct rvm_region_space *s, uint32_t slot)
{
	struct rvm_region *r = &s->slots[slot];

	if (s->gate && r->obj)
		(void)rvm_obj_destroy(s->gate->caps->objs, r->obj);
	r->obj = 0;
}

/* ---- the gated entry points ---- */

struct gated {
	struct rvm_region_space *s;
	struct region_op *op;
	region_check_fn *check;
};

/* The region's own checks, once the gate has settled who may act (P1, P2.1). */
static enum rvm_err gated_check(void *ctx, const struct rvm_gate_req *req,
				const struct rvm_cap *cap)
{
	struct gated *g = ctx;
	uint32_t caller = g->op->caller;
	enum rvm_err err;

	(void)req;
	(void)cap;
	g->op->caller = RVM_PARTITION_KERNEL;
	err = g->check(g->s, g->op);
	g->op->caller = caller;
	/* The apply may mint a cap (transfer): its record needs room too. */
	if (err == RVM_OK && !rvm_witness_can_emit(g->s->wlog, 2))
		err = RVM_E_FULL;
	return err;
}

static enum rvm_err gated(struct rvm_region_space *s, struct region_op *op, rvm_cap_t cap,
			  uint8_t rights, region_check_fn *check, region_apply_fn *apply)
{
	struct gated g = {s, op, check};
	struct rvm_gate_req req;
	const struct rvm_region *r;
	uint32_t slot;
	enum rvm_err err;

	if (!s)
		return RVM_E_INVAL;
	if (!s->gate)
		return RVM_E_UNSUPPORTED;
	err = region_lookup(s, op->id, &slot);
	if (err != RVM_OK)
		return rvm_gate_refuse(s->gate, RVM_ACT_GATE_DENIED, op->caller, op->id, op->action,
				       err);
	r = &s->slots[slot];
	rvm_memset(&req, 0, sizeof(req));
	req.action = op->action;
	req.checks = RVM_GATE_OWNER;
	req.caller = op->caller;
	req.cap = cap;
	req.rights = rights;
	req.obj_type = RVM_OBJ_REGION;
	req.object = r->obj;
	req.owner = r->owner;
	req.check = gated_check;
	req.ctx = &g;
	/* P1, P2.1, the region's checks, room; refusals witnessed by the gate. */
	err = rvm_gate_authorize(s->gate, &req);
	if (err != RVM_OK)
		return err;
	apply(s, op);
	s->gate->allowed++;
	(void)rvm_witness_emit(s->wlog, op->action, 0, op->caller, op->id, op->arg0, op->arg1,
			       &op->seq);
	return RVM_OK;
}

enum rvm_err rvm_region_map_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				rvm_region_id id, uint32_t partition, bool writable)
{
	struct region_op op = {.action = RVM_ACT_REGION_MAP,
			       .caller = caller,
			       .id = id,
			       .to = partition,
			       .writable = writable};

	return gated(s, &op, cap,
		     (uint8_t)(writable ? RVM_RIGHT_READ | RVM_RIGHT_WRITE : RVM_RIGHT_READ),
		     region_map_check, region_map_apply);
}

enum rvm_err rvm_region_unmap_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				  rvm_region_id id, uint32_t partition)
{
	struct region_op op = {
		.action = RVM_ACT_REGION_UNMAP, .caller = caller, .id = id, .to = partition};

	return gated(s, &op, cap, RVM_RIGHT_READ, region_unmap_check, region_unmap_apply);
}

enum rvm_err rvm_region_transfer_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				     rvm_region_id id, uint32_t to, rvm_cap_t *new_cap)
{
	struct region_op op = {
		.action = RVM_ACT_REGION_TRANSFER, .caller = caller, .id = id, .to = to};
	enum rvm_err err =
		gated(s, &op, cap, RVM_RIGHT_GRANT, region_transfer_check, region_transfer_apply);

	if (err == RVM_OK && new_cap)
		*new_cap = op.cap;
	return err;
}

enum rvm_err rvm_region_write_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				  uint32_t agent, rvm_region_id id, uint64_t offset,
				  const void *data, uint32_t len, uint64_t *seq_out)
{
	struct region_op op = {.action = RVM_ACT_REGION_WRITE,
			       .caller = caller,
			       .id = id,
			       .to = agent,
			       .size = len,
			       .epoch = offset,
			       .data = data};
	enum rvm_err err;

	if (!data && len)
		return RVM_E_INVAL;
	err = gated(s, &op, cap, RVM_RIGHT_WRITE, region_write_check, region_write_apply);
	if (err != RVM_OK)
		return err;
	if (s->journal)
		s->journal(s->journal_ctx, op.seq, id, offset, data, len);
	if (seq_out)
		*seq_out = op.seq;
	return RVM_OK;
}

enum rvm_err rvm_region_destroy_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				    rvm_region_id id)
{
	struct region_op op = {.action = RVM_ACT_REGION_DESTROY, .caller = caller, .id = id};

	return gated(s, &op, cap, RVM_RIGHT_REVOKE, region_destroy_check, region_destroy_apply);
}
