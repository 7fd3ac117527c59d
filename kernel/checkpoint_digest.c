/* kernel/checkpoint_digest.c - the digest of a partition's state (regions and agents), live or
 * replayed. */
#include <rvm/bytes.h>
#include <rvm/checkpoint.h>

#include "region_priv.h"

static const char digest_tag[] = "RVM-PARTITION-DIGEST-v1";

enum rvm_err rvm_region_content_digest(struct rvm_region_space *s, rvm_region_id id,
				       uint8_t out[RVM_SHA256_DIGEST])
{
	uint32_t slot;
	const struct rvm_region *r;
	enum rvm_err err;

	if (!s || !out)
		return RVM_E_INVAL;
	err = region_lookup(s, id, &slot);
	if (err != RVM_OK)
		return err;
	r = &s->slots[slot];
	if (r->tier <= RVM_TIER_WARM)
		rvm_sha256(s->plat ? s->plat->sha256 : NULL, rvm_phys_ptr(r->base),
			   (size_t)rvm_region_size(r), out);
	else
		rvm_memcpy(out, r->digest, RVM_SHA256_DIGEST);
	return RVM_OK;
}

enum rvm_err rvm_partition_digest(struct rvm_region_space *s, uint32_t partition,
				  rvm_agent_digest_fn *agents, void *ctx,
				  uint8_t out[RVM_SHA256_DIGEST])
{
	struct rvm_sha256 h;
	uint8_t b[8 + 8 + 4 + RVM_SHA256_DIGEST];
	enum rvm_err err = RVM_OK;

	if (!s || !out)
		return RVM_E_INVAL;
	if (partition >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	rvm_sha256_init(&h, s->plat ? s->plat->sha256 : NULL);
	rvm_sha256_update(&h, digest_tag, sizeof(digest_tag) - 1);
	rvm_store_le32(b, partition);
	rvm_sha256_update(&h, b, 4);
	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &s->slots[i];
		rvm_region_id id = region_id(s, i);

		if (!r->used || r->owner != partition)
			continue;
		rvm_store_le64(b, id);
		rvm_store_le64(b + 8, rvm_region_size(r));
		b[16] = r->type;
		b[17] = r->writable;
		b[18] = b[19] = 0;
		(void)rvm_region_content_digest(s, id, b + 20);
		rvm_sha256_update(&h, b, sizeof(b));
	}
	for (uint32_t i = 0; agents; i++) {
		uint32_t agent = 0;

		err = agents(ctx, partition, i, &agent, b + 4);
		if (err != RVM_OK)
			break;
		rvm_store_le32(b, agent);
		rvm_sha256_update(&h, b, 4 + RVM_SHA256_DIGEST);
	}
	rvm_sha256_final(&h, out);
	return err == RVM_E_NOTFOUND ? RVM_OK : err;
}

enum rvm_err rvm_partition_digest_record(struct rvm_region_space *s, uint32_t partition,
					 rvm_agent_digest_fn *agents, void *ctx,
					 uint8_t out[RVM_SHA256_DIGEST], uint64_t *seq_out)
{
	enum rvm_err err;

	if (!s || !out)
		return RVM_E_INVAL;
	if (!rvm_witness_can_emit(s->wlog, 1))
		return RVM_E_FULL;
	err = rvm_partition_digest(s, partition, agents, ctx, out);
	if (err != RVM_OK)
		return err;
	return rvm_witness_emit(s->wlog, RVM_ACT_STATE_DIGEST, 0, 0, partition, rvm_load_le64(out),
				rvm_load_le64(out + 8), seq_out);
}
