/* kernel/recovery.c - DC-14 fault recovery: classify, escalate F1 -> F4, and witness every step. */
#include <rvm/bytes.h>
#include <rvm/recovery.h>

#include "region_priv.h"

/* Base class of each kind; index = enum rvm_fault_kind. */
static const uint8_t base_class[RVM_FAULT_KIND_COUNT] = {
	[RVM_FAULT_AGENT_TRAP] = RVM_F1,    [RVM_FAULT_NOMEM] = RVM_F1,
	[RVM_FAULT_WITNESS_FULL] = RVM_F1,  [RVM_FAULT_INCONSISTENT] = RVM_F2,
	[RVM_FAULT_MIGRATION] = RVM_F2,	    [RVM_FAULT_MEM_CORRUPT] = RVM_F3,
	[RVM_FAULT_IMAGE_CORRUPT] = RVM_F3, [RVM_FAULT_COHERENCE] = RVM_F3,
	[RVM_FAULT_KERNEL] = RVM_F4,
};

static const uint16_t class_action[RVM_F4 + 1] = {
	[RVM_F1] = RVM_ACT_RECOVER_F1,
	[RVM_F2] = RVM_ACT_RECOVER_F2,
	[RVM_F3] = RVM_ACT_RECOVER_F3,
	[RVM_F4] = RVM_ACT_RECOVER_F4,
};

enum rvm_fault_class rvm_fault_class_of(uint16_t kind)
{
	if (kind == 0 || kind >= RVM_FAULT_KIND_COUNT)
		return RVM_F4;
	return (enum rvm_fault_class)base_class[kind];
}

void rvm_recovery_init(struct rvm_recovery *rec, struct rvm_ckpt_ctx *ck,
		       const struct rvm_replay_source *src, const struct rvm_recovery_ops *ops,
		       void *ctx, const struct rvm_recovery_config *cfg, uint8_t *buf, size_t cap)
{
	rvm_memset(rec, 0, sizeof(*rec));
	rec->ck = ck;
	if (src)
		rec->src = *src;
	rec->ops = ops;
	rec->ctx = ctx;
	if (cfg)
		rec->cfg = *cfg;
	rec->buf = buf;
	rec->cap = buf ? cap : 0;
}

void rvm_recovery_note_checkpoint(struct rvm_recovery *rec, uint32_t partition, uint64_t id,
				  uint64_t tag)
{
	struct rvm_recovery_part *p;

	if (partition >= RVM_MAX_PARTITIONS)
		return;
	p = &rec->part[partition];
	if (p->nckpt == RVM_RECOVERY_KEEP) {
		for (uint32_t i = 1; i < RVM_RECOVERY_KEEP; i++) {
			p->ckpt[i - 1] = p->ckpt[i];
			p->tag[i - 1] = p->tag[i];
		}
		p->nckpt--;
	}
	p->tag[p->nckpt] = tag;
	p->ckpt[p->nckpt++] = id;
}

enum rvm_err rvm_recovery_checkpoint(struct rvm_recovery *rec, uint32_t partition,
				     const struct rvm_ckpt_agent *agents, uint32_t nagents,
				     struct rvm_ckpt_info *info)
{
	struct rvm_ckpt_info local;
	enum rvm_err err;

	if (!rec || !rec->ck)
		return RVM_E_INVAL;
	err = rvm_checkpoint_take(rec->ck, partition, agents, nagents, rec->buf, rec->cap, &local);
	if (err != RVM_OK)
		return err;
	rvm_recovery_note_checkpoint(rec, partition, local.id, rvm_load_le64(local.sha256));
	if (info)
		*info = local;
	return RVM_OK;
}

enum rvm_err rvm_recovery_ring_record(const struct rvm_witness_log *log, uint64_t seq,
				      struct rvm_witness_record *out)
{
	const struct rvm_witness_record *r = rvm_witness_get(log, seq);

	if (!r)
		return RVM_E_NOTFOUND;
	*out = *r;
	return RVM_OK;
}

/* ---- the steps ---- */

static struct rvm_witness_log *wlog_of(const struct rvm_recovery *rec)
{
	return rec->ck->regions->wlog;
}

/*
 * Loads the newest remembered checkpoint of the partition whose seq is
 * below `before`, that parses and whose SHA-256 is the one its record
 * vouched for (a trailer recomputed over changed bytes still parses); older
 * ones stand in for a damaged one.
 */
static enum rvm_err load_good(struct rvm_recovery *rec, uint32_t partition, uint64_t before,
			      struct rvm_ckpt_view *v)
{
	const struct rvm_recovery_part *p = &rec->part[partition];
	enum rvm_err err = RVM_E_NOTFOUND;

	for (uint32_t i = p->nckpt; i-- > 0;) {
		if ((p->ckpt[i] & 0xFFFFFFFFFFull) >= before)
			continue;
		err = rvm_checkpoint_load(rec->ck->regions->plat, p->ckpt[i], rec->buf, rec->cap,
					  v);
		if (err == RVM_OK && v->partition == partition &&
		    rvm_load_le64(v->sha256) == p->tag[i])
			return RVM_OK;
		if (err == RVM_OK)
			err = RVM_E_CORRUPT;
	}
	return err;
}

/* F1 for a trapped agent: its snapshot from the newest good checkpoint, or a fresh start. */
static enum rvm_err restart_agent(struct rvm_recovery *rec, const struct rvm_fault *f,
				  struct rvm_recovery_result *res)
{
	struct rvm_ckpt_view v;
	struct rvm_ckpt_agent a = {f->agent, NULL, 0};

	if (!rec->ops || !rec->ops->agent_restart)
		return RVM_E_UNSUPPORTED;
	rec->from_ckpt = 0;
	if (load_good(rec, f->partition, RVM_SEQ_NONE, &v) == RVM_OK) {
		res->ckpt = RVM_CKPT_ID(f->partition, v.seq);
		if (rvm_ckpt_find_agent(&v, f->agent, &a) != RVM_OK)
			a.snap = NULL, a.len = 0;
		else
			rec->from_ckpt = res->ckpt;
	}
	return rec->ops->agent_restart(rec->ctx, f->partition, f->agent, a.snap, a.len);
}

/* F1 for memory: the partition's unmapped resident regions go Dormant (witnessed tier moves). */
static enum rvm_err reclaim(struct rvm_recovery *rec, uint32_t partition)
{
	struct rvm_region_space *s = rec->ck->regions;
	uint32_t moved = 0;

	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &s->slots[i];

		if (!r->used || r->owner != partition || r->tier > RVM_TIER_WARM || r->nmaps)
			continue;
		if (rvm_region_set_tier(s, RVM_PARTITION_KERNEL, region_id(s, i),
					RVM_TIER_DORMANT) == RVM_OK)
			moved++;
	}
	return moved ? RVM_OK : RVM_E_NOMEM;
}

/* F1 for the witness ring: drain it into the sink and make it durable. */
static enum rvm_err drain(struct rvm_recovery *rec)
{
	struct rvm_witness_log *w = wlog_of(rec);
	enum rvm_err err = rvm_witness_flush(w);

	if (err == RVM_OK && w->has_sink)
		err = rvm_witness_sync(w);
	if (err == RVM_OK && !rvm_witness_can_emit(w, RVM_WITNESS_RING_RECORDS / 2))
		err = RVM_E_FULL;
	return err;
}

static enum rvm_err step_f1(struct rvm_recovery *rec, const struct rvm_fault *f,
			    struct rvm_recovery_result *res)
{
	switch (f->kind) {
	case RVM_FAULT_AGENT_TRAP:
		return restart_agent(rec, f, res);
	case RVM_FAULT_NOMEM:
		return reclaim(rec, f->partition);
	case RVM_FAULT_WITNESS_FULL:
		return drain(rec);
	default:
		return RVM_E_STATE; /* F1 has nothing for this kind */
	}
}

/* After a rollback: a fresh checkpoint, so the next rollback need not replay across this one. */
static void checkpoint_after(struct rvm_recovery *rec, uint32_t partition,
			     struct rvm_recovery_result *res)
{
	static const uint32_t max = RVM_CKPT_MAX_AGENTS;
	struct rvm_ckpt_agent *agents = rec->agents;
	struct rvm_ckpt_info info;
	uint32_t n = 0;

	/* The layer stores it its own way (the swarm: off its lock, a base once durable). */
	if (rec->ops && rec->ops->checkpoint_after) {
		res->new_ckpt = rec->ops->checkpoint_after(rec->ctx, partition);
		return;
	}
	if (rec->ops && rec->ops->agents_snapshot)
		n = rec->ops->agents_snapshot(rec->ctx, partition, agents, max);
	if (n <= max && rvm_recovery_checkpoint(rec, partition, agents, n, &info) == RVM_OK)
		res->new_ckpt = info.id;
}

/*
 * F2 (skip = RVM_SEQ_NONE) and F3: quiesce, restore the newest good
 * checkpoint from before the faulting mutation, replay the log after it up
 * to the fault, rebuild the agents, checkpoint afresh.
 */
static enum rvm_err rollback(struct rvm_recovery *rec, const struct rvm_fault *f, uint64_t upto,
			     uint64_t skip, struct rvm_recovery_result *res)
{
	struct rvm_replay_set set;
	struct rvm_ckpt_view v;
	enum rvm_err err;

	if (rec->ops && rec->ops->quiesce) {
		err = rec->ops->quiesce(rec->ctx, f->partition, f);
		if (err != RVM_OK)
			return err;
	}
	err = load_good(rec, f->partition, skip, &v);
	/* Without regions, agents that rebuild from their own starts need no checkpoint. */
	if (err == RVM_E_NOTFOUND && rec->cfg.no_regions && rec->ops && rec->ops->agents_rebuild) {
		err = rec->ops->agents_rebuild(rec->ctx, f->partition, NULL, upto, skip);
		if (err == RVM_OK)
			checkpoint_after(rec, f->partition, res);
		return err;
	}
	if (err != RVM_OK)
		return err;
	res->ckpt = RVM_CKPT_ID(f->partition, v.seq);
	err = rvm_checkpoint_restore(rec->ck, &v, f->partition, NULL);
	if (err != RVM_OK)
		return err;
	rvm_memset(&set, 0, sizeof(set));
	rvm_replay_set_add(&set, f->partition);
	if (!rec->cfg.no_regions && !rec->src.record)
		return RVM_E_UNSUPPORTED;
	if (!rec->cfg.no_regions)
		err = rvm_replay_range(rec->ck, &rec->src, &set, v.seq + 1, upto, skip,
				       &res->replay);
	if (err == RVM_OK && rec->ops && rec->ops->agents_rebuild)
		err = rec->ops->agents_rebuild(rec->ctx, f->partition, &v, upto, skip);
	if (err == RVM_OK)
		checkpoint_after(rec, f->partition, res);
	return err;
}

static enum rvm_err witness(struct rvm_recovery *rec, uint16_t action, const struct rvm_fault *f,
			    uint64_t arg1, uint64_t *seq)
{
	struct rvm_witness_log *w = wlog_of(rec);

	if (!rvm_witness_can_emit(w, 1))
		return RVM_E_FULL;
	(void)rvm_witness_emit(w, action, 0, 0, f->partition,
			       (uint64_t)f->kind | (uint64_t)f->agent << 32, arg1, seq);
	return RVM_OK;
}

static void kernel_restart(struct rvm_recovery *rec, const struct rvm_fault *f)
{
	struct rvm_witness_log *w = wlog_of(rec);

	(void)witness(rec, RVM_ACT_RECOVER_F4, f, 0, NULL);
	/* Whatever is witnessed must survive the restart. */
	if (w->has_sink)
		(void)rvm_witness_sync(w);
	rec->handled[RVM_F4]++;
	if (rec->ops && rec->ops->kernel_restart)
		rec->ops->kernel_restart(rec->ctx, f);
}

/* The class a new fault of base class c starts at, after repetition; counts it there. */
static unsigned first_class(struct rvm_recovery *rec, uint32_t partition, unsigned c, uint64_t now)
{
	struct rvm_recovery_part *p = &rec->part[partition];

	if (now - p->window_start > rec->cfg.window_ns) {
		rvm_memset(p->faults, 0, sizeof(p->faults));
		p->window_start = now;
	}
	while (c < RVM_F4 && rec->cfg.repeat && p->faults[c] >= rec->cfg.repeat)
		c++;
	p->faults[c]++;
	return c;
}

enum rvm_err rvm_recovery_handle(struct rvm_recovery *rec, const struct rvm_fault *f,
				 uint64_t now_ns, struct rvm_recovery_result *res)
{
	struct rvm_recovery_result local;
	uint64_t fault_seq = 0;
	unsigned c;
	enum rvm_err err;

	if (!rec || !rec->ck || !f || f->partition >= RVM_MAX_PARTITIONS || f->kind == 0 ||
	    f->kind >= RVM_FAULT_KIND_COUNT)
		return RVM_E_INVAL;
	if (!res)
		res = &local;
	rvm_memset(res, 0, sizeof(*res));
	err = witness(rec, RVM_ACT_FAULT, f, f->seq, &fault_seq);
	if (err != RVM_OK && f->kind == RVM_FAULT_WITNESS_FULL && drain(rec) == RVM_OK)
		err = witness(rec, RVM_ACT_FAULT, f, f->seq, &fault_seq);
	if (err != RVM_OK) {
		/* Nothing can be witnessed: only a controlled restart is left. */
		res->cls = res->first = RVM_F4;
		res->last_err = err;
		kernel_restart(rec, f);
		return RVM_E_FULL;
	}
	c = first_class(rec, f->partition, rvm_fault_class_of(f->kind), now_ns);
	res->first = (uint8_t)c;
	for (; c < RVM_F4; c++) {
		const struct rvm_recovery_part *p = &rec->part[f->partition];
		uint64_t ck = p->nckpt ? p->ckpt[p->nckpt - 1] : 0;

		if (witness(rec, class_action[c], f, ck, NULL) != RVM_OK) {
			res->last_err = RVM_E_FULL;
			break;
		}
		if (c == RVM_F1)
			err = step_f1(rec, f, res);
		else
			err = rollback(rec, f, fault_seq - 1, c == RVM_F3 ? f->seq : RVM_SEQ_NONE,
				       res);
		if (err == RVM_OK) {
			res->cls = (uint8_t)c;
			rec->handled[c]++;
			return RVM_OK;
		}
		res->last_err = err;
	}
	res->cls = RVM_F4;
	kernel_restart(rec, f);
	return RVM_OK;
}
