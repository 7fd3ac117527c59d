/* tests/unit/test_kernel_recover.c - the swarm kernel's checkpoints and DC-14 recovery: snapshot
 * blobs, F1-F3 re-running agents against their input tapes (nothing lost, nothing sent twice,
 * F3 skipping the faulting message), tape overflow, escalation, checkpoint cadence. */
#include "kernel_world.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>

static struct rvm_tw tw;

/* ---- snapshot blobs ---- */

static void test_snapblob(void **state)
{
	static struct rvm_lz4_work work;
	size_t n = 200000, len = 0, cap = rvm_snapblob_bound(n);
	uint8_t *raw = malloc(n), *back = malloc(n), *blob = malloc(cap);
	struct rvm_snapblob_info info;

	(void)state;
	/* Mostly zero, some structure, some noise: like an agent's memory. */
	memset(raw, 0, n);
	for (size_t i = 0; i < n; i += 7)
		raw[i] = (uint8_t)(i * 2654435761u >> 13);
	assert_int_equal(
		rvm_snapblob_encode(&work, NULL, raw, n, RVM_SNAPBLOB_YIELDED, 5, blob, cap, &len),
		RVM_OK);
	assert_true(len < n);
	assert_int_equal(rvm_snapblob_decode(NULL, blob, len, back, n, &info), RVM_OK);
	assert_memory_equal(raw, back, n);
	assert_true(info.raw_len == n && info.flags == RVM_SNAPBLOB_YIELDED && info.last_edge == 5);
	/* Too small an output, too small a target. */
	assert_int_equal(rvm_snapblob_encode(&work, NULL, raw, n, 0, 0, blob, 100, &len),
			 RVM_E_NOMEM);
	assert_int_equal(rvm_snapblob_encode(&work, NULL, raw, n, 0, 0, blob, cap, &len), RVM_OK);
	assert_int_equal(rvm_snapblob_decode(NULL, blob, len, back, n - 1, &info), RVM_E_NOMEM);
	/* Every cut is refused without reading past it. */
	for (size_t cut = 0; cut < len; cut += 97)
		assert_true(rvm_snapblob_decode(NULL, blob, cut, back, n, &info) != RVM_OK);
	/* A flipped bit anywhere is caught (header fields, a block, or the digest). */
	for (size_t at = 8; at < len; at += len / 50 + 1) {
		blob[at] ^= 0x10;
		assert_true(rvm_snapblob_decode(NULL, blob, len, back, n, &info) != RVM_OK);
		blob[at] ^= 0x10;
	}
	blob[0] ^= 1;
	assert_int_equal(rvm_snapblob_decode(NULL, blob, len, back, n, &info), RVM_E_FORMAT);
	blob[0] ^= 1;
	assert_int_equal(rvm_snapblob_decode(NULL, blob, len, back, n, &info), RVM_OK);
	free(raw);
	free(back);
	free(blob);
}

/* ---- the swarm with recovery attached ---- */

/* Recovery with a checkpoint of each partition every 4 epochs; `repeat` faults escalate. */
static void attach(uint32_t repeat)
{
	struct rvm_kernel_recovery_config c = {.every = 4, .per_epoch = 2, .repeat = repeat};

	rvm_tw_recovery(&tw, &c);
	assert_int_equal(rvm_kernel_recovery_attach(NULL, tw.rec, &c, tw.ckbuf, 8u << 20, tw.rawbuf,
						    1u << 20, tw.blobbuf, 4u << 20),
			 RVM_E_INVAL);
}

/* Slices on CPU 0 with little fuel until agent a has received `want` messages. */
static void run_until_received(uint32_t a, uint64_t want)
{
	assert_true(rvm_tw_run_until(&tw, &tw.world->agents[a].received, want, 100000, 300));
}

/* Slices until agent a has trapped `n` times; returns what it had received at that trap. */
static uint64_t run_until_trap(uint32_t a, uint64_t n)
{
	rvm_tw_run_until(&tw, &tw.world->agents[a].traps, n, 100000, 300);
	assert_int_equal(tw.world->agents[a].traps, n);
	return tw.world->agents[a].received;
}
/* ---- replay against the input tapes ---- */

/* The number of journal entry `idx` of the batch (or single entry) bound at seq. */
static bool journal_entry_at(uint64_t seq, uint32_t idx, struct rvm_journal_entry *out)
{
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER;
	uint32_t n = 0;

	while (rvm_journal_next(tw.ms.buf[RVM_SINK_JOURNAL], tw.ms.len[RVM_SINK_JOURNAL], &off,
				&e) == RVM_OK)
		if (e.seq == seq && n++ == idx) {
			*out = e;
			return true;
		}
	return false;
}

/*
 * The sensor sequence numbers (msg[1]) of the messages agent `agent` consumed live, in order,
 * from its RECV journal entries: the ones a replay journaled again (every entry of a life up
 * to the DIGEST that a recovery.replay record follows) are left out. *replayed counts them.
 */
static size_t live_seqs(uint32_t agent, int32_t *out, size_t max, size_t *replayed)
{
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER, n = 0, life = 0;

	*replayed = 0;
	while (rvm_journal_next(tw.ms.buf[RVM_SINK_JOURNAL], tw.ms.len[RVM_SINK_JOURNAL], &off,
				&e) == RVM_OK) {
		const struct rvm_witness_record *next = rvm_tw_rec(&tw, e.seq + 1);

		if (e.agent != agent)
			continue;
		if (e.kind == RVM_JK_START || e.kind == RVM_JK_RESUME)
			life = n;
		if (e.kind == RVM_JK_DIGEST && next && next->action == RVM_ACT_RECOVER_REPLAY &&
		    next->target == agent) {
			*replayed += n - life;
			n = life; /* what this life consumed so far was its replay */
		}
		if (e.kind == RVM_JK_RECV && e.aux != RVM_JOURNAL_NO_EDGE && e.len >= 12 && n < max)
			out[n++] = (int32_t)rvm_load_le32(e.payload + RVM_JOURNAL_RECV_PREFIX + 4);
	}
	return n;
}

/* Sequence numbers 0..n-1 in order, except `missing` (-1: none). */
static void assert_consecutive(const int32_t *seqs, size_t n, int32_t missing)
{
	int32_t want = 0;

	for (size_t i = 0; i < n; i++, want++) {
		if (want == missing)
			want++;
		if (seqs[i] != want)
			fail_msg("message %zu has seq %d, expected %d", i, seqs[i], want);
	}
}

static size_t count_flagged(uint16_t action, uint16_t flags)
{
	size_t n = 0;

	for (size_t i = 0; i < tw.nrecs; i++)
		n += tw.recs[i].action == action && tw.recs[i].flags == flags;
	return n;
}

/* Stops the source, drains the pipeline, checks every channel: nothing lost or queued. */
static void drain(uint32_t src)
{
	tw.world->agents[src].state = RVM_AGENT_STOPPED;
	for (int i = 0; i < 2000; i++)
		rvm_tw_slices(&tw, 1, 2000);
	rvm_tw_check_channels(&tw);
	for (uint32_t i = 0; i < tw.world->nchans; i++)
		assert_int_equal(tw.world->chans[i].head, tw.world->chans[i].tail);
}

/*
 * A pipeline s -> f -> k in one partition: the sensor numbers its readings, the filter forwards
 * them, the sink takes them. Checkpointed once, then it runs on until f has received `after`
 * more messages. *ch gets the s -> f channel.
 */
static uint32_t pipeline(uint32_t repeat, uint64_t after, uint32_t *s, uint32_t *f, uint32_t *k,
			 uint32_t *ch)
{
	uint32_t p, r0;
	struct rvm_ckpt_info info;

	rvm_tw_boot(&tw, 1, 4);
	attach(repeat);
	p = rvm_tw_part(&tw);
	*s = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "sensor", 0), "s", p, RVM_TW_ALL_RIGHTS, 1, 1);
	*f = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "filter", 0), "f", p, RVM_TW_ALL_RIGHTS, 1, 0);
	*k = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "sink", 0), "k", p, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, *s, *f, ch), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&tw.kern, *f, *k, NULL), RVM_OK);
	run_until_received(*f, 10);
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, p, &info), RVM_OK);
	assert_true(info.agents == 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(tw.rec->tape[i].base == info.id && tw.rec->tape[i].used == 0);
	r0 = (uint32_t)tw.world->agents[*f].received;
	run_until_received(*f, r0 + after);
	return p;
}

/*
 * F1 and F2 re-run agents against their tapes. The filter received 40+ messages after its
 * snapshot; a transient fault (injected: its next receive traps) takes F1: restored from the
 * snapshot, re-run, it goes live at the call that trapped with every message it had. The next
 * fault starts at F2 (repeat 1): the whole partition is rebuilt from the checkpoint and the
 * tapes, each agent to exactly its live state (the DIGEST written before the rollback equals
 * the one after the replay). Nothing is lost or duplicated: the sink received every reading
 * once, in order, and the sensor's replayed sends were suppressed.
 */
static void test_f1_f2_replay_exactly_once(void **state)
{
	uint32_t s, f, k, ch, p;
	uint64_t before;
	static int32_t seqs[200000];
	size_t n, replayed;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	p = pipeline(1, 40, &s, &f, &k, &ch);
	assert_true(tw.rec->tape[f].msgs >= 40);
	assert_int_equal(rvm_kernel_inject_fault(&tw.kern, f), RVM_OK);
	run_until_trap(f, 1);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(tw.rec->replays, 1);
	assert_true(tw.rec->msgs_replayed >= 40);
	assert_int_equal(tw.rec->rollbacks, 0);
	before = tw.world->agents[f].received;
	run_until_received(f, before + 30);
	/* The second fault within the window: F2, every agent of p rebuilt. */
	assert_int_equal(rvm_kernel_inject_fault(&tw.kern, f), RVM_OK);
	run_until_trap(f, 2);
	assert_int_equal(tw.rec->rollbacks, 1);
	assert_int_equal(tw.rec->replays, 4);
	assert_int_equal(tw.rec->replay_failed, 0);
	assert_int_equal(tw.rec->skipped, 0);
	run_until_received(f, tw.world->agents[f].received + 30);
	drain(s);
	assert_int_equal(tw.world->agents[s].sent, tw.world->agents[f].received);
	assert_int_equal(tw.world->agents[f].sent, tw.world->agents[k].received);
	assert_int_equal(rvm_tw_check_journal(&tw, RVM_JK_RESUME), 4);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F1, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F2, 0), 1);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, 0), 4);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_SKIP, 0), 0);
	/* Each agent the rollback rebuilt is back where it was: its DIGEST before (the life
	 * that ended) and after the replay (the life that goes on) hold the same memory. */
	for (size_t i = 0; i < tw.nrecs; i++) {
		const struct rvm_witness_record *r = &tw.recs[i];
		struct rvm_journal_entry d;

		if (r->action != RVM_ACT_RECOVER_REPLAY)
			continue;
		assert_true(journal_entry_at(r->seq - 1, 0, &d) && d.kind == RVM_JK_DIGEST &&
			    d.agent == r->target);
		assert_true(r->arg0 != 0); /* from the checkpoint's snapshot */
		if (r->target != f) {
			struct rvm_journal_entry last = {0}, e;
			size_t off = RVM_JOURNAL_HEADER;

			/* the member's last DIGEST before its RESUME: the state it had */
			while (rvm_journal_next(tw.ms.buf[RVM_SINK_JOURNAL],
						tw.ms.len[RVM_SINK_JOURNAL], &off, &e) == RVM_OK &&
			       e.seq < d.seq)
				if (e.agent == r->target && e.kind == RVM_JK_DIGEST)
					last = e;
				else if (e.agent == r->target && e.kind == RVM_JK_RESUME)
					break;
			assert_int_equal(last.kind, RVM_JK_DIGEST);
			assert_memory_equal(last.payload + 8, d.payload + 8, 32);
		}
	}
	/* Exactly once, in order, at every hop. */
	n = live_seqs(f, seqs, sizeof(seqs) / sizeof(seqs[0]), &replayed);
	assert_int_equal(n, tw.world->agents[f].received);
	assert_true(replayed >= 70);
	assert_consecutive(seqs, n, -1);
	n = live_seqs(k, seqs, sizeof(seqs) / sizeof(seqs[0]), &replayed);
	assert_int_equal(n, tw.world->agents[k].received);
	assert_consecutive(seqs, n, -1);
	assert_int_equal(tw.world->parts.p[p].agents, 3);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * F3 skips the input that caused the fault, and only it. A reading in the sensor's ring is
 * cut to 12 bytes: the filter traps on it (malformed input). Replay brings the trap back
 * (F1 fails, F2 fails: deterministic), so F3 rebuilds the filter up to that message and drops
 * it: recovery.skip names its journal entry. The filter then takes the next reading; the
 * sink gets every reading but that one, once each.
 */
static void test_f3_skips_the_faulting_message(void **state)
{
	uint32_t s, f, k, ch;
	struct rvm_chan *c;
	struct rvm_journal_entry e;
	const struct rvm_witness_record *skip = NULL, *fault = NULL;
	static int32_t seqs[200000];
	int32_t poisoned;
	size_t n, replayed;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	pipeline(3, 25, &s, &f, &k, &ch);
	c = &tw.world->chans[ch];
	while (c->head == c->tail)
		rvm_tw_slices(&tw, 1, 300);
	c->len[(c->head - 1) & (RVM_CHAN_RING - 1)] = 12;
	poisoned = (int32_t)rvm_load_le32(c->data[(c->head - 1) & (RVM_CHAN_RING - 1)] + 4);
	run_until_trap(f, 1);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(tw.rec->skipped, 1);
	assert_int_equal(tw.rec->rollbacks, 1); /* F2 failed on the filter, F3 went through */
	run_until_received(f, tw.world->agents[f].received + 40);
	drain(s);
	assert_int_equal(tw.world->agents[f].traps, 1);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F1, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F2, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F3, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F4, 0), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_SKIP, 0), 1);
	for (size_t i = 0; i < tw.nrecs; i++) {
		if (tw.recs[i].action == RVM_ACT_RECOVER_SKIP)
			skip = &tw.recs[i];
		if (tw.recs[i].action == RVM_ACT_FAULT)
			fault = &tw.recs[i];
		/* F1's replay of the filter came back to the trap and is refused (E_TRAP);
		 * F2 and F3 know the trap is deterministic and do not re-run it to the trap. */
		if (tw.recs[i].action == RVM_ACT_RECOVER_REPLAY && tw.recs[i].flags)
			assert_true(tw.recs[i].target == f && tw.recs[i].arg1 == RVM_E_TRAP);
	}
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 1);
	/* The sensor and the sink were rebuilt twice (F2, F3), the filter once, with the skip. */
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, 0), 5);
	/* The fault names the record that bound the message, the skip names the entry. */
	assert_non_null(skip);
	assert_true(skip->target == f && fault->arg1 == skip->arg0);
	assert_true(journal_entry_at(skip->arg0, (uint32_t)(skip->arg1 & 0xff), &e));
	assert_true(e.agent == f && e.kind == RVM_JK_RECV && e.len == RVM_JOURNAL_RECV_PREFIX + 12);
	assert_int_equal((skip->arg1 >> 32), e.len);
	assert_int_equal((int32_t)rvm_load_le32(e.payload + RVM_JOURNAL_RECV_PREFIX + 4), poisoned);
	/* The filter consumed every reading once; the sink got all of them but the bad one. */
	n = live_seqs(f, seqs, sizeof(seqs) / sizeof(seqs[0]), &replayed);
	assert_consecutive(seqs, n, -1);
	assert_true(n == tw.world->agents[f].received && n > (size_t)poisoned);
	n = live_seqs(k, seqs, sizeof(seqs) / sizeof(seqs[0]), &replayed);
	assert_consecutive(seqs, n, poisoned);
	assert_int_equal(n, tw.world->agents[k].received);
	assert_int_equal(n + 1, tw.world->agents[f].received);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * A deterministic trap that is in the agent itself, not in one input: flaky divides by zero
 * at its 5th message and at every one after. Each fault climbs to F3, which drops the message
 * it trapped on (one per fault, each named); after 8 restarts the agent is stopped. The
 * sensor in the other partition is never touched.
 */
static void test_deterministic_trap_skips_one_per_fault(void **state)
{
	uint32_t ms_, mf, s, f, ps, pf;
	struct rvm_ckpt_info info;
	uint64_t sensor_sent;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	attach(3);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mf = rvm_tw_load(&tw, "flaky", 0);
	ps = rvm_tw_part(&tw);
	pf = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", ps, RVM_TW_ALL_RIGHTS, 1, 1);
	f = rvm_tw_spawn(&tw, mf, "f", pf, RVM_TW_ALL_RIGHTS, 0, 5);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, f, NULL), RVM_OK);
	/* No checkpoint of a partition without ready agents; a bad slot is refused. */
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, 0, NULL), RVM_E_INVAL);
	run_until_received(f, 2);
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, pf, &info), RVM_OK);
	assert_true(info.agents == 1 && info.caps >= 1 && info.edges == 1);
	sensor_sent = tw.world->agents[s].sent;
	assert_int_equal(run_until_trap(f, 1), 5);
	assert_int_equal(tw.rec->skipped, 1);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_READY);
	/* Every later message traps at once (the counter stays at 5): one skip each. */
	assert_int_equal(run_until_trap(f, 2), 6);
	assert_int_equal(tw.rec->skipped, 2);
	for (int i = 0; i < 200 && tw.world->agents[f].state == RVM_AGENT_READY; i++)
		rvm_tw_slices(&tw, 20, 300);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_STOPPED);
	assert_int_equal(tw.world->agents[f].restarts, RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(tw.rec->skipped, RVM_AGENT_MAX_RESTARTS);
	assert_true(tw.world->agents[s].sent > sensor_sent); /* the other partition runs on */
	rvm_tw_check_channels(&tw);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_FAULT, 0), RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_SKIP, 0), RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F4, 0), 0);
	for (size_t i = 0; i < tw.nrecs; i++) {
		const struct rvm_witness_record *r = &tw.recs[i];

		/* Every step names the partition, the fault kind and the agent. */
		if (r->action >= RVM_ACT_FAULT && r->action <= RVM_ACT_RECOVER_F4)
			assert_true(r->target == pf &&
				    r->arg0 == (RVM_FAULT_AGENT_TRAP | (uint64_t)f << 32));
		/* Nothing recovery did touched the sensor's partition. */
		if (r->action == RVM_ACT_STATE_RESTORE || r->action == RVM_ACT_STATE_CHECKPOINT)
			assert_int_equal(r->target, pf);
		if (r->action == RVM_ACT_RECOVER_REPLAY || r->action == RVM_ACT_RECOVER_SKIP)
			assert_int_equal(r->target, f);
	}
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * Without any checkpoint the tapes start at the agents' START: F1 rebuilds flaky from its
 * module and its tape (the trap comes back), F2 and F3 rebuild the partition the same way with
 * nothing to restore (no recovery.restore), and F3 drops the message it trapped on. A fresh
 * checkpoint follows the rollback.
 */
static void test_no_checkpoint_rebuilds_from_module(void **state)
{
	uint32_t ms_, mf, s, f;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	attach(3);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mf = rvm_tw_load(&tw, "flaky", 0);
	s = rvm_tw_spawn(&tw, ms_, "s", rvm_tw_part(&tw), RVM_TW_ALL_RIGHTS, 1, 1);
	f = rvm_tw_spawn(&tw, mf, "f", rvm_tw_part(&tw), RVM_TW_ALL_RIGHTS, 0, 3);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, f, NULL), RVM_OK);
	assert_int_equal(run_until_trap(f, 1), 3);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(tw.rec->skipped, 1);
	assert_true(tw.rec->from_module >= 2);
	assert_int_equal(tw.rec->from_snapshot, 0);
	assert_int_equal(tw.world->recoveries, 1);
	rvm_tw_check_journal(&tw, RVM_JK_START);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F3, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F4, 0), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_STATE_RESTORE, 0), 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_STATE_CHECKPOINT, 0), 1);
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_RECOVER_REPLAY)
			assert_int_equal(tw.recs[i].arg0, 0); /* from the module */
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* A deterministic trap with no input to blame (rogue mode 1 logs from outside its memory at
 * once): F1 and F2 bring it back, F3 has no message to drop, F4 stops the agent (the swarm
 * never reboots under the others). */
static void test_nothing_to_blame_stops(void **state)
{
	uint32_t r;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	attach(3);
	r = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "rogue", 0), "r", rvm_tw_part(&tw),
			 RVM_TW_ALL_RIGHTS, 1, 0);
	run_until_trap(r, 1);
	assert_int_equal(tw.world->agents[r].state, RVM_AGENT_STOPPED);
	assert_int_equal(tw.rec->stopped, 1);
	assert_int_equal(tw.rec->skipped, 0);
	assert_int_equal(tw.world->recoveries, 0);
	rvm_tw_check_journal(&tw, RVM_JK_START);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F2, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F3, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_F4, 0), 1);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_RECOVER_SKIP, 0), 0);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 1);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * Agents that poll, yield and send into full rings (the soak's chatty mesh): injected faults
 * land anywhere, also right after a yield's retry; every F1 re-run reaches the live state
 * (none diverges, none is stopped) and the channels still add up.
 */
static void test_chatty_faults_replay(void **state)
{
	uint32_t mc, p, ag[4], yielded = 0;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	attach(100);
	mc = rvm_tw_load(&tw, "chatty", 0);
	p = rvm_tw_part(&tw);
	for (uint32_t i = 0; i < 4; i++) {
		int64_t args[4] = {i, 2, 4, 50};

		ag[i] = rvm_tw_spawn_args(&tw, mc, "c", p, RVM_TW_ALL_RIGHTS, args);
	}
	rvm_tw_mesh(&tw, ag, 4);
	rvm_tw_slices(&tw, 40, 700);
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, p, NULL), RVM_OK);
	for (uint32_t f = 0; f < 24; f++) {
		uint32_t v = ag[f % 4];
		uint64_t traps = tw.world->agents[v].traps;

		rvm_tw_slices(&tw, 7 + f % 5, 300 + 37 * f);
		/* Half of them while it sits in yield (the others held, their rings fill up): the
		 * fault then strikes right after the yield's retry, with no fuel charged since. */
		for (uint32_t i = 0; i < 4 && f % 2; i++)
			if (ag[i] != v)
				tw.world->agents[ag[i]].state = RVM_AGENT_STOPPED;
		for (int i = 0; i < 2000 && f % 2 && !tw.world->agents[v].yielded; i++)
			rvm_tw_slices(&tw, 1, 50 + i % 200);
		for (uint32_t i = 0; i < 4 && f % 2; i++) {
			yielded += ag[i] == v && tw.world->agents[v].yielded;
			tw.world->agents[ag[i]].state = RVM_AGENT_READY;
		}
		if (rvm_kernel_inject_fault(&tw.kern, v) != RVM_OK)
			continue;
		rvm_tw_run_until(&tw, &tw.world->agents[v].traps, traps + 1, 1000, 300);
		assert_int_equal(tw.world->agents[v].traps, traps + 1);
	}
	assert_true(yielded >= 6);
	assert_int_equal(tw.rec->replay_failed, 0);
	assert_int_equal(tw.rec->stopped, 0);
	assert_true(tw.rec->replays >= 24);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(tw.world->agents[ag[i]].state, RVM_AGENT_READY);
	rvm_tw_check_channels(&tw);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 0);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * A tape never overflows silently. Past 3/4 full it asks for a checkpoint of its partition,
 * taken when the slice ends, which starts a new tape. When no checkpoint can be taken (the
 * store refuses), the tape is given up, witnessed (recovery.tape_lost, the store's error);
 * a fault then rebuilds the agent from its snapshot without re-running what it had consumed
 * (a DENIED recovery.replay says so), and its tape starts again, replayable.
 */
static void test_tape_overflow(void **state)
{
	uint32_t s, k, p;
	struct rvm_ckpt_info info;
	uint64_t base;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	attach(3);
	tw.rec->cfg.every = 1000000; /* no cadence: only the tapes ask for checkpoints */
	p = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "sensor", 0), "s", p, RVM_TW_ALL_RIGHTS, 1, 1);
	k = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "sink", 0), "k", p, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, p, &info), RVM_OK);
	rvm_tw_run_until(&tw, &tw.rec->forced, 1, 200000, 3000);
	assert_int_equal(tw.rec->forced, 1);
	rvm_tw_slices(&tw, 1, 3000);
	/* Taken at the end of the slice that crossed the mark: the tape starts again. */
	assert_int_equal(tw.rec->checkpoints, 2);
	assert_true(tw.rec->tape[k].base != info.id && tw.rec->tape[k].used < RVM_TAPE_HIGH);
	assert_int_equal(tw.rec->tapes_lost, 0);
	/* Now the store refuses: the next full tape is given up, on record. */
	tw.ms.store_fail = true;
	rvm_tw_run_until(&tw, &tw.rec->tapes_lost, 1, 200000, 3000);
	tw.ms.store_fail = false;
	assert_int_equal(tw.rec->tapes_lost, 1);
	assert_int_equal(tw.rec->tape[k].state, RVM_TAPE_LOST);
	assert_true(tw.rec->ckpt_failed >= 1);
	base = tw.rec->tape[k].base;
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_TAPE_LOST, 0), 1);
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_TAPE_LOST)
			assert_true(tw.recs[i].target == k && tw.recs[i].arg0 == base &&
				    tw.recs[i].arg1 == RVM_E_IO);
	/* Its next fault: back to its snapshot alone, said so; the tape is replayable again. */
	assert_int_equal(rvm_kernel_inject_fault(&tw.kern, k), RVM_OK);
	run_until_trap(k, 1);
	assert_int_equal(tw.rec->fallbacks, 1);
	assert_int_equal(tw.world->agents[k].state, RVM_AGENT_READY);
	assert_int_equal(tw.rec->tape[k].state, RVM_TAPE_OK);
	run_until_received(k, tw.world->agents[k].received + 20);
	rvm_tw_check_channels(&tw);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 1);
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_RECOVER_REPLAY)
			assert_true(tw.recs[i].target == k && tw.recs[i].arg0 == base &&
				    tw.recs[i].arg1 == RVM_E_FULL);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/* The cadence: every partition with agents, each at most every `every` epochs; a busy one is
 * held (none of its agents starts) and checkpointed when the running slice ends. */
static void test_checkpoint_cadence(void **state)
{
	uint32_t ms_, mk, s, k, p1, p2;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	rvm_tw_boot(&tw, 1, 4);
	attach(3);
	ms_ = rvm_tw_load(&tw, "sensor", 0);
	mk = rvm_tw_load(&tw, "sink", 0);
	p1 = rvm_tw_part(&tw);
	p2 = rvm_tw_part(&tw);
	s = rvm_tw_spawn(&tw, ms_, "s", p1, RVM_TW_ALL_RIGHTS, 1, 1);
	k = rvm_tw_spawn(&tw, mk, "k", p2, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, s, k, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_checkpoint_tick(&tw.kern), 2);
	assert_int_equal(rvm_kernel_checkpoint_tick(&tw.kern), 0); /* not due yet */
	/* Epochs counted by hand: a real epoch would merge these two chatty partitions. */
	for (int e = 0; e < 8; e++) {
		rvm_tw_slices(&tw, 20, 2000);
		tw.world->epochs++;
		(void)rvm_kernel_checkpoint_tick(&tw.kern);
	}
	/* 8 epochs at every = 4: two more rounds. */
	assert_int_equal(tw.rec->checkpoints, 6);
	/* A running agent holds its partition's checkpoint until its slice ends. */
	tw.world->agents[s].running = true;
	tw.rec->last[p1] = 0;
	tw.rec->last[p2] = tw.world->epochs + 1;
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, p1, NULL), RVM_E_BUSY);
	assert_int_equal(rvm_kernel_checkpoint_tick(&tw.kern), 0);
	assert_int_equal(tw.rec->pending[p1], 1);
	tw.world->agents[s].running = false;
	rvm_tw_slices(&tw, 1,
		      2000); /* p1 is held: the sink's slice ends and takes nothing of p1's */
	assert_int_equal(tw.rec->pending[p1], 1);
	assert_int_equal(rvm_kernel_checkpoint_tick(&tw.kern), 1);
	assert_int_equal(tw.rec->pending[p1], 0);
	assert_int_equal(tw.rec->checkpoints, 7);
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_STATE_CHECKPOINT, 0), 7);
	/* Each checkpoint is preceded by its partition's live digest. */
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_STATE_DIGEST, 0), 7);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapblob),
		cmocka_unit_test(test_f1_f2_replay_exactly_once),
		cmocka_unit_test(test_f3_skips_the_faulting_message),
		cmocka_unit_test(test_deterministic_trap_skips_one_per_fault),
		cmocka_unit_test(test_no_checkpoint_rebuilds_from_module),
		cmocka_unit_test(test_nothing_to_blame_stops),
		cmocka_unit_test(test_chatty_faults_replay),
		cmocka_unit_test(test_tape_overflow),
		cmocka_unit_test(test_checkpoint_cadence),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_tw_free(&tw);
	return rc;
}
