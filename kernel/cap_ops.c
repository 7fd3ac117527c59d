/* kernel/cap_ops.c - mint, derive, grant, revoke, delete and check: capability operations via the gate. */
#include <rvm/gate.h>

/* What one capability operation needs between its check and its apply. */
struct cap_op {
	struct rvm_cap_space *caps;
	uint32_t src_ref; /* the presented cap, RVM_CAP_NIL for mint and clear */
	uint32_t to;      /* table receiving a new cap, or being cleared */
	uint8_t rights;   /* rights of the new cap */
	uint8_t type;
	uint64_t object;
	bool grant;
	rvm_cap_t out;
};

static uint64_t cap_arg1(uint32_t table, uint8_t type, uint8_t rights)
{
	return (uint64_t)table << 32 | (uint64_t)type << 8 | rights;
}

/* The object the presented cap names, for the witness record; 0 if it does not resolve. */
static uint64_t object_hint(const struct rvm_gate *g, uint32_t caller, rvm_cap_t h)
{
	const struct rvm_cap *c;

	return rvm_cap_resolve_any(g->caps, caller, h, &c) == RVM_OK ? c->object : 0;
}

static enum rvm_err mint_check(void *ctx, const struct rvm_gate_req *req, const struct rvm_cap *cap)
{
	struct cap_op *op = ctx;
	enum rvm_err e;

	(void)req;
	(void)cap;
	if (op->rights & ~RVM_RIGHTS_ALL)
		return RVM_E_INVAL;
	if ((e = rvm_obj_lookup(op->caps->objs, op->object, (enum rvm_obj_type)op->type)) != RVM_OK)
		return e;
	return rvm_cap_table_has_room(op->caps, op->to);
}

static void new_cap_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct cap_op *op = ctx;
	uint32_t ref;

	(void)req;
	ref = rvm_cap_insert(op->caps, op->to, op->src_ref, op->type, op->object, op->rights);
	if (op->grant) {
		uint8_t held = rvm_cap_at(op->caps, op->src_ref)->rights;

		/* GRANT_ONCE without GRANT: this grant was the once. */
		if ((held & (RVM_RIGHT_GRANT | RVM_RIGHT_GRANT_ONCE)) == RVM_RIGHT_GRANT_ONCE)
			rvm_cap_set_rights(op->caps, op->src_ref,
					   (uint8_t)(held & ~RVM_RIGHT_GRANT_ONCE));
	}
	op->out = rvm_cap_handle_of(op->caps, ref);
	args[0] = op->out;
	args[1] = cap_arg1(op->to, op->type, op->rights);
}

enum rvm_err rvm_cap_mint(struct rvm_gate *g, uint32_t table, enum rvm_obj_type type,
			  rvm_obj_id object, uint8_t rights, rvm_cap_t *out)
{
	struct cap_op op = { .caps = g->caps, .src_ref = RVM_CAP_NIL, .to = table,
			     .rights = rights, .type = (uint8_t)type, .object = object };
	struct rvm_gate_req req = { .action = RVM_ACT_CAP_MINT, .checks = RVM_GATE_KERNEL,
				    .obj_type = (uint8_t)type, .object = object,
				    .check = mint_check, .apply = new_cap_apply, .ctx = &op };
	enum rvm_err e;

	if (!out)
		return RVM_E_INVAL;
	if ((e = rvm_gate_invoke(g, &req)) == RVM_OK)
		*out = op.out;
	return e;
}

static enum rvm_err derive_check(void *ctx, const struct rvm_gate_req *req,
				 const struct rvm_cap *cap)
{
	struct cap_op *op = ctx;

	(void)req;
	/* P1 proved rights is a subset; GRANT_ONCE also needs GRANT to pass on. */
	if (!rvm_cap_rights_derivable(cap->rights, op->rights))
		return RVM_E_PERM;
	if (op->grant && !(cap->rights & (RVM_RIGHT_GRANT | RVM_RIGHT_GRANT_ONCE)))
		return RVM_E_PERM;
	if (cap->depth >= RVM_CAP_MAX_DEPTH)
		return RVM_E_DEPTH;
	op->type = cap->type;
	op->object = cap->object;
	return rvm_cap_table_has_room(op->caps, op->to);
}

static enum rvm_err derive_or_grant(struct rvm_gate *g, uint32_t caller, rvm_cap_t src,
				    uint32_t to, uint8_t rights, bool grant, rvm_cap_t *out)
{
	struct cap_op op = { .caps = g->caps, .to = to, .rights = rights, .grant = grant };
	struct rvm_gate_req req = {
		.action = grant ? RVM_ACT_CAP_GRANT : RVM_ACT_CAP_DERIVE,
		.checks = grant ? RVM_GATE_P3 : 0,
		.caller = caller,
		.cap = src,
		.rights = rights, /* P1: the parent holds every right the child asks for */
		.object = object_hint(g, caller, src),
		.check = derive_check,
		.apply = new_cap_apply,
		.ctx = &op,
	};
	enum rvm_err e;

	if (!out)
		return RVM_E_INVAL;
	op.src_ref = caller < RVM_CAP_TABLES ? rvm_cap_ref(caller, rvm_handle_slot(src)) : 0;
	if ((e = rvm_gate_invoke(g, &req)) == RVM_OK)
		*out = op.out;
	return e;
}

enum rvm_err rvm_cap_derive(struct rvm_gate *g, uint32_t caller, rvm_cap_t src, uint8_t rights,
			    rvm_cap_t *out)
{
	return derive_or_grant(g, caller, src, caller, rights, false, out);
}

enum rvm_err rvm_cap_grant(struct rvm_gate *g, uint32_t caller, rvm_cap_t src, uint32_t to,
			   uint8_t rights, rvm_cap_t *out)
{
	return derive_or_grant(g, caller, src, to, rights, true, out);
}

static void remove_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct cap_op *op = ctx;

	args[0] = req->cap;
	args[1] = rvm_cap_remove_subtree(op->caps, op->src_ref, op->grant);
}

enum rvm_err rvm_cap_revoke(struct rvm_gate *g, uint32_t caller, rvm_cap_t h)
{
	struct cap_op op = { .caps = g->caps, .grant = false };
	struct rvm_gate_req req = { .action = RVM_ACT_CAP_REVOKE, .caller = caller, .cap = h,
				    .rights = RVM_RIGHT_REVOKE,
				    .object = object_hint(g, caller, h),
				    .apply = remove_apply, .ctx = &op };

	op.src_ref = caller < RVM_CAP_TABLES ? rvm_cap_ref(caller, rvm_handle_slot(h)) : 0;
	return rvm_gate_invoke(g, &req);
}

static enum rvm_err delete_check(void *ctx, const struct rvm_gate_req *req,
				 const struct rvm_cap *cap)
{
	(void)ctx;
	(void)req;
	/* Dropping a cap with descendants revokes them: that needs REVOKE. */
	if (cap->first_child != RVM_CAP_NIL)
		return rvm_proof_p1(cap->rights, RVM_RIGHT_REVOKE);
	return RVM_OK;
}

enum rvm_err rvm_cap_delete(struct rvm_gate *g, uint32_t caller, rvm_cap_t h)
{
	/* op.grant doubles as "include self" for remove_apply. */
	struct cap_op op = { .caps = g->caps, .grant = true };
	struct rvm_gate_req req = { .action = RVM_ACT_CAP_REVOKE, .checks = RVM_GATE_DEAD_OK,
				    .caller = caller, .cap = h,
				    .object = object_hint(g, caller, h), .check = delete_check,
				    .apply = remove_apply, .ctx = &op };

	op.src_ref = caller < RVM_CAP_TABLES ? rvm_cap_ref(caller, rvm_handle_slot(h)) : 0;
	return rvm_gate_invoke(g, &req);
}

static enum rvm_err clear_check(void *ctx, const struct rvm_gate_req *req,
				const struct rvm_cap *cap)
{
	struct cap_op *op = ctx;

	(void)req;
	(void)cap;
	return op->to < RVM_CAP_TABLES ? RVM_OK : RVM_E_INVAL;
}

static void clear_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct cap_op *op = ctx;
	struct rvm_cap_table *t = &op->caps->tables[op->to];
	uint64_t n = 0;

	(void)req;
	/* Subtrees may free later slots of this same table: re-read the state each time. */
	for (uint32_t i = 0; i < t->hw; i++)
		if (t->slots[i].state == RVM_CAPS_LIVE)
			n += rvm_cap_remove_subtree(op->caps, rvm_cap_ref(op->to, i), true);
	args[0] = 0;
	args[1] = n;
}

enum rvm_err rvm_cap_table_clear(struct rvm_gate *g, uint32_t table)
{
	struct cap_op op = { .caps = g->caps, .to = table };
	struct rvm_gate_req req = { .action = RVM_ACT_CAP_REVOKE, .checks = RVM_GATE_KERNEL,
				    .object = table, .check = clear_check, .apply = clear_apply,
				    .ctx = &op };

	return rvm_gate_invoke(g, &req);
}

enum rvm_err rvm_cap_check(struct rvm_gate *g, uint32_t caller, rvm_cap_t h, uint8_t type,
			   rvm_obj_id object, uint8_t rights)
{
	const struct rvm_cap *c;
	enum rvm_err e = rvm_cap_resolve(g->caps, caller, h, &c);

	if (e == RVM_OK)
		e = rvm_proof_p1(c->rights, rights);
	if (e == RVM_OK)
		e = rvm_p2_owner(caller, RVM_OWNER_NONE, c, type, object);
	if (e != RVM_OK)
		return rvm_gate_refuse(g, RVM_ACT_CAP_DENIED, caller, object, 0, e);
	return RVM_OK;
}
