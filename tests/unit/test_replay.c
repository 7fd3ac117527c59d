/* tests/unit/test_replay.c - rebuilding a partition at seq N from checkpoint + log + journal
 * matches live. */
#include "support.h"

#include <stdio.h>

#include "test_checkpoint_fixture.h"

#include <rvm/recovery.h>

static uint8_t ckbuf[12u << 20];

/* ---- The log as a file would give it: every record, decoded from the sink's bytes ---- */

struct logview {
	struct rvm_witness_record *r;
	uint64_t n, cap;
	struct kfix *k; /* journal and checkpoint store */
};

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	struct logview *lv = ctx;

	if (lv->n == lv->cap) {
		lv->cap = lv->cap ? lv->cap * 2 : 1024;
		lv->r = realloc(lv->r, lv->cap * sizeof(*lv->r));
		assert_non_null(lv->r);
	}
	lv->r[lv->n++] = *r;
}

static void logview_load(struct logview *lv, struct kfix *k)
{
	static struct rvm_witness_reader rd;

	memset(lv, 0, sizeof(*lv));
	lv->k = k;
	assert_int_equal(rvm_witness_flush(&k->f->wlog), RVM_OK);
	rvm_witness_reader_init(&rd, NULL, NULL, collect, lv);
	assert_int_equal(rvm_witness_reader_feed(&rd, k->sink, k->sink_len), RVM_OK);
	assert_int_equal(rvm_witness_reader_finish(&rd)->err, RVM_OK);
	assert_true(lv->n == k->f->wlog.next_seq);
}

static enum rvm_err lv_record(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	struct logview *lv = ctx;

	if (seq >= lv->n)
		return RVM_E_NOTFOUND;
	*out = lv->r[seq];
	return RVM_OK;
}

static enum rvm_err lv_payload(void *ctx, uint64_t seq, const uint8_t **data, size_t *len)
{
	return kf_src_payload(((struct logview *)ctx)->k, seq, data, len);
}

static enum rvm_err lv_checkpoint(void *ctx, uint64_t id, const uint8_t **buf, size_t *len)
{
	return kf_src_checkpoint(((struct logview *)ctx)->k, id, buf, len);
}

/* ---- A random workload over three partitions, recording live digests as it goes ---- */

#define NP   3
#define MAXR 64

struct live {
	uint64_t seq;
	uint32_t part;
	uint8_t digest[32];
};

struct work {
	struct kfix *k;
	rvm_region_id ids[MAXR];
	int nids;
	uint64_t rnd;
	struct live live[400];
	int nlive;
	int checkpoints, transfers, writes, restores;
	/* A region came in since the partition's last checkpoint: a partition-only rollback
	 * cannot rebuild it (docs/recovery.md), so no F3 is injected there. */
	bool received[NP + 1];
};

static int pick_region(struct work *w, uint32_t owner, bool resident, bool unmapped)
{
	int start = (int)(rvm_test_rand(&w->rnd) % (uint64_t)(w->nids ? w->nids : 1));

	for (int i = 0; i < w->nids; i++) {
		int j = (start + i) % w->nids;
		const struct rvm_region *r = rvm_region_get(&w->k->space, w->ids[j]);

		if (!r || r->owner != owner || (resident && r->tier > RVM_TIER_WARM) ||
		    (unmapped && r->nmaps))
			continue;
		return j;
	}
	return -1;
}

static void step(struct work *w, struct rvm_recovery *rec)
{
	struct rvm_region_space *s = &w->k->space;
	uint32_t p = 1 + (uint32_t)(rvm_test_rand(&w->rnd) % NP);
	uint64_t dice = rvm_test_rand(&w->rnd) % 100;
	uint8_t buf[2048];
	int i;

	if (dice < 40) {
		uint32_t len = 1 + (uint32_t)(rvm_test_rand(&w->rnd) % sizeof(buf));
		const struct rvm_region *r;

		i = pick_region(w, p, true, false);
		if (i < 0)
			return;
		r = rvm_region_get(s, w->ids[i]);
		rvm_test_fill(&w->rnd, buf, len);
		if (rvm_test_rand(&w->rnd) % 2)
			memset(buf, (int)p, len / 2); /* compressible too */
		assert_int_equal(
			rvm_region_write(s, p, 50 + p, w->ids[i],
					 rvm_test_rand(&w->rnd) % (rvm_region_size(r) - len), buf,
					 len, NULL),
			RVM_OK);
		w->writes++;
	} else if (dice < 48 && w->nids < MAXR) {
		assert_int_equal(rvm_region_create(s, p, p, 4096u << (rvm_test_rand(&w->rnd) % 5),
						   RVM_REGION_DATA, true, 1, &w->ids[w->nids]),
				 RVM_OK);
		w->nids++;
	} else if (dice < 52) {
		i = pick_region(w, p, false, true);
		if (i >= 0) {
			assert_int_equal(rvm_region_destroy(s, p, w->ids[i]), RVM_OK);
			w->ids[i] = w->ids[--w->nids];
		}
	} else if (dice < 59) {
		i = pick_region(w, p, false, true);
		if (i >= 0) {
			assert_int_equal(rvm_region_transfer(s, p, w->ids[i], 1 + p % NP), RVM_OK);
			w->received[1 + p % NP] = true;
			w->transfers++;
		}
	} else if (dice < 67) {
		static const enum rvm_tier to[] = {RVM_TIER_DORMANT, RVM_TIER_COLD, RVM_TIER_HOT,
						   RVM_TIER_WARM};

		i = pick_region(w, p, false, true);
		if (i >= 0)
			(void)rvm_region_set_tier(s, p, w->ids[i], to[rvm_test_rand(&w->rnd) % 4]);
	} else if (dice < 72) {
		i = pick_region(w, p, true, false);
		if (i >= 0 && !rvm_region_get(s, w->ids[i])->nmaps)
			assert_int_equal(rvm_region_map(s, p, w->ids[i], p, true), RVM_OK);
		else if (i >= 0)
			assert_int_equal(rvm_region_unmap(s, p, w->ids[i], p), RVM_OK);
	} else if (dice < 77) {
		struct rvm_ckpt_info info;

		assert_int_equal(rvm_recovery_checkpoint(rec, p, NULL, 0, &info), RVM_OK);
		w->received[p] = false;
		w->checkpoints++;
	} else if (dice < 79 && rec->part[p].nckpt && !w->received[p]) {
		/* A stray write into the partition, caught and rolled back (F3). */
		struct rvm_fault f = {
			.kind = RVM_FAULT_MEM_CORRUPT, .partition = p, .seq = RVM_SEQ_NONE};
		struct rvm_recovery_result res;

		i = pick_region(w, p, true, false);
		if (i >= 0)
			((uint8_t *)(uintptr_t)rvm_region_get(s, w->ids[i])->base)[5] ^= 0xFF;
		assert_int_equal(rvm_recovery_handle(rec, &f, 0, &res), RVM_OK);
		if (res.cls != RVM_F3)
			fail_msg("F3 of partition %u failed: %s", p, rvm_err_name(res.last_err));
		w->restores++;
	} else if (w->nlive < 400) {
		struct live *l = &w->live[w->nlive++];

		l->part = p;
		assert_int_equal(rvm_partition_digest_record(s, p, NULL, NULL, l->digest, &l->seq),
				 RVM_OK);
	}
}

static void check_rebuild(struct logview *lv, struct rfix *x, const struct live *l,
			  struct rvm_replay_stats *st)
{
	struct rvm_replay_source src = {lv_record, lv_payload, lv_checkpoint, lv};
	uint8_t got[32];

	rfix_reset(x);

	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, lv->n, l->part, l->seq, st), RVM_OK);
	assert_int_equal(rvm_partition_digest(&x->space, l->part, NULL, NULL, got), RVM_OK);
	if (memcmp(got, l->digest, 32) != 0)
		fail_msg("partition %u at seq %llu: replay digest differs from live", l->part,
			 (unsigned long long)l->seq);
	/* The record the live kernel wrote says the same. */
	assert_memory_equal(&lv->r[l->seq].arg0, got, 8);
	assert_memory_equal(&lv->r[l->seq].arg1, got + 8, 8);
	assert_int_equal(rvm_region_check_invariants(&x->space), RVM_OK);
}

static void test_replay_matches_live(void **state)
{
	struct kfix *k = kfix_new(NP, NULL);
	struct work *w = calloc(1, sizeof(*w));
	struct rvm_recovery *rec = calloc(1, sizeof(*rec));
	struct rvm_replay_source src = kf_source(k);
	struct logview lv;
	struct rvm_replay_stats st;
	struct rfix *x;
	uint64_t restored = 0, from_ckpt = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(rec);
	w->k = k;
	w->rnd = 2026;
	rvm_recovery_init(rec, &k->ck, &src, NULL, NULL, NULL, ckbuf, sizeof(ckbuf));
	for (int i = 0; i < 1500; i++)
		step(w, rec);
	assert_true(w->nlive >= 60);
	assert_true(w->checkpoints >= 20 && w->transfers >= 20 && w->restores >= 3);
	logview_load(&lv, k);
	x = rfix_new();
	for (int i = 0; i < w->nlive; i++) {
		memset(&st, 0, sizeof(st));
		check_rebuild(&lv, x, &w->live[i], &st);
		restored += st.restores;
		from_ckpt += st.start_seq > 0;
	}
	/* Most rebuilds start from a checkpoint, not from genesis. */
	assert_true(from_ckpt * 2 > (uint64_t)w->nlive);
	assert_true(restored > 0);
	printf("replay: %d live digests matched (%d writes, %d transfers, %d checkpoints, "
	       "%d rollbacks)\n",
	       w->nlive, w->writes, w->transfers, w->checkpoints, w->restores);
	rfix_free(x);
	free(lv.r);
	free(rec);
	free(w);
	kfix_free(k);
}

/* A payload that does not match its record, or a missing one, stops replay with a clear error. */
static void test_replay_refuses_bad_journal(void **state)
{
	struct kfix *k = kfix_new(1, NULL);
	struct rvm_replay_source src = kf_source(k);
	struct rfix *x;
	rvm_region_id id;
	uint64_t seq, dseq;
	uint8_t d[32];

	(void)state;
	assert_int_equal(rvm_region_create(&k->space, 1, 1, 8192, RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	assert_int_equal(rvm_region_write(&k->space, 1, 9, id, 10, "payload", 7, &seq), RVM_OK);
	assert_int_equal(rvm_partition_digest_record(&k->space, 1, NULL, NULL, d, &dseq), RVM_OK);
	x = rfix_new();
	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, dseq, NULL),
			 RVM_OK);
	rfix_free(x);
	/* Edited after the fact. */
	k->journal[0].buf[0] ^= 1;
	x = rfix_new();
	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, dseq, NULL),
			 RVM_E_CORRUPT);
	rfix_free(x);
	k->journal[0].buf[0] ^= 1;
	k->journal[0].len--;
	x = rfix_new();
	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, dseq, NULL),
			 RVM_E_CORRUPT);
	rfix_free(x);
	k->journal[0].id = 999999; /* lost */
	x = rfix_new();
	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, dseq, NULL),
			 RVM_E_NOTFOUND);
	assert_int_equal(
		rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, k->f->wlog.next_seq, NULL),
		RVM_E_RANGE);
	rfix_free(x);
	kfix_free(k);
}

/* A checkpoint whose bytes are not the ones the log announced is refused. */
static void test_replay_refuses_substituted_checkpoint(void **state)
{
	struct kfix *k = kfix_new(1, NULL);
	struct rvm_replay_source src = kf_source(k);
	struct rvm_ckpt_info a, b;
	struct rfix *x;
	rvm_region_id id;
	struct kf_object *oa, *ob, tmp;
	uint8_t d[32];
	uint64_t dseq;

	(void)state;
	assert_int_equal(rvm_region_create(&k->space, 1, 1, 8192, RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, NULL, 0, ckbuf, sizeof(ckbuf), &a), RVM_OK);
	assert_int_equal(rvm_region_write(&k->space, 1, 9, id, 10, "payload", 7, NULL), RVM_OK);
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, NULL, 0, ckbuf, sizeof(ckbuf), &b), RVM_OK);
	assert_int_equal(rvm_partition_digest_record(&k->space, 1, NULL, NULL, d, &dseq), RVM_OK);
	/* The newer object replaced by the older checkpoint's bytes. */
	oa = kf_object(k, a.id);
	ob = kf_object(k, b.id);
	tmp = *ob;
	ob->buf = oa->buf;
	ob->len = oa->len;
	x = rfix_new();
	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, dseq, NULL),
			 RVM_E_CORRUPT);
	rfix_free(x);
	*ob = tmp;
	x = rfix_new();
	assert_int_equal(rvm_replay_rebuild(&x->ck, &src, k->f->wlog.next_seq, 1, dseq, NULL),
			 RVM_OK);
	rfix_free(x);
	kfix_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_matches_live),
		cmocka_unit_test(test_replay_refuses_bad_journal),
		cmocka_unit_test(test_replay_refuses_substituted_checkpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
