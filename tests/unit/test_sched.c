/* tests/unit/test_sched.c - run queues: fixed-point priority, Reflex EDF, Flow fairness, SMP placement. */
#include "support.h"

#include "test_cap_fixture.h"

#include <rvm/sched.h>

struct sfix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
	struct rvm_sched s;
	struct rvm_coherence coh;
};

static struct sfix *sfix_new(void)
{
	struct sfix *x = calloc(1, sizeof(*x));
	struct rvm_sched_config cfg;
	struct rvm_coh_config cc;

	assert_non_null(x);
	x->f = cap_fixture_new();
	rvm_part_pool_init(&x->pool, &x->f->gate);
	rvm_sched_config_default(&cfg);
	rvm_sched_init(&x->s, &x->pool, &cfg);
	rvm_coh_config_default(&cc);
	if (RVM_HAS_COHERENCE)
		assert_int_equal(rvm_coh_init(&x->coh, &cc, 64), RVM_OK);
	return x;
}

static void sfix_free(struct sfix *x)
{
	cap_fixture_free(x->f);
	free(x);
}

static uint32_t running_part(struct sfix *x)
{
	uint32_t slot;
	rvm_obj_id id;
	rvm_cap_t cap;

	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, &cap), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap, RVM_PART_START), RVM_OK);
	return slot;
}

static void test_sched_priority_fixed_point(void **state)
{
	struct rvm_sched_config c = { .horizon_ns = 1000, .boost = 2500 };

	(void)state;
	assert_int_equal(rvm_sched_priority(&c, 0, 1000, 0), 0);	  /* at the horizon */
	assert_int_equal(rvm_sched_priority(&c, 0, 5000, 0), 0);	  /* beyond it */
	assert_int_equal(rvm_sched_priority(&c, 0, 500, 0), 5000);	  /* halfway */
	assert_int_equal(rvm_sched_priority(&c, 0, 250, 0), 7500);
	assert_int_equal(rvm_sched_priority(&c, 100, 100, 0), 10000);  /* due */
	assert_int_equal(rvm_sched_priority(&c, 900, 100, 0), 10000);  /* overdue */
	assert_int_equal(rvm_sched_priority(&c, 0, 5000, 10000), 2500); /* full pressure */
	assert_int_equal(rvm_sched_priority(&c, 0, 500, 4000), 5000 + 1000);
	assert_int_equal(rvm_sched_priority(&c, 0, 500, 60000), 5000 + 2500); /* clamped */
	/* Monotonic: a nearer deadline never lowers the priority. */
	for (uint64_t d = 1; d < 1200; d++)
		assert_true(rvm_sched_priority(&c, 0, d - 1, 0) >= rvm_sched_priority(&c, 0, d, 0));
}

static void test_sched_queue_rules(void **state)
{
	struct sfix *x = sfix_new();
	uint32_t a = running_part(x), p;
	uint32_t slot;
	rvm_obj_id id;
	rvm_cap_t cap;

	(void)state;
	assert_int_equal(rvm_sched_pick(&x->s, 0, 0, &p), RVM_E_EMPTY);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, a, 100), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, a, 100), RVM_E_EXISTS);
	assert_int_equal(rvm_sched_enqueue(&x->s, RVM_MAX_CPUS, a, 100), RVM_E_RANGE);
	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, &cap), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, slot, 100), RVM_E_STATE); /* not started */
	assert_int_equal(rvm_sched_pick(&x->s, 0, 0, &p), RVM_OK);
	assert_int_equal(p, a);
	assert_int_equal(x->s.cpu[0].current, a);
	assert_int_equal(rvm_sched_update(&x->s, a, 5, 100), RVM_OK);
	assert_int_equal(rvm_sched_remove(&x->s, a), RVM_OK);
	assert_int_equal(x->s.cpu[0].current, RVM_SCHED_NONE);
	assert_int_equal(rvm_sched_remove(&x->s, a), RVM_E_NOTFOUND);
	assert_int_equal(rvm_sched_update(&x->s, a, 5, 100), RVM_E_NOTFOUND);
	sfix_free(x);
}

/* Reflex: earliest deadline first, misses counted; Flow: urgency + boost, fair among equals. */
static void test_sched_modes(void **state)
{
	struct sfix *x = sfix_new();
	uint32_t a, b, c, p, ran_a = 0, ran_b = 0;

	(void)state;
	if (RVM_MAX_PARTITIONS < 4)
		skip();
	a = running_part(x);
	b = running_part(x);
	c = running_part(x);
	rvm_sched_set_mode(&x->s, 0, RVM_SCHED_REFLEX);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, a, 3000), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, b, 1000), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, c, 2000), RVM_OK);
	/* Pressure does not matter in Reflex mode. */
	assert_int_equal(rvm_sched_update(&x->s, a, 3000, 10000), RVM_OK);
	assert_int_equal(rvm_sched_pick(&x->s, 0, 0, &p), RVM_OK);
	assert_int_equal(p, b);
	assert_int_equal(x->s.cpu[0].misses, 0);
	assert_int_equal(rvm_sched_pick(&x->s, 0, 1500, &p), RVM_OK); /* b is overdue */
	assert_int_equal(p, b);
	assert_int_equal(x->s.cpu[0].misses, 1);
	assert_int_equal(rvm_sched_remove(&x->s, b), RVM_OK);
	assert_int_equal(rvm_sched_pick(&x->s, 0, 1500, &p), RVM_OK);
	assert_int_equal(p, c);
	/* Flow: a's deadline is far, but full cut pressure lifts it above c's urgency. */
	rvm_sched_set_mode(&x->s, 0, RVM_SCHED_FLOW);
	assert_int_equal(rvm_sched_update(&x->s, a, 100000000, 10000), RVM_OK);
	assert_int_equal(rvm_sched_update(&x->s, c, 9000000 + 1500, 0), RVM_OK);
	/* c: urgency 1000 bp; a: urgency 0 + boost 2500 bp. */
	assert_int_equal(rvm_sched_pick(&x->s, 0, 1500, &p), RVM_OK);
	assert_int_equal(p, a);
	/* Equal priority: they alternate (least recently run first). */
	assert_int_equal(rvm_sched_update(&x->s, a, 100000000, 0), RVM_OK);
	assert_int_equal(rvm_sched_update(&x->s, c, 100000000, 0), RVM_OK);
	for (uint64_t t = 2000; t < 2100; t++) {
		assert_int_equal(rvm_sched_pick(&x->s, 0, t, &p), RVM_OK);
		ran_a += p == a;
		ran_b += p == c;
	}
	assert_int_equal(ran_a, 50);
	assert_int_equal(ran_b, 50);
	sfix_free(x);
}

/* Flow mode's age term: 10000 bp per horizon waited, exact, saturating, never negative. */
static void test_sched_age(void **state)
{
	struct rvm_sched_config c = { .horizon_ns = 1000, .boost = 2500 };
	struct rvm_sched_config z = { .horizon_ns = 0, .boost = 2500 };

	(void)state;
	assert_int_equal(rvm_sched_age(&c, 500, 500), 0);
	assert_int_equal(rvm_sched_age(&c, 400, 500), 0); /* ran "later": no credit */
	assert_int_equal(rvm_sched_age(&c, 750, 500), 2500);
	assert_int_equal(rvm_sched_age(&c, 3500, 0), 35000);
	assert_int_equal(rvm_sched_age(&c, 99999, 0), 999990);
	assert_int_equal(rvm_sched_age(&c, 100000, 0), RVM_SCHED_AGE_MAX);
	assert_int_equal(rvm_sched_age(&c, UINT64_MAX, 0), RVM_SCHED_AGE_MAX);
	assert_int_equal(rvm_sched_age(&z, 5000, 0), 0);
}

/*
 * Flow starvation (issue 8): a partition with no cut pressure queued with one under full
 * pressure, both deadlines long past, as the kernel leaves them. Without the age term the
 * pressured one wins every pick forever; with it the other runs every few milliseconds,
 * while pressure still buys the larger share.
 */
static void test_sched_flow_no_starvation(void **state)
{
	struct sfix *x = sfix_new();
	uint32_t a, b, p, ran_a = 0, ran_b = 0, gap = 0, max_gap = 0;
	const uint64_t slice = 100000; /* 0.1 ms, a hundredth of the default horizon */

	(void)state;
	if (RVM_MAX_PARTITIONS < 3)
		skip();
	a = running_part(x);
	b = running_part(x);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, a, 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, b, 0), RVM_OK);
	assert_int_equal(rvm_sched_update(&x->s, a, 0, 10000), RVM_OK);
	assert_int_equal(rvm_sched_update(&x->s, b, 0, 0), RVM_OK);
	for (uint64_t i = 1; i <= 1000; i++) {
		assert_int_equal(rvm_sched_pick(&x->s, 0, i * slice, &p), RVM_OK);
		ran_a += p == a;
		ran_b += p == b;
		gap = p == b ? 0 : gap + 1;
		max_gap = gap > max_gap ? gap : max_gap;
	}
	assert_int_equal(ran_a + ran_b, 1000);
	/* b waits until its age passes a's boost (2500 bp = 2.5 ms) plus a's own age: each
	 * 0.1 ms pick of a adds 100 bp, so b runs once per ~27 picks. */
	assert_true(ran_b >= 1000 / 30);
	assert_true(max_gap <= 30);
	assert_true(ran_a > 10 * ran_b); /* pressure still tilts the share */
	/* rvm_sched_ran: a partition the embedder ran in place of the pick loses its age. */
	assert_int_equal(rvm_sched_ran(&x->s, b, 2000 * slice), RVM_OK);
	assert_int_equal(rvm_sched_pick(&x->s, 0, 2000 * slice + 1, &p), RVM_OK);
	assert_int_equal(p, a);
	assert_int_equal(rvm_sched_ran(&x->s, RVM_MAX_PARTITIONS, 0), RVM_E_NOTFOUND);
	assert_int_equal(rvm_sched_remove(&x->s, b), RVM_OK);
	assert_int_equal(rvm_sched_ran(&x->s, b, 0), RVM_E_NOTFOUND);
	sfix_free(x);
}

/* Placement ties: with no traffic at all every CPU scores the same; nothing moves. */
static void test_sched_place_tie_stays(void **state)
{
	struct sfix *x = sfix_new();
	uint32_t p[4], moved = 99;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_CPUS < 2 || RVM_MAX_PARTITIONS < 5)
		skip();
	for (int i = 0; i < 4; i++)
		p[i] = running_part(x);
	/* Queued "backwards": the lowest slots on CPU 1, which a least-loaded-then-lowest
	 * tie-break would move to CPU 0. */
	assert_int_equal(rvm_sched_enqueue(&x->s, 1, p[0], 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 1, p[1], 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, p[2], 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, p[3], 0), RVM_OK);
	assert_int_equal(rvm_sched_place(&x->s, &x->coh, 2, &moved), RVM_OK);
	assert_int_equal(moved, 0);
	assert_int_equal(x->s.cpu_of[p[0]], 1);
	assert_int_equal(x->s.cpu_of[p[1]], 1);
	assert_int_equal(x->s.cpu_of[p[2]], 0);
	assert_int_equal(x->s.cpu_of[p[3]], 0);
	/* One chatty pair split over the CPUs: the heavier end is placed first and stays
	 * where it is (a tie: nothing placed yet); its peer joins it, one quiet one leaves. */
	assert_int_equal(rvm_coh_observe(&x->coh, p[1], p[2], 5000), RVM_OK);
	assert_int_equal(rvm_sched_place(&x->s, &x->coh, 2, &moved), RVM_OK);
	assert_int_equal(x->s.cpu_of[p[1]], 1);
	assert_int_equal(x->s.cpu_of[p[2]], 1);
	assert_int_equal(x->s.cpu[0].n, 2);
	assert_int_equal(moved, 2);
	sfix_free(x);
}

/* SMP: two chatty pairs spread over two CPUs end up one pair per CPU, each move witnessed. */
static void test_sched_place_follows_graph(void **state)
{
	struct sfix *x = sfix_new();
	uint32_t p[4], moved = 0;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_CPUS < 2 || RVM_MAX_PARTITIONS < 5)
		skip();
	for (int i = 0; i < 4; i++)
		p[i] = running_part(x);
	/* Pairs (0,1) and (2,3) talk; queued crosswise: 0,2 on CPU 0 and 1,3 on CPU 1. */
	assert_int_equal(rvm_coh_observe(&x->coh, p[0], p[1], 5000), RVM_OK);
	assert_int_equal(rvm_coh_observe(&x->coh, p[2], p[3], 4000), RVM_OK);
	assert_int_equal(rvm_coh_observe(&x->coh, p[0], p[2], 10), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, p[0], 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 0, p[2], 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 1, p[1], 0), RVM_OK);
	assert_int_equal(rvm_sched_enqueue(&x->s, 1, p[3], 0), RVM_OK);
	assert_int_equal(rvm_sched_place(&x->s, &x->coh, 2, &moved), RVM_OK);
	assert_int_equal(x->s.cpu_of[p[0]], x->s.cpu_of[p[1]]);
	assert_int_equal(x->s.cpu_of[p[2]], x->s.cpu_of[p[3]]);
	assert_true(x->s.cpu_of[p[0]] != x->s.cpu_of[p[2]]);
	assert_int_equal(x->s.cpu[0].n, 2);
	assert_int_equal(x->s.cpu[1].n, 2);
	assert_true(moved >= 1);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_SCHED_PLACE);
	/* A second pass has nothing to move and writes nothing. */
	assert_int_equal(rvm_sched_place(&x->s, &x->coh, 2, &moved), RVM_OK);
	assert_int_equal(moved, 0);
	assert_int_equal(rvm_sched_place(&x->s, &x->coh, 0, &moved), RVM_E_RANGE);
	assert_int_equal(rvm_sched_place(&x->s, &x->coh, RVM_MAX_CPUS + 1, &moved), RVM_E_RANGE);
	sfix_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_priority_fixed_point),
		cmocka_unit_test(test_sched_queue_rules),
		cmocka_unit_test(test_sched_modes),
		cmocka_unit_test(test_sched_place_follows_graph),
		cmocka_unit_test(test_sched_age),
		cmocka_unit_test(test_sched_flow_no_starvation),
		cmocka_unit_test(test_sched_place_tie_stays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
