/* tests/support/kernel_world.c - a booted hosted kernel world for unit tests: memory sinks and
 * checkpoint store, example agents, slices run until a condition holds, the log read back. */
#include "kernel_world.h"

#include "support.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- boot ---- */

void rvm_tw_fresh(struct rvm_tw *tw)
{
	rvm_memplat_reset(&tw->ms, &tw->plat, 1000, RVM_TW_SINK_CAP);
	tw->ms.cpus = 4;
	memset(tw->key, 0, sizeof(tw->key));
	tw->key[0] = 7;
	free(tw->world);
	tw->world = calloc(1, sizeof(*tw->world));
	assert_non_null(tw->world);
	for (uint32_t i = 0; i < RVM_TW_MEM; i++) {
		struct rvm_agent_mem *am = &tw->mem[i];

		if (!am->arena) {
			am->arena = malloc(256u << 10);
			am->arena_size = 256u << 10;
			am->memory_cap = 2u * RVM_WASM_PAGE;
			am->memory = malloc(am->memory_cap);
			assert_true(am->arena && am->memory);
		}
		/* The kernel is handed zeroed agent memory. */
		memset(am->memory, 0, am->memory_cap);
	}
	tw->narenas = 0;
}

void rvm_tw_config(struct rvm_tw *tw, struct rvm_kernel_config *c, uint32_t ncpus)
{
	memset(c, 0, sizeof(*c));
	c->witness.chain = RVM_CHAIN_SHA256;
	c->witness.sig = RVM_SIG_HMAC_SHA256;
	c->witness.checkpoint_every = 256;
	memcpy(c->witness.key, tw->key, 32);
	memset(c->witness.boot_nonce, 3, 16);
	c->agent_mem = tw->mem;
	c->agent_mem_count = RVM_TW_MEM;
	c->ncpus = ncpus;
}

void rvm_tw_boot(struct rvm_tw *tw, uint32_t ncpus, uint32_t max_part_agents)
{
	struct rvm_kernel_config c;

	rvm_tw_fresh(tw);
	rvm_tw_config(tw, &c, ncpus);
	c.max_partition_agents = max_part_agents;
	assert_int_equal(rvm_kernel_boot_full(&tw->kern, &tw->plat, tw->world, &c), RVM_OK);
}

void rvm_tw_free(struct rvm_tw *tw)
{
	rvm_memplat_free(&tw->ms);
	for (uint32_t i = 0; i < RVM_TW_MEM; i++) {
		free(tw->mem[i].arena);
		free(tw->mem[i].memory);
		tw->mem[i].arena = tw->mem[i].memory = NULL;
	}
	for (uint32_t i = 0; i < RVM_TW_ARENAS; i++) {
		free(tw->arena[i]);
		tw->arena[i] = NULL;
	}
	free(tw->world);
	free(tw->recs);
	free(tw->reader);
	free(tw->rec);
	free(tw->ckbuf);
	free(tw->rawbuf);
	free(tw->blobbuf);
	tw->world = NULL;
	tw->recs = NULL;
	tw->nrecs = 0;
	tw->reader = NULL;
	tw->rec = NULL;
	tw->ckbuf = tw->rawbuf = tw->blobbuf = NULL;
}

/* ---- agents ---- */

bool rvm_tw_have_agents(struct rvm_tw *tw, const char *probe)
{
	const char *bin = getenv("RVM_BIN");
	char tmp[1024], path[1200];
	FILE *f;

	if (!bin) {
		printf("SKIP: RVM_BIN unset: no example agents to load\n");
		return false;
	}
	snprintf(tmp, sizeof(tmp), "%s", bin);
	snprintf(tw->agents_dir, sizeof(tw->agents_dir), "%s/../../examples/agents", dirname(tmp));
	snprintf(path, sizeof(path), "%s/%s.wasm", tw->agents_dir, probe);
	if (!(f = fopen(path, "rb"))) {
		printf("SKIP: %s.wasm not built (no wasm toolchain?)\n", probe);
		return false;
	}
	fclose(f);
	return true;
}

uint32_t rvm_tw_load(struct rvm_tw *tw, const char *name, uint8_t rights)
{
	char path[1200];
	size_t len;
	uint8_t *bytes;
	uint32_t idx;
	struct rvm_wasm_error werr;

	assert_true(tw->narenas < RVM_TW_ARENAS);
	snprintf(path, sizeof(path), "%s/%s.wasm", tw->agents_dir, name);
	bytes = (uint8_t *)rvm_test_read_file(path, &len);
	assert_non_null(bytes);
	if (!tw->arena[tw->narenas])
		tw->arena[tw->narenas] = malloc(RVM_TW_ARENA_SIZE);
	assert_non_null(tw->arena[tw->narenas]);
	assert_int_equal(rvm_kernel_module_load(&tw->kern, name, bytes, len, tw->arena[tw->narenas],
						RVM_TW_ARENA_SIZE, rights, 100, &idx, &werr),
			 RVM_OK);
	tw->narenas++;
	free(bytes);
	return idx;
}

uint32_t rvm_tw_part(struct rvm_tw *tw)
{
	uint32_t p;

	assert_int_equal(rvm_kernel_partition_new(&tw->kern, RVM_MAX_CPUS, &p), RVM_OK);
	return p;
}

uint32_t rvm_tw_spawn_args(struct rvm_tw *tw, uint32_t mod, const char *name, uint32_t part,
			   uint8_t rights, const int64_t args[RVM_AGENT_ARGS])
{
	uint32_t n;

	assert_int_equal(rvm_kernel_agent_spawn(&tw->kern, mod, name, part, rights, 100, args, &n),
			 RVM_OK);
	return n;
}

uint32_t rvm_tw_spawn(struct rvm_tw *tw, uint32_t mod, const char *name, uint32_t part,
		      uint8_t rights, int64_t a0, int64_t a1)
{
	int64_t args[RVM_AGENT_ARGS] = {a0, a1};

	return rvm_tw_spawn_args(tw, mod, name, part, rights, args);
}

void rvm_tw_mesh(struct rvm_tw *tw, const uint32_t *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++)
			if (i != j)
				assert_int_equal(rvm_kernel_connect(&tw->kern, a[i], a[j], NULL),
						 RVM_OK);
}

/* ---- running ---- */

void rvm_tw_slices(struct rvm_tw *tw, uint32_t n, uint64_t fuel)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rvm_slice s;

		assert_int_equal(rvm_kernel_run_slice(&tw->kern, i % tw->world->ncpus, fuel, &s),
				 RVM_OK);
	}
}

bool rvm_tw_run(struct rvm_tw *tw, uint32_t max, uint64_t fuel, rvm_tw_cond done, const void *arg)
{
	for (uint32_t i = 0; i < max && !done(tw, arg); i++) {
		struct rvm_slice s;

		assert_int_equal(rvm_kernel_run_slice(&tw->kern, i % tw->world->ncpus, fuel, &s),
				 RVM_OK);
	}
	return done(tw, arg);
}

struct counter_goal {
	const uint64_t *counter;
	uint64_t want;
};

static bool counter_reached(const struct rvm_tw *tw, const void *arg)
{
	const struct counter_goal *g = arg;

	(void)tw;
	return *g->counter >= g->want;
}

bool rvm_tw_run_until(struct rvm_tw *tw, const uint64_t *counter, uint64_t want, uint32_t max,
		      uint64_t fuel)
{
	struct counter_goal g = {counter, want};

	return rvm_tw_run(tw, max, fuel, counter_reached, &g);
}

uint32_t rvm_tw_epochs(struct rvm_tw *tw, uint32_t max, uint32_t n, uint64_t fuel,
		       const uint64_t *stop)
{
	uint32_t e;

	for (e = 0; e < max && !(stop && *stop); e++) {
		struct rvm_epoch_report rep;

		rvm_tw_slices(tw, n, fuel);
		assert_int_equal(rvm_kernel_epoch(&tw->kern, &rep), RVM_OK);
	}
	return e;
}

/* ---- checks ---- */

void rvm_tw_check_channels(const struct rvm_tw *tw)
{
	const struct rvm_world *w = tw->world;

	for (uint32_t i = 0; i < w->nchans; i++) {
		const struct rvm_chan *c = &w->chans[i];

		assert_true(c->head - c->tail <= RVM_CHAN_RING);
		assert_int_equal(c->sent, c->received + (c->head - c->tail));
	}
	assert_int_equal(w->sig_refused, 0);
}

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	struct rvm_tw *tw = ctx;

	tw->recs[tw->nrecs++] = *r;
}

void rvm_tw_read_log(struct rvm_tw *tw)
{
	const struct rvm_witness_verdict *v;
	size_t len;

	if (tw->kern.state == RVM_KERNEL_RUNNING)
		assert_int_equal(rvm_witness_flush(&tw->kern.witness), RVM_OK);
	len = tw->ms.len[RVM_SINK_WITNESS];
	if (!tw->reader)
		tw->reader = malloc(sizeof(*tw->reader));
	assert_non_null(tw->reader);
	free(tw->recs);
	tw->recs = malloc((len / sizeof(struct rvm_witness_record) + 1) * sizeof(*tw->recs));
	assert_non_null(tw->recs);
	tw->nrecs = 0;
	rvm_witness_reader_init(tw->reader, NULL, tw->key, collect, tw);
	rvm_witness_reader_feed(tw->reader, tw->ms.buf[RVM_SINK_WITNESS], len);
	v = rvm_witness_reader_finish(tw->reader);
	assert_int_equal(v->err, RVM_OK);
}

const struct rvm_witness_record *rvm_tw_rec(const struct rvm_tw *tw, uint64_t seq)
{
	return seq < tw->nrecs && tw->recs[seq].seq == seq ? &tw->recs[seq] : NULL;
}

size_t rvm_tw_count(const struct rvm_tw *tw, uint16_t action, uint64_t from)
{
	size_t n = 0;

	for (size_t i = from; i < tw->nrecs; i++)
		n += tw->recs[i].action == action;
	return n;
}

enum rvm_err rvm_tw_lookup_rec(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	const struct rvm_witness_record *r = rvm_tw_rec(ctx, seq);

	if (!r)
		return RVM_E_NOTFOUND;
	*out = *r;
	return RVM_OK;
}

size_t rvm_tw_check_journal(struct rvm_tw *tw, uint16_t kind)
{
	const uint8_t *j = tw->ms.buf[RVM_SINK_JOURNAL];
	struct rvm_journal_entry e;
	struct rvm_journal_bind_report rep;
	size_t off = RVM_JOURNAL_HEADER, n = 0, len;
	enum rvm_err err;

	assert_int_equal(rvm_kernel_journal_bind_all(&tw->kern), RVM_OK);
	assert_int_equal(rvm_journal_flush(&tw->world->journal), RVM_OK);
	assert_int_equal(rvm_witness_flush(&tw->kern.witness), RVM_OK);
	rvm_tw_read_log(tw);
	len = tw->ms.len[RVM_SINK_JOURNAL];
	assert_int_equal(rvm_journal_check_header(j, len), RVM_OK);
	assert_int_equal(rvm_journal_bind_check(j, len, rvm_tw_lookup_rec, tw, &rep), RVM_OK);
	assert_int_equal(rep.unbound, 0);
	assert_int_equal(rep.entries, tw->world->journal.entries);
	while ((err = rvm_journal_next(j, len, &off, &e)) == RVM_OK)
		n += e.kind == kind;
	assert_int_equal(err, RVM_E_EMPTY);
	return n;
}

/* ---- recovery ---- */

void rvm_tw_recovery(struct rvm_tw *tw, const struct rvm_kernel_recovery_config *cfg)
{
	if (!tw->rec) {
		tw->rec = calloc(1, sizeof(*tw->rec));
		tw->ckbuf = malloc(8u << 20);
		tw->rawbuf = malloc(1u << 20);
		tw->blobbuf = malloc(4u << 20);
		assert_true(tw->rec && tw->ckbuf && tw->rawbuf && tw->blobbuf);
	}
	assert_int_equal(rvm_kernel_recovery_attach(&tw->kern, tw->rec, cfg, tw->ckbuf, 8u << 20,
						    tw->rawbuf, 1u << 20, tw->blobbuf, 4u << 20),
			 RVM_OK);
}
