/* tests/unit/test_recovery.c - DC-14 fault injection: the right class, bystanders untouched, the
 * log intact. */
#include "support.h"

#include <stdio.h>

#include <openssl/sha.h>

#include "test_checkpoint_fixture.h"

#include <rvm/recovery.h>
#include <rvm/reshape.h>
#include <rvm/sched.h>

static uint8_t rbuf[12u << 20];

/* ---- A toy agent layer: each agent's state is 256 bytes; a snapshot is a copy ---- */

#define NAGENTS 3
struct toy {
	uint32_t id[NAGENTS];
	uint32_t part[NAGENTS];
	uint8_t state[NAGENTS][256];
	uint32_t restarts, rebuilds, quiesces, kernel_restarts;
	uint64_t rebuild_upto, rebuild_skip;
	struct rvm_migration *mig;
	struct rvm_part_pool *pool;
	enum rvm_err restart_err;
};
static struct toy toy;

static int toy_find(uint32_t agent)
{
	for (int i = 0; i < NAGENTS; i++)
		if (toy.id[i] == agent)
			return i;
	return -1;
}

static enum rvm_err toy_restart(void *ctx, uint32_t partition, uint32_t agent, const uint8_t *snap,
				size_t len)
{
	int i = toy_find(agent);

	(void)ctx;
	if (toy.restart_err != RVM_OK)
		return toy.restart_err;
	assert_true(i >= 0 && toy.part[i] == partition);
	if (snap) {
		assert_true(len == sizeof(toy.state[i]));
		memcpy(toy.state[i], snap, len);
	} else {
		memset(toy.state[i], 0, sizeof(toy.state[i]));
	}
	toy.restarts++;
	return RVM_OK;
}

static enum rvm_err toy_quiesce(void *ctx, uint32_t partition, const struct rvm_fault *f)
{
	(void)ctx;
	(void)f;
	toy.quiesces++;
	/* A migration killed half-way is rolled back before the partition is. */
	if (toy.mig && toy.mig->active && toy.mig->part == partition)
		assert_int_equal(rvm_migrate_abort(toy.pool, toy.mig, 1000), RVM_OK);
	return RVM_OK;
}

static enum rvm_err toy_rebuild(void *ctx, uint32_t partition, const struct rvm_ckpt_view *v,
				uint64_t upto, uint64_t skip)
{
	struct rvm_ckpt_agent a;

	(void)ctx;
	for (int i = 0; i < NAGENTS; i++)
		if (toy.part[i] == partition && rvm_ckpt_find_agent(v, toy.id[i], &a) == RVM_OK)
			memcpy(toy.state[i], a.snap, a.len);
	toy.rebuilds++;
	toy.rebuild_upto = upto;
	toy.rebuild_skip = skip;
	return RVM_OK;
}

static uint32_t toy_snapshot(void *ctx, uint32_t partition, struct rvm_ckpt_agent *out,
			     uint32_t max)
{
	uint32_t n = 0;

	(void)ctx;
	for (int i = 0; i < NAGENTS && n < max; i++)
		if (toy.part[i] == partition)
			out[n++] = (struct rvm_ckpt_agent){toy.id[i], toy.state[i], 256};
	return n;
}

static void toy_kernel_restart(void *ctx, const struct rvm_fault *f)
{
	(void)ctx;
	(void)f;
	toy.kernel_restarts++;
}

static const struct rvm_recovery_ops toy_ops = {
	.agent_restart = toy_restart,
	.quiesce = toy_quiesce,
	.agents_rebuild = toy_rebuild,
	.agents_snapshot = toy_snapshot,
	.kernel_restart = toy_kernel_restart,
};

/* ---- Scene: partitions 1 (the victim), 2 and 3, each with regions and written data ---- */

struct world {
	struct kfix *k;
	struct rvm_recovery *rec;
	rvm_cap_t caps[3];
	rvm_region_id r[3][2];
	uint8_t d[4][32]; /* digests of partitions 1..3 (index = partition) */
};

static void part_digest(struct world *w, uint32_t p, uint8_t out[32])
{
	assert_int_equal(rvm_partition_digest(&w->k->space, p, NULL, NULL, out), RVM_OK);
}

static void snap_digests(struct world *w)
{
	for (uint32_t p = 1; p <= 3; p++)
		part_digest(w, p, w->d[p]);
}

/* Partitions other than the victim kept exactly their state. */
static void assert_bystanders(struct world *w, uint32_t victim)
{
	uint8_t now[32];

	for (uint32_t p = 1; p <= 3; p++) {
		if (p == victim)
			continue;
		part_digest(w, p, now);
		assert_memory_equal(now, w->d[p], 32);
	}
}

static void write_str(struct world *w, uint32_t p, rvm_region_id id, uint64_t off, const char *s,
		      uint64_t *seq)
{
	assert_int_equal(
		rvm_region_write(&w->k->space, p, 100 + p, id, off, s, (uint32_t)strlen(s), seq),
		RVM_OK);
}

static struct world *world_new(uint32_t repeat)
{
	struct world *w = calloc(1, sizeof(*w));
	struct rvm_recovery_config cfg = {.repeat = repeat, .window_ns = 1000000000ull};
	struct rvm_replay_source src;

	assert_non_null(w);
	w->k = kfix_new(3, w->caps);
	w->rec = calloc(1, sizeof(*w->rec));
	assert_non_null(w->rec);
	memset(&toy, 0, sizeof(toy));
	for (int i = 0; i < NAGENTS; i++) {
		toy.id[i] = 11 + (uint32_t)i;
		toy.part[i] = 1 + (uint32_t)i;
		memset(toy.state[i], 0x30 + i, sizeof(toy.state[i]));
	}
	toy.pool = &w->k->pool;
	src = kf_source(w->k);
	rvm_recovery_init(w->rec, &w->k->ck, &src, &toy_ops, NULL, &cfg, rbuf, sizeof(rbuf));
	for (uint32_t p = 1; p <= 3; p++) {
		for (int j = 0; j < 2; j++) {
			assert_int_equal(rvm_region_create(&w->k->space, p, p, 16384u << j,
							   RVM_REGION_DATA, true, 1,
							   &w->r[p - 1][j]),
					 RVM_OK);
			write_str(w, p, w->r[p - 1][j], 10, "hello, checkpoint", NULL);
		}
	}
	return w;
}

static void world_checkpoint(struct world *w, uint32_t p)
{
	struct rvm_ckpt_agent a[NAGENTS];
	uint32_t n = toy_snapshot(NULL, p, a, NAGENTS);

	assert_int_equal(rvm_recovery_checkpoint(w->rec, p, a, n, NULL), RVM_OK);
}

static void world_free(struct world *w)
{
	kfix_free(w->k);
	free(w->rec);
	free(w);
}

/* The actions of the records from seq on, in order, that the recovery itself witnessed. */
static int count_action(struct world *w, uint64_t from, uint16_t action)
{
	int n = 0;

	for (uint64_t s = from; s < w->k->f->wlog.next_seq; s++)
		n += rvm_witness_get(&w->k->f->wlog, s)->action == action;
	return n;
}

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_AGENT_TRAP), RVM_F1);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_NOMEM), RVM_F1);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_WITNESS_FULL), RVM_F1);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_INCONSISTENT), RVM_F2);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_MIGRATION), RVM_F2);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_MEM_CORRUPT), RVM_F3);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_IMAGE_CORRUPT), RVM_F3);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_COHERENCE), RVM_F3);
	assert_int_equal(rvm_fault_class_of(RVM_FAULT_KERNEL), RVM_F4);
	assert_int_equal(rvm_fault_class_of(0), RVM_F4);
	assert_int_equal(rvm_fault_class_of(999), RVM_F4);
}

/* F1: an agent traps mid-message; it restarts from its snapshot, nothing else moves. */
static void test_f1_agent_trap_mid_message(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_AGENT_TRAP,
			      .partition = 1,
			      .agent = 11,
			      .seq = RVM_SEQ_NONE,
			      .detail = 3};
	struct rvm_recovery_result res;
	uint8_t saved[256], d1[32], now[32];
	uint64_t from;

	(void)state;
	world_checkpoint(w, 1);
	memcpy(saved, toy.state[0], sizeof(saved));
	/* Half a message handled: the agent's state and its region both moved on. */
	memset(toy.state[0], 0xEE, 100);
	write_str(w, 1, w->r[0][0], 2000, "partial message", NULL);
	snap_digests(w);
	part_digest(w, 1, d1);
	from = w->k->f->wlog.next_seq;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F1);
	assert_int_equal(res.first, RVM_F1);
	assert_int_equal(toy.restarts, 1);
	assert_memory_equal(toy.state[0], saved, sizeof(saved));
	assert_true(res.ckpt != 0);
	/* F1 does not roll the partition back: its regions keep the witnessed writes. */
	part_digest(w, 1, now);
	assert_memory_equal(now, d1, 32);
	assert_bystanders(w, 1);
	assert_int_equal(count_action(w, from, RVM_ACT_FAULT), 1);
	assert_int_equal(count_action(w, from, RVM_ACT_RECOVER_F1), 1);
	assert_int_equal(count_action(w, from, RVM_ACT_RECOVER_F2), 0);
	assert_int_equal(rvm_witness_get(&w->k->f->wlog, from)->arg0,
			 RVM_FAULT_AGENT_TRAP | 11ull << 32);
	assert_int_equal(w->rec->handled[RVM_F1], 1);
	kf_audit(w->k);
	world_free(w);
}

/* Repeated traps escalate: the third within the window goes to F2 and rebuilds the partition. */
static void test_repeated_faults_escalate(void **state)
{
	struct world *w = world_new(2);
	struct rvm_fault f = {
		.kind = RVM_FAULT_AGENT_TRAP, .partition = 1, .agent = 11, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	uint8_t d1[32], now[32];

	(void)state;
	world_checkpoint(w, 1);
	write_str(w, 1, w->r[0][1], 5000, "after the checkpoint", NULL);
	snap_digests(w);
	part_digest(w, 1, d1);
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F1);
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 20, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F1);
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 30, &res), RVM_OK);
	assert_int_equal(res.first, RVM_F2);
	assert_int_equal(res.cls, RVM_F2);
	assert_int_equal(toy.rebuilds, 1);
	assert_true(res.new_ckpt != 0);
	assert_true(res.replay.writes >= 1);
	/* Reconstructed: checkpoint + replay gives the state the log describes. */
	part_digest(w, 1, now);
	assert_memory_equal(now, d1, 32);
	assert_bystanders(w, 1);
	/* Outside the window the count starts again. */
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 5000000000ull, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F1);
	assert_int_equal(rvm_region_check_invariants(&w->k->space), RVM_OK);
	kf_audit(w->k);
	world_free(w);
}

/* F3: region bytes corrupted behind the kernel's back; rollback + replay repairs them. */
static void test_f3_corrupt_region_bytes(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_MEM_CORRUPT, .partition = 1, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	const struct rvm_region *r;
	uint8_t good[32], now[32];

	(void)state;
	world_checkpoint(w, 1);
	write_str(w, 1, w->r[0][0], 300, "witnessed after the checkpoint", NULL);
	snap_digests(w);
	memcpy(good, w->d[1], 32);
	r = rvm_region_get(&w->k->space, w->r[0][0]);
	memset((uint8_t *)(uintptr_t)r->base + 1000, 0x5A, 700); /* a stray write */
	part_digest(w, 1, now);
	assert_memory_not_equal(now, good, 32);
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F3);
	assert_true(res.replay.writes == 1);
	part_digest(w, 1, now);
	assert_memory_equal(now, good, 32);
	assert_bystanders(w, 1);
	assert_int_equal(toy.quiesces, 1);
	assert_int_equal(rvm_region_check_invariants(&w->k->space), RVM_OK);
	kf_audit(w->k);
	world_free(w);
}

/* F3 with a known faulting mutation: replay leaves exactly that write out. */
static void test_f3_skips_faulting_mutation(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_COHERENCE, .partition = 1};
	struct rvm_recovery_result res;
	const struct rvm_region *r;
	uint64_t bad;
	uint8_t *m;

	(void)state;
	world_checkpoint(w, 1);
	write_str(w, 1, w->r[0][0], 100, "AAAA", NULL);
	write_str(w, 1, w->r[0][0], 200, "BBBB", &bad);
	write_str(w, 1, w->r[0][0], 300, "CCCC", NULL);
	snap_digests(w);
	f.seq = bad;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F3);
	assert_true(res.replay.skipped == 1 && res.replay.writes == 2);
	assert_true(toy.rebuild_skip == bad);
	r = rvm_region_get(&w->k->space, w->r[0][0]);
	m = (uint8_t *)(uintptr_t)r->base;
	assert_memory_equal(m + 100, "AAAA", 4);
	assert_memory_equal(m + 300, "CCCC", 4);
	assert_int_equal(m[200], 0);
	assert_bystanders(w, 1);
	kf_audit(w->k);
	world_free(w);
}

/* F3: a compressed page is damaged; the region comes back from the checkpoint's own image. */
static void test_f3_corrupt_compressed_page(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_IMAGE_CORRUPT, .partition = 1, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	const struct rvm_region_extent *e = NULL;
	rvm_region_id id;
	uint8_t now[32];

	(void)state;
	world_checkpoint(w, 1);
	id = w->r[0][1];
	snap_digests(w);
	assert_int_equal(rvm_region_set_tier(&w->k->space, 1, id, RVM_TIER_DORMANT), RVM_OK);
	for (uint32_t i = 0; i < w->k->store.n; i++)
		if (w->k->store.ext[i].slot == (uint32_t)id)
			e = &w->k->store.ext[i];
	assert_non_null(e);
	w->k->store_buf[e->off + e->len - 5] ^= 0x10;
	assert_int_equal(rvm_region_set_tier(&w->k->space, 1, id, RVM_TIER_HOT), RVM_E_CORRUPT);
	f.detail = id;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F3);
	assert_true(rvm_region_get(&w->k->space, id)->tier <= RVM_TIER_WARM);
	part_digest(w, 1, now);
	assert_memory_equal(now, w->d[1], 32);
	assert_int_equal(w->k->store.n, 0);
	assert_bystanders(w, 1);
	assert_int_equal(rvm_region_check_invariants(&w->k->space), RVM_OK);
	kf_audit(w->k);
	world_free(w);
}

/* F2: a migration killed half-way; it is rolled back and the partition reconstructed. */
static void test_f2_migration_killed(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_MIGRATION, .partition = 1, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	static struct rvm_sched sched;
	struct rvm_sched_config sc;
	struct rvm_migration m;
	uint8_t now[32];

	(void)state;
	rvm_sched_config_default(&sc);
	rvm_sched_init(&sched, &w->k->pool, &sc);
	assert_int_equal(rvm_sched_enqueue(&sched, 0, 1, 1000), RVM_OK);
	world_checkpoint(w, 1);
	write_str(w, 1, w->r[0][0], 4000, "in flight", NULL);
	snap_digests(w);
	memset(&m, 0, sizeof(m));
	assert_int_equal(rvm_migrate_begin(&w->k->pool, &sched, 0, w->caps[0], 1, 0, &m), RVM_OK);
	assert_true(rvm_partition_find(&w->k->pool, w->k->pool.p[1].id)->migrating);
	toy.mig = &m;
	/* ... and the migration never finishes. */
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F2);
	assert_false(m.active);
	assert_false(w->k->pool.p[1].migrating);
	assert_int_equal(sched.cpu_of[1], 0);
	part_digest(w, 1, now);
	assert_memory_equal(now, w->d[1], 32);
	assert_bystanders(w, 1);
	assert_int_equal(count_action(w, 0, RVM_ACT_MIGRATE_ABORT), 1);
	kf_audit(w->k);
	world_free(w);
}

/* The witness ring fills because the sink stopped: F1 drains it once the sink is back; if the
 * sink stays down, nothing can be witnessed and only F4 is left. Nothing witnessed is lost. */
static void test_witness_ring_full(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_WITNESS_FULL, .partition = 2, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	uint64_t n = 0, before;
	enum rvm_err err;

	(void)state;
	snap_digests(w);
	w->k->sink_fail = RVM_E_IO;
	while ((err = rvm_region_write(&w->k->space, 2, 1, w->r[1][0], 0, "x", 1, NULL)) == RVM_OK)
		n++;
	assert_int_equal(err, RVM_E_FULL);
	assert_true(n > 0);
	snap_digests(w); /* what was witnessed stands */
	before = w->k->f->wlog.next_seq;
	/* Still down: no record possible, a controlled restart is all that is left. */
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_E_FULL);
	assert_int_equal(res.cls, RVM_F4);
	assert_int_equal(toy.kernel_restarts, 1);
	assert_true(w->k->f->wlog.next_seq == before);
	/* Back: F1 drains the ring into the sink, the fault and the recovery are witnessed. */
	w->k->sink_fail = RVM_OK;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 20, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F1);
	assert_true(w->k->f->wlog.durable_seq >= before);
	assert_int_equal(rvm_region_write(&w->k->space, 2, 1, w->r[1][0], 0, "y", 1, NULL), RVM_OK);
	kf_audit(w->k);
	world_free(w);
}

/* The buddy allocator runs dry: F1 compresses the partition's idle regions to make room. */
static void test_f1_buddy_exhausted(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_NOMEM, .partition = 1, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	rvm_region_id id;
	enum rvm_err err;
	int made = 0;

	(void)state;
	while ((err = rvm_region_create(&w->k->space, 1, 1, 256 * 1024, RVM_REGION_DATA, true, 1,
					&id)) == RVM_OK)
		made++;
	assert_int_equal(err, RVM_E_NOMEM);
	assert_true(made > 0);
	snap_digests(w);
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F1);
	/* Contents survive the trip to Dormant: no partition's digest changes. */
	assert_bystanders(w, 0);
	assert_int_equal(
		rvm_region_create(&w->k->space, 1, 1, 256 * 1024, RVM_REGION_DATA, true, 1, &id),
		RVM_OK);
	assert_int_equal(rvm_region_check_invariants(&w->k->space), RVM_OK);
	kf_audit(w->k);
	world_free(w);
}

/* No checkpoint to roll back to: F3 fails, F4 (and only then) restarts the kernel. */
static void test_f4_only_after_f3_fails(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_MEM_CORRUPT, .partition = 3, .seq = RVM_SEQ_NONE};
	struct rvm_fault k = {.kind = RVM_FAULT_KERNEL, .partition = 0, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	uint64_t from;

	(void)state;
	from = w->k->f->wlog.next_seq;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.first, RVM_F3);
	assert_int_equal(res.cls, RVM_F4);
	assert_int_equal(res.last_err, RVM_E_NOTFOUND);
	assert_int_equal(toy.kernel_restarts, 1);
	assert_int_equal(count_action(w, from, RVM_ACT_RECOVER_F3), 1);
	assert_int_equal(count_action(w, from, RVM_ACT_RECOVER_F4), 1);
	assert_true(w->k->f->wlog.durable_seq == w->k->f->wlog.next_seq);
	/* A broken kernel invariant goes straight to F4. */
	from = w->k->f->wlog.next_seq;
	assert_int_equal(rvm_recovery_handle(w->rec, &k, 20, &res), RVM_OK);
	assert_int_equal(res.first, RVM_F4);
	assert_int_equal(count_action(w, from, RVM_ACT_RECOVER_F4), 1);
	assert_int_equal(toy.kernel_restarts, 2);
	f.kind = 0;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 30, &res), RVM_E_INVAL);
	f.kind = RVM_FAULT_KIND_COUNT;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 30, &res), RVM_E_INVAL);
	kf_audit(w->k);
	world_free(w);
}

/* A damaged newest checkpoint in the store: recovery falls back to the one before. */
static void test_falls_back_to_older_checkpoint(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_INCONSISTENT, .partition = 1, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	const struct rvm_recovery_part *p = &w->rec->part[1];
	uint64_t older;
	uint8_t now[32];

	(void)state;
	world_checkpoint(w, 1);
	older = p->ckpt[0];
	write_str(w, 1, w->r[0][0], 700, "between the two", NULL);
	world_checkpoint(w, 1);
	write_str(w, 1, w->r[0][0], 800, "after both", NULL);
	snap_digests(w);
	kf_object(w->k, p->ckpt[1])->buf[200] ^= 1;
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F2);
	assert_true(res.ckpt == older);
	assert_true(res.replay.writes == 2);
	part_digest(w, 1, now);
	assert_memory_equal(now, w->d[1], 32);
	assert_bystanders(w, 1);
	kf_audit(w->k);
	world_free(w);
}

/*
 * The newest checkpoint rewritten with a valid trailer (a changed header time, the SHA-256
 * recomputed): it parses, but its hash is not the one its record vouched for, so recovery
 * falls back to the older one instead of trusting it.
 */
static void test_rewritten_checkpoint_not_trusted(void **state)
{
	struct world *w = world_new(0);
	struct rvm_fault f = {.kind = RVM_FAULT_INCONSISTENT, .partition = 1, .seq = RVM_SEQ_NONE};
	struct rvm_recovery_result res;
	const struct rvm_recovery_part *p = &w->rec->part[1];
	struct kf_object *o;
	uint64_t older;
	uint8_t now[32];

	(void)state;
	world_checkpoint(w, 1);
	older = p->ckpt[0];
	write_str(w, 1, w->r[0][0], 700, "between the two", NULL);
	world_checkpoint(w, 1);
	snap_digests(w);
	o = kf_object(w->k, p->ckpt[1]);
	o->buf[24] ^= 1; /* header: time since boot, covered by the trailer alone */
	SHA256(o->buf, o->len - 32, o->buf + o->len - 32);
	assert_int_equal(rvm_recovery_handle(w->rec, &f, 10, &res), RVM_OK);
	assert_int_equal(res.cls, RVM_F2);
	assert_true(res.ckpt == older);
	part_digest(w, 1, now);
	assert_memory_equal(now, w->d[1], 32);
	assert_bystanders(w, 1);
	kf_audit(w->k);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_f1_agent_trap_mid_message),
		cmocka_unit_test(test_repeated_faults_escalate),
		cmocka_unit_test(test_f3_corrupt_region_bytes),
		cmocka_unit_test(test_f3_skips_faulting_mutation),
		cmocka_unit_test(test_f3_corrupt_compressed_page),
		cmocka_unit_test(test_f2_migration_killed),
		cmocka_unit_test(test_witness_ring_full),
		cmocka_unit_test(test_f1_buddy_exhausted),
		cmocka_unit_test(test_f4_only_after_f3_fails),
		cmocka_unit_test(test_falls_back_to_older_checkpoint),
		cmocka_unit_test(test_rewritten_checkpoint_not_trusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
