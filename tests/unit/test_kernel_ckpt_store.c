/* tests/unit/test_kernel_ckpt_store.c - swarm checkpoints through the hosted platform's
 * asynchronous store: the kernel keeps delivering while a write stalls, a checkpoint is used
 * (restore base, tape trim) only once durable, a failed write is witnessed and the tape kept,
 * shutdown waits for the writer before the log closes. */
#include "support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hosted_world.h>
#include <rvm/witness_file.h>

/* One booted kernel writing a real run directory; a sensor in one partition feeding a sink in
 * another, on one vCPU, recovery attached with no cadence (only tapes ask for checkpoints). */
static struct rvm_hosted_world *kb;
static struct rvm_hosted_world_pair pr;

static void kb_free(void)
{
	rvm_hosted_world_free(kb);
	kb = NULL;
}

/* Boots the pair; false (the caller skips) when the example agents are not built. */
static bool kb_new(void)
{
	const struct rvm_hosted_world_config cfg = {.run_dir = "/tmp/rvm-test-kstore.XXXXXX",
						    .nmem = 4,
						    .pages = 2,
						    .ncpus = 1,
						    .nonce = 5};
	const struct rvm_kernel_recovery_config rc = {.every = 1000000};
	enum rvm_err e;

	assert_int_equal(rvm_hosted_world_new(&cfg, &kb), RVM_OK);
	assert_int_equal(rvm_hosted_world_recovery(kb, &rc), RVM_OK);
	e = rvm_hosted_world_pair(kb, &pr);
	if (e == RVM_E_NOTFOUND) {
		printf("SKIP: the example agents sensor and sink are not built\n");
		kb_free();
		return false;
	}
	assert_int_equal(e, RVM_OK);
	return true;
}

static void slice(void)
{
	struct rvm_slice sl;

	assert_int_equal(rvm_kernel_run_slice(&kb->k, 0, 20000, &sl), RVM_OK);
}

static struct rvm_agent *sink(void)
{
	return &kb->w->agents[pr.k];
}

static const struct rvm_agent_tape *sink_tape(void)
{
	return &kb->rec->tape[pr.k];
}

/* Runs until the sink's tape has forced a checkpoint of its partition. */
static void run_to_forced(void)
{
	uint64_t forced = kb->rec->forced;

	for (int i = 0; i < 100000 && (kb->rec->forced == forced || kb->rec->pending[pr.pk]); i++)
		slice();
	assert_true(kb->rec->forced > forced);
	assert_int_equal(kb->rec->pending[pr.pk], 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs slices (resting 1 ms every 64: the disk needs time, not the CPU) until *v is nonzero
 * (want_nonzero) or zero, 60 s at most: a loaded machine's fsync can take seconds. */
static void run_until(const uint64_t *v, bool want_nonzero)
{
	uint64_t end = mono_ms() + 60000;

	for (int i = 0; (*v != 0) != want_nonzero && mono_ms() < end; i++) {
		slice();
		if (i % 64 == 63) {
			struct timespec d = {0, 1000000};

			nanosleep(&d, NULL);
		}
	}
}

/* Runs until the store's report about the sink partition's checkpoint has been taken in. */
static void run_to_settled(void)
{
	run_until(&kb->rec->inflight[pr.pk], false);
	assert_int_equal(kb->rec->inflight[pr.pk], 0);
}

static bool ckpt_file_exists(uint64_t id)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/checkpoints/%016llx.ckpt", kb->dir,
		 (unsigned long long)id);
	return access(path, F_OK) == 0;
}

/* Every record of the run so far (the log read back and verified); *n gets the count. */
static struct rvm_witness_record *recs;
static size_t nrecs;

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	(void)ctx;
	recs[nrecs++] = *r;
}

static void read_log(void)
{
	static struct rvm_witness_reader rd;
	char path[128];
	size_t len = 0;
	char *data;

	if (kb->k.state == RVM_KERNEL_RUNNING)
		assert_int_equal(rvm_witness_flush(&kb->k.witness), RVM_OK);
	snprintf(path, sizeof(path), "%s/witness.log", kb->dir);
	data = rvm_test_read_file(path, &len);
	assert_non_null(data);
	free(recs);
	recs = malloc((len / 64 + 1) * sizeof(*recs));
	nrecs = 0;
	rvm_witness_reader_init(&rd, NULL, NULL, collect, NULL);
	rvm_witness_reader_feed(&rd, data, len);
	assert_int_equal(rvm_witness_reader_finish(&rd)->err, RVM_OK);
	free(data);
}

static size_t count_action(uint16_t action, uint64_t target)
{
	size_t n = 0;

	for (size_t i = 0; i < nrecs; i++)
		n += recs[i].action == action && recs[i].target == target;
	return n;
}

/* Injects a fault into the sink and runs until recovery has re-run it against its tape. */
static void fault_and_replay(void)
{
	uint64_t replays = kb->rec->replays, traps = sink()->traps;

	assert_int_equal(rvm_kernel_inject_fault(&kb->k, pr.k), RVM_OK);
	for (int i = 0; i < 10000 && sink()->traps == traps; i++)
		slice();
	assert_int_equal(sink()->traps, traps + 1);
	assert_int_equal(kb->rec->replays, replays + 1);
	assert_int_equal(kb->rec->replay_failed, 0);
	assert_int_equal(sink()->state, RVM_AGENT_READY);
}

/* Lets the held store go after a while, from another thread. */
static void *release_later(void *arg)
{
	struct timespec d = {0, 50 * 1000000};

	nanosleep(&d, NULL);
	rvm_hosted_store_hold(arg, false);
	return NULL;
}

/*
 * A disk that stalls: the forced checkpoint is built and handed over, and delivery goes on
 * (thousands of messages) while the store holds it. Until it is durable it is nobody's base:
 * the tape keeps its old base and everything since. A fault meanwhile waits for the store
 * (here: until the disk comes back), then restores from the new checkpoint and replays only
 * what came after the cut.
 */
static void test_delivery_goes_on_while_the_store_stalls(void **state)
{
	uint64_t base0, id, got;
	uint32_t cut;
	pthread_t t;

	(void)state;
	if (!kb_new())
		skip();
	rvm_hosted_store_hold(&kb->hosted.store, true);
	run_to_forced();
	id = kb->rec->inflight[pr.pk];
	assert_true(id != 0);
	base0 = sink_tape()->base;
	assert_true(base0 != id);
	assert_int_equal(sink_tape()->next, id);
	cut = sink_tape()->cut;
	assert_true(cut > RVM_TAPE_HIGH - 4096);
	assert_int_equal(kb->rec->rec.part[pr.pk].nckpt, 0);
	got = sink()->received;
	for (int i = 0; i < 400; i++)
		slice();
	/* Delivered meanwhile, recorded past the cut, nothing trimmed, nothing on disk. */
	assert_true(sink()->received >= got + 3000);
	assert_int_equal(sink_tape()->base, base0);
	assert_int_equal(sink_tape()->cut, cut);
	assert_true(sink_tape()->used > cut);
	assert_int_equal(kb->rec->inflight[pr.pk], id);
	assert_int_equal(kb->rec->stored, 0);
	assert_false(ckpt_file_exists(id));
	/* The disk comes back while a fault waits for it: durable, the new base, the tape
	 * trimmed to what came after the cut, the fault replayed from there. */
	assert_int_equal(pthread_create(&t, NULL, release_later, &kb->hosted.store), 0);
	fault_and_replay();
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(kb->rec->stored, 1);
	assert_int_equal(kb->rec->store_failed, 0);
	assert_true(ckpt_file_exists(id));
	assert_int_equal(sink_tape()->base, id);
	assert_int_equal(sink_tape()->next, 0);
	assert_true(sink_tape()->used < RVM_TAPE_HIGH);
	assert_int_equal(kb->rec->rec.part[pr.pk].nckpt, 1);
	assert_int_equal(kb->rec->rec.part[pr.pk].ckpt[0], id);
	/* Again, from the new base. */
	fault_and_replay();
	assert_int_equal(sink_tape()->base, id);
	read_log();
	assert_int_equal(count_action(RVM_ACT_CKPT_LOST, pr.pk), 0);
	assert_int_equal(count_action(RVM_ACT_STATE_CHECKPOINT, pr.pk), 1);
	kb_free();
}

/*
 * The store cannot write the checkpoint: recovery.checkpoint_lost says which one and why, the
 * tape stays whole on its old base (nothing trimmed, still replayable: a fault replays it all),
 * and the next forced checkpoint, with the disk back, is durable and trims it.
 */
static void test_failed_write_is_witnessed_and_the_tape_kept(void **state)
{
	char cmd[160];
	uint64_t base0, id;
	uint32_t used;

	(void)state;
	if (!kb_new())
		skip();
	rvm_hosted_store_hold(&kb->hosted.store, true);
	run_to_forced();
	id = kb->rec->inflight[pr.pk];
	base0 = sink_tape()->base;
	/* The store's directory goes away: the write fails. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/checkpoints", kb->dir);
	assert_int_equal(system(cmd), 0);
	rvm_hosted_store_hold(&kb->hosted.store, false);
	run_to_settled();
	assert_int_equal(kb->rec->store_failed, 1);
	assert_int_equal(kb->rec->stored, 0);
	assert_int_equal(kb->rec->last_err, RVM_E_IO);
	assert_int_equal(kb->rec->tapes_lost, 0);
	assert_int_equal(sink_tape()->state, RVM_TAPE_OK);
	assert_int_equal(sink_tape()->base, base0);
	assert_int_equal(sink_tape()->next, 0);
	used = sink_tape()->used;
	assert_true(used > RVM_TAPE_HIGH);
	assert_int_equal(kb->rec->rec.part[pr.pk].nckpt, 0);
	read_log();
	assert_int_equal(count_action(RVM_ACT_CKPT_LOST, pr.pk), 1);
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_CKPT_LOST)
			assert_true(recs[i].arg0 == id && recs[i].arg1 == RVM_E_IO);
	/* Kept, and replayable from its base. */
	fault_and_replay();
	assert_int_equal(sink_tape()->base, base0);
	/* The disk is back: the tape's next request (one more is allowed) is durable. */
	snprintf(cmd, sizeof(cmd), "mkdir %s/checkpoints", kb->dir);
	assert_int_equal(system(cmd), 0);
	run_until(&kb->rec->stored, true);
	assert_int_equal(kb->rec->stored, 1);
	assert_true(sink_tape()->base != base0 && sink_tape()->base != id);
	assert_true(sink_tape()->used < RVM_TAPE_HIGH);
	fault_and_replay();
	kb_free();
}

/*
 * Shutdown with a write in flight: it waits for the store, takes in the result, and only then
 * writes its last records and closes the log (the checkpoint is on disk before kernel.shutdown).
 */
static void test_shutdown_drains_the_store(void **state)
{
	pthread_t t;
	uint64_t id;

	(void)state;
	if (!kb_new())
		skip();
	rvm_hosted_store_hold(&kb->hosted.store, true);
	run_to_forced();
	id = kb->rec->inflight[pr.pk];
	assert_true(id != 0);
	assert_false(ckpt_file_exists(id));
	assert_int_equal(pthread_create(&t, NULL, release_later, &kb->hosted.store), 0);
	assert_int_equal(rvm_kernel_shutdown(&kb->k), RVM_OK);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(kb->rec->stores, 0);
	assert_int_equal(kb->rec->stored, 1);
	assert_int_equal(kb->rec->inflight[pr.pk], 0);
	assert_true(ckpt_file_exists(id));
	assert_int_equal(sink_tape()->base, id);
	read_log();
	assert_int_equal(count_action(RVM_ACT_SHUTDOWN, 0), 1);
	assert_int_equal(count_action(RVM_ACT_CKPT_LOST, pr.pk), 0);
	kb_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_goes_on_while_the_store_stalls),
		cmocka_unit_test(test_failed_write_is_witnessed_and_the_tape_kept),
		cmocka_unit_test(test_shutdown_drains_the_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
