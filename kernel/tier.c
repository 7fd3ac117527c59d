/* kernel/tier.c - moving regions between Hot, Warm, Dormant and Cold, and the policy that drives it. */
#include <rvm/bytes.h>
#include <rvm/tier.h>

#include "region_priv.h"

static bool resident(unsigned tier)
{
	return tier == RVM_TIER_HOT || tier == RVM_TIER_WARM;
}

static uint8_t *store_at(const struct rvm_region_space *s, uint32_t off)
{
	return s->store->buf + off;
}

/* Compress into the largest free gap of the store (writing free space changes no state). */
static enum rvm_err to_dormant_check(struct rvm_region_space *s, struct region_op *op,
				     const struct rvm_region *r)
{
	uint32_t gap_off, gap_len;

	if (r->nmaps)
		return RVM_E_BUSY;
	region_store_gap(s->store, &gap_off, &gap_len);
	op->off = gap_off;
	return region_image_encode(s, rvm_phys_ptr(r->base), 1u << r->order,
				   store_at(s, gap_off), gap_len, &op->len, op->digest);
}

/*
 * The image goes to the platform's checkpoint store here, in the check: a
 * move refused later leaves an unreferenced object there, never a region
 * without its image. Synchronously (both fsyncs, ~10 ms on the hosted store,
 * tier_cold_put_64k): the apply drops the in-memory image, so the write must
 * be known good first; an asynchronous put would need a Cold-pending state and
 * a way to take the store's reports in (docs/recovery.md, "Cold regions").
 */
static enum rvm_err to_cold_check(struct rvm_region_space *s, struct region_op *op)
{
	const struct rvm_region_extent *e = region_store_find(s->store, op->slot);

	if (!e)
		return RVM_E_CORRUPT;
	if (!s->plat || !s->plat->checkpoint_put)
		return RVM_E_UNSUPPORTED;
	return s->plat->checkpoint_put(s->plat->ctx, RVM_REGION_COLD_ID(op->id), store_at(s, e->off),
				       e->len);
}

/* Read the image back into a free gap and verify it page by page before taking it. */
static enum rvm_err from_cold_check(struct rvm_region_space *s, struct region_op *op,
				    const struct rvm_region *r)
{
	uint32_t gap_off, gap_len;
	size_t got = 0;
	enum rvm_err err;

	if (!s->plat || !s->plat->checkpoint_get)
		return RVM_E_UNSUPPORTED;
	region_store_gap(s->store, &gap_off, &gap_len);
	if (gap_len < r->store_len)
		return RVM_E_NOMEM;
	err = s->plat->checkpoint_get(s->plat->ctx, RVM_REGION_COLD_ID(op->id), store_at(s, gap_off),
				      (size_t)r->store_len, &got);
	if (err != RVM_OK)
		return err;
	if (got != r->store_len)
		return RVM_E_CORRUPT;
	op->off = gap_off;
	op->len = (uint32_t)r->store_len;
	return region_image_decode(s, store_at(s, gap_off), op->len, 1u << r->order, NULL,
				   r->digest);
}

/* Decode into the block the buddy will hand out next (free memory: no state changes). */
static enum rvm_err wake_check(struct rvm_region_space *s, struct region_op *op,
			       const struct rvm_region *r)
{
	const struct rvm_region_extent *e = region_store_find(s->store, op->slot);
	enum rvm_err err;

	if (!e)
		return RVM_E_CORRUPT;
	err = rvm_buddy_peek(s->buddy, r->order, &op->addr);
	if (err != RVM_OK)
		return err;
	return region_image_decode(s, store_at(s, e->off), e->len, 1u << r->order,
				   rvm_phys_ptr(op->addr), r->digest);
}

static enum rvm_err step_check(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r;
	enum rvm_err err = region_owned(s, op, &r);
	unsigned from, to = op->to;

	if (err != RVM_OK)
		return err;
	from = r->tier;
	if (to >= RVM_TIER_COUNT || to == from)
		return RVM_E_INVAL;
	if (resident(from) && resident(to))
		return RVM_OK;
	if (resident(from) && to == RVM_TIER_DORMANT)
		return to_dormant_check(s, op, r);
	if (from == RVM_TIER_DORMANT && to == RVM_TIER_COLD)
		return to_cold_check(s, op);
	if (from == RVM_TIER_COLD && to == RVM_TIER_DORMANT)
		return from_cold_check(s, op, r);
	if (from == RVM_TIER_DORMANT && resident(to))
		return wake_check(s, op, r);
	return RVM_E_INVAL;
}

static void step_apply(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r = &s->slots[op->slot];
	unsigned from = r->tier, to = op->to;

	op->arg0 = from | to << 8;
	if (to == RVM_TIER_DORMANT && resident(from)) {
		region_store_insert(s->store, op->off, op->len, op->slot);
		rvm_memcpy(r->digest, op->digest, sizeof(r->digest));
		r->store_len = op->len;
		region_release_frames(s, op->slot);
	} else if (to == RVM_TIER_COLD) {
		region_store_remove(s->store, op->slot);
		s->cold_puts++;
	} else if (from == RVM_TIER_COLD) {
		region_store_insert(s->store, op->off, op->len, op->slot);
	} else if (from == RVM_TIER_DORMANT) {
		uint64_t addr = 0;

		/* The check decoded and verified the image in this very block. */
		(void)rvm_buddy_alloc(s->buddy, r->order, 0, &addr);
		r->base = addr;
		region_claim_frames(s, op->slot);
		region_store_remove(s->store, op->slot);
	}
	r->tier = (uint8_t)to;
	op->arg1 = resident(to) && resident(from) ? 0 : r->store_len;
}

/* The next tier on the way from `from` to `to`. */
static unsigned next_step(unsigned from, unsigned to)
{
	if (to >= RVM_TIER_COUNT)
		return to; /* refused by the check, and witnessed */
	if (resident(from))
		return resident(to) ? to : RVM_TIER_DORMANT;
	if (from == RVM_TIER_DORMANT)
		return to;
	return RVM_TIER_DORMANT;
}

enum rvm_err rvm_region_set_tier(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
				 enum rvm_tier to)
{
	if (!s)
		return RVM_E_INVAL;
	for (;;) {
		const struct rvm_region *r = rvm_region_get(s, id);
		struct region_op op = { .action = RVM_ACT_REGION_TIER, .caller = caller, .id = id };
		enum rvm_err err;

		if (r && r->tier == (unsigned)to)
			return RVM_OK;
		op.to = next_step(r ? r->tier : RVM_TIER_HOT, (unsigned)to);
		err = region_run(s, &op, step_check, step_apply);
		if (err != RVM_OK)
			return err;
	}
}

/* ---- Policy ---- */

enum rvm_tier rvm_tier_advise(const struct rvm_tier_policy *p, uint64_t age, rvm_bp coherence)
{
	rvm_bp c = coherence > RVM_BP_ONE ? RVM_BP_ONE : coherence;
	rvm_bp min = p->min_scale > RVM_BP_ONE ? RVM_BP_ONE : p->min_scale;
	/* Linear from min_scale at coherence 0 to 1.0 at full coherence. */
	rvm_bp scale = (rvm_bp)(min + rvm_bp_scale((uint64_t)(RVM_BP_ONE - min), c));

	if (age >= rvm_bp_scale(p->cold_after, scale))
		return RVM_TIER_COLD;
	if (age >= rvm_bp_scale(p->dormant_after, scale))
		return RVM_TIER_DORMANT;
	if (age >= rvm_bp_scale(p->warm_after, scale))
		return RVM_TIER_WARM;
	return RVM_TIER_HOT;
}

void rvm_tier_sweep(struct rvm_region_space *s, const struct rvm_tier_policy *p, uint64_t now,
		    rvm_tier_coherence_fn *coherence, void *ctx, struct rvm_tier_sweep_stats *st)
{
	struct rvm_tier_sweep_stats local = { 0 };

	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &s->slots[i];
		uint64_t age;
		rvm_bp c;
		unsigned want;

		if (!r->used)
			continue;
		age = now > r->last_access ? now - r->last_access : 0;
		c = coherence ? coherence(ctx, r->owner) : RVM_BP_ONE;
		want = rvm_tier_advise(p, age, c);
		if (want <= r->tier)
			continue;
		if (r->tier == RVM_TIER_WARM && r->nmaps) {
			local.busy++;
			continue;
		}
		if (rvm_region_set_tier(s, RVM_PARTITION_KERNEL, region_id(s, i),
					(enum rvm_tier)(r->tier + 1)) == RVM_OK)
			local.moved++;
		else
			local.failed++;
	}
	if (st)
		*st = local;
}
