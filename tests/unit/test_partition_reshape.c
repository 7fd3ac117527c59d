/* tests/unit/test_partition_reshape.c - merge (DC-11) and migration (DC-7): every precondition, every denial
 * (merge's cap moves and rollback: test_split.c). */
#include "support.h"

#include "test_cap_fixture.h"

#include <rvm/reshape.h>

struct rfix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
	struct rvm_coherence coh;
	struct rvm_sched s;
	uint32_t a, b, c;
	rvm_cap_t ca, cb, cc;
	struct rvm_merge_limits lim;
};

static uint32_t running_part(struct rfix *x, rvm_cap_t *cap)
{
	uint32_t slot;
	rvm_obj_id id;

	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, cap), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, *cap, RVM_PART_START), RVM_OK);
	return slot;
}

/* Three running partitions; a and b talk a lot, a and c a little. */
static struct rfix *rfix_new(void)
{
	struct rfix *x = calloc(1, sizeof(*x));
	struct rvm_coh_config cc;
	struct rvm_sched_config sc;

	assert_non_null(x);
	x->f = cap_fixture_new();
	rvm_part_pool_init(&x->pool, &x->f->gate);
	rvm_coh_config_default(&cc);
	assert_int_equal(rvm_coh_init(&x->coh, &cc, 32), RVM_OK);
	rvm_sched_config_default(&sc);
	rvm_sched_init(&x->s, &x->pool, &sc);
	x->a = running_part(x, &x->ca);
	x->b = running_part(x, &x->cb);
	x->c = running_part(x, &x->cc);
	x->pool.p[x->a].agents = 3;
	x->pool.p[x->b].agents = 2;
	x->pool.p[x->a].mem_bytes = 1000;
	x->pool.p[x->b].mem_bytes = 500;
	assert_int_equal(rvm_coh_observe(&x->coh, x->a, x->b, 9000), RVM_OK);
	assert_int_equal(rvm_coh_observe(&x->coh, x->a, x->c, 100), RVM_OK);
	assert_int_equal(rvm_coh_observe(&x->coh, x->c, 20, 5000), RVM_OK);
	x->lim = (struct rvm_merge_limits){ .max_agents = 8, .max_mem_bytes = 4096,
					    .min_mutual = 6000 };
	return x;
}

static void rfix_free(struct rfix *x)
{
	cap_fixture_free(x->f);
	free(x);
}

static void expect_merge_denied(struct rfix *x, rvm_cap_t from, rvm_cap_t into, enum rvm_err want)
{
	uint32_t live = x->pool.live;

	assert_int_equal(rvm_partition_merge(&x->pool, &x->coh, 0, from, into, &x->lim), want);
	assert_int_equal(x->pool.live, live);
	assert_int_equal(cap_fixture_last(x->f)->flags & RVM_WF_DENIED, RVM_WF_DENIED);
	assert_int_equal(x->pool.p[x->a].agents, 3);
}

static void test_merge_preconditions(void **state)
{
	struct rfix *x;
	rvm_cap_t weak, dead, region;
	rvm_obj_id rid;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 6)
		skip();
	x = rfix_new();
	expect_merge_denied(x, x->ca, x->ca, RVM_E_INVAL);
	/* A cap to something that is not a partition names no partition slot. */
	region = cap_fixture_root(x->f, 0, RVM_OBJ_REGION, RVM_RIGHTS_ALL, &rid);
	expect_merge_denied(x, region, x->cb, RVM_E_INVAL);
	/* Mid-migration. */
	x->pool.p[x->b].migrating = 1;
	expect_merge_denied(x, x->ca, x->cb, RVM_E_BUSY);
	x->pool.p[x->b].migrating = 0;
	/* Missing REVOKE. */
	assert_int_equal(rvm_cap_derive(&x->f->gate, 0, x->cb, RVM_RIGHT_WRITE, &weak), RVM_OK);
	expect_merge_denied(x, x->ca, weak, RVM_E_PERM);
	/* Capacity. */
	x->lim.max_agents = 4;
	expect_merge_denied(x, x->ca, x->cb, RVM_E_QUOTA);
	x->lim.max_agents = 8;
	x->lim.max_mem_bytes = 1200;
	expect_merge_denied(x, x->ca, x->cb, RVM_E_QUOTA);
	x->lim.max_mem_bytes = 4096;
	/* Not adjacent: b and c never talked. */
	expect_merge_denied(x, x->cb, x->cc, RVM_E_NOTFOUND);
	/* Adjacent but not coherent enough: a-c is a trickle. */
	expect_merge_denied(x, x->cc, x->ca, RVM_E_POLICY);
	/* Degraded engine: no reshaping at all (DC-6). */
	x->coh.degraded = true;
	expect_merge_denied(x, x->ca, x->cb, RVM_E_DEGRADED);
	x->coh.degraded = false;
	/* A destroyed partition. */
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->cc, RVM_PART_SUSPEND), RVM_OK);
	dead = x->cc;
	assert_int_equal(rvm_partition_op(&x->pool, 0, dead, RVM_PART_DESTROY), RVM_OK);
	expect_merge_denied(x, dead, x->ca, RVM_E_STATE);
	rfix_free(x);
}

static void test_merge_applies(void **state)
{
	struct rfix *x;
	rvm_obj_id from_id;
	const struct rvm_witness_record *r;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 6)
		skip();
	x = rfix_new();
	from_id = x->pool.p[x->b].id;
	assert_int_equal(rvm_partition_merge(&x->pool, &x->coh, 0, x->cb, x->ca, &x->lim), RVM_OK);
	/* b's table was empty: nothing moved, nothing left to revoke, the merge is the last record. */
	r = cap_fixture_last(x->f);
	assert_int_equal(r->action, RVM_ACT_PARTITION_MERGE);
	assert_int_equal(r->arg0, x->b);
	assert_int_equal(r->arg1, x->a);
	assert_int_equal(x->pool.p[x->a].agents, 5);
	assert_int_equal(x->pool.p[x->a].mem_bytes, 1500);
	assert_null(rvm_partition_find(&x->pool, from_id));
	assert_int_equal(x->pool.p[x->b].state, RVM_PART_DESTROYED);
	/* b's traffic folded into a: the a-b edge vanished, nothing of b is left. */
	assert_int_equal(x->coh.graph.w[x->a][x->b], 0);
	for (uint32_t j = 0; j < x->coh.graph.n; j++)
		assert_int_equal(x->coh.graph.w[x->b][j], 0);
	assert_int_equal(rvm_mincut_graph_check(&x->coh.graph), RVM_OK);
	/* The old cap is stale now. */
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->cb, RVM_PART_SUSPEND), RVM_E_STALE);
	rfix_free(x);
}

static void test_migrate_commit_timeout_rollback(void **state)
{
	struct rfix *x;
	struct rvm_migration m = { 0 };
	struct rvm_sched *before;
	struct rvm_partition pb;
	rvm_cap_t ro;
	const struct rvm_witness_record *r;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_CPUS < 2 || RVM_MAX_PARTITIONS < 6)
		skip();
	x = rfix_new();
	before = malloc(sizeof(*before));
	assert_non_null(before);
	/* Not queued anywhere: nothing to move. */
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, x->ca, 1, 0, &m), RVM_E_STATE);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, x->a, 777), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, x->b, 888), RVM_OK);
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, x->ca, RVM_MAX_CPUS, 0, &m),
			 RVM_E_RANGE);
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, x->ca, 0, 0, &m), RVM_E_INVAL);
	assert_int_equal(rvm_cap_derive(&x->f->gate, 0, x->ca, RVM_RIGHT_READ, &ro), RVM_OK);
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, ro, 1, 0, &m), RVM_E_PERM);
	assert_int_equal(rvm_migrate_finish(&x->pool, &x->s, &m, 0), RVM_E_STATE);
	/* Timeout: snapshot, begin, finish 100 ms later -> rolled back to the snapshot. */
	memcpy(before, &x->s, sizeof(*before));
	pb = x->pool.p[x->a];
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, x->ca, 1, 1000, &m), RVM_OK);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_PARTITION_MIGRATE);
	assert_int_equal(cap_fixture_last(x->f)->arg0, (uint64_t)0 << 32 | 1);
	/* While migrating: lifecycle ops, merges and a second migration are refused. */
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, x->ca, 1, 1000, &m), RVM_E_BUSY);
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->ca, RVM_PART_SUSPEND), RVM_E_BUSY);
	assert_int_equal(rvm_partition_merge(&x->pool, &x->coh, 0, x->cb, x->ca, &x->lim),
			 RVM_E_BUSY);
	assert_int_equal(rvm_migrate_finish(&x->pool, &x->s, &m, 1000 + RVM_MIGRATE_TIMEOUT_NS),
			 RVM_E_TIMEOUT);
	r = cap_fixture_last(x->f);
	assert_int_equal(r->action, RVM_ACT_MIGRATE_ABORT);
	assert_int_equal(r->arg1, RVM_MIGRATE_TIMEOUT_NS);
	assert_false(m.active);
	assert_memory_equal(&x->s, before, sizeof(*before));
	assert_memory_equal(&x->pool.p[x->a], &pb, sizeof(pb));
	/* Explicit abort of nothing: STATE. */
	assert_int_equal(rvm_migrate_abort(&x->pool, &m, 5000), RVM_E_STATE);
	/* In time: the queue entry (deadline kept) moves to CPU 1. */
	assert_int_equal(rvm_migrate_begin(&x->pool, &x->s, 0, x->ca, 1, 2000, &m), RVM_OK);
	assert_int_equal(rvm_migrate_finish(&x->pool, &x->s, &m,
					    2000 + RVM_MIGRATE_TIMEOUT_NS - 1), RVM_OK);
	assert_int_equal(cap_fixture_last(x->f)->arg1, 1);
	assert_int_equal(x->s.cpu_of[x->a], 1);
	assert_int_equal(x->s.cpu[1].n, 1);
	assert_int_equal(x->s.cpu[1].q[0].deadline_ns, 777);
	assert_int_equal(x->s.cpu[0].n, 1);
	assert_int_equal(x->pool.p[x->a].migrating, 0);
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->ca, RVM_PART_SUSPEND), RVM_OK);
	free(before);
	rfix_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_preconditions),
		cmocka_unit_test(test_merge_applies),
		cmocka_unit_test(test_migrate_commit_timeout_rollback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
