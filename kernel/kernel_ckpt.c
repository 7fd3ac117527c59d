/* kernel/kernel_ckpt.c - the swarm's partition checkpoints: agent snapshot blobs, live digests,
 * the per-epoch cadence, and taking in what the asynchronous store finished. */
#include <rvm/bytes.h>
#include <rvm/kernel_recover.h>

#include "agent_priv.h"
#include "kernel_gpu.h"
#include "recover_priv.h"

/* The seq bits of a checkpoint id (RVM_CKPT_ID). */
#define SEQ_MASK 0xFFFFFFFFFFull

/* Blob header offsets (rvm/kernel_recover.h). */
enum { SB_FLAGS = 8, SB_EDGE = 12, SB_RAW = 16, SB_CHUNKS = 24, SB_RSVD = 28, SB_SHA = 32 };

size_t rvm_snapblob_bound(size_t n)
{
	size_t chunks = n / RVM_LZ4_MAX_INPUT + 1;

	return RVM_SNAPBLOB_HEAD + chunks * (4 + rvm_lz4_bound(RVM_LZ4_MAX_INPUT)) + n;
}

enum rvm_err rvm_snapblob_encode(struct rvm_lz4_work *work, const struct rvm_sha256_impl *sha,
				 const uint8_t *raw, size_t n, uint32_t flags, uint32_t last_edge,
				 uint8_t *out, size_t cap, size_t *len)
{
	size_t pos = RVM_SNAPBLOB_HEAD, chunks = 0;
	enum rvm_err err;

	if (!work || (n && !raw) || !out || !len)
		return RVM_E_INVAL;
	if (cap < RVM_SNAPBLOB_HEAD)
		return RVM_E_NOMEM;
	for (size_t at = 0; at < n; at += RVM_LZ4_MAX_INPUT, chunks++) {
		size_t take = n - at < RVM_LZ4_MAX_INPUT ? n - at : RVM_LZ4_MAX_INPUT, got = 0;

		if (cap - pos < 4)
			return RVM_E_NOMEM;
		err = rvm_lz4_compress(work, raw + at, take, out + pos + 4, cap - pos - 4, &got);
		if (err != RVM_OK)
			return err == RVM_E_RANGE ? RVM_E_NOMEM : err;
		rvm_store_le32(out + pos, (uint32_t)got);
		pos += 4 + got;
	}
	rvm_memcpy(out, RVM_SNAPBLOB_MAGIC, 8);
	rvm_store_le32(out + SB_FLAGS, flags);
	rvm_store_le32(out + SB_EDGE, last_edge);
	rvm_store_le64(out + SB_RAW, n);
	rvm_store_le32(out + SB_CHUNKS, (uint32_t)chunks);
	rvm_store_le32(out + SB_RSVD, 0);
	rvm_sha256(sha, raw, n, out + SB_SHA);
	*len = pos;
	return RVM_OK;
}

enum rvm_err rvm_snapblob_decode(const struct rvm_sha256_impl *sha, const uint8_t *blob, size_t len,
				 uint8_t *raw, size_t cap, struct rvm_snapblob_info *info)
{
	uint64_t n;
	uint32_t chunks;
	size_t pos = RVM_SNAPBLOB_HEAD, at = 0;
	uint8_t d[RVM_SHA256_DIGEST];

	if (!blob || !info || (cap && !raw))
		return RVM_E_INVAL;
	if (len < RVM_SNAPBLOB_HEAD)
		return RVM_E_TRUNCATED;
	if (rvm_memcmp(blob, RVM_SNAPBLOB_MAGIC, 8) != 0 || rvm_load_le32(blob + SB_RSVD) != 0 ||
	    (rvm_load_le32(blob + SB_FLAGS) & ~RVM_SNAPBLOB_YIELDED) != 0)
		return RVM_E_FORMAT;
	n = rvm_load_le64(blob + SB_RAW);
	chunks = rvm_load_le32(blob + SB_CHUNKS);
	if (n > cap)
		return RVM_E_NOMEM;
	if (chunks != (n + RVM_LZ4_MAX_INPUT - 1) / RVM_LZ4_MAX_INPUT)
		return RVM_E_CORRUPT;
	for (uint32_t c = 0; c < chunks; c++) {
		size_t want = n - at < RVM_LZ4_MAX_INPUT ? (size_t)(n - at) : RVM_LZ4_MAX_INPUT,
		       got;
		uint32_t bl;

		if (len - pos < 4)
			return RVM_E_TRUNCATED;
		bl = rvm_load_le32(blob + pos);
		if (bl > len - pos - 4)
			return RVM_E_TRUNCATED;
		if (rvm_lz4_decompress(blob + pos + 4, bl, raw + at, want, &got) != RVM_OK ||
		    got != want)
			return RVM_E_CORRUPT;
		pos += 4 + bl;
		at += want;
	}
	if (pos != len)
		return RVM_E_CORRUPT;
	rvm_sha256(sha, raw, (size_t)n, d);
	if (!rvm_ct_equal(d, blob + SB_SHA, RVM_SHA256_DIGEST))
		return RVM_E_CORRUPT;
	info->flags = rvm_load_le32(blob + SB_FLAGS);
	info->last_edge = rvm_load_le32(blob + SB_EDGE);
	info->raw_len = n;
	rvm_memcpy(info->sha256, d, RVM_SHA256_DIGEST);
	return RVM_OK;
}

void rvm_kernel_agent_state_digest(const struct rvm_sha256_impl *sha, uint64_t life_fuel,
				   const uint8_t memory_sha[RVM_SHA256_DIGEST],
				   uint8_t out[RVM_SHA256_DIGEST])
{
	uint8_t b[8 + RVM_SHA256_DIGEST];

	rvm_store_le64(b, life_fuel);
	rvm_memcpy(b + 8, memory_sha, RVM_SHA256_DIGEST);
	rvm_sha256(sha, b, sizeof(b), out);
}

/* An agent a checkpoint of p holds: ready, with an instance. */
static bool member(const struct rvm_agent *a, uint32_t p)
{
	return a->part == p && a->state == RVM_AGENT_READY && a->inst;
}

struct digest_ctx {
	struct rvm_world *w;
};

/* The index-th member of the partition (agent number order) and its state digest. */
static enum rvm_err agent_digest_cb(void *ctx, uint32_t partition, uint32_t index, uint32_t *agent,
				    uint8_t digest[RVM_SHA256_DIGEST])
{
	struct rvm_world *w = ((struct digest_ctx *)ctx)->w;
	const struct rvm_sha256_impl *sha = w->k->plat->sha256;

	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[i];
		struct rvm_wasm_memory *m;
		uint8_t ms[RVM_SHA256_DIGEST];

		if (!member(a, partition) || index--)
			continue;
		m = rvm_wasm_instance_memory(a->inst);
		rvm_sha256(sha, m ? m->data : NULL, m ? (size_t)m->size : 0, ms);
		rvm_kernel_agent_state_digest(sha, a->life_fuel, ms, digest);
		*agent = a->num;
		return RVM_OK;
	}
	return RVM_E_NOTFOUND;
}

/* Is an agent of p other than `except` running (its instance moving under us)? */
static bool partition_busy(const struct rvm_world *w, uint32_t p, uint32_t except)
{
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].part == p && w->agents[i].running && i != except)
			return true;
	return false;
}

enum rvm_err rvm_kernel_snapshot_agents(struct rvm_kernel_recovery *r, uint32_t p, uint32_t *n)
{
	struct rvm_world *w = r->k->w;
	size_t used = 0;
	enum rvm_err err;

	*n = 0;
	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[i];
		size_t raw = 0, blob = 0;

		if (!member(a, p))
			continue;
		if (*n == RVM_CKPT_MAX_AGENTS)
			return RVM_E_RANGE;
		err = rvm_wasm_snapshot(a->inst, r->raw, r->rawcap, &raw);
		if (err == RVM_OK)
			err = rvm_snapblob_encode(&r->lz4, r->k->plat->sha256, r->raw, raw,
						  a->yielded ? RVM_SNAPBLOB_YIELDED : 0,
						  a->last_edge, r->blobs + used, r->blobcap - used,
						  &blob);
		if (err != RVM_OK)
			return err;
		rvm_agent_gpu_capture(a, r->blobs + used, blob); /* its GPU state goes with it */
		r->rec.agents[*n] = (struct rvm_ckpt_agent){a->num, r->blobs + used, blob};
		used += blob;
		(*n)++;
	}
	return RVM_OK;
}

void rvm_kernel_recovery_track(struct rvm_kernel_recovery *r, uint32_t p)
{
	struct rvm_world *w = r->k->w;

	if (p >= RVM_KPARTS || r->pid[p] == w->parts.p[p].id)
		return;
	r->pid[p] = w->parts.p[p].id;
	r->last[p] = 0;
	r->pending[p] = 0;
	/* A store still writing one of the slot's former partition: its report trims the tapes
	 * cut for it (by id), it is no restore base of the partition the slot holds now. */
	r->inflight[p] = 0;
	r->ckfail[p] = 0;
	rvm_memset(&r->rec.part[p], 0, sizeof(r->rec.part[p]));
}

/* Checkpoint id of p is durable: a restore base, and the tapes cut for it start there. */
static void ckpt_durable(struct rvm_kernel_recovery *r, uint32_t p, uint64_t id)
{
	struct rvm_world *w = r->k->w;

	if (p < RVM_KPARTS && r->inflight[p] == id) {
		const struct rvm_recovery_part *rp = &r->rec.part[p];

		r->inflight[p] = 0;
		r->ckfail[p] = 0;
		/* Unless a newer one is remembered already (never, with one in flight at a
		 * time; cheap to keep true). */
		if (!rp->nckpt || (rp->ckpt[rp->nckpt - 1] & SEQ_MASK) < (id & SEQ_MASK))
			rvm_recovery_note_checkpoint(&r->rec, p, id, r->inflight_tag[p]);
	}
	for (uint32_t i = 0; i < w->nagents; i++)
		rvm_tape_commit(r, &w->agents[i], id);
}

/* The store could not write checkpoint id of p: on record; tapes keep their old base. */
static void ckpt_lost(struct rvm_kernel_recovery *r, uint32_t p, uint64_t id, enum rvm_err err)
{
	struct rvm_world *w = r->k->w;

	r->store_failed++;
	r->ckpt_failed++;
	r->last_err = err;
	if (p < RVM_KPARTS && r->inflight[p] == id) {
		r->inflight[p] = 0;
		r->ckfail_err[p] = err;
		if (r->ckfail[p] < UINT8_MAX)
			r->ckfail[p]++;
	}
	for (uint32_t i = 0; i < w->nagents; i++)
		rvm_tape_abandon(r, &w->agents[i], id);
	(void)rvm_witness_emit(&r->k->witness, RVM_ACT_CKPT_LOST, 0, 0, p, id, (uint64_t)err, NULL);
}

uint32_t rvm_kernel_checkpoint_settle(struct rvm_kernel *k, bool wait)
{
	struct rvm_kernel_recovery *r = k && k->w ? k->w->rec : NULL;
	const struct rvm_platform *pl = k ? k->plat : NULL;
	uint32_t n = 0;
	uint64_t id;
	enum rvm_err res;

	if (!r || !r->stores || !pl->checkpoint_done)
		return 0;
	while (r->stores && pl->checkpoint_done(pl->ctx, wait, &id, &res) == RVM_OK) {
		uint32_t p = (uint32_t)(id >> 40) & 0xFFFFu;

		r->stores--;
		n++;
		if (res == RVM_OK) {
			r->stored++;
			ckpt_durable(r, p, id);
		} else {
			ckpt_lost(r, p, id, res);
		}
	}
	if (wait)
		r->stores = 0; /* the store has nothing more to report */
	return n;
}

/* A checkpoint of p could not be taken or handed over (err): counted, p's tapes keep asking. */
static void count_failed(struct rvm_kernel_recovery *r, uint32_t p, enum rvm_err err)
{
	r->ckpt_failed++;
	r->last_err = err;
	r->ckfail_err[p] = err;
	if (r->ckfail[p] < UINT8_MAX)
		r->ckfail[p]++;
}

enum rvm_err rvm_kernel_checkpoint_store(struct rvm_kernel *k, uint32_t p, uint32_t n,
					 struct rvm_ckpt_info *info)
{
	struct rvm_kernel_recovery *r = k->w->rec;
	bool async = rvm_kernel_store_async(k);
	enum rvm_err err;

	/* Built here, under the lock (a consistent cut at its seq); written off it when the
	 * platform can: the library's put is the asynchronous one for this call only. */
	if (async)
		r->store_plat.checkpoint_put = k->plat->checkpoint_put_async;
	err = rvm_checkpoint_take(&r->ck, p, r->rec.agents, n, r->rec.buf, r->rec.cap, info);
	r->store_plat.checkpoint_put = k->plat->checkpoint_put;
	if (err != RVM_OK) {
		count_failed(r, p, err);
		return err;
	}
	/* The agents' tapes start again at their snapshots here, once the store has them. */
	for (uint32_t i = 0; i < n; i++)
		rvm_tape_cut(r, &k->w->agents[r->rec.agents[i].id], info->id);
	r->inflight[p] = info->id;
	r->inflight_tag[p] = rvm_load_le64(info->sha256);
	if (async)
		r->stores++;
	else
		ckpt_durable(r, p, info->id);
	return RVM_OK;
}

/* Waits for p's checkpoint on its way to the store, if any (one at a time per partition). */
static void settle_partition(struct rvm_kernel *k, struct rvm_kernel_recovery *r, uint32_t p)
{
	while (r->inflight[p] && rvm_kernel_checkpoint_settle(k, true))
		;
	r->inflight[p] = 0;
}

enum rvm_err rvm_kernel_checkpoint(struct rvm_kernel *k, uint32_t p, struct rvm_ckpt_info *info)
{
	struct rvm_world *w;
	struct rvm_kernel_recovery *r;
	struct digest_ctx dc;
	struct rvm_ckpt_info local;
	uint8_t d[RVM_SHA256_DIGEST];
	uint32_t n = 0, members = 0;
	enum rvm_err err;

	if (!k || !(w = k->w) || !(r = w->rec) || p < RVM_PART_FIRST || p >= RVM_KPARTS ||
	    !rvm_part_live(w, p))
		return RVM_E_INVAL;
	if (partition_busy(w, p, RVM_AGENT_NONE))
		return RVM_E_BUSY;
	for (uint32_t i = 0; i < w->nagents; i++)
		members += member(&w->agents[i], p);
	if (!members)
		return RVM_E_NOTFOUND;
	rvm_kernel_recovery_track(r, p);
	(void)rvm_kernel_checkpoint_settle(k, false);
	settle_partition(k, r, p);
	/* The live state the checkpoint holds, on record: each agent's DIGEST (pending counts
	 * first, so a replay from here starts with none), then the partition's. */
	for (uint32_t i = 0; i < w->nagents; i++)
		if (member(&w->agents[i], p) && (err = rvm_agent_digest(&w->agents[i])) != RVM_OK)
			return err;
	dc.w = w;
	err = rvm_partition_digest_record(&r->space, p, agent_digest_cb, &dc, d, NULL);
	if (err == RVM_OK)
		err = rvm_kernel_snapshot_agents(r, p, &n);
	if (err == RVM_OK)
		err = rvm_kernel_checkpoint_store(k, p, n, &local);
	else
		count_failed(r, p, err);
	if (err != RVM_OK)
		return err;
	r->checkpoints++;
	r->ckpt_bytes += local.len;
	if (local.len > r->ckpt_max)
		r->ckpt_max = local.len;
	if (info)
		*info = local;
	return RVM_OK;
}

/* One scheduled checkpoint of p: taken, or pending behind a running agent. */
static bool take_due(struct rvm_kernel *k, struct rvm_kernel_recovery *r, uint32_t p)
{
	enum rvm_err err;

	/* The one on its way to the store comes first (no wait under the lock for it). */
	if (r->inflight[p]) {
		r->pending[p] = 0;
		return false;
	}
	err = rvm_kernel_checkpoint(k, p, NULL);

	if (err == RVM_E_BUSY) {
		if (!r->pending[p])
			r->ckpt_busy++;
		r->pending[p] = 1;
		return false;
	}
	/* Taken, or failed: either way not tried again before its turn comes again. */
	r->pending[p] = 0;
	r->last[p] = k->w->epochs + 1;
	return err == RVM_OK;
}

void rvm_kernel_ckpt_slice_end(struct rvm_kernel *k, uint32_t p)
{
	struct rvm_kernel_recovery *r = k->w->rec;

	if (!r)
		return;
	/* A write takes milliseconds, a slice microseconds: asking the store every 8th slice
	 * end is soon enough and keeps its lock off the others. */
	if (r->stores && (++r->polls & 7u) == 0)
		(void)rvm_kernel_checkpoint_settle(k, false);
	if (p < RVM_KPARTS && r->pending[p] && !partition_busy(k->w, p, RVM_AGENT_NONE))
		(void)take_due(k, r, p);
}

uint32_t rvm_kernel_checkpoint_tick(struct rvm_kernel *k)
{
	struct rvm_world *w = k ? k->w : NULL;
	struct rvm_kernel_recovery *r = w ? w->rec : NULL;
	uint32_t taken = 0, span = RVM_KPARTS - RVM_PART_FIRST, from;

	if (!r)
		return 0;
	(void)rvm_kernel_checkpoint_settle(k, false);
	from = r->cursor;
	for (uint32_t i = 0; i < span && taken < r->cfg.per_epoch; i++) {
		uint32_t p = RVM_PART_FIRST + (from + i) % span;

		if (!rvm_part_live(w, p) || !w->parts.p[p].agents) {
			if (p < RVM_KPARTS)
				r->pending[p] = 0;
			continue;
		}
		rvm_kernel_recovery_track(r, p);
		if (r->inflight[p] ||
		    (!r->pending[p] && r->last[p] && w->epochs + 1 - r->last[p] < r->cfg.every))
			continue;
		if (take_due(k, r, p)) {
			taken++;
			r->cursor = (p - RVM_PART_FIRST + 1) % span;
		}
	}
	return taken;
}
