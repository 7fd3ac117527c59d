/* tests/unit/test_kernel_recover.c - the swarm kernel's checkpoints and DC-14 recovery: snapshot
 * blobs, F1-F3 re-running agents against their input tapes (nothing lost, nothing sent twice,
 * F3 skipping the faulting message), tape overflow, escalation, checkpoint cadence. */
#include "support.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>
#include <rvm/kernel_recover.h>
#include <rvm/witness_file.h>
#include <rvm/world.h>

#define CAP  (64u << 20)
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

/* The checkpoint store: objects in memory, replaced whole by a put. */
#define NCKPT 64u
static struct {
	uint64_t id[NCKPT];
	uint8_t *buf[NCKPT];
	size_t len[NCKPT];
	uint32_t n;
} store;

static bool store_fail; /* the store refuses every put (a checkpoint that cannot be taken) */

static enum rvm_err st_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	uint32_t i;

	(void)ctx;
	if (store_fail)
		return RVM_E_IO;
	for (i = 0; i < store.n && store.id[i] != id; i++)
		;
	if (i == NCKPT)
		return RVM_E_NOMEM;
	free(store.buf[i]);
	store.buf[i] = malloc(n);
	memcpy(store.buf[i], buf, n);
	store.id[i] = id;
	store.len[i] = n;
	if (i == store.n)
		store.n++;
	return RVM_OK;
}

static enum rvm_err st_get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	(void)ctx;
	for (uint32_t i = 0; i < store.n; i++)
		if (store.id[i] == id) {
			if (store.len[i] > cap)
				return RVM_E_NOMEM;
			memcpy(buf, store.buf[i], store.len[i]);
			*len = store.len[i];
			return RVM_OK;
		}
	return RVM_E_NOTFOUND;
}

static struct msink ms;
static const struct rvm_platform plat = {.ctx = &ms,
					 .name = "test",
					 .now_ns = ms_now,
					 .cpu_count = ms_cpus,
					 .sink_append = ms_append,
					 .sink_sync = ms_sync,
					 .entropy = ms_entropy,
					 .checkpoint_put = st_put,
					 .checkpoint_get = st_get};
static struct rvm_kernel kern;
static struct rvm_world *world;
static struct rvm_agent_mem mem[NMEM];
static uint8_t hkey[32] = {7};

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
	for (uint32_t i = 0; i < store.n; i++) {
		free(store.buf[i]);
		store.buf[i] = NULL;
	}
	store.n = 0;
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
	int64_t args[4] = {a0, a1, 0, 0};
	uint32_t n;

	assert_int_equal(rvm_kernel_agent_spawn(&kern, mod, name, part, rights, 100, args, &n),
			 RVM_OK);
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

/* Every journal entry is bound to its record (agent.hostcall or a batch's); entries of kind. */
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

static struct rvm_kernel_recovery *krec;
static uint8_t *ckbuf, *rawbuf, *blobbuf;

static void attach(uint32_t repeat)
{
	struct rvm_kernel_recovery_config c = {.every = 4, .per_epoch = 2, .repeat = repeat};

	if (!krec) {
		krec = calloc(1, sizeof(*krec));
		ckbuf = malloc(8u << 20);
		rawbuf = malloc(1u << 20);
		blobbuf = malloc(4u << 20);
	}
	assert_int_equal(rvm_kernel_recovery_attach(NULL, krec, &c, ckbuf, 8u << 20, rawbuf,
						    1u << 20, blobbuf, 4u << 20),
			 RVM_E_INVAL);
	assert_int_equal(rvm_kernel_recovery_attach(&kern, krec, &c, ckbuf, 8u << 20, rawbuf,
						    1u << 20, blobbuf, 4u << 20),
			 RVM_OK);
}

/* Slices on CPU 0 with little fuel until agent a has received `want` messages. */
static void run_until_received(uint32_t a, uint64_t want)
{
	for (int i = 0; i < 100000 && world->agents[a].received < want; i++)
		slices(1, 300);
	assert_true(world->agents[a].received >= want);
}

/* Slices until agent a has trapped `n` times; returns what it had received at that trap. */
static uint64_t run_until_trap(uint32_t a, uint64_t n)
{
	for (int i = 0; i < 100000 && world->agents[a].traps < n; i++)
		slices(1, 300);
	assert_int_equal(world->agents[a].traps, n);
	return world->agents[a].received;
}

/* ---- replay against the input tapes ---- */

/* The number of journal entry `idx` of the batch (or single entry) bound at seq. */
static bool journal_entry_at(uint64_t seq, uint32_t idx, struct rvm_journal_entry *out)
{
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER;
	uint32_t n = 0;

	while (rvm_journal_next(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL], &off, &e) ==
	       RVM_OK)
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
	while (rvm_journal_next(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL], &off, &e) ==
	       RVM_OK) {
		const struct rvm_witness_record *next = rec_at(e.seq + 1);

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

	for (size_t i = 0; i < nrecs; i++)
		n += recs[i].action == action && recs[i].flags == flags;
	return n;
}

/* Stops the source, drains the pipeline, checks every channel: nothing lost or queued. */
static void drain(uint32_t src)
{
	world->agents[src].state = RVM_AGENT_STOPPED;
	for (int i = 0; i < 2000; i++)
		slices(1, 2000);
	check_channels();
	for (uint32_t i = 0; i < world->nchans; i++)
		assert_int_equal(world->chans[i].head, world->chans[i].tail);
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

	boot_swarm(1);
	attach(repeat);
	p = new_part();
	*s = spawn(load("sensor", 0), "s", p, ALL_RIGHTS, 1, 1);
	*f = spawn(load("filter", 0), "f", p, ALL_RIGHTS, 1, 0);
	*k = spawn(load("sink", 0), "k", p, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, *s, *f, ch), RVM_OK);
	assert_int_equal(rvm_kernel_connect(&kern, *f, *k, NULL), RVM_OK);
	run_until_received(*f, 10);
	assert_int_equal(rvm_kernel_checkpoint(&kern, p, &info), RVM_OK);
	assert_true(info.agents == 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(krec->tape[i].base == info.id && krec->tape[i].used == 0);
	r0 = (uint32_t)world->agents[*f].received;
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
	if (!have_agents())
		skip();
	p = pipeline(1, 40, &s, &f, &k, &ch);
	assert_true(krec->tape[f].msgs >= 40);
	assert_int_equal(rvm_kernel_inject_fault(&kern, f), RVM_OK);
	run_until_trap(f, 1);
	assert_int_equal(world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(krec->replays, 1);
	assert_true(krec->msgs_replayed >= 40);
	assert_int_equal(krec->rollbacks, 0);
	before = world->agents[f].received;
	run_until_received(f, before + 30);
	/* The second fault within the window: F2, every agent of p rebuilt. */
	assert_int_equal(rvm_kernel_inject_fault(&kern, f), RVM_OK);
	run_until_trap(f, 2);
	assert_int_equal(krec->rollbacks, 1);
	assert_int_equal(krec->replays, 4);
	assert_int_equal(krec->replay_failed, 0);
	assert_int_equal(krec->skipped, 0);
	run_until_received(f, world->agents[f].received + 30);
	drain(s);
	assert_int_equal(world->agents[s].sent, world->agents[f].received);
	assert_int_equal(world->agents[f].sent, world->agents[k].received);
	assert_int_equal(check_journal(RVM_JK_RESUME), 4);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F1), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F2), 1);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, 0), 4);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 0);
	assert_int_equal(count_action(RVM_ACT_RECOVER_SKIP), 0);
	/* Each agent the rollback rebuilt is back where it was: its DIGEST before (the life
	 * that ended) and after the replay (the life that goes on) hold the same memory. */
	for (size_t i = 0; i < nrecs; i++) {
		const struct rvm_witness_record *r = &recs[i];
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
			while (rvm_journal_next(ms.buf[RVM_SINK_JOURNAL], ms.len[RVM_SINK_JOURNAL],
						&off, &e) == RVM_OK && e.seq < d.seq)
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
	assert_int_equal(n, world->agents[f].received);
	assert_true(replayed >= 70);
	assert_consecutive(seqs, n, -1);
	n = live_seqs(k, seqs, sizeof(seqs) / sizeof(seqs[0]), &replayed);
	assert_int_equal(n, world->agents[k].received);
	assert_consecutive(seqs, n, -1);
	assert_int_equal(world->parts.p[p].agents, 3);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	pipeline(3, 25, &s, &f, &k, &ch);
	c = &world->chans[ch];
	while (c->head == c->tail)
		slices(1, 300);
	c->len[(c->head - 1) & (RVM_CHAN_RING - 1)] = 12;
	poisoned = (int32_t)rvm_load_le32(c->data[(c->head - 1) & (RVM_CHAN_RING - 1)] + 4);
	run_until_trap(f, 1);
	assert_int_equal(world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(krec->skipped, 1);
	assert_int_equal(krec->rollbacks, 1); /* F2 failed on the filter, F3 went through */
	run_until_received(f, world->agents[f].received + 40);
	drain(s);
	assert_int_equal(world->agents[f].traps, 1);
	check_journal(RVM_JK_RESUME);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F1), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F2), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F3), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F4), 0);
	assert_int_equal(count_action(RVM_ACT_RECOVER_SKIP), 1);
	for (size_t i = 0; i < nrecs; i++) {
		if (recs[i].action == RVM_ACT_RECOVER_SKIP)
			skip = &recs[i];
		if (recs[i].action == RVM_ACT_FAULT)
			fault = &recs[i];
		/* F1's replay of the filter came back to the trap and is refused (E_TRAP);
		 * F2 and F3 know the trap is deterministic and do not re-run it to the trap. */
		if (recs[i].action == RVM_ACT_RECOVER_REPLAY && recs[i].flags)
			assert_true(recs[i].target == f && recs[i].arg1 == RVM_E_TRAP);
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
	assert_true(n == world->agents[f].received && n > (size_t)poisoned);
	n = live_seqs(k, seqs, sizeof(seqs) / sizeof(seqs[0]), &replayed);
	assert_consecutive(seqs, n, poisoned);
	assert_int_equal(n, world->agents[k].received);
	assert_int_equal(n + 1, world->agents[f].received);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	boot_swarm(1);
	attach(3);
	ms_ = load("sensor", 0);
	mf = load("flaky", 0);
	ps = new_part();
	pf = new_part();
	s = spawn(ms_, "s", ps, ALL_RIGHTS, 1, 1);
	f = spawn(mf, "f", pf, ALL_RIGHTS, 0, 5);
	assert_int_equal(rvm_kernel_connect(&kern, s, f, NULL), RVM_OK);
	/* No checkpoint of a partition without ready agents; a bad slot is refused. */
	assert_int_equal(rvm_kernel_checkpoint(&kern, 0, NULL), RVM_E_INVAL);
	run_until_received(f, 2);
	assert_int_equal(rvm_kernel_checkpoint(&kern, pf, &info), RVM_OK);
	assert_true(info.agents == 1 && info.caps >= 1 && info.edges == 1);
	sensor_sent = world->agents[s].sent;
	assert_int_equal(run_until_trap(f, 1), 5);
	assert_int_equal(krec->skipped, 1);
	assert_int_equal(world->agents[f].state, RVM_AGENT_READY);
	/* Every later message traps at once (the counter stays at 5): one skip each. */
	assert_int_equal(run_until_trap(f, 2), 6);
	assert_int_equal(krec->skipped, 2);
	for (int i = 0; i < 200 && world->agents[f].state == RVM_AGENT_READY; i++)
		slices(20, 300);
	assert_int_equal(world->agents[f].state, RVM_AGENT_STOPPED);
	assert_int_equal(world->agents[f].restarts, RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(krec->skipped, RVM_AGENT_MAX_RESTARTS);
	assert_true(world->agents[s].sent > sensor_sent); /* the other partition runs on */
	check_channels();
	check_journal(RVM_JK_RESUME);
	assert_int_equal(count_action(RVM_ACT_FAULT), RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(count_action(RVM_ACT_RECOVER_SKIP), RVM_AGENT_MAX_RESTARTS);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F4), 0);
	for (size_t i = 0; i < nrecs; i++) {
		const struct rvm_witness_record *r = &recs[i];

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
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	boot_swarm(1);
	attach(3);
	ms_ = load("sensor", 0);
	mf = load("flaky", 0);
	s = spawn(ms_, "s", new_part(), ALL_RIGHTS, 1, 1);
	f = spawn(mf, "f", new_part(), ALL_RIGHTS, 0, 3);
	assert_int_equal(rvm_kernel_connect(&kern, s, f, NULL), RVM_OK);
	assert_int_equal(run_until_trap(f, 1), 3);
	assert_int_equal(world->agents[f].state, RVM_AGENT_READY);
	assert_int_equal(krec->skipped, 1);
	assert_true(krec->from_module >= 2);
	assert_int_equal(krec->from_snapshot, 0);
	assert_int_equal(world->recoveries, 1);
	check_journal(RVM_JK_START);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F3), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F4), 0);
	assert_int_equal(count_action(RVM_ACT_STATE_RESTORE), 0);
	assert_int_equal(count_action(RVM_ACT_STATE_CHECKPOINT), 1);
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_RECOVER_REPLAY)
			assert_int_equal(recs[i].arg0, 0); /* from the module */
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* A deterministic trap with no input to blame (rogue mode 1 logs from outside its memory at
 * once): F1 and F2 bring it back, F3 has no message to drop, F4 stops the agent (the swarm
 * never reboots under the others). */
static void test_nothing_to_blame_stops(void **state)
{
	uint32_t r;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(1);
	attach(3);
	r = spawn(load("rogue", 0), "r", new_part(), ALL_RIGHTS, 1, 0);
	run_until_trap(r, 1);
	assert_int_equal(world->agents[r].state, RVM_AGENT_STOPPED);
	assert_int_equal(krec->stopped, 1);
	assert_int_equal(krec->skipped, 0);
	assert_int_equal(world->recoveries, 0);
	check_journal(RVM_JK_START);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F2), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F3), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_F4), 1);
	assert_int_equal(count_action(RVM_ACT_RECOVER_SKIP), 0);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 1);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	boot_swarm(1);
	attach(100);
	mc = load("chatty", 0);
	p = new_part();
	for (uint32_t i = 0; i < 4; i++) {
		int64_t args[4] = {i, 2, 4, 50};

		assert_int_equal(rvm_kernel_agent_spawn(&kern, mc, "c", p, ALL_RIGHTS, 100, args,
							&ag[i]),
				 RVM_OK);
	}
	for (uint32_t i = 0; i < 4; i++)
		for (uint32_t j = 0; j < 4; j++)
			if (i != j)
				assert_int_equal(rvm_kernel_connect(&kern, ag[i], ag[j], NULL), RVM_OK);
	slices(40, 700);
	assert_int_equal(rvm_kernel_checkpoint(&kern, p, NULL), RVM_OK);
	for (uint32_t f = 0; f < 24; f++) {
		uint32_t v = ag[f % 4];
		uint64_t traps = world->agents[v].traps;

		slices(7 + f % 5, 300 + 37 * f);
		/* Half of them while it sits in yield (the others held, their rings fill up): the
		 * fault then strikes right after the yield's retry, with no fuel charged since. */
		for (uint32_t i = 0; i < 4 && f % 2; i++)
			if (ag[i] != v)
				world->agents[ag[i]].state = RVM_AGENT_STOPPED;
		for (int i = 0; i < 2000 && f % 2 && !world->agents[v].yielded; i++)
			slices(1, 50 + i % 200);
		for (uint32_t i = 0; i < 4 && f % 2; i++) {
			yielded += ag[i] == v && world->agents[v].yielded;
			world->agents[ag[i]].state = RVM_AGENT_READY;
		}
		if (rvm_kernel_inject_fault(&kern, v) != RVM_OK)
			continue;
		for (int i = 0; i < 1000 && world->agents[v].traps == traps; i++)
			slices(1, 300);
		assert_int_equal(world->agents[v].traps, traps + 1);
	}
	assert_true(yielded >= 6);
	assert_int_equal(krec->replay_failed, 0);
	assert_int_equal(krec->stopped, 0);
	assert_true(krec->replays >= 24);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(world->agents[ag[i]].state, RVM_AGENT_READY);
	check_channels();
	check_journal(RVM_JK_RESUME);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 0);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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
	if (!have_agents())
		skip();
	boot_swarm(1);
	attach(3);
	krec->cfg.every = 1000000; /* no cadence: only the tapes ask for checkpoints */
	p = new_part();
	s = spawn(load("sensor", 0), "s", p, ALL_RIGHTS, 1, 1);
	k = spawn(load("sink", 0), "k", p, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_checkpoint(&kern, p, &info), RVM_OK);
	for (int i = 0; i < 200000 && krec->forced == 0; i++)
		slices(1, 3000);
	assert_int_equal(krec->forced, 1);
	slices(1, 3000);
	/* Taken at the end of the slice that crossed the mark: the tape starts again. */
	assert_int_equal(krec->checkpoints, 2);
	assert_true(krec->tape[k].base != info.id && krec->tape[k].used < RVM_TAPE_HIGH);
	assert_int_equal(krec->tapes_lost, 0);
	/* Now the store refuses: the next full tape is given up, on record. */
	store_fail = true;
	for (int i = 0; i < 200000 && krec->tapes_lost == 0; i++)
		slices(1, 3000);
	store_fail = false;
	assert_int_equal(krec->tapes_lost, 1);
	assert_int_equal(krec->tape[k].state, RVM_TAPE_LOST);
	assert_true(krec->ckpt_failed >= 1);
	base = krec->tape[k].base;
	read_log();
	assert_int_equal(count_action(RVM_ACT_TAPE_LOST), 1);
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_TAPE_LOST)
			assert_true(recs[i].target == k && recs[i].arg0 == base &&
				    recs[i].arg1 == RVM_E_IO);
	/* Its next fault: back to its snapshot alone, said so; the tape is replayable again. */
	assert_int_equal(rvm_kernel_inject_fault(&kern, k), RVM_OK);
	run_until_trap(k, 1);
	assert_int_equal(krec->fallbacks, 1);
	assert_int_equal(world->agents[k].state, RVM_AGENT_READY);
	assert_int_equal(krec->tape[k].state, RVM_TAPE_OK);
	run_until_received(k, world->agents[k].received + 20);
	check_channels();
	check_journal(RVM_JK_RESUME);
	assert_int_equal(count_flagged(RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED), 1);
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].action == RVM_ACT_RECOVER_REPLAY)
			assert_true(recs[i].target == k && recs[i].arg0 == base &&
				    recs[i].arg1 == RVM_E_FULL);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/* The cadence: every partition with agents, each at most every `every` epochs; a busy one is
 * held (none of its agents starts) and checkpointed when the running slice ends. */
static void test_checkpoint_cadence(void **state)
{
	uint32_t ms_, mk, s, k, p1, p2;

	(void)state;
	if (!have_agents())
		skip();
	boot_swarm(1);
	attach(3);
	ms_ = load("sensor", 0);
	mk = load("sink", 0);
	p1 = new_part();
	p2 = new_part();
	s = spawn(ms_, "s", p1, ALL_RIGHTS, 1, 1);
	k = spawn(mk, "k", p2, ALL_RIGHTS, 0, 0);
	assert_int_equal(rvm_kernel_connect(&kern, s, k, NULL), RVM_OK);
	assert_int_equal(rvm_kernel_checkpoint_tick(&kern), 2);
	assert_int_equal(rvm_kernel_checkpoint_tick(&kern), 0); /* not due yet */
	/* Epochs counted by hand: a real epoch would merge these two chatty partitions. */
	for (int e = 0; e < 8; e++) {
		slices(20, 2000);
		world->epochs++;
		(void)rvm_kernel_checkpoint_tick(&kern);
	}
	/* 8 epochs at every = 4: two more rounds. */
	assert_int_equal(krec->checkpoints, 6);
	/* A running agent holds its partition's checkpoint until its slice ends. */
	world->agents[s].running = true;
	krec->last[p1] = 0;
	krec->last[p2] = world->epochs + 1;
	assert_int_equal(rvm_kernel_checkpoint(&kern, p1, NULL), RVM_E_BUSY);
	assert_int_equal(rvm_kernel_checkpoint_tick(&kern), 0);
	assert_int_equal(krec->pending[p1], 1);
	world->agents[s].running = false;
	slices(1, 2000); /* p1 is held: the sink's slice ends and takes nothing of p1's */
	assert_int_equal(krec->pending[p1], 1);
	assert_int_equal(rvm_kernel_checkpoint_tick(&kern), 1);
	assert_int_equal(krec->pending[p1], 0);
	assert_int_equal(krec->checkpoints, 7);
	read_log();
	assert_int_equal(count_action(RVM_ACT_STATE_CHECKPOINT), 7);
	/* Each checkpoint is preceded by its partition's live digest. */
	assert_int_equal(count_action(RVM_ACT_STATE_DIGEST), 7);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
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

	return cmocka_run_group_tests(tests, NULL, NULL);
}
