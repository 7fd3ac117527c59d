/* tests/unit/test_proof.c - P1 exhaustive, each P2 rule's denials, nonce ring, quotas, merge, P3. */
#include "support.h"

#include "test_cap_fixture.h"

static void test_p1_exhaustive(void **state)
{
	static uint8_t held[256 * 256], req[256 * 256], out[256 * 256];
	uint32_t n = 0, acc;

	(void)state;
	for (uint32_t h = 0; h < 256; h++) {
		for (uint32_t r = 0; r < 256; r++) {
			enum rvm_err want = (h & r) == r ? RVM_OK : RVM_E_PERM;

			assert_int_equal(rvm_proof_p1((uint8_t)h, (uint8_t)r), want);
			held[n] = (uint8_t)h;
			req[n++] = (uint8_t)r;
		}
	}
	acc = rvm_proof_p1_batch(held, req, n, out);
	assert_int_equal(acc, RVM_E_PERM);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(out[i], rvm_proof_p1(held[i], req[i]));
	assert_int_equal(rvm_proof_p1_batch(held, req, 1, out), RVM_OK); /* 0 & 0 */
}

static void test_rights_derivable(void **state)
{
	(void)state;
	assert_true(rvm_cap_rights_derivable(RVM_RIGHTS_ALL, RVM_RIGHTS_ALL));
	assert_true(rvm_cap_rights_derivable(RVM_RIGHT_READ | RVM_RIGHT_WRITE, RVM_RIGHT_READ));
	assert_false(rvm_cap_rights_derivable(RVM_RIGHT_READ, RVM_RIGHT_WRITE));
	assert_false(rvm_cap_rights_derivable(RVM_RIGHT_GRANT_ONCE, RVM_RIGHT_GRANT_ONCE));
	assert_false(rvm_cap_rights_derivable(RVM_RIGHT_GRANT, RVM_RIGHT_GRANT_ONCE));
	assert_true(rvm_cap_rights_derivable(RVM_RIGHT_GRANT | RVM_RIGHT_GRANT_ONCE,
					     RVM_RIGHT_GRANT_ONCE));
	assert_false(rvm_cap_rights_derivable(RVM_RIGHTS_ALL, 0x80));
}

static void test_p2_owner(void **state)
{
	struct rvm_cap c = { .object = 77, .type = RVM_OBJ_REGION, .state = RVM_CAPS_LIVE };

	(void)state;
	assert_int_equal(rvm_p2_owner(3, 3, NULL, RVM_OBJ_REGION, 77), RVM_OK);
	assert_int_equal(rvm_p2_owner(3, 4, NULL, RVM_OBJ_REGION, 77), RVM_E_PERM);
	assert_int_equal(rvm_p2_owner(3, RVM_OWNER_NONE, NULL, RVM_OBJ_REGION, 77), RVM_E_PERM);
	assert_int_equal(rvm_p2_owner(3, 4, &c, RVM_OBJ_REGION, 77), RVM_OK);
	assert_int_equal(rvm_p2_owner(3, 4, &c, RVM_OBJ_REGION, 78), RVM_E_PERM);
	assert_int_equal(rvm_p2_owner(3, 4, &c, RVM_OBJ_EDGE, 77), RVM_E_PERM);
	c.state = RVM_CAPS_FREE;
	assert_int_equal(rvm_p2_owner(3, 4, &c, RVM_OBJ_REGION, 77), RVM_E_PERM);
}

static void test_p2_region(void **state)
{
	struct rvm_region_desc r = { .owner = 1, .base = 0x10000, .size = 0x4000, .writable = true };
	struct rvm_region_desc wrap = { .owner = 1, .base = UINT64_MAX - 10, .size = 100 };

	(void)state;
	assert_int_equal(rvm_p2_region(&r, 0, 0x4000, 4096), RVM_OK);
	assert_int_equal(rvm_p2_region(&r, 0x3ff8, 8, 8), RVM_OK);
	assert_int_equal(rvm_p2_region(&r, 0x3ff8, 9, 1), RVM_E_RANGE);
	assert_int_equal(rvm_p2_region(&r, 0x4000, 1, 1), RVM_E_RANGE);
	assert_int_equal(rvm_p2_region(&r, 0x4001, 1, 1), RVM_E_RANGE);
	assert_int_equal(rvm_p2_region(&r, 8, UINT64_MAX - 4, 1), RVM_E_RANGE); /* wraps */
	assert_int_equal(rvm_p2_region(&r, UINT64_MAX, 2, 1), RVM_E_RANGE);
	assert_int_equal(rvm_p2_region(&r, 4, 8, 8), RVM_E_POLICY);
	assert_int_equal(rvm_p2_region(&r, 8, 12, 8), RVM_E_POLICY);
	assert_int_equal(rvm_p2_region(&r, 0, 0, 1), RVM_E_INVAL);
	assert_int_equal(rvm_p2_region(&r, 0, 8, 0), RVM_E_INVAL);
	assert_int_equal(rvm_p2_region(&r, 0, 8, 12), RVM_E_INVAL);
	assert_int_equal(rvm_p2_region(NULL, 0, 8, 8), RVM_E_INVAL);
	assert_int_equal(rvm_p2_region(&wrap, 0, 1, 1), RVM_E_RANGE);
}

/* Regression: overlapping host memory across partitions. */
static void test_regression_p2_no_writable_alias(void **state)
{
	static struct rvm_map_table m;

	(void)state;
	rvm_map_init(&m);
	assert_int_equal(rvm_map_add(&m, 1, 0x1000, 0x1000, true), RVM_OK);
	/* Any overlap with another partition's writable range is refused, either writability. */
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x1000, 0x1000, true), RVM_E_ALIAS);
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x1fff, 1, false), RVM_E_ALIAS);
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x0, 0x1001, false), RVM_E_ALIAS);
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x0, 0x10000, true), RVM_E_ALIAS); /* covers it */
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x1800, 0x10, true), RVM_E_ALIAS); /* inside */
	assert_int_equal(rvm_map_add(&m, 2, 0x1800, 0x10, false), RVM_E_ALIAS);
	/* Adjacent is fine; the owner itself may overlap its own mapping. */
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x2000, 0x1000, true), RVM_OK);
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0x0, 0x1000, true), RVM_OK);
	assert_int_equal(rvm_p2_no_alias(&m, 1, 0x1800, 0x1000, true), RVM_OK);
	/* Read-only sharing is allowed; making one side writable is not. */
	assert_int_equal(rvm_map_add(&m, 3, 0x8000, 0x1000, false), RVM_OK);
	assert_int_equal(rvm_map_add(&m, 4, 0x8800, 0x1000, false), RVM_OK);
	assert_int_equal(rvm_p2_no_alias(&m, 5, 0x8f00, 0x10, true), RVM_E_ALIAS);
	/* Unmapping lifts the refusal. */
	assert_int_equal(rvm_map_remove(&m, 1, 0x1000, 0x1000), RVM_OK);
	assert_int_equal(rvm_map_remove(&m, 1, 0x1000, 0x1000), RVM_E_NOTFOUND);
	assert_int_equal(rvm_map_add(&m, 2, 0x1000, 0x1000, true), RVM_OK);
	assert_int_equal(rvm_p2_no_alias(&m, 2, 0, 0, true), RVM_E_INVAL);
	assert_int_equal(rvm_p2_no_alias(&m, 2, UINT64_MAX - 1, 4, true), RVM_E_RANGE);
	/* A full table says so. */
	rvm_map_init(&m);
	for (uint32_t i = 0; i < RVM_MAP_SLOTS; i++)
		assert_int_equal(rvm_map_add(&m, i, (uint64_t)i << 12, 4096, true), RVM_OK);
	assert_int_equal(rvm_map_add(&m, 0, 1ull << 40, 4096, true), RVM_E_FULL);
}

/* Random ranges against a brute-force byte-level model. */
static void test_p2_alias_random(void **state)
{
	static struct rvm_map_table m;
	uint64_t seed = 99;

	(void)state;
	rvm_map_init(&m);
	for (int i = 0; i < 20000; i++) {
		uint32_t p = (uint32_t)(rvm_test_rand(&seed) % 4);
		uint64_t base = rvm_test_rand(&seed) % 512, size = 1 + rvm_test_rand(&seed) % 24;
		bool w = rvm_test_rand(&seed) & 1, clash = false;

		for (uint32_t k = 0; k < RVM_MAP_SLOTS; k++) {
			const struct rvm_map_range *r = &m.r[k];

			for (uint64_t b = base; b < base + size && r->used; b++)
				if (r->partition != p && (r->writable || w) && b >= r->base &&
				    b < r->base + r->size)
					clash = true;
		}
		assert_int_equal(rvm_p2_no_alias(&m, p, base, size, w),
				 clash ? RVM_E_ALIAS : RVM_OK);
		if (!clash && m.count < RVM_MAP_SLOTS)
			assert_int_equal(rvm_map_add(&m, p, base, size, w), RVM_OK);
		if (m.count == RVM_MAP_SLOTS || rvm_test_rand(&seed) % 3 == 0) {
			uint32_t k = (uint32_t)(rvm_test_rand(&seed) % RVM_MAP_SLOTS);

			if (m.r[k].used)
				assert_int_equal(rvm_map_remove(&m, m.r[k].partition, m.r[k].base,
								m.r[k].size),
						 RVM_OK);
		}
	}
}

static void test_p2_lease_epoch(void **state)
{
	struct rvm_lease_desc l = { .holder = 2, .expiry_ns = 1000, .revoked = false };

	(void)state;
	assert_int_equal(rvm_p2_lease(&l, 2, 999), RVM_OK);
	assert_int_equal(rvm_p2_lease(&l, 2, 1000), RVM_E_EXPIRED);
	assert_int_equal(rvm_p2_lease(&l, 2, UINT64_MAX), RVM_E_EXPIRED);
	assert_int_equal(rvm_p2_lease(&l, 3, 10), RVM_E_PERM);
	assert_int_equal(rvm_p2_lease(NULL, 2, 10), RVM_E_INVAL);
	l.revoked = true;
	assert_int_equal(rvm_p2_lease(&l, 2, 10), RVM_E_REVOKED);
	assert_int_equal(rvm_p2_epoch(5, 5), RVM_OK);
	assert_int_equal(rvm_p2_epoch(5, 4), RVM_E_EPOCH);
	assert_int_equal(rvm_p2_epoch(5, 6), RVM_E_EPOCH);
}

/* Regression: nonce ring too small. 4096 recent nonces in any order are all remembered. */
static void test_regression_nonce_ring(void **state)
{
	static struct rvm_nonce_ring r;
	static uint64_t seen[RVM_NONCE_RING];
	uint64_t seed = 1234;

	(void)state;
#ifndef RVM_PROFILE_SEED
	assert_true(RVM_NONCE_RING >= 4096);
#endif
	rvm_nonce_init(&r);
	assert_int_equal(rvm_nonce_accept(&r, 0), RVM_E_INVAL);
	/* Random, non-monotonic nonces: none may be lost while in the ring. */
	for (uint32_t i = 0; i < RVM_NONCE_RING; i++) {
		do
			seen[i] = rvm_test_rand(&seed) >> 1 | 1;
		while (rvm_nonce_check(&r, seen[i]) != RVM_OK);
		assert_int_equal(rvm_nonce_accept(&r, seen[i]), RVM_OK);
	}
	assert_int_equal(r.low_watermark, 0);
	for (uint32_t i = 0; i < RVM_NONCE_RING; i++)
		assert_int_equal(rvm_nonce_accept(&r, seen[i]), RVM_E_REPLAY);
	/* One more pushes the oldest out; the watermark keeps refusing it. */
	assert_int_equal(rvm_nonce_accept(&r, UINT64_MAX), RVM_OK);
	assert_int_equal(r.low_watermark, seen[0]);
	assert_int_equal(rvm_nonce_accept(&r, seen[0]), RVM_E_REPLAY);
	assert_int_equal(rvm_nonce_accept(&r, UINT64_MAX), RVM_E_REPLAY);
}

/* Property: against a model of every nonce ever accepted, none is accepted twice. */
static void test_nonce_never_twice(void **state)
{
	static struct rvm_nonce_ring r;
	static bool accepted[1u << 16];
	uint64_t seed = 5, ok = 0;

	(void)state;
	rvm_nonce_init(&r);
	for (uint32_t i = 0; i < 400000; i++) {
		/* Mostly rising, sometimes far back: exercises ring, set and watermark. */
		uint64_t n = (i / 8 + rvm_test_rand(&seed) % 2048) % (1u << 16);
		enum rvm_err e = rvm_nonce_accept(&r, n);

		if (n == 0) {
			assert_int_equal(e, RVM_E_INVAL);
			continue;
		}
		if (accepted[n])
			assert_int_equal(e, RVM_E_REPLAY);
		if (e == RVM_OK) {
			accepted[n] = true;
			ok++;
		}
		assert_true(r.count <= RVM_NONCE_RING);
	}
	assert_true(ok > 10000);
}

/*
 * Against an exact model of the rule (the last RVM_NONCE_RING accepted nonces
 * plus the watermark of those that left), every answer matches: nothing
 * remembered is accepted and nothing forgotten above the watermark is
 * refused. Patterns: counter runs (rises, the O(1) path), steps back into the
 * window (the set), replays of rises and of set entries, far jumps.
 */
static void test_nonce_matches_model(void **state)
{
	enum { UNIVERSE = 1u << 21 };
	static struct rvm_nonce_ring r;
	static uint8_t in_ring[UNIVERSE];
	static uint64_t order[RVM_NONCE_RING];
	uint64_t seed = 77, wm = 0, counter = 1, replays = 0, backs = 0;
	uint32_t head = 0, count = 0;

	(void)state;
	rvm_nonce_init(&r);
	for (uint32_t i = 0; i < 300000; i++) {
		uint64_t x = rvm_test_rand(&seed), n;
		enum rvm_err want, got;

		switch (x % 8) {
		case 0: /* a replay of a remembered nonce (a rise or not) */
			n = count ? order[(head - 1 - (uint32_t)((x >> 8) % count)) &
					  (RVM_NONCE_RING - 1)] : 0;
			break;
		case 1: /* a step back into the window */
			n = counter > 64 ? counter - 1 - (x >> 8) % 64 : 1;
			break;
		case 2: /* a jump ahead: skipped nonces stay valid */
			n = counter + (x >> 8) % 32;
			break;
		default: /* the counter */
			n = counter;
			break;
		}
		assert_true(n < UNIVERSE);
		want = n == 0 ? RVM_E_INVAL : (n <= wm || in_ring[n]) ? RVM_E_REPLAY : RVM_OK;
		assert_int_equal(rvm_nonce_check(&r, n), want);
		got = rvm_nonce_accept(&r, n);
		assert_int_equal(got, want);
		if (got == RVM_E_REPLAY)
			replays++;
		if (got == RVM_OK && n < counter)
			backs++;
		if (got != RVM_OK)
			continue;
		if (count == RVM_NONCE_RING) {
			uint64_t old = order[head];

			in_ring[old] = 0;
			wm = old > wm ? old : wm;
			count--;
		}
		in_ring[n] = 1;
		order[head] = n;
		head = (head + 1) & (RVM_NONCE_RING - 1);
		count++;
		if (n >= counter)
			counter = n + 1;
		assert_int_equal(r.count, count);
		assert_true(r.low_watermark == wm);
	}
	/* Every path was taken often. */
	assert_true(replays > 10000);
	assert_true(backs > 10000);
	assert_true(r.rise_count > 0 && r.rise_count < RVM_NONCE_RING);
}

/* Regression: TOCTOU in quota check. There is only check-and-record. */
static void test_regression_quota_no_toctou(void **state)
{
	struct rvm_quota q = { .limit = 100, .used = 0 };

	(void)state;
	assert_int_equal(rvm_quota_charge(&q, 60), RVM_OK);
	/* Two requests that each fit what was left before the first was recorded. */
	assert_int_equal(rvm_quota_charge(&q, 40), RVM_OK);
	assert_int_equal(rvm_quota_charge(&q, 1), RVM_E_QUOTA);
	assert_true(q.used == 100);
	rvm_quota_release(&q, 30);
	assert_true(q.used == 70);
	assert_int_equal(rvm_quota_charge(&q, 31), RVM_E_QUOTA);
	assert_true(q.used == 70); /* a refusal records nothing */
	assert_int_equal(rvm_quota_charge(&q, UINT64_MAX), RVM_E_QUOTA); /* no wrap */
	assert_int_equal(rvm_quota_charge(&q, UINT64_MAX - 69), RVM_E_QUOTA);
	assert_int_equal(rvm_quota_charge(&q, 0), RVM_OK);
	rvm_quota_release(&q, 1000);
	assert_true(q.used == 0);
	q.used = 200; /* corrupt: over the limit */
	assert_int_equal(rvm_quota_charge(&q, 0), RVM_E_QUOTA);
}

/* Regression: incomplete merge preconditions. Each one refuses on its own. */
static void test_regression_merge_preconditions(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	struct rvm_merge_req ok, m;
	rvm_obj_id pa, pb;
	rvm_cap_t ha = cap_fixture_root(f, 1, RVM_OBJ_PARTITION, RVM_RIGHTS_ALL, &pa);
	rvm_cap_t hb = cap_fixture_root(f, 1, RVM_OBJ_PARTITION, RVM_RIGHTS_ALL, &pb);
	rvm_cap_t weak, x;

	(void)state;
	memset(&ok, 0, sizeof(ok));
	ok.caller = 1;
	ok.a = (struct rvm_merge_side){ .partition = 5, .object = pa, .cap = ha, .exists = true,
					.agents = 3, .mem_bytes = 1000 };
	ok.b = (struct rvm_merge_side){ .partition = 6, .object = pb, .cap = hb, .exists = true,
					.agents = 4, .mem_bytes = 2000 };
	ok.max_agents = 7;
	ok.max_mem_bytes = 3000;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &ok), RVM_OK);
	assert_int_equal(rvm_proof_merge_check(&f->caps, NULL), RVM_E_INVAL);
	m = ok, m.b.partition = 5;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_INVAL);
	m = ok, m.a.partition = RVM_CAP_TABLES;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_INVAL);
	m = ok, m.b.exists = false;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_NOTFOUND);
	m = ok, m.a.destroyed = true;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_STATE);
	m = ok, m.b.migrating = true;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_BUSY);
	m = ok, m.b.cap = RVM_CAP_NULL;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_INVAL);
	m = ok, m.a.cap = hb; /* a cap, but to the other partition */
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_POLICY);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, hb, RVM_RIGHT_READ | RVM_RIGHT_WRITE, &weak),
			 RVM_OK);
	m = ok, m.b.cap = weak;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_PERM);
	m = ok, m.caller = 2; /* holds nothing */
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_STALE);
	m = ok, m.b.agents = 5;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_QUOTA);
	m = ok, m.a.agents = UINT32_MAX; /* no wrap */
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_QUOTA);
	m = ok, m.a.mem_bytes = 1001;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_QUOTA);
	/* Combined cap tables must fit one table. */
	for (uint32_t i = 0; i < RVM_CAP_TABLE_SLOTS / 2 + 1; i++) {
		assert_int_equal(rvm_cap_grant(&f->gate, 1, ha, 5, RVM_RIGHT_READ, &x), RVM_OK);
		assert_int_equal(rvm_cap_grant(&f->gate, 1, ha, 6, RVM_RIGHT_READ, &x), RVM_OK);
	}
	assert_int_equal(rvm_proof_merge_check(&f->caps, &ok), RVM_E_QUOTA);
	/* A revoked cap is reported as such. */
	assert_int_equal(rvm_cap_revoke(&f->gate, 1, hb), RVM_OK);
	m = ok, m.b.cap = weak;
	assert_int_equal(rvm_proof_merge_check(&f->caps, &m), RVM_E_REVOKED);
	cap_fixture_free(f);
}

static void test_p3_chain(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	rvm_cap_t root = cap_fixture_root(f, 1, RVM_OBJ_REGION, RVM_RIGHTS_ALL, NULL), h = root;
	rvm_cap_t chain[RVM_CAP_MAX_DEPTH + 1];
	struct rvm_cap *c, saved;

	(void)state;
	chain[0] = root;
	for (uint32_t d = 1; d <= RVM_CAP_MAX_DEPTH; d++) {
		assert_int_equal(rvm_cap_grant(&f->gate, d, h, d + 1,
					       (uint8_t)(d >= 2 ? RVM_RIGHTS_ALL & ~RVM_RIGHT_EXECUTE : RVM_RIGHTS_ALL), &h),
				 RVM_OK);
		chain[d] = h;
	}
	assert_int_equal(rvm_proof_p3(&f->caps, RVM_CAP_MAX_DEPTH + 1, h), RVM_OK);
	assert_int_equal(rvm_proof_p3(&f->caps, RVM_CAP_MAX_DEPTH + 2, h), RVM_E_STALE);
	/* Tamper with an ancestor in the middle of the chain: P3 from the leaf notices. */
	c = &f->caps.tables[4].slots[rvm_handle_slot(chain[3])];
	saved = *c;
	c->digest[0] ^= 0x80;
	assert_int_equal(rvm_proof_p3(&f->caps, RVM_CAP_MAX_DEPTH + 1, h), RVM_E_CORRUPT);
	*c = saved;
	/* Widened rights, resealed by a forger who knows the seal: rights inclusion fails. */
	c->rights = RVM_RIGHTS_ALL;
	rvm_cap_seal(&f->caps, rvm_cap_ref(4, rvm_handle_slot(chain[3])), c,
		     f->caps.tables[3].slots[rvm_handle_slot(chain[2])].digest, c->digest);
	assert_int_equal(rvm_proof_p3(&f->caps, 4, chain[3]), RVM_E_PERM);
	*c = saved;
	c->epoch = 0; /* older than its parent */
	rvm_cap_seal(&f->caps, rvm_cap_ref(4, rvm_handle_slot(chain[3])), c,
		     f->caps.tables[3].slots[rvm_handle_slot(chain[2])].digest, c->digest);
	assert_int_equal(rvm_proof_p3(&f->caps, 4, chain[3]), RVM_E_EPOCH);
	*c = saved;
	c->epoch = f->caps.epoch + 1; /* from the future */
	assert_int_equal(rvm_proof_p3(&f->caps, 4, chain[3]), RVM_E_EPOCH);
	*c = saved;
	c->depth = 7;
	assert_int_equal(rvm_proof_p3(&f->caps, 4, chain[3]), RVM_E_DEPTH);
	*c = saved;
	c->object ^= 1; /* its own handle goes stale; from below, the link mismatches */
	assert_int_equal(rvm_proof_p3(&f->caps, 4, chain[3]), RVM_E_STALE);
	assert_int_equal(rvm_proof_p3(&f->caps, RVM_CAP_MAX_DEPTH + 1, h), RVM_E_CORRUPT);
	*c = saved;
	assert_int_equal(rvm_proof_p3(&f->caps, RVM_CAP_MAX_DEPTH + 1, h), RVM_OK);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p1_exhaustive),
		cmocka_unit_test(test_rights_derivable),
		cmocka_unit_test(test_p2_owner),
		cmocka_unit_test(test_p2_region),
		cmocka_unit_test(test_regression_p2_no_writable_alias),
		cmocka_unit_test(test_p2_alias_random),
		cmocka_unit_test(test_p2_lease_epoch),
		cmocka_unit_test(test_regression_nonce_ring),
		cmocka_unit_test(test_nonce_never_twice),
		cmocka_unit_test(test_nonce_matches_model),
		cmocka_unit_test(test_regression_quota_no_toctou),
		cmocka_unit_test(test_regression_merge_preconditions),
		cmocka_unit_test(test_p3_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
