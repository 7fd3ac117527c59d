/* tests/unit/test_cap.c - capabilities: registry, handles, derivation, GRANT_ONCE, revocation, witness. */
#include "support.h"

#include <pthread.h>

#include "test_cap_fixture.h"

#define ALL RVM_RIGHTS_ALL
#define R RVM_RIGHT_READ
#define W RVM_RIGHT_WRITE
#define G RVM_RIGHT_GRANT
#define GO RVM_RIGHT_GRANT_ONCE
#define RV RVM_RIGHT_REVOKE

static void test_obj_registry(void **state)
{
	static struct rvm_obj_table t;
	rvm_obj_id a, b;

	(void)state;
	rvm_obj_init(&t);
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_REGION, &a), RVM_OK);
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_NONE, &b), RVM_E_INVAL);
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_TYPE_COUNT, &b), RVM_E_INVAL);
	assert_int_equal(rvm_obj_lookup(&t, a, RVM_OBJ_REGION), RVM_OK);
	assert_int_equal(rvm_obj_lookup(&t, a, RVM_OBJ_EDGE), RVM_E_POLICY);
	assert_int_equal(rvm_obj_lookup(&t, RVM_OBJ_NULL, RVM_OBJ_REGION), RVM_E_INVAL);
	assert_int_equal(rvm_obj_lookup(&t, rvm_handle_make(RVM_OBJ_SLOTS, 1), RVM_OBJ_REGION),
			 RVM_E_INVAL);
	assert_int_equal(rvm_obj_lookup(&t, rvm_handle_make(5, 1), RVM_OBJ_REGION), RVM_E_STALE);
	assert_int_equal(rvm_obj_destroy(&t, a), RVM_OK);
	assert_int_equal(rvm_obj_destroy(&t, a), RVM_E_STALE);
	assert_int_equal(rvm_obj_lookup(&t, a, RVM_OBJ_REGION), RVM_E_STALE);
	/* The slot comes back with a new generation: the old id never aliases it. */
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_REGION, &b), RVM_OK);
	assert_int_equal(rvm_handle_slot(b), rvm_handle_slot(a));
	assert_int_equal(rvm_handle_gen(b), rvm_handle_gen(a) + 1);
	assert_int_equal(rvm_obj_lookup(&t, a, RVM_OBJ_REGION), RVM_E_STALE);
	/* Full pool: a clean error. */
	for (uint32_t i = 1; i < RVM_OBJ_SLOTS; i++)
		assert_int_equal(rvm_obj_create(&t, RVM_OBJ_AGENT, &a), RVM_OK);
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_AGENT, &a), RVM_E_NOMEM);
}

/* Regression: terminated slots never freed. Create and destroy far more objects than slots. */
static void test_regression_terminated_slots_freed(void **state)
{
	static struct rvm_obj_table t;
	static rvm_obj_id ids[RVM_OBJ_SLOTS];
	struct cap_fixture *f = cap_fixture_new();
	rvm_cap_t h;
	rvm_obj_id o;

	(void)state;
	rvm_obj_init(&t);
	for (int round = 0; round < 10; round++) {
		for (uint32_t i = 0; i < RVM_OBJ_SLOTS; i++)
			assert_int_equal(rvm_obj_create(&t, RVM_OBJ_PARTITION, &ids[i]), RVM_OK);
		for (uint32_t i = 0; i < RVM_OBJ_SLOTS; i++)
			assert_int_equal(rvm_obj_destroy(&t, ids[i]), RVM_OK);
	}
	assert_int_equal(t.live, 0);
	assert_int_equal(t.hw, RVM_OBJ_SLOTS);
	/* Same for cap slots: mint and delete 10x a table's size in one table. */
	assert_int_equal(rvm_obj_create(&f->objs, RVM_OBJ_PARTITION, &o), RVM_OK);
	for (uint32_t i = 0; i < 10 * RVM_CAP_TABLE_SLOTS; i++) {
		assert_int_equal(rvm_cap_mint(&f->gate, 3, RVM_OBJ_PARTITION, o, ALL, &h), RVM_OK);
		assert_int_equal(rvm_cap_delete(&f->gate, 3, h), RVM_OK);
	}
	assert_int_equal(f->caps.tables[3].live, 0);
	assert_int_equal(f->caps.tables[3].hw, 1);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

/* Regression: id counter overflow and generation wrap aliasing (object ids). */
static void test_regression_obj_generation_never_wraps(void **state)
{
	static struct rvm_obj_table t;
	rvm_obj_id a, b, c;

	(void)state;
	rvm_obj_init(&t);
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_EDGE, &a), RVM_OK);
	assert_int_equal(rvm_obj_destroy(&t, a), RVM_OK);
	/* Pretend the slot has been reused 2^32 - 2 times. */
	t.slots[rvm_handle_slot(a)].gen = UINT32_MAX - 1;
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_EDGE, &b), RVM_OK);
	assert_int_equal(rvm_handle_gen(b), UINT32_MAX);
	assert_int_equal(rvm_obj_destroy(&t, b), RVM_OK);
	assert_int_equal(t.retired, 1);
	/* The exhausted slot is retired: the next object gets another slot, never generation 0. */
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_EDGE, &c), RVM_OK);
	assert_int_not_equal(rvm_handle_slot(c), rvm_handle_slot(a));
	assert_int_not_equal(rvm_handle_gen(c), 0);
	assert_int_equal(rvm_obj_lookup(&t, b, RVM_OBJ_EDGE), RVM_E_STALE);
	assert_int_equal(rvm_obj_lookup(&t, rvm_handle_make(rvm_handle_slot(a), 0), RVM_OBJ_EDGE),
			 RVM_E_INVAL);
	/* Every slot exhausted: creation fails cleanly instead of wrapping into a live id. */
	rvm_obj_init(&t);
	for (uint32_t i = 0; i < RVM_OBJ_SLOTS; i++) {
		assert_int_equal(rvm_obj_create(&t, RVM_OBJ_EDGE, &a), RVM_OK);
		t.slots[i].gen = UINT32_MAX;
		assert_int_equal(rvm_obj_destroy(&t, rvm_handle_make(i, UINT32_MAX)), RVM_OK);
	}
	assert_int_equal(t.retired, RVM_OBJ_SLOTS);
	assert_int_equal(rvm_obj_create(&t, RVM_OBJ_EDGE, &a), RVM_E_NOMEM);
}

/* Regression: generation wrap aliasing (cap handles). */
static void test_regression_cap_generation_never_wraps(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	rvm_obj_id o;
	rvm_cap_t h1, h2, h3;
	const struct rvm_cap *c;

	(void)state;
	h1 = cap_fixture_root(f, 2, RVM_OBJ_PARTITION, ALL, &o);
	assert_int_equal(rvm_cap_delete(&f->gate, 2, h1), RVM_OK);
	f->caps.tables[2].slots[rvm_handle_slot(h1)].gen = UINT32_MAX - 1;
	assert_int_equal(rvm_cap_mint(&f->gate, 2, RVM_OBJ_PARTITION, o, R, &h2), RVM_OK);
	assert_int_equal(rvm_handle_slot(h2), rvm_handle_slot(h1));
	assert_int_equal(rvm_handle_gen(h2), UINT32_MAX);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, h1, &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_delete(&f->gate, 2, h2), RVM_OK);
	assert_int_equal(f->caps.tables[2].retired, 1);
	assert_int_equal(rvm_cap_mint(&f->gate, 2, RVM_OBJ_PARTITION, o, R, &h3), RVM_OK);
	assert_int_not_equal(rvm_handle_slot(h3), rvm_handle_slot(h2));
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, h2, &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, rvm_handle_make(rvm_handle_slot(h2), 0), &c),
			 RVM_E_INVAL);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

static void test_resolve_errors(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	const struct rvm_cap *c;
	rvm_obj_id o;
	rvm_cap_t h = cap_fixture_root(f, 1, RVM_OBJ_REGION, R, &o);

	(void)state;
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, h, &c), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&f->caps, RVM_CAP_TABLES, h, &c), RVM_E_INVAL);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, RVM_CAP_NULL, &c), RVM_E_INVAL);
	assert_int_equal(
		rvm_cap_resolve(&f->caps, 1, rvm_handle_make(RVM_CAP_TABLE_SLOTS, 1), &c),
		RVM_E_INVAL);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, rvm_handle_make(7, 1), &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, h, &c), RVM_E_STALE); /* other table */
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, h + (1ull << 32), &c), RVM_E_STALE);
	/* Destroying the object kills every cap to it; the holder can still delete the cap. */
	assert_int_equal(rvm_obj_destroy(&f->objs, o), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, h, &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_check(&f->gate, 1, h, RVM_OBJ_REGION, o, R), RVM_E_STALE);
	assert_int_equal(rvm_cap_delete(&f->gate, 1, h), RVM_OK);
	assert_int_equal(f->caps.tables[1].live, 0);
	cap_fixture_free(f);
}

static void test_mint_derive_witnessed(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	const struct rvm_witness_record *r;
	rvm_obj_id o;
	rvm_cap_t root, child, x;
	uint64_t seq;

	(void)state;
	root = cap_fixture_root(f, 1, RVM_OBJ_PARTITION, R | W | G | RV, &o);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, RVM_ACT_CAP_MINT);
	assert_int_equal(r->actor, 0);
	assert_true(r->target == o && r->arg0 == root);
	assert_true(r->arg1 == ((uint64_t)1 << 32 | RVM_OBJ_PARTITION << 8 | (R | W | G | RV)));
	/* Mint refuses a dead object, rights outside the set, a table that does not exist. */
	assert_int_equal(rvm_cap_mint(&f->gate, 1, RVM_OBJ_PARTITION, o + (1ull << 32), R, &x),
			 RVM_E_STALE);
	assert_int_equal(rvm_cap_mint(&f->gate, 1, RVM_OBJ_REGION, o, R, &x), RVM_E_POLICY);
	assert_int_equal(rvm_cap_mint(&f->gate, 1, RVM_OBJ_PARTITION, o, 0x80, &x), RVM_E_INVAL);
	assert_int_equal(rvm_cap_mint(&f->gate, RVM_CAP_TABLES, RVM_OBJ_PARTITION, o, R, &x),
			 RVM_E_INVAL);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, RVM_ACT_GATE_DENIED);
	assert_int_equal(r->flags, RVM_WF_DENIED);
	assert_int_equal(r->arg0, RVM_ACT_CAP_MINT);
	assert_int_equal(r->arg1, RVM_E_INVAL);

	assert_int_equal(rvm_cap_derive(&f->gate, 1, root, R | W, &child), RVM_OK);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, RVM_ACT_CAP_DERIVE);
	assert_int_equal(r->actor, 1);
	assert_true(r->arg0 == child && r->target == o);
	/* Attenuation only: a right the parent lacks is refused (P1), and witnessed. */
	seq = f->wlog.next_seq;
	assert_int_equal(rvm_cap_derive(&f->gate, 1, child, R | G, &x), RVM_E_PERM);
	assert_int_equal(f->wlog.next_seq, seq + 1);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, RVM_ACT_CAP_DENIED);
	assert_int_equal(r->flags, RVM_WF_DENIED);
	assert_int_equal(r->arg0, RVM_ACT_CAP_DERIVE);
	assert_int_equal(r->arg1, RVM_E_PERM);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, child, 0x80 | R, &x), RVM_E_PERM);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, child, R, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_cap_check(&f->gate, 1, child, RVM_OBJ_PARTITION, o, R | W), RVM_OK);
	assert_int_equal(rvm_cap_check(&f->gate, 1, child, RVM_OBJ_PARTITION, o, G), RVM_E_PERM);
	assert_int_equal(rvm_cap_check(&f->gate, 1, child, RVM_OBJ_REGION, o, R), RVM_E_PERM);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, RVM_ACT_CAP_DENIED);
	assert_int_equal(r->arg1, RVM_E_PERM);
	/* A passing check writes nothing. */
	seq = f->wlog.next_seq;
	assert_int_equal(rvm_cap_check(&f->gate, 1, root, RVM_OBJ_PARTITION, o, R), RVM_OK);
	assert_int_equal(f->wlog.next_seq, seq);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

static void test_depth_bounded(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	rvm_cap_t h = cap_fixture_root(f, 1, RVM_OBJ_AGENT, R, NULL), x;
	const struct rvm_cap *c;

	(void)state;
	for (uint32_t d = 1; d <= RVM_CAP_MAX_DEPTH; d++) {
		assert_int_equal(rvm_cap_derive(&f->gate, 1, h, R, &h), RVM_OK);
		assert_int_equal(rvm_cap_resolve(&f->caps, 1, h, &c), RVM_OK);
		assert_int_equal(c->depth, d);
		assert_int_equal(rvm_proof_p3(&f->caps, 1, h), RVM_OK);
	}
	assert_int_equal(rvm_cap_derive(&f->gate, 1, h, R, &x), RVM_E_DEPTH);
	assert_int_equal(cap_fixture_last(f)->arg1, RVM_E_DEPTH);
	cap_fixture_free(f);
}

static void test_grant_once(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	rvm_cap_t root = cap_fixture_root(f, 1, RVM_OBJ_REGION, R | G | GO, NULL);
	rvm_cap_t once, other, x, y;
	const struct rvm_cap *c;

	(void)state;
	/* A GRANT holder may hand out GRANT_ONCE... */
	assert_int_equal(rvm_cap_derive(&f->gate, 1, root, R | GO, &once), RVM_OK);
	/* ...whose holder cannot pass GRANT_ONCE on (it lacks GRANT). */
	assert_int_equal(rvm_cap_derive(&f->gate, 1, once, R | GO, &x), RVM_E_PERM);
	assert_int_equal(rvm_cap_grant(&f->gate, 1, once, 2, R, &x), RVM_OK);
	assert_int_equal(cap_fixture_last(f)->action, RVM_ACT_CAP_GRANT);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, once, &c), RVM_OK);
	assert_int_equal(c->rights, R); /* consumed */
	assert_int_equal(rvm_cap_grant(&f->gate, 1, once, 3, R, &y), RVM_E_PERM);
	/* The granted cap lives in table 2 and works there. */
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, x, &c), RVM_OK);
	assert_int_equal(rvm_proof_p3(&f->caps, 2, x), RVM_OK);
	/* GRANT is not consumed. */
	assert_int_equal(rvm_cap_grant(&f->gate, 1, root, 2, R, &y), RVM_OK);
	assert_int_equal(rvm_cap_grant(&f->gate, 1, root, 3, R, &y), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, root, &c), RVM_OK);
	assert_int_equal(c->rights, R | G | GO);
	/* No grant right at all. */
	assert_int_equal(rvm_cap_derive(&f->gate, 1, root, R, &other), RVM_OK);
	assert_int_equal(rvm_cap_grant(&f->gate, 1, other, 2, R, &x), RVM_E_PERM);
	assert_int_equal(rvm_cap_grant(&f->gate, 1, root, RVM_CAP_TABLES, R, &x), RVM_E_INVAL);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

static void test_revoke_subtree(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	const struct rvm_cap *c;
	rvm_obj_id o;
	rvm_cap_t root = cap_fixture_root(f, 1, RVM_OBJ_EDGE, ALL, &o);
	rvm_cap_t a, b, a1, a2, b1, norev;
	struct rvm_cap_cached cache;
	uint64_t epoch;

	(void)state;
	assert_int_equal(rvm_cap_grant(&f->gate, 1, root, 2, ALL, &a), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, root, R | W, &b), RVM_OK);
	assert_int_equal(rvm_cap_grant(&f->gate, 2, a, 3, R | G, &a1), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 2, a, R, &a2), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, b, R, &b1), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, b, R, &norev), RVM_OK);
	/* REVOKE is required. */
	assert_int_equal(rvm_cap_revoke(&f->gate, 1, b), RVM_E_PERM);
	assert_int_equal(cap_fixture_last(f)->action, RVM_ACT_CAP_DENIED);

	cache = (struct rvm_cap_cached){ 3, a1, R, f->caps.epoch };
	assert_int_equal(rvm_cap_cached_valid(&f->caps, &cache), RVM_OK);
	epoch = f->caps.epoch;
	assert_int_equal(rvm_cap_revoke(&f->gate, 1, root), RVM_OK);
	assert_int_equal(cap_fixture_last(f)->action, RVM_ACT_CAP_REVOKE);
	assert_int_equal(cap_fixture_last(f)->arg1, 6);
	assert_true(f->caps.epoch > epoch);
	assert_int_equal(rvm_cap_cached_valid(&f->caps, &cache), RVM_E_EPOCH);
	/* The revoker keeps its cap; every descendant, in every table, is gone. */
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, root, &c), RVM_OK);
	assert_int_equal(c->first_child, RVM_CAP_NIL);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, a, &c), RVM_E_REVOKED);
	assert_int_equal(rvm_cap_resolve(&f->caps, 3, a1, &c), RVM_E_REVOKED);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, a2, &c), RVM_E_REVOKED);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, b, &c), RVM_E_REVOKED);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, b1, &c), RVM_E_REVOKED);
	assert_int_equal(rvm_cap_derive(&f->gate, 3, a1, R, &a2), RVM_E_REVOKED);
	assert_int_equal(f->caps.tables[1].live + f->caps.tables[2].live + f->caps.tables[3].live,
			 1);
	/* Nothing left to revoke: no epoch bump. */
	epoch = f->caps.epoch;
	assert_int_equal(rvm_cap_revoke(&f->gate, 1, root), RVM_OK);
	assert_true(f->caps.epoch == epoch);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

static void test_delete_and_clear(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	const struct rvm_cap *c;
	rvm_cap_t root = cap_fixture_root(f, 1, RVM_OBJ_PARTITION, ALL, NULL);
	rvm_cap_t a, a1, b, other;

	(void)state;
	assert_int_equal(rvm_cap_grant(&f->gate, 1, root, 2, R | W | G, &a), RVM_OK);
	assert_int_equal(rvm_cap_grant(&f->gate, 2, a, 3, R, &a1), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 2, a, R, &b), RVM_OK);
	/* A leaf goes without any right; a cap with descendants needs REVOKE. */
	assert_int_equal(rvm_cap_delete(&f->gate, 2, b), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, b, &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_delete(&f->gate, 2, a), RVM_E_PERM);
	assert_int_equal(rvm_cap_delete(&f->gate, 2, b), RVM_E_STALE);
	/* Partition 2 is torn down: its caps and what was derived from them go. */
	other = cap_fixture_root(f, 2, RVM_OBJ_AGENT, R, NULL);
	assert_int_equal(rvm_cap_table_clear(&f->gate, 2), RVM_OK);
	assert_int_equal(cap_fixture_last(f)->arg1, 3);
	assert_int_equal(f->caps.tables[2].live, 0);
	assert_int_equal(rvm_cap_resolve(&f->caps, 3, a1, &c), RVM_E_REVOKED);
	assert_int_equal(rvm_cap_resolve(&f->caps, 2, other, &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_resolve(&f->caps, 1, root, &c), RVM_OK);
	assert_int_equal(c->first_child, RVM_CAP_NIL);
	assert_int_equal(rvm_cap_table_clear(&f->gate, RVM_CAP_TABLES), RVM_E_INVAL);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

static void test_table_full(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	rvm_cap_t root = cap_fixture_root(f, 4, RVM_OBJ_REGION, ALL, NULL), x;

	(void)state;
	for (uint32_t i = 1; i < RVM_CAP_TABLE_SLOTS; i++)
		assert_int_equal(rvm_cap_derive(&f->gate, 4, root, R, &x), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 4, root, R, &x), RVM_E_NOMEM);
	assert_int_equal(rvm_cap_grant(&f->gate, 5, RVM_CAP_NULL, 4, R, &x), RVM_E_INVAL);
	assert_int_equal(rvm_cap_grant(&f->gate, 4, root, 5, R, &x), RVM_OK);
	cap_fixture_free(f);
}

/* Builds a tree of n caps under root (fan-out so depth stays <= 8), spread over tables 1.. */
static void build_tree(struct cap_fixture *f, rvm_cap_t root, uint32_t n, uint32_t fanout)
{
	static uint32_t tab[20000];
	static rvm_cap_t h[20000];
	uint32_t made = 1, next = 0;

	h[0] = root;
	tab[0] = 1;
	while (made < n) {
		for (uint32_t k = 0; k < fanout && made < n; k++, made++) {
			tab[made] = 1 + made / (RVM_CAP_TABLE_SLOTS - 8);
			assert_int_equal(rvm_cap_grant(&f->gate, tab[next], h[next], tab[made],
						       RVM_RIGHTS_ALL, &h[made]),
					 RVM_OK);
		}
		next++;
	}
}

struct revoke_job {
	struct cap_fixture *f;
	rvm_cap_t root;
	enum rvm_err err;
};

static void *revoke_thread(void *arg)
{
	struct revoke_job *j = arg;

	j->err = rvm_cap_revoke(&j->f->gate, 1, j->root);
	return NULL;
}

/* Regression: recursive revoke stack overflow. 10,000 caps revoked on a 64 KiB stack. */
static void test_regression_revoke_10k_small_stack(void **state)
{
	struct cap_fixture *f;
	struct revoke_job job;
	pthread_attr_t attr;
	pthread_t th;

	(void)state;
	if ((uint64_t)RVM_CAP_TABLES * (RVM_CAP_TABLE_SLOTS - 8) < 10000) {
		skip();
		return;
	}
	f = cap_fixture_new();
	job.f = f;
	job.root = cap_fixture_root(f, 1, RVM_OBJ_REGION, RVM_RIGHTS_ALL, NULL);
	build_tree(f, job.root, 10000, 4); /* 4-ary: depth 7 */
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
	assert_int_equal(pthread_create(&th, &attr, revoke_thread, &job), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.err, RVM_OK);
	assert_int_equal(cap_fixture_last(f)->arg1, 9999);
	for (uint32_t t = 0; t < RVM_CAP_TABLES; t++)
		assert_int_equal(f->caps.tables[t].live, t == 1 ? 1 : 0);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	/* A wide shape (one parent, 10,000 - 1 children) goes the same way. */
	build_tree(f, job.root, 10000, 9999);
	assert_int_equal(pthread_create(&th, &attr, revoke_thread, &job), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.err, RVM_OK);
	assert_int_equal(cap_fixture_last(f)->arg1, 9999);
	pthread_attr_destroy(&attr);
	cap_fixture_free(f);
}

/* The invariant checker itself must catch a broken tree. */
static void test_invariants_catch_corruption(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	rvm_cap_t root = cap_fixture_root(f, 1, RVM_OBJ_REGION, R | W | G, NULL), a, b;
	struct rvm_cap *ca, saved;

	(void)state;
	assert_int_equal(rvm_cap_derive(&f->gate, 1, root, R, &a), RVM_OK);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, a, R, &b), RVM_OK);
	ca = &f->caps.tables[1].slots[rvm_handle_slot(a)];
	saved = *ca;
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	ca->rights |= RVM_RIGHT_EXECUTE; /* more than the parent holds */
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_E_CORRUPT);
	*ca = saved;
	ca->digest[3] ^= 1;
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_E_CORRUPT);
	*ca = saved;
	ca->depth = 5;
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_E_CORRUPT);
	*ca = saved;
	ca->first_child = RVM_CAP_NIL; /* b dropped from its parent's list */
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_E_CORRUPT);
	*ca = saved;
	f->caps.tables[1].live++;
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_E_CORRUPT);
	f->caps.tables[1].live--;
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_obj_registry),
		cmocka_unit_test(test_regression_terminated_slots_freed),
		cmocka_unit_test(test_regression_obj_generation_never_wraps),
		cmocka_unit_test(test_regression_cap_generation_never_wraps),
		cmocka_unit_test(test_resolve_errors),
		cmocka_unit_test(test_mint_derive_witnessed),
		cmocka_unit_test(test_depth_bounded),
		cmocka_unit_test(test_grant_once),
		cmocka_unit_test(test_revoke_subtree),
		cmocka_unit_test(test_delete_and_clear),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_regression_revoke_10k_small_stack),
		cmocka_unit_test(test_invariants_catch_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
