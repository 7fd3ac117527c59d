/* tests/unit/test_rollback_ckpt.c - the checkpoint a swarm rollback (F2/F3) takes afterwards goes
 * through the platform's asynchronous store: a restore base only once durable, a failed write
 * witnessed with the older base kept, an F3-skipped agent's tape given up unless it is durable. */
#include "kernel_world.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>

static struct rvm_tw tw;

/* ---- an asynchronous store the test drives: puts queue up, a report writes one ---- */

#define QMAX 16u

/*
 * Queued puts (copies) in put order. While hold is set a report that does not wait finds
 * nothing finished (a disk that stalls); fail is what the next writes report instead of
 * writing (RVM_OK: they write into the world's store through its synchronous put).
 */
static struct {
	enum rvm_err (*put)(void *ctx, uint64_t id, const void *buf, size_t n);
	uint64_t id[QMAX];
	uint8_t *buf[QMAX];
	size_t n[QMAX];
	uint32_t nq;
	bool hold;
	enum rvm_err fail;
	uint32_t async_puts, sync_ckpt_puts;
} st;

static bool is_ckpt(uint64_t id)
{
	return id >> 56 == 0x43;
}

static enum rvm_err sync_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	st.sync_ckpt_puts += is_ckpt(id);
	return st.put(ctx, id, buf, n);
}

static enum rvm_err put_async(void *ctx, uint64_t id, const void *buf, size_t n)
{
	(void)ctx;
	if (st.nq == QMAX)
		return RVM_E_BUSY;
	st.buf[st.nq] = malloc(n ? n : 1);
	assert_non_null(st.buf[st.nq]);
	memcpy(st.buf[st.nq], buf, n);
	st.id[st.nq] = id;
	st.n[st.nq++] = n;
	st.async_puts++;
	return RVM_OK;
}

static enum rvm_err done(void *ctx, bool wait, uint64_t *id, enum rvm_err *result)
{
	if (!st.nq || (st.hold && !wait))
		return RVM_E_NOTFOUND;
	*id = st.id[0];
	*result = st.fail != RVM_OK ? st.fail : st.put(ctx, st.id[0], st.buf[0], st.n[0]);
	free(st.buf[0]);
	st.nq--;
	memmove(st.id, st.id + 1, st.nq * sizeof(st.id[0]));
	memmove(st.buf, st.buf + 1, st.nq * sizeof(st.buf[0]));
	memmove(st.n, st.n + 1, st.nq * sizeof(st.n[0]));
	return RVM_OK;
}

/* Is checkpoint id in the world's store (written)? */
static bool stored(uint64_t id)
{
	for (uint32_t i = 0; i < tw.ms.nobj; i++)
		if (tw.ms.id[i] == id)
			return true;
	return false;
}

/* ---- the swarm ---- */

/*
 * A pipeline s -> f -> k in one partition on one CPU, recovery attached (repeat 1: each fault
 * of the filter starts a class higher than the one before) over the test's asynchronous store,
 * checkpointed once, durable: that is the base. Runs on until f received `after` more.
 */
static uint32_t pipeline(uint64_t after, uint32_t *s, uint32_t *f, uint32_t *k, uint32_t *ch,
			 uint64_t *base)
{
	struct rvm_kernel_recovery_config c = {.every = 1000000, .repeat = 1};
	struct rvm_ckpt_info info;
	uint32_t p;

	for (uint32_t i = 0; i < st.nq; i++)
		free(st.buf[i]);
	memset(&st, 0, sizeof(st));
	rvm_tw_boot(&tw, 1, 4);
	st.put = tw.plat.checkpoint_put;
	tw.plat.checkpoint_put = sync_put;
	tw.plat.checkpoint_put_async = put_async;
	tw.plat.checkpoint_done = done;
	rvm_tw_recovery(&tw, &c);
	p = rvm_tw_part(&tw);
	*s = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "sensor", 0), "s", p, RVM_TW_ALL_RIGHTS, 1, 1);
	*f = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "filter", 0), "f", p, RVM_TW_ALL_RIGHTS, 1, 0);
	*k = rvm_tw_spawn(&tw, rvm_tw_load(&tw, "sink", 0), "k", p, RVM_TW_ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&tw.kern, *s, *f, ch), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&tw.kern, *f, *k, NULL), RVM_OK);
	assert_true(rvm_tw_run_until(&tw, &tw.world->agents[*f].received, 10, 100000, 300));
	assert_int_equal(rvm_kernel_checkpoint(&tw.kern, p, &info), RVM_OK);
	assert_int_equal(st.async_puts, 1);
	assert_int_equal(rvm_kernel_checkpoint_settle(&tw.kern, true), 1);
	assert_int_equal(tw.rec->rec.part[p].nckpt, 1);
	*base = info.id;
	assert_true(rvm_tw_run_until(&tw, &tw.world->agents[*f].received,
				     tw.world->agents[*f].received + after, 100000, 300));
	return p;
}

/* Runs slices until the store's report about p's checkpoint has been taken in. */
static void run_to_settled(uint32_t p)
{
	for (int i = 0; i < 10000 && tw.rec->inflight[p]; i++)
		rvm_tw_slices(&tw, 1, 300);
	assert_int_equal(tw.rec->inflight[p], 0);
}

/* Injects a fault into agent a and runs until it trapped; recovery took it back. */
static void fault(uint32_t a)
{
	uint64_t traps = tw.world->agents[a].traps;

	assert_int_equal(rvm_kernel_inject_fault(&tw.kern, a), RVM_OK);
	rvm_tw_run_until(&tw, &tw.world->agents[a].traps, traps + 1, 100000, 300);
	assert_int_equal(tw.world->agents[a].traps, traps + 1);
	assert_int_equal(tw.world->agents[a].state, RVM_AGENT_READY);
}

/* The arg0 of the last record of action targeting t (0: none). */
static uint64_t last_arg0(uint16_t action, uint64_t t)
{
	uint64_t v = 0;

	rvm_tw_read_log(&tw);
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == action && tw.recs[i].target == t)
			v = tw.recs[i].arg0;
	return v;
}

/*
 * F1, then F2 with the disk stalled: the rollback's checkpoint is handed to the asynchronous
 * store (no synchronous put under the lock) and is nobody's base until durable; the agents'
 * tapes are cut for it and run on. Durable, it is the partition's newest base and the tapes
 * start there: the next fault rolls back to it, and nothing was lost or sent twice.
 */
static void test_rollback_checkpoint_is_stored_async(void **state)
{
	uint32_t s, f, k, ch, p;
	uint64_t base, id, got;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	p = pipeline(30, &s, &f, &k, &ch, &base);
	fault(f); /* F1 */
	assert_int_equal(tw.rec->rollbacks, 0);
	st.hold = true;
	fault(f); /* F2: the rollback, then its checkpoint */
	assert_int_equal(tw.rec->rollbacks, 1);
	assert_int_equal(st.sync_ckpt_puts, 0);
	assert_int_equal(st.async_puts, 2);
	id = tw.rec->inflight[p];
	assert_true(id != 0 && id != base && id == st.id[0]);
	assert_false(stored(id));
	/* Not a base yet: the tapes keep theirs, cut for the new one. */
	assert_int_equal(tw.rec->rec.part[p].nckpt, 1);
	assert_int_equal(tw.rec->rec.part[p].ckpt[0], base);
	for (uint32_t a = 0; a < 3; a++) {
		assert_int_equal(tw.rec->tape[a].base, base);
		assert_int_equal(tw.rec->tape[a].next, id);
	}
	/* Delivery goes on meanwhile. */
	got = tw.world->agents[k].received;
	assert_true(rvm_tw_run_until(&tw, &tw.world->agents[k].received, got + 20, 100000, 300));
	assert_int_equal(tw.rec->inflight[p], id);
	/* The disk comes back: durable, the newest base, the tapes start there. */
	st.hold = false;
	run_to_settled(p);
	assert_true(stored(id));
	assert_int_equal(tw.rec->rec.part[p].nckpt, 2);
	assert_int_equal(tw.rec->rec.part[p].ckpt[1], id);
	for (uint32_t a = 0; a < 3; a++) {
		assert_int_equal(tw.rec->tape[a].base, id);
		assert_int_equal(tw.rec->tape[a].next, 0);
	}
	/* The next fault (F3, with nothing to blame that comes back) rolls back to it. */
	fault(f);
	assert_int_equal(tw.rec->rollbacks, 2);
	assert_int_equal(last_arg0(RVM_ACT_STATE_RESTORE, p), id);
	assert_int_equal(tw.rec->replay_failed, 0);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_CKPT_LOST, 0), 0);
	assert_int_equal(st.sync_ckpt_puts, 0);
	rvm_tw_slices(&tw, 200, 2000);
	rvm_tw_check_channels(&tw);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * The store cannot write the rollback's checkpoint: recovery.checkpoint_lost names it and the
 * error, the older base stays the partition's newest, the tapes stay whole on it (still
 * replayable), and the next fault rolls back to that older base.
 */
static void test_rollback_checkpoint_lost_keeps_old_base(void **state)
{
	uint32_t s, f, k, ch, p;
	uint64_t base, id;

	(void)state;
	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	p = pipeline(30, &s, &f, &k, &ch, &base);
	fault(f);
	st.hold = true;
	fault(f);
	id = tw.rec->inflight[p];
	assert_true(id != 0 && id != base);
	st.fail = RVM_E_IO;
	st.hold = false;
	run_to_settled(p);
	assert_false(stored(id));
	assert_int_equal(tw.rec->store_failed, 1);
	assert_int_equal(tw.rec->rec.part[p].nckpt, 1);
	assert_int_equal(tw.rec->rec.part[p].ckpt[0], base);
	for (uint32_t a = 0; a < 3; a++) {
		assert_int_equal(tw.rec->tape[a].base, base);
		assert_int_equal(tw.rec->tape[a].next, 0);
		assert_int_equal(tw.rec->tape[a].state, RVM_TAPE_OK);
	}
	assert_int_equal(last_arg0(RVM_ACT_CKPT_LOST, p), id);
	for (size_t i = 0; i < tw.nrecs; i++)
		if (tw.recs[i].action == RVM_ACT_CKPT_LOST)
			assert_int_equal(tw.recs[i].arg1, RVM_E_IO);
	/* Back to the older base, every agent re-run across the lost one to where it was. */
	st.fail = RVM_OK;
	fault(f);
	assert_int_equal(tw.rec->rollbacks, 2);
	assert_int_equal(last_arg0(RVM_ACT_STATE_RESTORE, p), base);
	assert_int_equal(tw.rec->replay_failed, 0);
	rvm_tw_slices(&tw, 200, 2000);
	rvm_tw_check_channels(&tw);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

/*
 * F3 drops the filter's poisoned message. Its tape then no longer follows from the old base
 * (what came after the dropped message was never replayed), so it is given up before the
 * rollback's checkpoint is handed over (recovery.tape_lost): lost in the store, it stays given
 * up (a later rollback restores the filter without re-running it); durable, the checkpoint
 * starts it a replayable tape.
 */
static void f3_skip(bool durable)
{
	uint32_t s, f, k, ch, p;
	uint64_t base, id;
	struct rvm_chan *c;

	if (!rvm_tw_have_agents(&tw, "sensor"))
		skip();
	p = pipeline(25, &s, &f, &k, &ch, &base);
	c = &tw.world->chans[ch];
	while (c->head == c->tail)
		rvm_tw_slices(&tw, 1, 300);
	st.hold = true;
	c->len[(c->head - 1) & (RVM_CHAN_RING - 1)] = 12;
	rvm_tw_run_until(&tw, &tw.world->agents[f].traps, 1, 100000, 300);
	assert_int_equal(tw.world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(tw.rec->skipped, 1);
	id = tw.rec->inflight[p];
	assert_true(id != 0 && id != base);
	assert_int_equal(st.sync_ckpt_puts, 0);
	assert_int_equal(tw.rec->tape[f].state, RVM_TAPE_LOST);
	assert_int_equal(tw.rec->tape[f].next, id);
	assert_int_equal(tw.rec->tapes_lost, 1);
	rvm_tw_read_log(&tw);
	assert_int_equal(rvm_tw_count(&tw, RVM_ACT_TAPE_LOST, 0), 1);
	assert_int_equal(tw.rec->tape[s].state, RVM_TAPE_OK);
	st.fail = durable ? RVM_OK : RVM_E_IO;
	st.hold = false;
	run_to_settled(p);
	if (durable) {
		assert_int_equal(tw.rec->tape[f].state, RVM_TAPE_OK);
		assert_int_equal(tw.rec->tape[f].base, id);
	} else {
		assert_int_equal(tw.rec->tape[f].state, RVM_TAPE_LOST);
		assert_int_equal(tw.rec->tape[f].base, base);
		assert_int_equal(tw.rec->tape[s].base, base);
		assert_int_equal(tw.rec->tape[s].state, RVM_TAPE_OK);
	}
	rvm_tw_slices(&tw, 200, 2000);
	rvm_tw_check_channels(&tw);
	rvm_tw_check_journal(&tw, RVM_JK_RESUME);
	assert_int_equal(rvm_kernel_shutdown(&tw.kern), RVM_OK);
}

static void test_f3_skip_then_durable(void **state)
{
	(void)state;
	f3_skip(true);
}

static void test_f3_skip_then_lost(void **state)
{
	(void)state;
	f3_skip(false);
}

static int teardown(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < st.nq; i++)
		free(st.buf[i]);
	st.nq = 0;
	rvm_tw_free(&tw);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollback_checkpoint_is_stored_async),
		cmocka_unit_test(test_rollback_checkpoint_lost_keeps_old_base),
		cmocka_unit_test(test_f3_skip_then_durable),
		cmocka_unit_test(test_f3_skip_then_lost),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
