/* tests/unit/test_kernel.c - the full kernel: measured seven-phase boot, injected phase failures,
 * agents exchanging messages, journal bound to the log, merges, F1 recovery, hostile agents. */
#include "support.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <rvm/bytes.h>
#include <rvm/witness_file.h>
#include <rvm/world.h>

#define CAP (64u << 20)
#define NMEM 8u

struct msink {
	uint8_t *buf[RVM_SINK_COUNT];
	size_t len[RVM_SINK_COUNT];
	uint64_t clock;
	uint32_t cpus;
};

static uint64_t ms_now(void *ctx)
{
	return ((struct msink *)ctx)->clock += 1000;
}

static uint32_t ms_cpus(void *ctx)
{
	return ((struct msink *)ctx)->cpus;
}

static enum rvm_err ms_append(void *ctx, enum rvm_sink_stream s, const void *b, size_t n)
{
	struct msink *m = ctx;

	if ((unsigned)s >= RVM_SINK_COUNT || m->len[s] + n > CAP)
		return RVM_E_IO;
	memcpy(m->buf[s] + m->len[s], b, n);
	m->len[s] += n;
	return RVM_OK;
}

static enum rvm_err ms_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)ctx;
	(void)s;
	return RVM_OK;
}

static enum rvm_err ms_entropy(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0x5a, n);
	return RVM_OK;
}

static struct msink ms;
static const struct rvm_platform plat = { .ctx = &ms, .name = "test", .now_ns = ms_now,
					  .cpu_count = ms_cpus, .sink_append = ms_append,
					  .sink_sync = ms_sync, .entropy = ms_entropy };
static struct rvm_kernel kern;
static struct rvm_world *world;
static struct rvm_agent_mem mem[NMEM];
static uint8_t hkey[32] = { 7 };

static void cfg_default(struct rvm_kernel_config *c, uint32_t ncpus)
{
	memset(c, 0, sizeof(*c));
	c->witness.chain = RVM_CHAIN_SHA256;
	c->witness.sig = RVM_SIG_HMAC_SHA256;
	c->witness.checkpoint_every = 256;
	memcpy(c->witness.key, hkey, 32);
	memset(c->witness.boot_nonce, 3, 16);
	c->agent_mem = mem;
	c->agent_mem_count = NMEM;
	c->ncpus = ncpus;
}

/* A fresh platform and zeroed world. */
static void fresh(void)
{
	for (int s = 0; s < RVM_SINK_COUNT; s++) {
		if (!ms.buf[s])
			ms.buf[s] = malloc(CAP);
		ms.len[s] = 0;
	}
	ms.clock = 0;
	ms.cpus = 4;
	free(world);
	world = calloc(1, sizeof(*world));
	assert_non_null(world);
	for (uint32_t i = 0; i < NMEM; i++) {
		if (!mem[i].arena) {
			mem[i].arena = malloc(256u << 10);
			mem[i].arena_size = 256u << 10;
			mem[i].memory_cap = 2u * RVM_WASM_PAGE;
			mem[i].memory = malloc(mem[i].memory_cap);
		}
		/* The kernel is handed zeroed agent memory. */
		memset(mem[i].memory, 0, mem[i].memory_cap);
	}
}

static struct rvm_witness_record *recs;
static size_t nrecs;

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	(void)ctx;
	recs[nrecs++] = *r;
}

/* Verifies the witness stream written so far and collects its records. */
static void read_log(void)
{
	static struct rvm_witness_reader rd;
	const struct rvm_witness_verdict *v;

	if (kern.state == RVM_KERNEL_RUNNING)
		assert_int_equal(rvm_witness_flush(&kern.witness), RVM_OK);
	free(recs);
	recs = malloc((ms.len[RVM_SINK_WITNESS] / 64 + 1) * sizeof(*recs));
	nrecs = 0;
	rvm_witness_reader_init(&rd, NULL, hkey, collect, NULL);
	rvm_witness_reader_feed(&rd, ms.buf[RVM_SINK_WITNESS], ms.len[RVM_SINK_WITNESS]);
	v = rvm_witness_reader_finish(&rd);
	assert_int_equal(v->err, RVM_OK);
}

static const struct rvm_witness_record *rec_at(uint64_t seq)
{
	return seq < nrecs && recs[seq].seq == seq ? &recs[seq] : NULL;
}

static size_t count_action(uint16_t action)
{
	size_t n = 0;

	for (size_t i = 0; i < nrecs; i++)
		n += recs[i].action == action;
	return n;
}

static const uint8_t full_order[7] = { 1, 3, 4, 2, 5, 6, 7 };

static void test_boot_measured_and_witnessed(void **state)
{
	struct rvm_kernel_config c;
	uint8_t attest1[32];
	uint64_t m1[8];

	(void)state;
	fresh();
	cfg_default(&c, 2);
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
	assert_int_equal(kern.state, RVM_KERNEL_RUNNING);
	assert_int_equal(kern.phases_done, RVM_BOOT_FULL_PHASES);
	assert_int_equal(world->ncpus, 2);
	read_log();
	assert_true(nrecs >= 8);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(recs[i].action, RVM_ACT_BOOT_PHASE);
		assert_int_equal(recs[i].target, full_order[i]);
		assert_true(recs[i].arg1 == kern.measure[full_order[i]] && recs[i].arg1 != 0);
		assert_int_equal(recs[i].flags, 0);
	}
	assert_true(recs[0].arg0 == 4 && recs[4].arg0 == 2); /* CPUs seen, CPUs used */
	assert_int_equal(recs[1].arg0, NMEM);
	assert_int_equal(recs[7].action, RVM_ACT_BOOT_COMPLETE);
	assert_true(recs[7].target == 7 && recs[7].arg1 == rvm_load_le64(kern.attest));
	memcpy(attest1, kern.attest, 32);
	memcpy(m1, kern.measure, sizeof(m1));
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);

	/* The same machine and configuration measure the same. */
	fresh();
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
	assert_memory_equal(kern.attest, attest1, 32);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
	/* One CPU fewer: platform and partition phases measure differently, the others not,
	 * and the attestation changes. */
	fresh();
	cfg_default(&c, 1);
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
	assert_memory_not_equal(kern.attest, attest1, 32);
	assert_true(kern.measure[RVM_BOOT_PLATFORM] != m1[RVM_BOOT_PLATFORM]);
	assert_true(kern.measure[RVM_BOOT_PARTITIONS] != m1[RVM_BOOT_PARTITIONS]);
	assert_true(kern.measure[RVM_BOOT_CAPS] == m1[RVM_BOOT_CAPS]);
	assert_true(kern.measure[RVM_BOOT_WITNESS] == m1[RVM_BOOT_WITNESS]);
	assert_true(kern.measure[RVM_BOOT_AGENTS] == m1[RVM_BOOT_AGENTS]);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* A failure injected into each phase stops the boot there, on record when a log exists. */
static void test_boot_phase_failures(void **state)
{
	struct rvm_kernel_config c;

	(void)state;
	for (int i = 0; i < 7; i++) {
		uint32_t p = full_order[i];

		fresh();
		cfg_default(&c, 2);
		c.fail_phase = p;
		assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_E_BOOT);
		assert_int_equal(kern.state, RVM_KERNEL_OFF);
		assert_int_equal(rvm_kernel_shutdown(&kern), RVM_E_STATE);
		if (p == RVM_BOOT_PLATFORM || p == RVM_BOOT_WITNESS) {
			/* Nothing to witness with: no log at all. */
			assert_int_equal(ms.len[RVM_SINK_WITNESS], 0);
			continue;
		}
		read_log();
		/* The phases before it, in order, then the failure (flag DENIED, arg1 the error);
		 * the failure is made durable before boot returns. */
		assert_int_equal(nrecs, (size_t)i + 1);
		for (int j = 0; j < i; j++)
			assert_true(recs[j].action == RVM_ACT_BOOT_PHASE &&
				    recs[j].target == full_order[j] && recs[j].flags == 0);
		assert_true(recs[i].action == RVM_ACT_BOOT_PHASE && recs[i].target == p &&
			    recs[i].flags == RVM_WF_DENIED && recs[i].arg1 == RVM_E_BOOT);
		assert_int_equal(count_action(RVM_ACT_BOOT_COMPLETE), 0);
	}
	/* Bad arguments and a bad memory pool are refused. */
	fresh();
	cfg_default(&c, 2);
	assert_int_equal(rvm_kernel_boot_full(NULL, &plat, world, &c), RVM_E_INVAL);
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, NULL, &c), RVM_E_INVAL);
	c.ncpus = RVM_MAX_CPUS + 1;
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_E_RANGE);
	fresh();
	cfg_default(&c, 2);
	c.agent_mem_count = RVM_AGENT_MAX + 1;
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_E_RANGE);
}

/* ---- agents ---- */

static char agents_dir[1024];

static bool have_agents(void)
{
	const char *bin = getenv("RVM_BIN");
	char tmp[1024], probe[1100];
	FILE *f;

	if (!bin)
		return false;
	snprintf(tmp, sizeof(tmp), "%s", bin);
	/* RVM_BIN is BUILD/tools/rvm/rvm; the example agents are in BUILD/examples/agents. */
	snprintf(agents_dir, sizeof(agents_dir), "%s/../../examples/agents", dirname(tmp));
	snprintf(probe, sizeof(probe), "%s/sensor.wasm", agents_dir);
	if (!(f = fopen(probe, "rb")))
		return false;
	fclose(f);
	return true;
}

static void *arenas[16];
static int narenas;

static uint32_t load(const char *name, uint8_t rights)
{
	char path[1200];
	size_t len;
	uint8_t *bytes;
	uint32_t idx;
	struct rvm_wasm_error werr;

	snprintf(path, sizeof(path), "%s/%s.wasm", agents_dir, name);
	bytes = (uint8_t *)rvm_test_read_file(path, &len);
	assert_non_null(bytes);
	if (!arenas[narenas])
		arenas[narenas] = malloc(2u << 20);
	assert_int_equal(rvm_kernel_module_load(&kern, name, bytes, len, arenas[narenas], 2u << 20,
						rights, 100, &idx, &werr),
			 RVM_OK);
	narenas++;
	free(bytes);
	return idx;
}

#define ALL_RIGHTS                                                                                 \
	(RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG | RVM_AGENT_RIGHT_TIME)

static void boot_swarm(uint32_t ncpus)
{
	struct rvm_kernel_config c;

	fresh();
	narenas = 0;
	cfg_default(&c, ncpus);
	c.max_partition_agents = 4;
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
}

static uint32_t new_part(void)
{
	uint32_t p;

	assert_int_equal(rvm_kernel_partition_new(&kern, RVM_MAX_CPUS, &p), RVM_OK);
	return p;
}

static uint32_t spawn(uint32_t mod, const char *name, uint32_t part, uint8_t rights, int64_t a0,
		      int64_t a1)
{
	int64_t args[4] = { a0, a1, 0, 0 };
	uint32_t n;

	assert_int_equal(rvm_kernel_agent_spawn(&kern, mod, name, part, rights, 100, args, &n), RVM_OK);
	return n;
}

/* Runs n slices round robin over the CPUs. */
static void slices(uint32_t n, uint64_t fuel)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rvm_slice s;

		assert_int_equal(rvm_kernel_run_slice(&kern, i % world->ncpus, fuel, &s), RVM_OK);
	}
}

static void check_channels(void)
{
	for (uint32_t i = 0; i < world->nchans; i++) {
		const struct rvm_chan *c = &world->chans[i];

		assert_true(c->head - c->tail <= RVM_CHAN_RING);
		assert_int_equal(c->sent, c->received + (c->head - c->tail));
	}
	assert_int_equal(world->sig_refused, 0);
}

static enum rvm_err lookup_rec(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	const struct rvm_witness_record *r = rec_at(seq);

	(void)ctx;
	if (!r)
		return RVM_E_NOTFOUND;
	*out = *r;
	return RVM_OK;
}

/*
 * Every journal entry is bound to its record by seq and hash: a single one to its
 * agent.hostcall record, a batch to its agent.hostcall_batch record. Returns the entries
 * of kind.
 */
static size_t check_journal(uint16_t kind)
{
	struct rvm_journal_entry e;
	struct rvm_journal_bind_report rep;
	size_t off = RVM_JOURNAL_HEADER, n = 0;
	enum rvm_err err;

	assert_int_equal(rvm_kernel_journal_bind_all(&kern), RVM_OK);
	assert_int_equal(rvm_journal_flush(&world->journal), RVM_OK);
	assert_int_equal(rvm_witness_flush(&kern.witness), RVM_OK);
	read_log();
	assert_int_equal(rvm_journal_check_header(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL]),
			 RVM_OK);
	assert_int_equal(rvm_journal_bind_check(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL],
						lookup_rec, NULL, &rep),
			 RVM_OK);
	assert_int_equal(rep.unbound, 0);
	assert_int_equal(rep.entries, world->journal.entries);
	while ((err = rvm_journal_next(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL], &off,
				       &e)) == RVM_OK)
		n += e.kind == kind;
	assert_int_equal(err, RVM_E_EMPTY);
	return n;
}

/* Offset of the n-th RECV entry with a message in the journal written so far. */
static size_t nth_recv(size_t nth)
{
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER, at = off;

	while (rvm_journal_next(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL], &off, &e) ==
	       RVM_OK) {
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

	while (rvm_journal_next(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL], &off, &e) ==
	       RVM_OK) {
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
	size_t len = ms.len[RVM_SINK_JOURNAL], at = nth_recv(5);
	uint8_t *copy = malloc(len), d[32];
	struct rvm_journal_bind_report rep;
	uint32_t plen, pad;

	assert_non_null(copy);
	memcpy(copy, ms.buf[RVM_SINK_JOURNAL], len);
	assert_true(rvm_load_le16(copy + at + 14) & RVM_JOURNAL_F_BATCH);
	plen = rvm_load_le32(copy + at + 16);
	copy[at + RVM_JOURNAL_HEAD + RVM_JOURNAL_RECV_PREFIX] ^= 0x40;
	assert_int_equal(rvm_journal_bind_check(copy, len, lookup_rec, NULL, &rep), RVM_E_TAMPER);
	assert_string_equal(rep.why, "batch does not match the hash in its record");
	/* Drop the entry instead: the batch comes up one short. */
	memcpy(copy, ms.buf[RVM_SINK_JOURNAL], len);
	pad = RVM_JOURNAL_HEAD + ((plen + 7u) & ~7u);
	memmove(copy + at, copy + at + pad, len - at - pad);
	assert_int_equal(rvm_journal_bind_check(copy, len - pad, lookup_rec, NULL, &rep),
			 RVM_E_TAMPER);
	assert_string_equal(rep.why, "batch has another number of entries than its record");
	/* A single entry (the sink's START: module hash and arguments). */
	memcpy(copy, ms.buf[RVM_SINK_JOURNAL], len);
	at = first_single(RVM_JK_START);
	plen = rvm_load_le32(copy + at + 16);
	copy[at + RVM_JOURNAL_HEAD + 3] ^= 1;
	assert_int_equal(rvm_journal_bind_check(copy, len, lookup_rec, NULL, &rep), RVM_E_TAMPER);
	assert_int_equal(rep.bad_off, at);
	assert_string_equal(rep.why, "payload does not match its hash");
	SHA256(copy + at + RVM_JOURNAL_HEAD, plen, d);
	memcpy(copy + at + 24, d, 8);
	assert_int_equal(rvm_journal_bind_check(copy, len, lookup_rec, NULL, &rep), RVM_E_TAMPER);
	assert_string_equal(rep.why, "entry does not match its agent.hostcall record");
	free(copy);
}

static void test_pipeline_messages_journaled(void **state)
{
	uint32_t ms_, mk, s, k, ps, pk;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(1);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	ps = new_part();
	pk = new_part();
	s = spawn(ms_, "s", ps, ALL_RIGHTS, 1, 1);
	k = spawn(mk, "k", pk, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_E_EXISTS);
	assert_int_equal(rvm_kernel_connect(&kern, s, s, NULL), RVM_E_INVAL);
	/* Different partitions: the channel rides a kernel CommEdge. */
	assert_true(world->chans[0].edge.id != RVM_OBJ_NULL);
	slices(200, 20000);
	check_channels();
	assert_true(world->agents[k].received > 100);
	assert_int_equal(world->agents[s].traps + world->agents[k].traps, 0);
	/* Every received message is in the journal, bound to its record. */
	assert_int_equal(check_journal(RVM_JK_RECV), world->agents[k].received);
	assert_true(count_action(RVM_ACT_IPC_SEND) > 0 && count_action(RVM_ACT_IPC_RECV) > 0);
	/* Batched: far fewer binding records than messages, and no record per message. */
	assert_true(count_action(RVM_ACT_HOSTCALL_BATCH) * 4 < world->agents[k].received);
	assert_true(count_action(RVM_ACT_IPC_RECV) * 4 < world->agents[k].received);
	check_journal_tamper();
	/* Moving the receiver in with the sender: the edge goes, delivery continues, in order. */
	assert_int_equal(rvm_kernel_agent_move(&kern, k, ps), RVM_OK);
	assert_true(world->chans[0].edge.id == RVM_OBJ_NULL);
	assert_int_equal(world->parts.p[ps].agents, 2);
	slices(100, 20000);
	check_channels();
	assert_int_equal(check_journal(RVM_JK_RECV), world->agents[k].received);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* Two chatty partitions merge through the epochs; messages keep flowing, none lost. */
static void test_epochs_merge(void **state)
{
	uint32_t ms_, mk, s, k, ps, pk;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(2);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	ps = new_part();
	pk = new_part();
	s = spawn(ms_, "s", ps, ALL_RIGHTS, 1, 1);
	k = spawn(mk, "k", pk, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_OK);
	for (int e = 0; e < 30 && world->merges == 0; e++) {
		struct rvm_epoch_report rep;

		slices(20, 20000);
		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
	assert_int_equal(world->merges, 1);
	assert_int_equal(world->agents[s].part, world->agents[k].part);
	/* The merged table holds exactly one live agent cap per agent, each the agent's own. */
	{
		const struct rvm_cap_table *t = &world->gate.caps->tables[world->agents[s].part];
		uint32_t agent_caps = 0;

		for (uint32_t i = 0; i < RVM_CAP_TABLE_SLOTS; i++)
			if (t->slots[i].state == RVM_CAPS_LIVE && t->slots[i].type == RVM_OBJ_AGENT)
				agent_caps++;
		assert_int_equal(agent_caps, 2);
		assert_int_equal(rvm_cap_check(&world->gate, world->agents[s].part,
					       world->agents[s].cap, RVM_OBJ_AGENT, world->agents[s].id, 0),
				 RVM_OK);
	}
	slices(40, 20000);
	check_channels();
	read_log();
	assert_int_equal(count_action(RVM_ACT_PARTITION_MERGE), 1);
	assert_true(count_action(RVM_ACT_COHERENCE_EPOCH) >= 1);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	boot_swarm(2);
	mk = load("sink", 0);
	for (uint32_t i = 0; i < 4; i++) {
		p[i] = new_part();
		(void)spawn(mk, "k", p[i], ALL_RIGHTS, 0, 0);
	}
	for (uint32_t e = 0; e < 200; e++) {
		struct rvm_epoch_report rep;
		uint32_t a = (e / 10u) % 2u ? 900u : 1000u;

		assert_int_equal(rvm_coh_observe(&world->pcoh, p[0], p[1], a), RVM_OK);
		assert_int_equal(rvm_coh_observe(&world->pcoh, p[2], p[3], 1900u - a), RVM_OK);
		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
	assert_int_equal(world->sched.cpu_of[p[0]], world->sched.cpu_of[p[1]]);
	assert_int_equal(world->sched.cpu_of[p[2]], world->sched.cpu_of[p[3]]);
	assert_int_not_equal(world->sched.cpu_of[p[0]], world->sched.cpu_of[p[2]]);
	/* One placement moves at most all four partitions once. */
	assert_true(world->migrations <= 4);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	boot_swarm(2);
	mc = load("chatty", 0);
	p[0] = new_part();
	p[1] = new_part();
	for (uint32_t i = 0; i < 4; i++) {
		int64_t args[4] = { i, 4, 4, 1000000 };

		assert_int_equal(rvm_kernel_agent_spawn(&kern, mc, "c", p[i / 2], ALL_RIGHTS, 100, args,
							&a[i]),
				 RVM_OK);
	}
	for (uint32_t i = 0; i < 4; i++)
		for (uint32_t j = 0; j < 4; j++)
			if (i != j)
				assert_int_equal(rvm_kernel_connect(&kern, a[i], a[j], NULL), RVM_OK);
	for (int e = 0; e < 40 && world->merges == 0; e++) {
		struct rvm_epoch_report rep;

		slices(16, 20000);
		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
	assert_int_equal(world->merges, 1);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(world->agents[a[i]].part, world->agents[a[0]].part);
	slices(16, 20000);
	check_channels();
	read_log();
	assert_int_equal(count_action(RVM_ACT_PARTITION_MERGE), 1);
	assert_int_equal(count_action(RVM_ACT_CAP_DENIED), 0);
	assert_int_equal(count_action(RVM_ACT_GATE_DENIED), 0);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* A trapping agent takes F1 (restart, witnessed) until the escalation stops it. */
static void test_trap_recovery(void **state)
{
	uint32_t ms_, mf, s, f, p;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(1);
	ms_ = load("sensor", 0);
	mf = load("flaky", 0);
	p = new_part();
	s = spawn(ms_, "s", p, ALL_RIGHTS, 1, 1);
	f = spawn(mf, "f", new_part(), ALL_RIGHTS, 0, 5);
	assert_int_equal(rvm_kernel_connect(&kern, s, f, NULL), RVM_OK);
	slices(400, 20000);
	assert_int_equal(world->agents[f].restarts, RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(world->agents[f].traps, RVM_AGENT_MAX_RESTARTS + 1);
	assert_int_equal(world->agents[f].state, RVM_AGENT_STOPPED);
	assert_int_equal(world->recoveries, RVM_AGENT_MAX_RESTARTS);
	/* Each life handled exactly 4 messages (the 5th divides by zero). */
	assert_int_equal(world->agents[f].received, 5u * (RVM_AGENT_MAX_RESTARTS + 1));
	check_channels();
	assert_int_equal(check_journal(RVM_JK_START), 2 + RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(count_action(RVM_ACT_AGENT_TRAP), RVM_AGENT_MAX_RESTARTS + 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F1), RVM_AGENT_MAX_RESTARTS);
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_AGENT_TRAP)
			assert_int_equal(recs[i].arg0, RVM_WASM_TRAP_DIV_ZERO);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
		{ 1, ALL_RIGHTS, true, "" },
		{ 2, ALL_RIGHTS, true, "" },
		{ 3, ALL_RIGHTS, true, "" },
		{ 4, ALL_RIGHTS & ~RVM_AGENT_RIGHT_SEND, false, "result -3" },
		{ 5, ALL_RIGHTS, false, "result -3" },
		{ 6, ALL_RIGHTS, false, "result -2" },
	};

	(void)state;
	if (!have_agents())
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t mr, mk, r, k;

		boot_swarm(1);
		mr = load("rogue", 0);
		mk = load("sink", 0);
		r = spawn(mr, "r", new_part(), cases[i].rights, cases[i].mode, 0);
		k = spawn(mk, "k", new_part(), ALL_RIGHTS, 0, 0);
		assert_int_equal(rvm_kernel_connect(&kern, r, k, NULL), RVM_OK);
		slices(6, 20000);
		if (cases[i].traps) {
			assert_true(world->agents[r].traps >= 1);
		} else {
			assert_int_equal(world->agents[r].traps, 0);
			assert_string_equal(world->agents[r].last_log, cases[i].log);
		}
		assert_int_equal(world->agents[k].received, 0);
		read_log();
		if (cases[i].mode == 4 || cases[i].mode == 5)
			assert_true(count_action(RVM_ACT_CAP_DENIED) >= 1);
		for (size_t j = 0; cases[i].traps && j < nrecs; j++)
			if (recs[j].action == RVM_ACT_AGENT_TRAP)
				assert_int_equal(recs[j].arg0, RVM_WASM_TRAP_HOST);
		assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
	}
}

/* Records of action in the log from seq `from` on. */
static size_t count_action_from(uint16_t action, uint64_t from)
{
	size_t n = 0;

	for (size_t i = from; i < nrecs; i++)
		n += recs[i].action == action;
	return n;
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
	struct rvm_nodeset move = { 0 }, all = { 0 };
	uint64_t before, got1, gotb;
	const struct rvm_witness_record *r = NULL;

	(void)state;
	if (!have_agents() || RVM_MAX_PARTITIONS < 5)
		skip();
	boot_swarm(1);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	a = new_part();
	b = new_part();
	/* Partition a: two sensor -> sink pairs; s1 also feeds kb in partition b (an edge). */
	s1 = spawn(ms_, "s1", a, ALL_RIGHTS, 1, 2);
	k1 = spawn(mk, "k1", a, ALL_RIGHTS, 0, 0);
	s2 = spawn(ms_, "s2", a, ALL_RIGHTS, 2, 1);
	k2 = spawn(mk, "k2", a, ALL_RIGHTS, 0, 0);
	kb = spawn(mk, "kb", b, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s1, k1, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&kern, s1, kb, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&kern, s2, k2, NULL), RVM_OK);
	slices(60, 20000);
	/* Refused: every agent cannot leave (RVM_E_INVAL), witnessed, nothing moves. */
	for (uint32_t i = 0; i < 4; i++)
		rvm_nodeset_add(&all, (uint32_t[]){ s1, k1, s2, k2 }[i]);
	assert_int_equal(rvm_kernel_split(&kern, a, &all, 0, &to), RVM_E_INVAL);
	assert_int_equal(rvm_kernel_split(&kern, RVM_KPARTS, &all, 0, &to), RVM_E_INVAL);
	assert_int_equal(world->parts.p[a].agents, 4);
	assert_int_equal(world->splits, 0);
	before = kern.witness.next_seq;
	got1 = world->agents[k1].received;
	gotb = world->agents[kb].received;
	rvm_nodeset_add(&move, s1);
	rvm_nodeset_add(&move, k1);
	assert_int_equal(rvm_kernel_split(&kern, a, &move, 100, &to), RVM_OK);
	assert_int_equal(world->splits, 1);
	read_log();
	/* One partition.split, the kernel's: target the old partition, arg0 its slot, arg1 new. */
	assert_int_equal(count_action_from(RVM_ACT_PARTITION_SPLIT, before), 1);
	for (size_t i = before; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_PARTITION_SPLIT)
			r = &recs[i];
	assert_non_null(r);
	assert_true(r->target == world->parts.p[a].id && r->arg0 == a && r->arg1 == to);
	assert_int_equal(r->flags, 0);
	assert_int_equal(count_action_from(RVM_ACT_PARTITION_CREATE, before), 1);
	/* s1's and k1's own caps and s1's send end of the edge to kb. */
	assert_int_equal(count_action_from(RVM_ACT_CAP_MOVE, before), 3);
	assert_int_equal(count_action_from(RVM_ACT_EDGE_REPOINT, before), 1);
	assert_int_equal(count_action_from(RVM_ACT_SPLIT_ABORT, before), 0);
	assert_int_equal(count_action_from(RVM_ACT_GATE_DENIED, before), 0);
	assert_int_equal(count_action_from(RVM_ACT_CAP_DENIED, before), 0);
	/* The agents followed their caps; the pair's channel stays local, the edge to kb was
	 * re-pointed (same edge object), and the new partition is queued. */
	assert_int_equal(world->agents[s1].part, to);
	assert_int_equal(world->agents[k1].part, to);
	assert_int_equal(world->agents[s2].part, a);
	assert_int_equal(world->parts.p[a].agents, 2);
	assert_int_equal(world->parts.p[to].agents, 2);
	assert_int_equal(world->coh.group[s1], to);
	assert_true(world->sched.cpu_of[to] != RVM_SCHED_NONE);
	assert_int_equal(rvm_cap_check(&world->gate, to, world->agents[s1].cap, RVM_OBJ_AGENT,
				       world->agents[s1].id, RVM_AGENT_RIGHT_SEND),
			 RVM_OK);
	for (uint32_t i = 0; i < world->nchans; i++) {
		const struct rvm_chan *c = &world->chans[i];

		if (c->src == s1 && c->dst == kb) {
			assert_true(c->edge.id != RVM_OBJ_NULL);
			assert_int_equal(c->edge_src, to);
			assert_int_equal(rvm_edge_find(&world->ipc, c->edge.id)->src, to);
		}
		if (c->src == s1 && c->dst == k1)
			assert_true(c->edge.id == RVM_OBJ_NULL);
	}
	slot = to;
	slices(120, 20000);
	check_channels();
	assert_true(world->agents[k1].received > got1 && world->agents[kb].received > gotb);
	assert_int_equal(world->agents[s1].part, slot);
	check_journal(RVM_JK_RECV);
	read_log();
	assert_int_equal(count_action(RVM_ACT_CAP_DENIED), 0);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* The epoch's own splits take the same path: two pairs that never talk to each other in one
 * partition come apart, through rvm_partition_split's records. */
static void test_epoch_split_is_partition_split(void **state)
{
	uint32_t ms_, mk, s1, k1, s2, k2, a;
	uint64_t before;
	const struct rvm_witness_record *r = NULL;

	(void)state;
	if (!have_agents() || !RVM_HAS_COHERENCE)
		skip();
	boot_swarm(1);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	a = new_part();
	s1 = spawn(ms_, "s1", a, ALL_RIGHTS, 1, 1);
	k1 = spawn(mk, "k1", a, ALL_RIGHTS, 0, 0);
	s2 = spawn(ms_, "s2", a, ALL_RIGHTS, 2, 1);
	k2 = spawn(mk, "k2", a, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s1, k1, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&kern, s2, k2, NULL), RVM_OK);
	before = kern.witness.next_seq;
	for (int e = 0; e < 40 && world->splits == 0; e++) {
		struct rvm_epoch_report rep;

		slices(20, 20000);
		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
	assert_int_equal(world->splits, 1);
	assert_int_equal(world->agents[s1].part, world->agents[k1].part);
	assert_int_equal(world->agents[s2].part, world->agents[k2].part);
	assert_true(world->agents[s1].part != world->agents[s2].part);
	read_log();
	for (size_t i = before; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_PARTITION_SPLIT)
			r = &recs[i];
	assert_non_null(r);
	/* The kernel's record (target the old partition, its slot, the new slot), after the
	 * create and the two agent caps' moves. */
	assert_true(r->target == world->parts.p[a].id && r->arg0 == a);
	assert_true(r->arg1 == world->agents[s1].part || r->arg1 == world->agents[s2].part);
	assert_int_equal(count_action_from(RVM_ACT_CAP_MOVE, before), 2);
	assert_int_equal(count_action_from(RVM_ACT_SPLIT_ABORT, before), 0);
	check_channels();
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* A partition in flight between CPUs lands before it splits (a trust drop must not fail on
 * it: rvm_partition_split refuses a migrating partition). */
static void test_split_lands_migration(void **state)
{
	uint32_t ms_, mk, s, k, p;

	(void)state;
	if (!have_agents() || RVM_MAX_CPUS < 2)
		skip();
	boot_swarm(2);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	p = new_part();
	s = spawn(ms_, "s", p, ALL_RIGHTS, 1, 1);
	k = spawn(mk, "k", p, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_OK);
	slices(20, 20000);
	assert_int_equal(rvm_migrate_begin(&world->parts, &world->sched, RVM_CAP_KERNEL_TABLE,
					   world->pcap[p], 1u - world->sched.cpu_of[p],
					   plat.now_ns(plat.ctx), &world->mig),
			 RVM_OK);
	assert_true(world->parts.p[p].migrating);
	assert_int_equal(rvm_kernel_set_trust(&kern, s, 10), RVM_OK);
	assert_false(world->mig.active);
	assert_false(world->parts.p[p].migrating);
	assert_true(world->agents[s].part != p && world->agents[s].quarantined);
	assert_int_equal(world->migrations, 1);
	slices(40, 20000);
	check_channels();
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* Trust below the floor: split off alone, spawning taken away, witnessed. */
static void test_trust_quarantine(void **state)
{
	uint32_t ms_, mk, s, k, p;
	int64_t before;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(1);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	p = new_part();
	s = spawn(ms_, "s", p, ALL_RIGHTS | RVM_AGENT_RIGHT_SPAWN, 1, 1);
	k = spawn(mk, "k", p, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_OK);
	slices(20, 20000);
	assert_int_equal(rvm_kernel_set_trust(&kern, s, 80), RVM_OK);
	assert_int_equal(world->agents[s].part, p);
	assert_int_equal(rvm_kernel_set_trust(&kern, s, 10), RVM_OK);
	assert_true(world->agents[s].part != p && world->agents[s].quarantined);
	assert_int_equal(world->agents[s].rights & RVM_AGENT_RIGHT_SPAWN, 0);
	/* Its cap says so too (the split moved the old one; it was replaced). */
	assert_int_equal(rvm_cap_check(&world->gate, world->agents[s].part, world->agents[s].cap,
				       RVM_OBJ_AGENT, world->agents[s].id, RVM_AGENT_RIGHT_SPAWN),
			 RVM_E_PERM);
	assert_int_equal(rvm_cap_check(&world->gate, world->agents[s].part, world->agents[s].cap,
				       RVM_OBJ_AGENT, world->agents[s].id, RVM_AGENT_RIGHT_SEND),
			 RVM_OK);
	assert_int_equal(world->parts.p[world->agents[s].part].agents, 1);
	assert_int_equal(world->coh.group[s], RVM_COH_NO_GROUP);
	before = (int64_t)world->agents[k].received;
	slices(40, 20000);
	assert_true((int64_t)world->agents[k].received > before);
	check_channels();
	read_log();
	assert_int_equal(count_action(RVM_ACT_PARTITION_SPLIT), 1);
	assert_int_equal(count_action(RVM_ACT_SPLIT_ABORT), 0);
	/* The kernel's split: its record names the old partition and both slots. */
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_PARTITION_SPLIT)
			assert_true(recs[i].target == world->parts.p[p].id && recs[i].arg0 == p &&
				    recs[i].arg1 == world->agents[s].part);
	assert_int_equal(rvm_kernel_set_trust(&kern, 200, 10), RVM_E_INVAL);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* rvm.spawn: a hub starts its clients from a template and answers each of them. */
static void test_spawn_hub(void **state)
{
	uint32_t mh, h;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(2);
	mh = load("hub", 0);
	(void)load("client", RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV);
	h = spawn(mh, "hub", new_part(), ALL_RIGHTS | RVM_AGENT_RIGHT_SPAWN, 3, 0);
	slices(300, 20000);
	assert_int_equal(world->nagents, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(world->agents[i].traps, 0);
		assert_true(world->agents[i].received > 10);
	}
	assert_int_equal(world->agents[h].nout, 3);
	check_channels();
	assert_int_equal(check_journal(RVM_JK_SPAWN), 3);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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

	for (int s = 0; s < RVM_SINK_COUNT; s++)
		free(ms.buf[s]);
	for (uint32_t i = 0; i < NMEM; i++) {
		free(mem[i].arena);
		free(mem[i].memory);
	}
	for (int i = 0; i < 16; i++)
		free(arenas[i]);
	free(world);
	free(recs);
	return rc;
}
