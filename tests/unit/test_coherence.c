/* tests/unit/test_coherence.c - coherence engine: decay, EMA, scores, split/merge, degraded mode.
 */
#include "memplat.h"
#include "support.h"

#include <string.h>

#include <rvm/coherence.h>
#include <rvm/witness.h>

/* ~2 MiB engine and 256 KiB witness log: static, never on the stack. */
static struct rvm_coherence coh;
static struct rvm_witness_log wlog;

/* The platform: memory sinks (tests/support/memplat.h), 10 ns per clock reading; tp.fail makes
 * the witness sink fail. */
static struct rvm_memplat tp;
static struct rvm_platform plat;

static void log_open(void)
{
	struct rvm_witness_config c = {.chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE};

	rvm_memplat_reset(&tp, &plat, 10, 0);
	for (int i = 0; i < 16; i++)
		c.boot_nonce[i] = (uint8_t)(i + 7);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
}

static struct rvm_coh_config cfg_test(void)
{
	struct rvm_coh_config c;

	rvm_coh_config_default(&c);
	c.epoch_budget = RVM_MINCUT_UNLIMITED;
	return c;
}

static void engine(uint32_t n, const struct rvm_coh_config *c)
{
	assert_int_equal(rvm_coh_init(&coh, c, n), RVM_OK);
}

static void test_bad_input(void **state)
{
	struct rvm_coh_config c = cfg_test(), bad;
	struct rvm_coh_report rep;
	struct rvm_coh_split sp;
	struct rvm_coh_merge mg;

	(void)state;
	assert_int_equal(rvm_coh_init(NULL, &c, 4), RVM_E_INVAL);
	assert_int_equal(rvm_coh_init(&coh, NULL, 4), RVM_E_INVAL);
	assert_int_equal(rvm_coh_init(&coh, &c, RVM_COH_MAX_NODES + 1), RVM_E_RANGE);
	bad = c;
	bad.decay = 10001;
	assert_int_equal(rvm_coh_init(&coh, &bad, 4), RVM_E_INVAL);
	bad = c;
	bad.alpha = 0;
	assert_int_equal(rvm_coh_init(&coh, &bad, 4), RVM_E_INVAL);
	bad = c;
	bad.split_pressure = 20000;
	assert_int_equal(rvm_coh_init(&coh, &bad, 4), RVM_E_INVAL);
	bad = c;
	bad.overrun_enter = 0;
	assert_int_equal(rvm_coh_init(&coh, &bad, 4), RVM_E_INVAL);
	bad = c;
	bad.good_exit = 0;
	assert_int_equal(rvm_coh_init(&coh, &bad, 4), RVM_E_INVAL);
	engine(4, &c);
	assert_int_equal(rvm_coh_assign(&coh, 4, 0), RVM_E_RANGE);
	assert_int_equal(rvm_coh_assign(&coh, 0, RVM_COH_MAX_GROUPS), RVM_E_RANGE);
	assert_int_equal(rvm_coh_assign(NULL, 0, 0), RVM_E_INVAL);
	assert_int_equal(rvm_coh_observe(&coh, 0, 4, 1), RVM_E_RANGE);
	assert_int_equal(rvm_coh_observe(&coh, 2, 2, 1), RVM_E_INVAL);
	assert_int_equal(rvm_coh_observe(NULL, 0, 1, 1), RVM_E_INVAL);
	assert_int_equal(rvm_coh_epoch(NULL, NULL, &rep), RVM_E_INVAL);
	assert_int_equal(rvm_coh_epoch(&coh, NULL, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_coh_decide_split(NULL, &sp), RVM_E_INVAL);
	assert_int_equal(rvm_coh_decide_merge(&coh, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_coh_pressure(&coh, RVM_COH_MAX_GROUPS), 0);
	assert_int_equal(rvm_coh_coherence(&coh, RVM_COH_MAX_GROUPS), RVM_BP_ONE);
	(void)mg;
	/* Traffic past the total the solver accepts is clipped and reported. */
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, UINT32_MAX), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 2, 3, 5), RVM_E_OVERFLOW);
	assert_true(coh.graph.total == RVM_MINCUT_MAX_TOTAL);
	assert_int_equal(rvm_mincut_graph_check(&coh.graph), RVM_OK);
}

/* Weights shrink by the decay factor each epoch, rounding down, and idle edges vanish. */
static void test_decay(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	uint64_t want = 10000;
	int epochs = 0;

	(void)state;
	c.decay = 9000;
	engine(3, &c);
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, 10000), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 1, 2, 3), RVM_OK);
	while (coh.graph.edges > 0 && epochs < 200) {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		/* Q16 of 0.9 is 58982/65536. */
		want = want * rvm_q16_from_bp(9000) >> 16;
		assert_true(rvm_mincut_graph_get(&coh.graph, 0, 1) == want);
		assert_int_equal(rvm_mincut_graph_check(&coh.graph), RVM_OK);
		epochs++;
	}
	assert_int_equal(coh.graph.edges, 0);
	assert_true(coh.graph.total == 0);
	assert_true(epochs > 50 && epochs < 200);
	/* decay 1.0 keeps weights forever. */
	c.decay = RVM_BP_ONE;
	engine(2, &c);
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, 7), RVM_OK);
	for (int i = 0; i < 10; i++)
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_int_equal(rvm_mincut_graph_get(&coh.graph, 0, 1), 7);
}

/* Coherence = internal / total per group, primed by the first epoch, then an integer EMA. */
static void test_scores_and_ema(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	rvm_bp expect;

	(void)state;
	c.decay = RVM_BP_ONE; /* keep the weights fixed between epochs */
	c.alpha = 2500;
	engine(5, &c);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, i / 2), RVM_OK);
	assert_int_equal(rvm_coh_assign(&coh, 4, 7), RVM_OK); /* a lone node, no traffic */
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, 300), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 2, 3, 100), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 1, 2, 100), RVM_OK);
	assert_int_equal(rvm_coh_coherence(&coh, 0), RVM_BP_ONE); /* not scored yet */
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_int_equal(rvm_coh_coherence(&coh, 0), 7500);
	assert_int_equal(rvm_coh_coherence(&coh, 1), 5000);
	assert_int_equal(rvm_coh_coherence(&coh, 7), RVM_BP_ONE);
	assert_true(coh.groups[0].internal == 300 && coh.groups[0].external == 100);
	/* Group 1's edge to group 0 grows: the sample drops to 100/1000, the filter follows. */
	assert_int_equal(rvm_coh_observe(&coh, 1, 2, 800), RVM_OK);
	expect = 5000;
	for (int i = 0; i < 40; i++) {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		expect = rvm_bp_ema(expect, 1000, 2500);
		assert_int_equal(coh.groups[1].coherence_raw, 1000);
		assert_int_equal(rvm_coh_coherence(&coh, 1), expect);
		if (i == 0)
			assert_int_equal(expect, 4000);
	}
	assert_int_equal(rvm_coh_coherence(&coh, 1), 1000); /* converged exactly */
	/* Reassigning a node restarts its groups' filters. */
	assert_int_equal(rvm_coh_assign(&coh, 3, 0), RVM_OK);
	assert_false(coh.groups[1].primed);
	assert_int_equal(coh.groups[0].size, 3);
	assert_int_equal(coh.groups[1].size, 1);
}

/* Two heavy triangles joined by one light edge, inside one group: pressure, then a split. */
static void test_pressure_and_split(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	struct rvm_coh_split sp;
	int epochs = 0;

	(void)state;
	c.decay = RVM_BP_ONE;
	engine(10, &c);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, 3), RVM_OK);
	for (uint32_t i = 6; i < 10; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, 4), RVM_OK);
	for (uint32_t t = 0; t < 2; t++)
		for (uint32_t i = 0; i < 3; i++)
			for (uint32_t j = i + 1; j < 3; j++)
				assert_int_equal(rvm_coh_observe(&coh, 3 * t + i, 3 * t + j, 100),
						 RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 2, 3, 1), RVM_OK);
	/* Group 4 is a uniform 4-clique: its min cut is one node, conductance 1. */
	for (uint32_t i = 6; i < 10; i++)
		for (uint32_t j = i + 1; j < 10; j++)
			assert_int_equal(rvm_coh_observe(&coh, i, j, 50), RVM_OK);
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_int_equal(rep.scored, 2);
	/* lambda 1; each side's volume 2*300 + 1. */
	assert_int_equal(coh.groups[3].pressure_raw, RVM_BP_ONE - rvm_bp_ratio(1, 601));
	assert_int_equal(coh.groups[3].cut_value, 1);
	assert_int_equal(coh.groups[4].pressure_raw, 0);
	/* Not yet: the filter needs a few epochs of sustained pressure. */
	assert_int_equal(rvm_coh_decide_split(&coh, &sp), RVM_OK);
	assert_false(sp.split);
	do {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		assert_int_equal(rvm_coh_decide_split(&coh, &sp), RVM_OK);
		epochs++;
	} while (!sp.split && epochs < 50);
	assert_true(sp.split);
	assert_true(epochs >= 3 && epochs <= 8);
	assert_int_equal(sp.group, 3);
	assert_true(sp.pressure >= c.split_pressure);
	assert_int_equal(sp.cut_value, 1);
	assert_int_equal(rvm_nodeset_count(&sp.move), 3);
	for (uint32_t i = 1; i < 3; i++)
		assert_int_equal(rvm_nodeset_has(&sp.move, i), rvm_nodeset_has(&sp.move, 0));
	assert_int_equal(rvm_nodeset_has(&sp.move, 0), !rvm_nodeset_has(&sp.move, 3));
	/* A higher threshold than the pressure ever reaches: no split. */
	coh.cfg.split_pressure = RVM_BP_ONE;
	assert_int_equal(rvm_coh_decide_split(&coh, &sp), RVM_OK);
	assert_false(sp.split);
}

/*
 * A node stranded in a group of three: it talks little to the other two (a strong pair) and
 * mostly to another group. Its side of the min cut is itself, whose internal degree is the cut:
 * it is weighed by all the traffic it could take along, so the group splits it off. Traffic
 * with a node outside every group (a quarantined agent) cannot be taken along: it does not count.
 */
static void test_stranded_node_splits(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	struct rvm_coh_split sp;
	int epochs = 0;

	(void)state;
	c.decay = RVM_BP_ONE;
	engine(6, &c);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, 3), RVM_OK);
	assert_int_equal(rvm_coh_assign(&coh, 3, 4), RVM_OK);
	assert_int_equal(rvm_coh_assign(&coh, 4, 4), RVM_OK);
	/* node 5 is in no group */
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, 1000), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 0, 2, 50), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 1, 2, 50), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 3, 4, 1000), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 2, 5, 2000), RVM_OK);
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	/* Only the pair and the group-less node: the cut (100) is all of node 2's volume. */
	assert_int_equal(coh.groups[3].cut_value, 100);
	assert_int_equal(coh.groups[3].pressure_raw, 0);
	/* Node 2 talks 900 with group 4 as well: volume 100 + 900, the pair's 2100. */
	assert_int_equal(rvm_coh_observe(&coh, 2, 3, 450), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 2, 4, 450), RVM_OK);
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_int_equal(coh.groups[3].pressure_raw, RVM_BP_ONE - rvm_bp_ratio(100, 1000));
	/* A pair keeps the plain rule: group 4 (3 and 4) is not pushed apart by node 2. */
	assert_int_equal(coh.groups[4].pressure_raw, 0);
	do {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		assert_int_equal(rvm_coh_decide_split(&coh, &sp), RVM_OK);
		epochs++;
	} while (!sp.split && epochs < 50);
	assert_true(sp.split);
	assert_int_equal(sp.group, 3);
	assert_int_equal(rvm_nodeset_count(&sp.move), 1);
	assert_true(rvm_nodeset_has(&sp.move, 2));
}

/* Two single-node groups that talk mostly to each other merge, if the size limit allows. */
static void test_merge(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	struct rvm_coh_merge mg;

	(void)state;
	c.decay = RVM_BP_ONE;
	c.merge_mutual = 6000;
	c.max_group_size = 2;
	engine(6, &c);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, 10 + i), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, 900), RVM_OK); /* 10 and 11: close */
	assert_int_equal(rvm_coh_observe(&coh, 1, 2, 100), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 3, 4, 100), RVM_OK); /* 13 talks to 14 and 15 */
	assert_int_equal(rvm_coh_observe(&coh, 3, 5, 100), RVM_OK);
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	/* 2*900 / (900 + 1000) */
	assert_int_equal(rvm_coh_mutual(&coh, 10, 11), rvm_bp_ratio(1800, 1900));
	assert_int_equal(rvm_coh_mutual(&coh, 10, 12), 0); /* not adjacent */
	assert_int_equal(rvm_coh_mutual(&coh, 13, 14), rvm_bp_ratio(200, 300));
	assert_int_equal(rvm_coh_decide_merge(&coh, &mg), RVM_OK);
	assert_true(mg.merge);
	assert_int_equal(mg.a, 10);
	assert_int_equal(mg.b, 11);
	assert_int_equal(mg.mutual, rvm_bp_ratio(1800, 1900));
	/* Resources: groups of 2 cannot take a third node. */
	assert_int_equal(rvm_coh_assign(&coh, 1, 10), RVM_OK);
	assert_int_equal(rvm_coh_decide_merge(&coh, &mg), RVM_OK);
	assert_true(mg.merge);
	assert_int_equal(mg.a, 13); /* 10+12 would hold 3 nodes */
	assert_int_equal(mg.b, 14);
	coh.cfg.merge_mutual = 9000;
	assert_int_equal(rvm_coh_decide_merge(&coh, &mg), RVM_OK);
	assert_false(mg.merge);
}

/* Disabled engine: degraded on the next epoch, witnessed; back after good_exit good epochs. */
static void test_degraded_disabled(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	struct rvm_coh_split sp;
	struct rvm_coh_merge mg;
	const struct rvm_witness_record *r;
	uint64_t seq0;

	(void)state;
	c.decay = RVM_BP_ONE;
	c.good_exit = 3;
	engine(4, &c);
	log_open();
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, 0), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 0, 1, 100), RVM_OK);
	assert_int_equal(rvm_coh_observe(&coh, 2, 3, 100), RVM_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rvm_coh_epoch(&coh, &wlog, &rep), RVM_OK);
	assert_true(rvm_coh_pressure(&coh, 0) > 0);
	seq0 = wlog.next_seq;
	rvm_coh_set_enabled(&coh, false);
	assert_int_equal(rvm_coh_epoch(&coh, &wlog, &rep), RVM_OK);
	assert_true(rep.degraded);
	assert_int_equal(rep.event, RVM_ACT_DEGRADED_ENTER);
	assert_int_equal(rep.reason, RVM_COH_REASON_DISABLED);
	assert_true(rep.work == 0);
	assert_true(wlog.next_seq == seq0 + 1);
	r = rvm_witness_get(&wlog, seq0);
	assert_non_null(r);
	assert_int_equal(r->action, RVM_ACT_DEGRADED_ENTER);
	assert_true(r->arg0 == RVM_COH_REASON_DISABLED);
	/* Degraded: pressure reads zero and decisions refuse (static placement). */
	assert_int_equal(rvm_coh_pressure(&coh, 0), 0);
	assert_int_equal(rvm_coh_decide_split(&coh, &sp), RVM_E_DEGRADED);
	assert_false(sp.split);
	assert_int_equal(rvm_coh_decide_merge(&coh, &mg), RVM_E_DEGRADED);
	/* Further disabled epochs: no new record. */
	assert_int_equal(rvm_coh_epoch(&coh, &wlog, &rep), RVM_OK);
	assert_int_equal(rep.event, 0);
	assert_true(wlog.next_seq == seq0 + 1);
	/* Enabled again: exits after exactly good_exit good epochs. */
	rvm_coh_set_enabled(&coh, true);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(rvm_coh_epoch(&coh, &wlog, &rep), RVM_OK);
		assert_int_equal(rep.degraded, i < 3);
		assert_int_equal(rep.event, i < 3 ? 0 : RVM_ACT_DEGRADED_EXIT);
	}
	r = rvm_witness_get(&wlog, seq0 + 1);
	assert_non_null(r);
	assert_int_equal(r->action, RVM_ACT_DEGRADED_EXIT);
	assert_true(r->arg0 == RVM_COH_REASON_DISABLED);
	assert_true(rvm_coh_pressure(&coh, 0) > 0);
	assert_int_equal(rvm_coh_decide_split(&coh, &sp), RVM_OK);
}

/* Overrunning epochs: degraded after overrun_enter in a row, not before; hysteresis on exit. */
static void test_degraded_overrun(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	uint64_t seed = 99;

	(void)state;
	c.decay = RVM_BP_ONE; /* keep the work per epoch steady */
	c.overrun_enter = 3;
	c.good_exit = 4;
	engine(64, &c);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, i / 8), RVM_OK);
	for (int e = 0; e < 400; e++) {
		uint32_t a = (uint32_t)(rvm_test_rand(&seed) % 64),
			 b = (a / 8) * 8 + (uint32_t)(rvm_test_rand(&seed) % 8);

		if (a != b)
			assert_int_equal(rvm_coh_observe(&coh, a, b, 10), RVM_OK);
	}
	/* Unlimited: every group is cut, no overrun. */
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_false(rep.overrun);
	assert_int_equal(rep.scored, 8);
	/* A budget below one epoch's work: overrun, overrun, then degraded on the third. */
	coh.cfg.epoch_budget = rep.work / 3;
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		assert_true(rep.overrun);
		assert_true(rep.scored < 8);
		assert_int_equal(rep.degraded, i == 3);
		assert_int_equal(rep.event, i == 3 ? RVM_ACT_DEGRADED_ENTER : 0);
	}
	assert_int_equal(rep.reason, RVM_COH_REASON_OVERRUN);
	/* A good epoch between overruns resets the count. */
	coh.cfg.epoch_budget = RVM_MINCUT_UNLIMITED;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_true(rep.degraded);
	coh.cfg.epoch_budget = 1;
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_true(rep.overrun && rep.degraded);
	coh.cfg.epoch_budget = RVM_MINCUT_UNLIMITED;
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		assert_int_equal(rep.degraded, i < 4);
	}
	assert_int_equal(rep.event, RVM_ACT_DEGRADED_EXIT);
	assert_int_equal(rep.reason, RVM_COH_REASON_OVERRUN);
}

/* With a budget for some groups per epoch, the round robin still reaches all of them. */
static void test_round_robin(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	uint32_t total = 0;

	(void)state;
	c.decay = RVM_BP_ONE;
	c.overrun_enter = 1000;
	engine(64, &c);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(rvm_coh_assign(&coh, i, i / 4), RVM_OK);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(rvm_coh_observe(&coh, i, (i / 4) * 4 + (i + 1) % 4, 1000), RVM_OK);
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_int_equal(rep.scored, 16);
	coh.cfg.epoch_budget = rep.work * 3 / 4;
	for (uint32_t k = 0; k < 16; k++)
		coh.groups[k].cut_valid = false;
	for (int e = 0; e < 12; e++) {
		assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
		assert_true(rep.overrun);
		assert_true(rep.scored > 0 && rep.scored < 16);
		assert_true(rep.work <= coh.cfg.epoch_budget + 64);
		total += rep.scored;
	}
	assert_true(total >= 16);
	for (uint32_t k = 0; k < 16; k++)
		assert_true(coh.groups[k].cut_valid);
}

/* A witness log that cannot take the record: the mode does not change, and it says so. */
static void test_degraded_log_full(void **state)
{
	struct rvm_coh_config c = cfg_test();
	struct rvm_coh_report rep;
	int n = 0;

	(void)state;
	engine(2, &c);
	log_open();
	tp.fail = true;
	while (rvm_witness_can_emit(&wlog, 1) && n < 10000) {
		rvm_witness_emit(&wlog, RVM_ACT_EPOCH_TICK, 0, 0, 0, 0, 0, NULL);
		n++;
	}
	assert_false(rvm_witness_can_emit(&wlog, 1));
	rvm_coh_set_enabled(&coh, false);
	assert_int_equal(rvm_coh_epoch(&coh, &wlog, &rep), RVM_E_FULL);
	assert_false(coh.degraded);
	assert_int_equal(rep.event, 0);
	/* Without a log the caller witnesses the event itself. */
	assert_int_equal(rvm_coh_epoch(&coh, NULL, &rep), RVM_OK);
	assert_true(coh.degraded);
	assert_int_equal(rep.event, RVM_ACT_DEGRADED_ENTER);
	tp.fail = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_scores_and_ema),
		cmocka_unit_test(test_pressure_and_split),
		cmocka_unit_test(test_stranded_node_splits),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_degraded_disabled),
		cmocka_unit_test(test_degraded_overrun),
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_degraded_log_full),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&tp);
	return rc;
}
