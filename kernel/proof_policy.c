/* kernel/proof_policy.c - P2 policy rules (ownership, region, lease, epoch) and merge preconditions. */
#include <rvm/proof.h>

enum rvm_err rvm_p2_owner(uint32_t caller, uint32_t owner, const struct rvm_cap *cap,
			  uint8_t type, uint64_t object)
{
	if (owner != RVM_OWNER_NONE && caller == owner)
		return RVM_OK;
	if (cap && cap->state == RVM_CAPS_LIVE && cap->type == type && cap->object == object)
		return RVM_OK;
	return RVM_E_PERM;
}

enum rvm_err rvm_p2_region(const struct rvm_region_desc *r, uint64_t offset, uint64_t length,
			   uint64_t align)
{
	if (!r || length == 0 || align == 0 || (align & (align - 1)) != 0)
		return RVM_E_INVAL;
	if (r->base > UINT64_MAX - r->size)
		return RVM_E_RANGE; /* the region itself wraps the address space */
	/* Room left, never offset + length (which could wrap past the end). */
	if (offset > r->size || length > r->size - offset)
		return RVM_E_RANGE;
	if (((r->base + offset) | length) & (align - 1))
		return RVM_E_POLICY;
	return RVM_OK;
}

enum rvm_err rvm_p2_lease(const struct rvm_lease_desc *l, uint32_t caller, uint64_t now_ns)
{
	if (!l)
		return RVM_E_INVAL;
	if (l->holder != caller)
		return RVM_E_PERM;
	if (l->revoked)
		return RVM_E_REVOKED;
	if (now_ns >= l->expiry_ns)
		return RVM_E_EXPIRED;
	return RVM_OK;
}

enum rvm_err rvm_p2_epoch(uint64_t current, uint64_t presented)
{
	return presented == current ? RVM_OK : RVM_E_EPOCH;
}

/* The caller's cap to one side: names that partition, holds the merge rights. */
static enum rvm_err merge_cap(const struct rvm_cap_space *s, uint32_t caller,
			      const struct rvm_merge_side *side)
{
	const struct rvm_cap *c;
	enum rvm_err e = rvm_cap_resolve(s, caller, side->cap, &c);

	if (e != RVM_OK)
		return e;
	if (c->type != RVM_OBJ_PARTITION || c->object != side->object)
		return RVM_E_POLICY;
	return rvm_proof_p1(c->rights, RVM_MERGE_RIGHTS);
}

enum rvm_err rvm_proof_merge_check(const struct rvm_cap_space *s, const struct rvm_merge_req *m)
{
	const struct rvm_merge_side *a, *b;
	enum rvm_err e;

	if (!m)
		return RVM_E_INVAL;
	a = &m->a;
	b = &m->b;
	if (m->caller >= RVM_CAP_TABLES || a->partition >= RVM_CAP_TABLES ||
	    b->partition >= RVM_CAP_TABLES || a->partition == b->partition)
		return RVM_E_INVAL;
	if (!a->exists || !b->exists)
		return RVM_E_NOTFOUND;
	if (a->destroyed || b->destroyed)
		return RVM_E_STATE;
	if (a->migrating || b->migrating)
		return RVM_E_BUSY;
	if ((e = merge_cap(s, m->caller, a)) != RVM_OK || (e = merge_cap(s, m->caller, b)) != RVM_OK)
		return e;
	if (a->agents > m->max_agents || b->agents > m->max_agents - a->agents)
		return RVM_E_QUOTA;
	if (a->mem_bytes > m->max_mem_bytes || b->mem_bytes > m->max_mem_bytes - a->mem_bytes)
		return RVM_E_QUOTA;
	/* The merged partition keeps both cap tables' live caps in one table. */
	if (s->tables[a->partition].live + s->tables[b->partition].live > RVM_CAP_TABLE_SLOTS)
		return RVM_E_QUOTA;
	return RVM_OK;
}
