/* tests/unit/test_kernel_trust.c - a quarantine (trust below the floor) keeps its agent out of
 * every merge and no other merge out of the epochs. */
#include "kernel_world.h"
#include "support.h"

static struct rvm_tw tw;

/* A kernel on two CPUs (partitions of at most 4 agents, trust floor 50) with chatty loaded. */
static uint32_t boot_chatty(void)
{
	rvm_tw_boot(&tw, 2, 4);
	return rvm_tw_load(&tw, "chatty", 0);
}

/*
 * Four chatty agents of one team in a full mesh: a[0..2] in one partition, a[3] in another.
 * With quarantine set, a[2]'s trust drops below the floor before any epoch (so before any
 * merge). Runs up to 60 epochs of 16 slices each, stopping at the first merge.
 */
static void team_of_four(bool quarantine, uint32_t a[4], uint32_t p[2])
{
	uint32_t mc = boot_chatty();

	for (uint32_t i = 0; i < 2; i++)
		p[i] = rvm_tw_part(&tw);
	for (uint32_t i = 0; i < 4; i++) {
		int64_t args[4] = {i, 4, 4, 1000000};

		a[i] = rvm_tw_spawn_args(&tw, mc, "c", p[i / 3], RVM_TW_ALL_RIGHTS, args);
	}
	rvm_tw_mesh(&tw, a, 4);
	if (quarantine) {
		assert_int_equal(rvm_kernel_set_trust(&tw.kern, a[2], 20), RVM_OK);
		assert_true(tw.world->agents[a[2]].quarantined);
	}
	rvm_tw_epochs(&tw, 60, 16, 20000, &tw.world->merges);
}

/* Without a trust event the team's two partitions merge (the baseline of the test below). */
static void test_team_merges(void **state)
{
	uint32_t a[4], p[2];

	(void)state;
	if (!rvm_tw_have_agents(&tw, "chatty"))
		skip();
	team_of_four(false, a, p);
	assert_int_equal(tw.world->merges, 1);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(tw.world->agents[a[i]].part, tw.world->agents[a[0]].part);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * a[2] is quarantined before any merge: a[0], a[1] and a[3] still merge into one partition,
 * a[2] stays alone in its own.
 */
static void test_quarantine_before_merge(void **state)
{
	uint32_t a[4], p[2], q;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "chatty"))
		skip();
	team_of_four(true, a, p);
	q = tw.world->agents[a[2]].part;
	assert_int_equal(tw.world->merges, 1);
	assert_int_equal(tw.world->agents[a[1]].part, tw.world->agents[a[0]].part);
	assert_int_equal(tw.world->agents[a[3]].part, tw.world->agents[a[0]].part);
	assert_true(q != tw.world->agents[a[0]].part);
	assert_int_equal(tw.world->parts.p[q].agents, 1);
	assert_true(tw.world->agents[a[2]].quarantined);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * The bare-metal demo's swarm: eight chatty agents, two teams of four that regroup every 1000
 * messages, started in two partitions that each hold half of both teams. With trust_at set,
 * c5's trust drops below the floor at that epoch. Runs `epochs` epochs of 16 slices each.
 */
static void regrouping_eight(int trust_at, int epochs, uint32_t c[8])
{
	uint32_t mc = boot_chatty(), p[2], e = 0;

	for (uint32_t i = 0; i < 2; i++)
		p[i] = rvm_tw_part(&tw);
	for (uint32_t i = 0; i < 8; i++) {
		int64_t args[4] = {i, 4, 8, 1000};

		c[i] = rvm_tw_spawn_args(&tw, mc, "c", p[i / 2 % 2], RVM_TW_ALL_RIGHTS, args);
	}
	rvm_tw_mesh(&tw, c, 8);
	if (trust_at >= 0 && trust_at < epochs) {
		e = rvm_tw_epochs(&tw, (uint32_t)trust_at, 16, 20000, NULL);
		assert_int_equal(rvm_kernel_set_trust(&tw.kern, c[5], 20), RVM_OK);
	}
	rvm_tw_epochs(&tw, (uint32_t)epochs - e, 16, 20000, NULL);
}

/* Without a trust event the halves of each team come together: two merges. */
static void test_regroup_merges(void **state)
{
	uint32_t c[8];

	(void)state;
	if (!rvm_tw_have_agents(&tw, "chatty"))
		skip();
	regrouping_eight(-1, 40, c);
	assert_int_equal(tw.world->merges, 2);
	assert_int_equal(tw.world->agents[c[1]].part, tw.world->agents[c[0]].part);
	assert_int_equal(tw.world->agents[c[5]].part, tw.world->agents[c[4]].part);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * c5 is quarantined at epoch 5, before any merge. It used to stop every merge: c4, its
 * partner, was left in a group of three with c0 and c1 (another team), and a single node's
 * cut pressure was always zero, so it could never be split off, and no merge fitted the
 * partition limit. Now c4 leaves, c0..c3 come together, c4 joins c6 and c7, and c5 stays
 * alone: only merges that would take it back are refused.
 */
static void test_regroup_quarantine_early(void **state)
{
	uint32_t c[8], q;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "chatty"))
		skip();
	regrouping_eight(5, 40, c);
	q = tw.world->agents[c[5]].part;
	assert_true(tw.world->agents[c[5]].quarantined);
	assert_true(tw.world->merges >= 2);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(tw.world->agents[c[i]].part, tw.world->agents[c[0]].part);
	assert_int_equal(tw.world->agents[c[6]].part, tw.world->agents[c[4]].part);
	assert_int_equal(tw.world->agents[c[7]].part, tw.world->agents[c[4]].part);
	assert_int_equal(tw.world->parts.p[q].agents, 1);
	for (uint32_t i = 0; i < 8; i++)
		assert_true(i == 5 || tw.world->agents[c[i]].part != q);
	assert_int_equal(tw.world->coh.group[c[5]], RVM_COH_NO_GROUP);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_team_merges),
		cmocka_unit_test(test_quarantine_before_merge),
		cmocka_unit_test(test_regroup_merges),
		cmocka_unit_test(test_regroup_quarantine_early),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_tw_free(&tw);
	return rc;
}
