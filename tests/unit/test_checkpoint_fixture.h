/* tests/unit/test_checkpoint_fixture.h - a small kernel for checkpoint, replay and recovery tests.
 */
#ifndef RVM_TEST_CHECKPOINT_FIXTURE_H
#define RVM_TEST_CHECKPOINT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "test_cap_fixture.h"

#include <rvm/checkpoint.h>
#include <rvm/ipc.h>
#include <rvm/region.h>
#include <rvm/replay.h>
#include <rvm/witness_file.h>

#define KF_ARENA   (8u << 20)
#define KF_NFRAMES (KF_ARENA / 4096u)
#define KF_STORE   (1u << 20)
#define KF_OBJECTS 256

/*
 * In-memory platform checkpoint store and journal: objects by id, payloads by
 * seq. fail_put / fail_get inject store failures.
 */
struct kf_object {
	uint64_t id;
	uint8_t *buf;
	size_t len;
};

/*
 * One kernel's worth of state: caps and gate (with its witness log), a
 * partition pool and IPC, a buddy over a real arena, regions sharing the
 * gate's witness log, a checkpoint context, the store and the journal.
 */
struct kfix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
	struct rvm_ipc ipc;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[KF_NFRAMES];
	struct rvm_region_frame rframes[KF_NFRAMES];
	struct rvm_region_store store;
	struct rvm_region_space space;
	struct rvm_ckpt_ctx ck;
	uint8_t *arena;
	uint8_t store_buf[KF_STORE];
	struct kf_object objs[KF_OBJECTS];
	int nobjs;
	enum rvm_err fail_put, fail_get;
	struct kf_object journal[4096];
	int njournal;
	uint64_t puts;
	/* The witness sink: the log file's bytes, in memory; sink_fail makes appends fail. */
	uint8_t *sink;
	size_t sink_len, sink_cap;
	enum rvm_err sink_fail;
};

/* The fixture the store callbacks act on (tests run one at a time). */
static struct kfix *kf_current;

static struct kf_object *kf_find(struct kf_object *o, int n, uint64_t id)
{
	for (int i = 0; i < n; i++)
		if (o[i].id == id)
			return &o[i];
	return NULL;
}

static enum rvm_err kf_store_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	struct kfix *k = kf_current;
	struct kf_object *o;

	(void)ctx;
	if (k->fail_put != RVM_OK)
		return k->fail_put;
	o = kf_find(k->objs, k->nobjs, id);
	if (!o) {
		assert_true(k->nobjs < KF_OBJECTS);
		o = &k->objs[k->nobjs++];
		o->id = id;
	} else {
		free(o->buf);
	}
	o->buf = malloc(n ? n : 1);
	assert_non_null(o->buf);
	memcpy(o->buf, buf, n);
	o->len = n;
	k->puts++;
	return RVM_OK;
}

static enum rvm_err kf_store_get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	struct kfix *k = kf_current;
	struct kf_object *o = kf_find(k->objs, k->nobjs, id);

	(void)ctx;
	if (k->fail_get != RVM_OK)
		return k->fail_get;
	if (!o)
		return RVM_E_NOTFOUND;
	memcpy(buf, o->buf, o->len < cap ? o->len : cap);
	*len = o->len;
	return RVM_OK;
}

static enum rvm_err kf_sink_append(void *ctx, enum rvm_sink_stream st, const void *buf, size_t n)
{
	struct kfix *k = kf_current;

	(void)ctx;
	if (st != RVM_SINK_WITNESS)
		return RVM_E_UNSUPPORTED;
	if (k->sink_fail != RVM_OK)
		return k->sink_fail;
	if (k->sink_len + n > k->sink_cap) {
		k->sink_cap = (k->sink_len + n) * 2;
		k->sink = realloc(k->sink, k->sink_cap);
		assert_non_null(k->sink);
	}
	memcpy(k->sink + k->sink_len, buf, n);
	k->sink_len += n;
	return RVM_OK;
}

static enum rvm_err kf_sink_sync(void *ctx, enum rvm_sink_stream st)
{
	(void)ctx;
	if (st != RVM_SINK_WITNESS)
		return RVM_E_UNSUPPORTED;
	return kf_current->sink_fail;
}

/* Journal hook: keeps each write's bytes under its record's seq. */
static void kf_journal(void *ctx, uint64_t seq, rvm_region_id id, uint64_t offset,
		       const uint8_t *data, uint32_t len)
{
	struct kfix *k = ctx;
	struct kf_object *o;

	(void)id;
	(void)offset;
	assert_true(k->njournal < 4096);
	o = &k->journal[k->njournal++];
	o->id = seq;
	o->buf = malloc(len ? len : 1);
	assert_non_null(o->buf);
	memcpy(o->buf, data, len);
	o->len = len;
}

/* ---- replay sources over the fixture: the live ring, the journal, the store ---- */

static enum rvm_err kf_src_record(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	struct kfix *k = ctx;
	const struct rvm_witness_record *r = rvm_witness_get(&k->f->wlog, seq);

	if (!r)
		return RVM_E_NOTFOUND;
	*out = *r;
	return RVM_OK;
}

static enum rvm_err kf_src_payload(void *ctx, uint64_t seq, const uint8_t **data, size_t *len)
{
	struct kfix *k = ctx;
	struct kf_object *o = kf_find(k->journal, k->njournal, seq);

	if (!o)
		return RVM_E_NOTFOUND;
	*data = o->buf;
	*len = o->len;
	return RVM_OK;
}

static enum rvm_err kf_src_checkpoint(void *ctx, uint64_t id, const uint8_t **buf, size_t *len)
{
	struct kfix *k = ctx;
	struct kf_object *o = kf_find(k->objs, k->nobjs, id);

	if (!o)
		return RVM_E_NOTFOUND;
	*buf = o->buf;
	*len = o->len;
	return RVM_OK;
}

static inline struct rvm_replay_source kf_source(struct kfix *k)
{
	struct rvm_replay_source s = {kf_src_record, kf_src_payload, kf_src_checkpoint, k};

	return s;
}

/* nparts running partitions (pool slots 1..nparts), caps to each in table 0. */
static inline struct kfix *kfix_new(uint32_t nparts, rvm_cap_t *caps)
{
	struct kfix *k = calloc(1, sizeof(*k));
	struct rvm_phys_range r;

	assert_non_null(k);
	kf_current = k;
	k->f = cap_fixture_new();
	k->f->plat.checkpoint_put = kf_store_put;
	k->f->plat.checkpoint_get = kf_store_get;
	/* The log again, now with a sink, so every test can audit what it wrote. */
	k->f->plat.sink_append = kf_sink_append;
	k->f->plat.sink_sync = kf_sink_sync;
	{
		struct rvm_witness_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.chain = RVM_CHAIN_SHA256;
		cfg.sig = RVM_SIG_NONE;
		memset(cfg.boot_nonce, 0x6b, sizeof(cfg.boot_nonce));
		assert_int_equal(rvm_witness_init(&k->f->wlog, &k->f->plat, &cfg), RVM_OK);
		assert_true(k->f->wlog.has_sink);
	}
	rvm_part_pool_init(&k->pool, &k->f->gate);
	rvm_ipc_init(&k->ipc, &k->pool, NULL);
	for (uint32_t i = 0; i < nparts; i++) {
		uint32_t slot;
		rvm_obj_id id;
		rvm_cap_t c;

		assert_int_equal(rvm_partition_create(&k->pool, 0, &slot, &id, &c), RVM_OK);
		assert_int_equal(slot, i + 1);
		assert_int_equal(rvm_partition_op(&k->pool, 0, c, RVM_PART_START), RVM_OK);
		if (caps)
			caps[i] = c;
	}
	k->arena = aligned_alloc(4u << 20, KF_ARENA);
	assert_non_null(k->arena);
	r.base = (uint64_t)(uintptr_t)k->arena;
	r.size = KF_ARENA;
	assert_int_equal(rvm_buddy_init(&k->buddy, k->bframes, KF_NFRAMES, &r, 1), RVM_OK);
	rvm_region_store_init(&k->store, k->store_buf, KF_STORE);
	assert_int_equal(rvm_region_space_init(&k->space, &k->buddy, k->rframes, KF_NFRAMES,
					       &k->store, &k->f->wlog, &k->f->plat),
			 RVM_OK);
	k->space.journal = kf_journal;
	k->space.journal_ctx = k;
	k->ck.regions = &k->space;
	k->ck.gate = &k->f->gate;
	k->ck.ipc = &k->ipc;
	return k;
}

static inline void kfix_free(struct kfix *k)
{
	for (int i = 0; i < k->nobjs; i++)
		free(k->objs[i].buf);
	for (int i = 0; i < k->njournal; i++)
		free(k->journal[i].buf);
	free(k->arena);
	free(k->sink);
	cap_fixture_free(k->f);
	if (kf_current == k)
		kf_current = NULL;
	free(k);
}

/*
 * Flushes the log and verifies the whole file the sink holds: the chain
 * is intact and no record is missing.
 */
static inline void kf_audit(struct kfix *k)
{
	static struct rvm_witness_reader rd;
	const struct rvm_witness_verdict *v;

	assert_int_equal(rvm_witness_flush(&k->f->wlog), RVM_OK);
	rvm_witness_reader_init(&rd, NULL, NULL, NULL, NULL);
	assert_int_equal(rvm_witness_reader_feed(&rd, k->sink, k->sink_len), RVM_OK);
	v = rvm_witness_reader_finish(&rd);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->records == k->f->wlog.next_seq);
	assert_true(v->torn_bytes == 0);
}

/* The stored bytes of checkpoint id (NULL if absent). */
static inline struct kf_object *kf_object(struct kfix *k, uint64_t id)
{
	return kf_find(k->objs, k->nobjs, id);
}

/* A fresh, empty region space for replay, with its own ring-only log and buddy over an arena. */
struct rfix {
	struct cap_fixture *f;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[KF_NFRAMES];
	struct rvm_region_frame rframes[KF_NFRAMES];
	struct rvm_region_store store;
	struct rvm_region_space space;
	struct rvm_ckpt_ctx ck;
	uint8_t *arena;
	uint8_t store_buf[4096];
};

static inline struct rfix *rfix_new(void)
{
	struct rfix *x = calloc(1, sizeof(*x));
	struct rvm_phys_range r;

	assert_non_null(x);
	x->f = cap_fixture_new();
	x->arena = aligned_alloc(4u << 20, KF_ARENA);
	assert_non_null(x->arena);
	r.base = (uint64_t)(uintptr_t)x->arena;
	r.size = KF_ARENA;
	assert_int_equal(rvm_buddy_init(&x->buddy, x->bframes, KF_NFRAMES, &r, 1), RVM_OK);
	rvm_region_store_init(&x->store, x->store_buf, sizeof(x->store_buf));
	assert_int_equal(rvm_region_space_init(&x->space, &x->buddy, x->rframes, KF_NFRAMES,
					       &x->store, &x->f->wlog, &x->f->plat),
			 RVM_OK);
	x->ck.regions = &x->space;
	return x;
}

/* Empties the space again (a new buddy over the same arena), for the next rebuild. */
static inline void rfix_reset(struct rfix *x)
{
	struct rvm_phys_range r = {(uint64_t)(uintptr_t)x->arena, KF_ARENA};

	assert_int_equal(rvm_buddy_init(&x->buddy, x->bframes, KF_NFRAMES, &r, 1), RVM_OK);
	rvm_region_store_init(&x->store, x->store_buf, sizeof(x->store_buf));
	assert_int_equal(rvm_region_space_init(&x->space, &x->buddy, x->rframes, KF_NFRAMES,
					       &x->store, &x->f->wlog, &x->f->plat),
			 RVM_OK);
}

static inline void rfix_free(struct rfix *x)
{
	free(x->arena);
	cap_fixture_free(x->f);
	free(x);
}

#endif
