/* tests/unit/test_kernel.c - the full kernel: measured seven-phase boot, injected phase failures,
 * agents exchanging messages, journal bound to the log, merges, F1 recovery, hostile agents. */
#include "kernel_world.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <rvm/bytes.h>

static struct rvm_tw tw;
static const uint8_t full_order[7] = {1, 3, 4, 2, 5, 6, 7};

static void test_boot_measured_and_witnessed(void **state)
{
	struct rvm_kernel_config c;
	uint8_t attest1[32];
	uint64_t m1[8];

	(void)state;
	rvm_tw_fresh(&tw);
	rvm_tw_config(&tw, &c, 2);
	assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, tw.world, &c), RVM_OK);
	assert_int_equal(tw.kern.state, RVM_KERNEL_RUNNING);
	assert_int_equal(tw.kern.phases_done, RVM_BOOT_FULL_PHASES);
	assert_int_equal(tw.world->ncpus, 2);
	rvm_tw_read_log(&tw);
	assert_true(tw.nrecs >= 8);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(tw.recs[i].action, RVM_ACT_BOOT_PHASE);
		assert_int_equal(tw.recs[i].target, full_order[i]);
		assert_true(tw.recs[i].arg1 == tw.kern.measure[full_order[i]] &&
			    tw.recs[i].arg1 != 0);
		assert_int_equal(tw.recs[i].flags, 0);
	}
	assert_true(tw.recs[0].arg0 == 4 && tw.recs[4].arg0 == 2); /* CPUs seen, CPUs used */
	assert_int_equal(tw.recs[1].arg0, RVM_TW_MEM);
	assert_int_equal(tw.recs[7].action, RVM_ACT_BOOT_COMPLETE);
	assert_true(tw.recs[7].target == 7 && tw.recs[7].arg1 == rvm_load_le64(tw.kern.attest));
	memcpy(attest1, tw.kern.attest, 32);
	memcpy(m1, tw.kern.measure, sizeof(m1));
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);

	/* The same machine and configuration measure the same. */
	rvm_tw_fresh(&tw);
	assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, tw.world, &c), RVM_OK);
	assert_memory_equal(tw.kern.attest, attest1, 32);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
	/* One CPU fewer: platform and partition phases measure differently, the others not,
	 * and the attestation changes. */
	rvm_tw_fresh(&tw);
	rvm_tw_config(&tw, &c, 1);
	assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, tw.world, &c), RVM_OK);
	assert_memory_not_equal(tw.kern.attest, attest1, 32);
	assert_true(tw.kern.measure[RVM_BOOT_PLATFORM] != m1[RVM_BOOT_PLATFORM]);
	assert_true(tw.kern.measure[RVM_BOOT_PARTITIONS] != m1[RVM_BOOT_PARTITIONS]);
	assert_true(tw.kern.measure[RVM_BOOT_CAPS] == m1[RVM_BOOT_CAPS]);
	assert_true(tw.kern.measure[RVM_BOOT_WITNESS] == m1[RVM_BOOT_WITNESS]);
	assert_true(tw.kern.measure[RVM_BOOT_AGENTS] == m1[RVM_BOOT_AGENTS]);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* A failure injected into each phase stops the boot there, on record when a log exists. */
static void test_boot_phase_failures(void **state)
{
	struct rvm_kernel_config c;

	(void)state;
	for (int i = 0; i < 7; i++) {
		uint32_t p = full_order[i];

		rvm_tw_fresh(&tw);
		rvm_tw_config(&tw, &c, 2);
		c.fail_phase = p;
		assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, tw.world, &c),
				 RVM_E_BOOT);
		assert_int_equal(tw.kern.state, RVM_KERNEL_OFF);
		assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_E_STATE);
		if (p == RVM_BOOT_PLATFORM || p == RVM_BOOT_WITNESS) {
			/* Nothing to witness with: no log at all. */
			assert_int_equal(tw.ms.len[RVM_SINK_WITNESS], 0);
			continue;
		}
		rvm_tw_read_log(&tw);
		/* The phases before it, in order, then the failure (flag DENIED, arg1 the error);
		 * the failure is made durable before boot returns. */
		assert_int_equal(tw.nrecs, (size_t)i + 1);
		for (int j = 0; j < i; j++)
			assert_true(tw.recs[j].action == RVM_ACT_BOOT_PHASE &&
				    tw.recs[j].target == full_order[j] && tw.recs[j].flags == 0);
		assert_true(tw.recs[i].action == RVM_ACT_BOOT_PHASE && tw.recs[i].target == p &&
			    tw.recs[i].flags == RVM_WF_DENIED && tw.recs[i].arg1 == RVM_E_BOOT);
		assert_int_equal(rvm_tw_count(&tw, RVM_ACT_BOOT_COMPLETE, 0), 0);
	}
	/* Bad arguments and a bad memory pool are refused. */
	rvm_tw_fresh(&tw);
	rvm_tw_config(&tw, &c, 2);
	assert_int_equal(rvm_kernel_boot_full(NULL, &tw.plat, tw.world, &c), RVM_E_INVAL);
	assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, NULL, &c), RVM_E_INVAL);
	c.ncpus = RVM_MAX_CPUS + 1;
	assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, tw.world, &c), RVM_E_RANGE);
	rvm_tw_fresh(&tw);
	rvm_tw_config(&tw, &c, 2);
	c.agent_mem_count = RVM_AGENT_MAX + 1;
	assert_int_equal(rvm_kernel_boot_full(&tw.kern, &tw.plat, tw.world, &c), RVM_E_RANGE);
}

/* Offset of the n-th RECV entry with a message in the journal written so far. */
static size_t nth_recv(size_t nth)
{
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER, at = off;

	while (rvm_journal_next(tw.ms.buf[RVM_SINK_JOURNAL], tw.ms.len[RVM_SINK_JOURNAL], &off,
				&e) == RVM_OK) {
		if (e.kind == RVM_JK_RECV && e.aux != RVM_JOURNAL_NO_EDGE && nth-- == 0)
			return at;
		at = off;
	}
	fail();
	return 0;
}

/* Offset of the first single (unbatched) entry of kind in the journal written so far. */
static size_t first_single(uint16_t kind)
{
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER, at = off;

	while (rvm_journal_next(tw.ms.buf[RVM_SINK_JOURNAL], tw.ms.len[RVM_SINK_JOURNAL], &off,
				&e) == RVM_OK) {
		if (e.kind == kind && !(e.flags & RVM_JOURNAL_F_BATCH))
			return at;
		at = off;
	}
	fail();
	return 0;
}

/*
 * Tamper evidence: one message byte changed in a batched entry is caught by its batch's
 * record; an entry dropped from a batch by the count; a changed single entry by its hash8,
 * and with hash8 forged to match, by its agent.hostcall record.
 */
static void check_journal_tamper(void)
{
	size_t len = tw.ms.len[RVM_SINK_JOURNAL], at = nth_recv(5);
	uint8_t *copy = malloc(len), d[32];
	struct rvm_journal_bind_report rep;
	uint32_t plen, pad;

	assert_non_null(copy);
	memcpy(copy, tw.ms.buf[RVM_SINK_JOURNAL], len);
	assert_true(rvm_load_le16(copy + at + 14) & RVM_JOURNAL_F_BATCH);
	plen = rvm_load_le32(copy + at + 16);
	copy[at + RVM_JOURNAL_HEAD + RVM_JOURNAL_RECV_PREFIX] ^= 0x40;
	assert_int_equal(rvm_journal_bind_check(copy, len, rvm_tw_lookup_rec, &tw, &rep),
			 RVM_E_TAMPER);
	assert_string_equal(rep.why, "batch does not match the hash in its record");
	/* Drop the entry instead: the batch comes up one short. */
	memcpy(copy, tw.ms.buf[RVM_SINK_JOURNAL], len);
	pad = RVM_JOURNAL_HEAD + ((plen + 7u) & ~7u);
	memmove(copy + at, copy + at + pad, len - at - pad);
	assert_int_equal(rvm_journal_bind_check(copy, len - pad, rvm_tw_lookup_rec, &tw, &rep),
			 RVM_E_TAMPER);
	assert_string_equal(rep.why, "batch has another number of entries than its record");
	/* A single entry (the sink's START: module hash and arguments). */
	memcpy(copy, tw.ms.buf[RVM_SINK_JOURNAL], len);
	at = first_single(RVM_JK_START);
	plen = rvm_load_le32(copy + at + 16);
	copy[at + RVM_JOURNAL_HEAD + 3] ^= 1;
	assert_int_equal(rvm_journal_bind_check(copy, len, rvm_tw_lookup_rec, &tw, &rep),
			 RVM_E_TAMPER);
	assert_int_equal(rep.bad_off, at);
	assert_string_equal(rep.why, "payload does not match its hash");
	SHA256(copy + at + RVM_JOURNAL_HEAD, plen, d);
	memcpy(copy + at + 24, d, 8);
	assert_int_equal(rvm_journal_bind_check(copy, len, rvm_tw_lookup_rec, &tw, &rep),
			 RVM_E_TAMPER);
	assert_string_equal(rep.why, "entry does not match its agent.hostcall record");
	free(copy);
}

static void test_pipeline_messages_journaled(void **state)
{
	uint32_t ms_, mk, s, k, ps, pk;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	ps = rvm_tw_part(&tw);
	pk = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", ps, RVM_TW_ALL_RIGHTS, 1, 1);
	k = rvm_tw_spawn(&tw, mk, "k", pk, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_E_EXISTS);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, s, NULL), RVM_E_INVAL);
	/* Different partitions: the channel rides a kernel CommEdge. */
	assert_true(tw.world->chans[0].edge.id != RVM_OBJ_NULL);
	rvm_tw_slices(&tw, 200, 20000);
	rvm_tw_check_channels(&tw);
	assert_true(tw.world->agents[k].received > 100);
	assert_int_equal(tw.world->agents[s].traps + tw.world->agents[k].traps, 0);
	/* Every received message is in the journal, bound to its record. */
	assert_int_equal(rvm_tw_check_journal(&tw, RVM_JK_RECV), tw.world->agents[k].received);
	assert_true(rvm_tw_count(&tw, RVM_ACT_IPC_SEND, 0) > 0 &&
		    rvm_tw_count(&tw, RVM_ACT_IPC_RECV, 0) > 0);
	/* Batched: far fewer binding records than messages, and no record per message. */
	assert_true(rvm_tw_count(&tw, RVM_ACT_HOSTCALL_BATCH, 0) * 4 <
		    tw.world->agents[k].received);
	assert_true(rvm_tw_count(&tw, RVM_ACT_IPC_RECV, 0) * 4 < tw.world->agents[k].received);
	check_journal_tamper();
	/* Moving the receiver in with the sender: the edge goes, delivery continues, in order. */
	assert_int_equal(rvm_kernel_agent_move(&tw.kern, k, ps), RVM_OK);
	assert_true(tw.world->chans[0].edge.id == RVM_OBJ_NULL);
	assert_int_equal(tw.world->parts.p[ps].agents, 2);
	rvm_tw_slices(&tw, 100, 20000);
	rvm_tw_check_channels(&tw);
	assert_int_equal(rvm_tw_check_journal(&tw, RVM_JK_RECV), tw.world->agents[k].received);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* Two chatty partitions merge through the epochs; messages keep flowing, none lost. */
static void test_epochs_merge(void **state)
{
	uint32_t ms_, mk, s, k, ps, pk;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 2, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	ps = rvm_tw_part(&tw);
	pk = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", ps, RVM_TW_ALL_RIGHTS, 1, 1);
	k = rvm_tw_spawn(&tw, mk, "k", pk, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_OK);
	rvm_tw_epochs(&tw, 30, 20, 20000, &tw.world->merges);
	assert_int_equal(tw.world->merges, 1);
	assert_int_equal(tw.world->agents[s].part, tw.world->agents[k].part);
	/* The merged table holds exactly one live agent cap per agent, each the agent's own. */
	{
		const struct rvm_cap_table *t =
			&tw.world->gate.caps->tables[tw.world->agents[s].part];
		uint32_t agent_caps = 0;

		for (uint32_t i = 0; i < RVM_CAP_TABLE_SLOTS; i++)
			if (t->slots[i].state == RVM_CAPS_LIVE && t->slots[i].type == RVM_OBJ_AGENT)
				agent_caps++;
		assert_int_equal(agent_caps, 2);
		assert_int_equal(rvm_cap_check(&tw.world->gate, tw.world->agents[s].part,
					       tw.world->agents[s].cap, RVM_OBJ_AGENT,
					       tw.world->agents[s].id, 0),
				 RVM_OK);
	}
	rvm_tw_slices(&tw, 40, 20000);
	rvm_tw_check_channels(&tw);
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_PARTITION_MERGE, 0), 1);
	assert_true(rvm_tw_count(&tw, RVM_ACT_COHERENCE_EPOCH, 0) >= 1);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * A stable workload on two CPUs: partitions talk in two fixed pairs, and which pair is busier
 * flips every 10 epochs (traffic fed straight into the partition graph; the agents never run).
 * Placement co-locates each pair once; after that nothing crosses CPUs, so nothing may move.
 * Without hysteresis the greedy placement put the busier pair on CPU 0 every 10 epochs,
 * swapping all four partitions at each flip (78 migrations in 200 epochs).
 */
static void test_placement_hysteresis(void **state)
{
	uint32_t mk, p[4];

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 2, 4);
	mk = rvm_tw_load(&tw, "sink", 0);
	for (uint32_t i = 0; i < 4; i++) {
		p[i] = rvm_tw_part(&tw);
		(void)rvm_tw_spawn(&tw, mk, "k", p[i], RVM_TW_ALL_RIGHTS, 0, 0);
	}
	for (uint32_t e = 0; e < 200; e++) {
		struct rvm_epoch_report rep;
		uint32_t a = (e / 10u) % 2u ? 900u : 1000u;

		assert_int_equal(rvm_coh_observe(&tw.world->pcoh, p[0], p[1], a), RVM_OK);
		assert_int_equal(rvm_coh_observe(&tw.world->pcoh, p[2], p[3], 1900u - a), RVM_OK);
		assert_int_equal(rvm_kernel_epoch(&tw.kern, &rep), RVM_OK);
	}
	assert_int_equal(tw.world->sched.cpu_of[p[0]], tw.world->sched.cpu_of[p[1]]);
	assert_int_equal(tw.world->sched.cpu_of[p[2]], tw.world->sched.cpu_of[p[3]]);
	assert_int_not_equal(tw.world->sched.cpu_of[p[0]], tw.world->sched.cpu_of[p[2]]);
	/* One placement moves at most all four partitions once. */
	assert_true(tw.world->migrations <= 4);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * A merge of two partitions of two chatty agents each (one mesh of four): moving the first
 * agent re-binds its channels to the other agent still in the merged-away partition. That must
 * not try to build an edge with the dead partition's stale cap: no cap or gate denials at all.
 */
static void test_merge_rebind_no_denials(void **state)
{
	uint32_t mc, a[4], p[2];

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 2, 4);
	mc = rvm_tw_load(&tw, "chatty", 0);
	p[0] = rvm_tw_part(&tw);
	p[1] = rvm_tw_part(&tw);
	for (uint32_t i = 0; i < 4; i++) {
		int64_t args[4] = {i, 4, 4, 1000000};

		a[i] = rvm_tw_spawn_args(&tw, mc, "c", p[i / 2], RVM_TW_ALL_RIGHTS, args);
	}
	rvm_tw_mesh(&tw, a, 4);
	rvm_tw_epochs(&tw, 40, 16, 20000, &tw.world->merges);
	assert_int_equal(tw.world->merges, 1);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(tw.world->agents[a[i]].part, tw.world->agents[a[0]].part);
	rvm_tw_slices(&tw, 16, 20000);
	rvm_tw_check_channels(&tw);
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_PARTITION_MERGE, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_CAP_DENIED, 0), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_GATE_DENIED, 0), 0);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* A trapping agent takes F1 (restart, witnessed) until the escalation stops it. */
static void test_trap_recovery(void **state)
{
	uint32_t ms_, mf, s, f, p;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mf = rvm_tw_load(&tw, "flaky", 0);
	p = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", p, RVM_TW_ALL_RIGHTS, 1, 1);
	f = rvm_tw_spawn(&tw, mf, "f", rvm_tw_part(&tw), RVM_TW_ALL_RIGHTS, 0, 5);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, f, NULL), RVM_OK);
	rvm_tw_slices(&tw, 400, 20000);
	assert_int_equal(tw.world->agents[f].restarts, RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(tw.world->agents[f].traps, RVM_AGENT_MAX_RESTARTS + 1);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_STOPPED);
	assert_int_equal(tw.world->recoveries, RVM_AGENT_MAX_RESTARTS);
	/* Each life handled exactly 4 messages (the 5th divides by zero). */
	assert_int_equal(tw.world->agents[f].received, 5u * (RVM_AGENT_MAX_RESTARTS + 1));
	rvm_tw_check_channels(&tw);
	assert_int_equal(rvm_tw_check_journal(&tw, RVM_JK_START), 2 + RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_AGENT_TRAP, 0), RVM_AGENT_MAX_RESTARTS + 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F1, 0), RVM_AGENT_MAX_RESTARTS);
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_AGENT_TRAP)
			assert_int_equal(tw.recs[i].arg0, RVM_WASM_TRAP_DIV_ZERO);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* Hostile agents: bad pointers and sizes trap; missing rights are refused and witnessed. */
static void test_rogue_agents(void **state)
{
	static const struct {
		int64_t mode;
		uint8_t rights;
		bool traps;
		const char *log;
	} cases[] = {
		{1, RVM_TW_ALL_RIGHTS, true, ""},
		{2, RVM_TW_ALL_RIGHTS, true, ""},
		{3, RVM_TW_ALL_RIGHTS, true, ""},
		{4, RVM_TW_ALL_RIGHTS & ~RVM_AGENT_RIGHT_SEND, false, "result -3"},
		{5, RVM_TW_ALL_RIGHTS, false, "result -3"},
		{6, RVM_TW_ALL_RIGHTS, false, "result -2"},
	};

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t mr, mk, r, k;

		rvm_tw_boot(&tw, 1, 4);
		mr = rvm_tw_load(&tw, "rogue", 0);
		mk = rvm_tw_load(&tw, "sink", 0);
		r = rvm_tw_spawn(&tw, mr, "r", rvm_tw_part(&tw), cases[i].rights, cases[i].mode, 0);
		k = rvm_tw_spawn(&tw, mk, "k", rvm_tw_part(&tw), RVM_TW_ALL_RIGHTS, 0, 0);
		assert_int_equal(rvm_kernel_connect(&tw.kern, r, k, NULL), RVM_OK);
		rvm_tw_slices(&tw, 6, 20000);
		if (cases[i].traps) {
			assert_true(tw.world->agents[r].traps >= 1);
		} else {
			assert_int_equal(tw.world->agents[r].traps, 0);
			assert_string_equal(tw.world->agents[r].last_log, cases[i].log);
		}
		assert_int_equal(tw.world->agents[k].received, 0);
		rvm_tw_read_log(&tw);
		if (cases[i].mode == 4 || cases[i].mode == 5)
			assert_true(rvm_tw_count(&tw, RVM_ACT_CAP_DENIED, 0) >= 1);
		for (size_t j = 0; cases[i].traps && j < tw.nrecs; j++)
			if (tw.recs[j].action == RVM_ACT_AGENT_TRAP)
				assert_int_equal(tw.recs[j].arg0, RVM_WASM_TRAP_HOST);
		assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
	}
}

/*
 * Issue 8: a swarm split is the kernel's rvm_partition_split, gated and witnessed step by
 * step (partition.create, cap.move of the leaving agents' caps and of their edge ends,
 * edge.repoint, partition.split naming the old partition and both slots); a refused split
 * changes nothing. Messages keep flowing, none lost, the journal stays bound.
 */
static void test_swarm_split_is_partition_split(void **state)
{
	uint32_t ms_, mk, s1, k1, s2, k2, kb, a, b, to, slot;
	struct rvm_nodeset move = {0}, all = {0};
	uint64_t before, got1, gotb;
	const struct rvm_witness_record *r = NULL;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor") || RVM_MAX_PARTITIONS < 5)
		skip();
	rvm_tw_boot(&tw, 1, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	a = rvm_tw_part(&tw);
	b = rvm_tw_part(&tw);
	/* Partition a: two sensor -> sink pairs; s1 also feeds kb in partition b (an edge). */
	s1 = rvm_tw_spawn(&tw, ms_, "s1", a, RVM_TW_ALL_RIGHTS, 1, 2);
	k1 = rvm_tw_spawn(&tw, mk, "k1", a, RVM_TW_ALL_RIGHTS, 0, 0);
	s2 = rvm_tw_spawn(&tw, ms_, "s2", a, RVM_TW_ALL_RIGHTS, 2, 1);
	k2 = rvm_tw_spawn(&tw, mk, "k2", a, RVM_TW_ALL_RIGHTS, 0, 0);
	kb = rvm_tw_spawn(&tw, mk, "kb", b, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s1, k1, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s1, kb, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s2, k2, NULL), RVM_OK);
	rvm_tw_slices(&tw, 60, 20000);
	/* Refused: every agent cannot leave (RVM_E_INVAL), witnessed, nothing moves. */
	for (uint32_t i = 0; i < 4; i++)
		rvm_nodeset_add(&all, (uint32_t[]){s1, k1, s2, k2}[i]);
	assert_int_equal(rvm_kernel_split(&tw.kern, a, &all, 0, &to), RVM_E_INVAL);
	assert_int_equal(rvm_kernel_split(&tw.kern, RVM_KPARTS, &all, 0, &to), RVM_E_INVAL);
	assert_int_equal(tw.world->parts.p[a].agents, 4);
	assert_int_equal(tw.world->splits, 0);
	before = tw.kern.witness.next_seq;
	got1 = tw.world->agents[k1].received;
	gotb = tw.world->agents[kb].received;
	rvm_nodeset_add(&move, s1);
	rvm_nodeset_add(&move, k1);
	assert_int_equal(rvm_kernel_split(&tw.kern, a, &move, 100, &to), RVM_OK);
	assert_int_equal(tw.world->splits, 1);
	rvm_tw_read_log(&tw);
	/* One partition.split, the kernel's: target the old partition, arg0 its slot, arg1 new. */
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_PARTITION_SPLIT, before), 1);
	for (size_t i = before; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_PARTITION_SPLIT)
			r = &tw.recs[i];
	assert_non_null(r);
	assert_true(r->target == tw.world->parts.p[a].id && r->arg0 == a && r->arg1 == to);
	assert_int_equal(r->flags, 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_PARTITION_CREATE, before), 1);
	/* s1's and k1's own caps and s1's send end of the edge to kb. */
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_CAP_MOVE, before), 3);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_EDGE_REPOINT, before), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_SPLIT_ABORT, before), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_GATE_DENIED, before), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_CAP_DENIED, before), 0);
	/* The agents followed their caps; the pair's channel stays local, the edge to kb was
	 * re-pointed (same edge object), and the new partition is queued. */
	assert_int_equal(tw.world->agents[s1].part, to);
	assert_int_equal(tw.world->agents[k1].part, to);
	assert_int_equal(tw.world->agents[s2].part, a);
	assert_int_equal(tw.world->parts.p[a].agents, 2);
	assert_int_equal(tw.world->parts.p[to].agents, 2);
	assert_int_equal(tw.world->coh.group[s1], to);
	assert_true(tw.world->sched.cpu_of[to] != RVM_SCHED_NONE);
	assert_int_equal(rvm_cap_check(&tw.world->gate, to, tw.world->agents[s1].cap, RVM_OBJ_AGENT,
				       tw.world->agents[s1].id, RVM_AGENT_RIGHT_SEND),
			 RVM_OK);
	for (uint32_t i = 0; i < tw.world->nchans; i++) {
		const struct rvm_chan *c = &tw.world->chans[i];

		if (c->src == s1 && c->dst == kb) {
			assert_true(c->edge.id != RVM_OBJ_NULL);
			assert_int_equal(c->edge_src, to);
			assert_int_equal(rvm_edge_find(&tw.world->ipc, c->edge.id)->src, to);
		}
		if (c->src == s1 && c->dst == k1)
			assert_true(c->edge.id == RVM_OBJ_NULL);
	}
	slot = to;
	rvm_tw_slices(&tw, 120, 20000);
	rvm_tw_check_channels(&tw);
	assert_true(tw.world->agents[k1].received > got1 && tw.world->agents[kb].received > gotb);
	assert_int_equal(tw.world->agents[s1].part, slot);
	rvm_tw_check_journal(&tw, RVM_JK_RECV);
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_CAP_DENIED, 0), 0);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* The epoch's own splits take the same path: two pairs that never talk to each other in one
 * partition come apart, through rvm_partition_split's records. */
static void test_epoch_split_is_partition_split(void **state)
{
	uint32_t ms_, mk, s1, k1, s2, k2, a;
	uint64_t before;
	const struct rvm_witness_record *r = NULL;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor") || !RVM_HAS_COHERENCE)
		skip();
	rvm_tw_boot(&tw, 1, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	a = rvm_tw_part(&tw);
	s1 = rvm_tw_spawn(&tw, ms_, "s1", a, RVM_TW_ALL_RIGHTS, 1, 1);
	k1 = rvm_tw_spawn(&tw, mk, "k1", a, RVM_TW_ALL_RIGHTS, 0, 0);
	s2 = rvm_tw_spawn(&tw, ms_, "s2", a, RVM_TW_ALL_RIGHTS, 2, 1);
	k2 = rvm_tw_spawn(&tw, mk, "k2", a, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s1, k1, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s2, k2, NULL), RVM_OK);
	before = tw.kern.witness.next_seq;
	rvm_tw_epochs(&tw, 40, 20, 20000, &tw.world->splits);
	assert_int_equal(tw.world->splits, 1);
	assert_int_equal(tw.world->agents[s1].part, tw.world->agents[k1].part);
	assert_int_equal(tw.world->agents[s2].part, tw.world->agents[k2].part);
	assert_true(tw.world->agents[s1].part != tw.world->agents[s2].part);
	rvm_tw_read_log(&tw);
	for (size_t i = before; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_PARTITION_SPLIT)
			r = &tw.recs[i];
	assert_non_null(r);
	/* The kernel's record (target the old partition, its slot, the new slot), after the
	 * create and the two agent caps' moves. */
	assert_true(r->target == tw.world->parts.p[a].id && r->arg0 == a);
	assert_true(r->arg1 == tw.world->agents[s1].part || r->arg1 == tw.world->agents[s2].part);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_CAP_MOVE, before), 2);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_SPLIT_ABORT, before), 0);
	rvm_tw_check_channels(&tw);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* A partition in flight between CPUs lands before it splits (a trust drop must not fail on
 * it: rvm_partition_split refuses a migrating partition). */
static void test_split_lands_migration(void **state)
{
	uint32_t ms_, mk, s, k, p;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor") || RVM_MAX_CPUS < 2)
		skip();
	rvm_tw_boot(&tw, 2, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	p = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", p, RVM_TW_ALL_RIGHTS, 1, 1);
	k = rvm_tw_spawn(&tw, mk, "k", p, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_OK);
	rvm_tw_slices(&tw, 20, 20000);
	assert_int_equal(rvm_migrate_begin(&tw.world->parts, &tw.world->sched, RVM_CAP_KERNEL_TABLE,
					   tw.world->pcap[p], 1u - tw.world->sched.cpu_of[p],
					   tw.plat.now_ns(tw.plat.ctx), &tw.world->mig),
			 RVM_OK);
	assert_true(tw.world->parts.p[p].migrating);
	assert_int_equal(rvm_kernel_set_trust(&tw.kern, s, 10), RVM_OK);
	assert_false(tw.world->mig.active);
	assert_false(tw.world->parts.p[p].migrating);
	assert_true(tw.world->agents[s].part != p && tw.world->agents[s].quarantined);
	assert_int_equal(tw.world->migrations, 1);
	rvm_tw_slices(&tw, 40, 20000);
	rvm_tw_check_channels(&tw);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* Trust below the floor: split off alone, spawning taken away, witnessed. */
static void test_trust_quarantine(void **state)
{
	uint32_t ms_, mk, s, k, p;
	int64_t before;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	p = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", p, RVM_TW_ALL_RIGHTS | RVM_AGENT_RIGHT_SPAWN, 1, 1);
	k = rvm_tw_spawn(&tw, mk, "k", p, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_OK);
	rvm_tw_slices(&tw, 20, 20000);
	assert_int_equal(rvm_kernel_set_trust(&tw.kern, s, 80), RVM_OK);
	assert_int_equal(tw.world->agents[s].part, p);
	assert_int_equal(rvm_kernel_set_trust(&tw.kern, s, 10), RVM_OK);
	assert_true(tw.world->agents[s].part != p && tw.world->agents[s].quarantined);
	assert_int_equal(tw.world->agents[s].rights & RVM_AGENT_RIGHT_SPAWN, 0);
	/* Its cap says so too (the split moved the old one; it was replaced). */
	assert_int_equal(rvm_cap_check(&tw.world->gate, tw.world->agents[s].part,
				       tw.world->agents[s].cap, RVM_OBJ_AGENT,
				       tw.world->agents[s].id, RVM_AGENT_RIGHT_SPAWN),
			 RVM_E_PERM);
	assert_int_equal(rvm_cap_check(&tw.world->gate, tw.world->agents[s].part,
				       tw.world->agents[s].cap, RVM_OBJ_AGENT,
				       tw.world->agents[s].id, RVM_AGENT_RIGHT_SEND),
			 RVM_OK);
	assert_int_equal(tw.world->parts.p[tw.world->agents[s].part].agents, 1);
	assert_int_equal(tw.world->coh.group[s], RVM_COH_NO_GROUP);
	before = (int64_t)tw.world->agents[k].received;
	rvm_tw_slices(&tw, 40, 20000);
	assert_true((int64_t)tw.world->agents[k].received > before);
	rvm_tw_check_channels(&tw);
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_PARTITION_SPLIT, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_SPLIT_ABORT, 0), 0);
	/* The kernel's split: its record names the old partition and both slots. */
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_PARTITION_SPLIT)
			assert_true(tw.recs[i].target == tw.world->parts.p[p].id &&
				    tw.recs[i].arg0 == p &&
				    tw.recs[i].arg1 == tw.world->agents[s].part);
	assert_int_equal(rvm_kernel_set_trust(&tw.kern, 200, 10), RVM_E_INVAL);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* rvm.spawn: a hub starts its clients from a template and answers each of them. */
static void test_spawn_hub(void **state)
{
	uint32_t mh, h;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 2, 4);
	mh = rvm_tw_load(&tw, "hub", 0);
	(void)rvm_tw_load(&tw, "client", RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV);
	h = rvm_tw_spawn(&tw, mh, "hub", rvm_tw_part(&tw),
			 RVM_TW_ALL_RIGHTS | RVM_AGENT_RIGHT_SPAWN, 3, 0);
	rvm_tw_slices(&tw, 300, 20000);
	assert_int_equal(tw.world->nagents, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(tw.world->agents[i].traps, 0);
		assert_true(tw.world->agents[i].received > 10);
	}
	assert_int_equal(tw.world->agents[h].nout, 3);
	rvm_tw_check_channels(&tw);
	assert_int_equal(rvm_tw_check_journal(&tw, RVM_JK_SPAWN), 3);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_measured_and_witnessed),
		cmocka_unit_test(test_boot_phase_failures),
		cmocka_unit_test(test_pipeline_messages_journaled),
		cmocka_unit_test(test_epochs_merge),
		cmocka_unit_test(test_placement_hysteresis),
		cmocka_unit_test(test_merge_rebind_no_denials),
		cmocka_unit_test(test_trap_recovery),
		cmocka_unit_test(test_rogue_agents),
		cmocka_unit_test(test_trust_quarantine),
		cmocka_unit_test(test_swarm_split_is_partition_split),
		cmocka_unit_test(test_epoch_split_is_partition_split),
		cmocka_unit_test(test_split_lands_migration),
		cmocka_unit_test(test_spawn_hub),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_tw_free(&tw);
	return rc;
}
