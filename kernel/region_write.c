/* kernel/region_write.c - witnessed writes into regions, with their bytes handed to the journal for
 * replay. */
#include <rvm/bytes.h>
#include <rvm/region.h>

#include "region_priv.h"

/* Largest write one record describes: its length has 24 bits in arg1. */
#define WRITE_MAX ((1u << 24) - 1u)

uint64_t rvm_region_write_arg1(const struct rvm_sha256_impl *sha, const void *data, uint32_t len)
{
	uint8_t h[RVM_SHA256_DIGEST];
	uint64_t bind = 0;

	rvm_sha256(sha, data, len, h);
	for (int i = 4; i >= 0; i--)
		bind = bind << 8 | h[i];
	return (uint64_t)(len & WRITE_MAX) | bind << 24;
}

enum rvm_err region_write_check(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r;
	enum rvm_err err = region_owned(s, op, &r);

	if (err != RVM_OK)
		return err;
	if (r->tier > RVM_TIER_WARM)
		return RVM_E_STATE;
	if (!r->writable)
		return RVM_E_POLICY;
	if (op->size == 0 || op->size > WRITE_MAX || op->epoch > rvm_region_size(r) ||
	    op->size > rvm_region_size(r) - op->epoch)
		return RVM_E_RANGE;
	return RVM_OK;
}

void region_write_apply(struct rvm_region_space *s, struct region_op *op)
{
	const struct rvm_region *r = &s->slots[op->slot];

	rvm_memcpy((uint8_t *)rvm_phys_ptr(r->base) + op->epoch, op->data, (size_t)op->size);
	op->arg0 = (uint64_t)op->to << 32 | op->epoch;
	op->arg1 = rvm_region_write_arg1(s->plat ? s->plat->sha256 : NULL, op->data,
					 (uint32_t)op->size);
}

enum rvm_err rvm_region_write(struct rvm_region_space *s, uint32_t caller, uint32_t agent,
			      rvm_region_id id, uint64_t offset, const void *data, uint32_t len,
			      uint64_t *seq_out)
{
	/* op->to carries the agent and op->epoch the offset: the write has no owner or epoch. */
	struct region_op op = {.action = RVM_ACT_REGION_WRITE,
			       .caller = caller,
			       .id = id,
			       .to = agent,
			       .size = len,
			       .epoch = offset,
			       .data = data};
	enum rvm_err err;

	if (!s || (!data && len))
		return RVM_E_INVAL;
	err = region_run(s, &op, region_write_check, region_write_apply);
	if (err != RVM_OK)
		return err;
	if (s->journal)
		s->journal(s->journal_ctx, op.seq, id, offset, data, len);
	if (seq_out)
		*seq_out = op.seq;
	return RVM_OK;
}
