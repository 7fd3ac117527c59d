/* kernel/replay.c - re-applying witnessed region history to a region space: one record, a range, a
 * rebuild. */
#include <rvm/bytes.h>
#include <rvm/replay.h>

#include "region_priv.h"

#define NONE UINT64_MAX

/* The owner of a live region, or NONE when the space does not know it. */
static uint64_t owner_of(const struct rvm_region_space *s, rvm_region_id id, uint32_t *slot)
{
	return region_lookup(s, id, slot) == RVM_OK ? s->slots[*slot].owner : NONE;
}

static enum rvm_err apply_write(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
				const struct rvm_witness_record *r, struct rvm_replay_stats *st)
{
	struct rvm_region_space *s = c->regions;
	const uint8_t *data = NULL;
	size_t len = 0;
	uint32_t want = (uint32_t)(r->arg1 & 0xFFFFFFu);
	enum rvm_err err;

	if (!src->payload)
		return RVM_E_UNSUPPORTED;
	err = src->payload(src->ctx, r->seq, &data, &len);
	if (err != RVM_OK)
		return err;
	/* The journal is outside the chain: its bytes must match the record's binding. */
	if (len != want || !data ||
	    rvm_region_write_arg1(s->plat ? s->plat->sha256 : NULL, data, want) != r->arg1)
		return RVM_E_CORRUPT;
	err = rvm_region_write(s, r->actor, (uint32_t)(r->arg0 >> 32), r->target,
			       r->arg0 & 0xFFFFFFFFu, data, want, NULL);
	if (err == RVM_OK) {
		st->writes++;
		st->bytes += want;
	}
	return err;
}

enum rvm_err rvm_replay_restore(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
				const struct rvm_witness_record *announce,
				struct rvm_replay_stats *st)
{
	struct rvm_ckpt_view v;
	const uint8_t *buf = NULL;
	size_t len = 0;
	enum rvm_err err;

	if (!src->checkpoint)
		return RVM_E_UNSUPPORTED;
	err = src->checkpoint(src->ctx, announce->arg0, &buf, &len);
	if (err != RVM_OK)
		return err;
	err = rvm_checkpoint_parse(buf, len, c->regions->plat ? c->regions->plat->sha256 : NULL,
				   &v);
	if (err != RVM_OK)
		return err;
	/* The bytes must be the ones the log announced, for the partition it names. */
	if (v.seq != announce->seq || v.partition != announce->target ||
	    rvm_load_le64(v.sha256) != announce->arg1)
		return RVM_E_CORRUPT;
	err = rvm_checkpoint_restore(c, &v, v.partition, NULL);
	if (err == RVM_OK && st)
		st->restores++;
	return err;
}

/* STATE_RESTORE names a checkpoint by id; its STATE_CHECKPOINT record vouches for the bytes. */
static enum rvm_err apply_restore(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
				  const struct rvm_witness_record *r, struct rvm_replay_stats *st)
{
	struct rvm_witness_record announce;
	uint64_t seq = r->arg0 & 0xFFFFFFFFFFull;
	enum rvm_err err;

	if (r->arg0 != RVM_CKPT_ID(r->target, seq) || seq >= r->seq)
		return RVM_E_CORRUPT;
	err = src->record(src->ctx, seq, &announce);
	if (err != RVM_OK)
		return err;
	if (announce.action != RVM_ACT_STATE_CHECKPOINT || announce.arg0 != r->arg0 ||
	    announce.flags != 0)
		return RVM_E_CORRUPT;
	return rvm_replay_restore(c, src, &announce, st);
}

/* Apply with the knowledge of which partitions' state is fully known (est, NULL = all). */
static enum rvm_err apply(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
			  const struct rvm_replay_set *set, const struct rvm_replay_set *est,
			  const struct rvm_witness_record *r, struct rvm_replay_stats *st)
{
	struct rvm_region_space *s = c->regions;
	uint32_t slot = 0;
	uint64_t owner;
	enum rvm_err err = RVM_OK;
	bool done = true;

	st->records++;
	if (r->flags & RVM_WF_DENIED)
		return RVM_OK;
	switch (r->action) {
	case RVM_ACT_REGION_CREATE:
		if (!rvm_replay_set_has(set, (uint32_t)r->arg0))
			return RVM_OK;
		/* Alive under another owner: it left the partition later (a rollback kept it
		 * there). */
		owner = owner_of(s, r->target, &slot);
		if (owner != NONE && !rvm_replay_set_has(set, (uint32_t)owner))
			return RVM_OK;
		err = region_create_at(s, r->actor, r->target, (uint32_t)r->arg0, r->arg1,
				       (uint32_t)(r->arg0 >> 32) & 0xFFu, (r->arg0 >> 40) & 1u);
		break;
	case RVM_ACT_REGION_WRITE:
		owner = owner_of(s, r->target, &slot);
		if (owner == NONE || !rvm_replay_set_has(set, (uint32_t)owner))
			return RVM_OK;
		err = apply_write(c, src, r, st);
		break;
	case RVM_ACT_REGION_DESTROY:
		owner = owner_of(s, r->target, &slot);
		if (owner == NONE || !rvm_replay_set_has(set, (uint32_t)owner))
			return RVM_OK;
		region_unmap_all(s, slot);
		err = rvm_region_destroy(s, RVM_PARTITION_KERNEL, r->target);
		break;
	case RVM_ACT_REGION_TRANSFER:
		owner = owner_of(s, r->target, &slot);
		if (owner == NONE) {
			/* A region arriving whose contents this replay cannot know. */
			if (rvm_replay_set_has(set, (uint32_t)r->arg1) &&
			    !rvm_replay_set_has(set, (uint32_t)r->arg0) &&
			    rvm_replay_set_has(est, (uint32_t)r->arg1))
				return RVM_E_UNSUPPORTED;
			return RVM_OK;
		}
		if (!rvm_replay_set_has(set, (uint32_t)owner) &&
		    !rvm_replay_set_has(set, (uint32_t)r->arg1))
			return RVM_OK;
		region_unmap_all(s, slot);
		err = rvm_region_transfer(s, RVM_PARTITION_KERNEL, r->target, (uint32_t)r->arg1);
		break;
	case RVM_ACT_STATE_RESTORE:
		if (!rvm_replay_set_has(set, (uint32_t)r->target))
			return RVM_OK;
		err = apply_restore(c, src, r, st);
		done = false; /* counted as a restore */
		break;
	default:
		return RVM_OK;
	}
	if (err == RVM_OK && done)
		st->applied++;
	return err;
}

enum rvm_err rvm_replay_apply(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
			      const struct rvm_replay_set *set, const struct rvm_witness_record *r,
			      struct rvm_replay_stats *st)
{
	struct rvm_replay_stats local = {0};

	if (!c || !c->regions || !src || !src->record || !r)
		return RVM_E_INVAL;
	return apply(c, src, set, NULL, r, st ? st : &local);
}

enum rvm_err rvm_replay_range(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
			      const struct rvm_replay_set *set, uint64_t from, uint64_t to,
			      uint64_t skip, struct rvm_replay_stats *st)
{
	struct rvm_replay_stats local = {0};
	struct rvm_witness_record r;
	enum rvm_err err = RVM_OK;

	if (!c || !c->regions || !src || !src->record)
		return RVM_E_INVAL;
	if (!st)
		st = &local;
	for (uint64_t seq = from; seq <= to && seq != NONE && err == RVM_OK; seq++) {
		err = src->record(src->ctx, seq, &r);
		if (err != RVM_OK)
			break;
		if (r.seq != seq)
			return RVM_E_CORRUPT;
		if (seq == skip) {
			st->skipped++;
			continue;
		}
		err = apply(c, src, set, NULL, &r, st);
	}
	return err;
}

/*
 * Is the checkpoint a STATE_CHECKPOINT record announces in the store? An asynchronous store
 * may not have written it when the run stopped (a crash), or reported it lost
 * (recovery.checkpoint_lost): the record stays in the chain, replay starts from an older one.
 * Bytes that are there but wrong are not skipped: restoring them reports it.
 */
static bool stored(const struct rvm_replay_source *src, const struct rvm_witness_record *r)
{
	const uint8_t *buf = NULL;
	size_t len = 0;

	return !src->checkpoint || src->checkpoint(src->ctx, r->arg0, &buf, &len) != RVM_E_NOTFOUND;
}

/* Seq of partition's latest stored STATE_CHECKPOINT at or before bound, or NONE. */
static uint64_t latest_checkpoint(const struct rvm_replay_source *src, uint32_t partition,
				  uint64_t bound)
{
	struct rvm_witness_record r;

	for (uint64_t seq = bound + 1; seq-- > 0;)
		if (src->record(src->ctx, seq, &r) == RVM_OK &&
		    r.action == RVM_ACT_STATE_CHECKPOINT && r.flags == 0 && r.target == partition &&
		    stored(src, &r))
			return seq;
	return NONE;
}

/*
 * Which partitions to rebuild and from where (c->from[p], NONE = not a
 * member): the partition from its latest checkpoint; then, until nothing
 * changes, for every transfer into a member M at t after M's start, the
 * giver X must be known just before t: X joins (or starts earlier) from its
 * latest checkpoint before t, or from genesis. Returns the earliest start.
 */
static uint64_t plan(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
		     uint32_t partition, uint64_t seq)
{
	uint64_t *from = c->replay_from, start;
	bool grew = true;

	for (uint32_t i = 0; i < RVM_MAX_PARTITIONS; i++)
		from[i] = NONE;
	start = latest_checkpoint(src, partition, seq);
	from[partition] = start == NONE ? 0 : start;
	start = from[partition];
	while (grew) {
		struct rvm_witness_record r;

		grew = false;
		for (uint64_t t = start; t <= seq; t++) {
			uint32_t giver, taker;
			uint64_t at;

			if (src->record(src->ctx, t, &r) != RVM_OK ||
			    r.action != RVM_ACT_REGION_TRANSFER || (r.flags & RVM_WF_DENIED) ||
			    r.arg0 >= RVM_MAX_PARTITIONS || r.arg1 >= RVM_MAX_PARTITIONS)
				continue;
			giver = (uint32_t)r.arg0;
			taker = (uint32_t)r.arg1;
			if (from[taker] == NONE || t <= from[taker] ||
			    (from[giver] != NONE && from[giver] < t))
				continue;
			at = t ? latest_checkpoint(src, giver, t - 1) : NONE;
			from[giver] = at == NONE ? 0 : at;
			if (from[giver] < start)
				start = from[giver];
			grew = true;
		}
	}
	return start;
}

enum rvm_err rvm_replay_rebuild(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
				uint64_t count, uint32_t partition, uint64_t seq,
				struct rvm_replay_stats *st)
{
	struct rvm_replay_stats local = {0};
	struct rvm_replay_set set, est;
	struct rvm_witness_record r;
	enum rvm_err err = RVM_OK;
	uint64_t start;

	if (!c || !c->regions || !src || !src->record)
		return RVM_E_INVAL;
	if (seq >= count || partition >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	if (!st)
		st = &local;
	rvm_memset(&set, 0, sizeof(set));
	rvm_memset(&est, 0, sizeof(est));
	start = plan(c, src, partition, seq);
	for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++) {
		if (c->replay_from[p] == NONE)
			continue;
		rvm_replay_set_add(&set, p);
		/* From genesis (no checkpoint before it), a member's whole history is in the log.
		 */
		if (c->replay_from[p] == 0)
			rvm_replay_set_add(&est, p);
	}
	st->start_seq = start;
	for (uint64_t t = start; t <= seq && err == RVM_OK; t++) {
		err = src->record(src->ctx, t, &r);
		if (err != RVM_OK)
			break;
		if (r.seq != t)
			return RVM_E_CORRUPT;
		if (r.action == RVM_ACT_STATE_CHECKPOINT && r.flags == 0 &&
		    rvm_replay_set_has(&set, (uint32_t)r.target) && stored(src, &r)) {
			/* A checkpoint holds the state at its seq: take it, from here on it is
			 * known. */
			st->records++;
			err = rvm_replay_restore(c, src, &r, st);
			rvm_replay_set_add(&est, (uint32_t)r.target);
			continue;
		}
		err = apply(c, src, &set, &est, &r, st);
	}
	return err;
}
