/* bench/rows_replay.c - DC-14 replay in the swarm: re-running an agent against its input tape,
 * and what keeping the tapes costs agent IPC. */
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hosted.h>
#include <rvm/kernel_recover.h>

#include "bench.h"

#define NMEM	  4u
#define ARENA	  (256u << 10)
#define MOD_ARENA (2u << 20)
#define RAWCAP	  (2u * 65536u + ARENA)
#define CKCAP	  (8u << 20)

/* One booted kernel writing a real run directory (sinks, checkpoint store), as `rvm run` does. */
struct rb {
	struct rvm_kernel k;
	struct rvm_world *w;
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_agent_mem mem[NMEM];
	struct rvm_kernel_recovery *rec;
	uint8_t *ckbuf, *raw, *blobs, *mod_arena;
	char dir[64];
	bool opened;
	uint32_t s, k_;
};

static uint8_t *read_agent(const char *name, size_t *len)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;
	uint8_t *buf = NULL;
	long sz;

	*len = 0;
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	snprintf(path, sizeof(path), "%s/../examples/agents/%s.wasm", dirname(exe), name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)sz)))
		*len = fread(buf, 1, (size_t)sz, f);
	fclose(f);
	return buf;
}

static void rb_free(struct rb *b)
{
	char cmd[128];

	if (b->k.state == RVM_KERNEL_RUNNING)
		(void)rvm_kernel_shutdown(&b->k);
	if (b->opened) {
		rvm_hosted_close(&b->hosted);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", b->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench: cannot remove %s\n", b->dir);
	}
	for (uint32_t i = 0; i < NMEM; i++) {
		free(b->mem[i].arena);
		free(b->mem[i].memory);
	}
	free(b->w);
	free(b->rec);
	free(b->ckbuf);
	free(b->raw);
	free(b->blobs);
	free(b->mod_arena);
	free(b);
}

/*
 * A sensor in one partition feeding a sink in another (one vCPU), recovery attached or not;
 * NULL if the example agents are not built.
 */
static struct rb *rb_new(bool recovery)
{
	struct rb *b = calloc(1, sizeof(*b));
	struct rvm_kernel_config c = {0};
	uint8_t *sensor, *sink;
	size_t ls, lk;
	uint32_t ms, mk, ps, pk;

	sensor = read_agent("sensor", &ls);
	sink = read_agent("sink", &lk);
	snprintf(b->dir, sizeof(b->dir), "/tmp/rvm-bench-replay.XXXXXX");
	if (!sensor || !sink || !mkdtemp(b->dir) ||
	    rvm_hosted_open(&b->hosted, b->dir, RVM_HOSTED_QUIET | RVM_HOSTED_TRUNCATE, &b->plat) !=
		    RVM_OK) {
		free(sensor);
		free(sink);
		rb_free(b);
		return NULL;
	}
	b->opened = true;
	b->w = calloc(1, sizeof(*b->w));
	b->mod_arena = malloc(MOD_ARENA);
	for (uint32_t i = 0; i < NMEM; i++) {
		b->mem[i].arena = malloc(ARENA);
		b->mem[i].arena_size = ARENA;
		b->mem[i].memory_cap = 2u * 65536u;
		b->mem[i].memory = calloc(1, b->mem[i].memory_cap);
	}
	c.witness.chain = RVM_CHAIN_SHA256;
	c.witness.sig = RVM_SIG_NONE;
	memset(c.witness.boot_nonce, 9, 16);
	c.agent_mem = b->mem;
	c.agent_mem_count = NMEM;
	c.ncpus = 1;
	if (!b->w || !b->mod_arena || rvm_kernel_boot_full(&b->k, &b->plat, b->w, &c) != RVM_OK)
		abort();
	if (recovery) {
		b->rec = calloc(1, sizeof(*b->rec));
		b->ckbuf = malloc(CKCAP);
		b->raw = malloc(RAWCAP);
		b->blobs = malloc(CKCAP);
		if (!b->rec ||
		    rvm_kernel_recovery_attach(&b->k, b->rec, NULL, b->ckbuf, CKCAP, b->raw, RAWCAP,
					       b->blobs, CKCAP) != RVM_OK)
			abort();
	}
	if (rvm_kernel_module_load(&b->k, "sensor", sensor, ls, b->mod_arena, MOD_ARENA / 2, 0, 100,
				   &ms, NULL) ||
	    rvm_kernel_module_load(&b->k, "sink", sink, lk, b->mod_arena + MOD_ARENA / 2,
				   MOD_ARENA / 2, 0, 100, &mk, NULL) ||
	    rvm_kernel_partition_new(&b->k, 0, &ps) || rvm_kernel_partition_new(&b->k, 0, &pk) ||
	    rvm_kernel_agent_spawn(&b->k, ms, "s", ps, RVM_AGENT_RIGHT_SEND, 100,
				   (const int64_t[4]){1, 1, 0, 0}, &b->s) ||
	    rvm_kernel_agent_spawn(&b->k, mk, "k", pk, RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG,
				   100, NULL, &b->k_) ||
	    rvm_kernel_connect(&b->k, b->s, b->k_, NULL))
		abort();
	free(sensor);
	free(sink);
	return b;
}

/* Slices until the sink has received `want` messages; the seconds it took. */
static double run_to(struct rb *b, uint64_t want)
{
	uint64_t t0 = rvm_bench_now_ns();

	while (b->w->agents[b->k_].received < want) {
		struct rvm_slice sl;

		if (rvm_kernel_run_slice(&b->k, 0, 20000, &sl) != RVM_OK)
			abort();
	}
	return (double)(rvm_bench_now_ns() - t0);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define ROUNDS 5

/*
 * One F1: the sink took N messages since its snapshot, then faults (injected); recovery
 * restores it and re-runs it against its tape (each message answered from the tape and
 * journaled again, the fuel and memory checked). Ours: that recovery per message replayed;
 * peer: delivering those messages live (the sensor's send and the sink's receive, gated,
 * witnessed, journaled).
 */
static void run_replay_agent(struct rvm_bench_result *out)
{
	double ours[ROUNDS], peer[ROUNDS];
	uint64_t msgs = 0;

	for (int r = 0; r < ROUNDS; r++) {
		struct rb *b = rb_new(true);
		struct rvm_slice sl;
		uint64_t base, t0;

		if (!b) {
			snprintf(out->note, sizeof(out->note), "example agents not built");
			return;
		}
		(void)run_to(b, 100);
		if (rvm_kernel_checkpoint(&b->k, b->w->agents[b->k_].part, NULL) != RVM_OK)
			abort();
		/* Durable before the timing starts (a fault would wait for it: docs/recovery.md). */
		(void)rvm_kernel_checkpoint_settle(&b->k, true);
		base = b->w->agents[b->k_].received;
		peer[r] = run_to(b, base + 5000);
		/* Only the sink runs now: its next receive traps and recovery replays it. */
		b->w->agents[b->s].state = RVM_AGENT_STOPPED;
		while (b->w->agents[b->k_].received < b->w->agents[b->s].sent)
			(void)run_to(b, b->w->agents[b->s].sent);
		if (rvm_kernel_inject_fault(&b->k, b->k_) != RVM_OK)
			abort();
		t0 = rvm_bench_now_ns();
		while (!b->rec->replays)
			if (rvm_kernel_run_slice(&b->k, 0, 20000, &sl) != RVM_OK)
				abort();
		ours[r] = (double)(rvm_bench_now_ns() - t0);
		msgs = b->rec->msgs_replayed;
		ours[r] /= (double)msgs;
		peer[r] /= (double)(b->w->agents[b->k_].received - base);
		rb_free(b);
	}
	qsort(ours, ROUNDS, sizeof(double), cmp_d);
	qsort(peer, ROUNDS, sizeof(double), cmp_d);
	out->ours_ns = ours[ROUNDS / 2];
	out->peer_ns = peer[ROUNDS / 2];
	snprintf(out->note, sizeof(out->note), "per message; %" PRIu64 " re-run in %.2f ms", msgs,
		 ours[ROUNDS / 2] * (double)msgs / 1e6);
}
RVM_BENCH_ROW(replay_agent_5k, "the same messages delivered live", "faster than live (ratio < 1)",
	      run_replay_agent)

/*
 * Agent IPC with recovery attached: every input also goes on the receiver's tape (a 40-byte
 * entry per 16-byte message; sends fold into a hash), and a tape half full forces a checkpoint:
 * built under the kernel lock, written and fsynced by the hosted store's writer thread while
 * delivery goes on (the tape keeps both generations until the write is durable). Peer: the same
 * kernel without recovery. n messages: 10,000 stay below the mark (the recording alone),
 * 100,000 force checkpoints. Ours stops at the n-th message; the note gives what the store
 * still had to write then (drained before shutdown, untimed) and where its time goes.
 */
#define CHUNK 2000u

static void tape_ipc(struct rvm_bench_result *out, uint64_t n)
{
	double ours[ROUNDS], peer[ROUNDS], drain[ROUNDS];
	uint64_t forced = 0, puts = 0, fsync_ns = 0, dir_ns = 0;

	for (int r = 0; r < ROUNDS; r++) {
		struct rb *with = rb_new(true), *without = rb_new(false);

		if (!with || !without) {
			snprintf(out->note, sizeof(out->note), "example agents not built");
			if (with)
				rb_free(with);
			if (without)
				rb_free(without);
			return;
		}
		double tw = 0, tp = 0;
		uint64_t t0;

		/* Interleaved in chunks, so both see the same machine load; the store's writer
		 * runs on through the peer's chunks (its CPU time lands on either side). */
		for (uint64_t at = CHUNK;; at += CHUNK) {
			uint64_t to = at < n ? at : n;

			tw += run_to(with, to);
			tp += run_to(without, to);
			if (to == n)
				break;
		}
		ours[r] = tw / (double)with->w->agents[with->k_].received;
		peer[r] = tp / (double)without->w->agents[without->k_].received;
		t0 = rvm_bench_now_ns();
		(void)rvm_kernel_checkpoint_settle(&with->k, true);
		drain[r] = (double)(rvm_bench_now_ns() - t0);
		forced = with->rec->forced;
		puts += with->hosted.store.stats.puts;
		fsync_ns += with->hosted.store.stats.fsync_ns;
		dir_ns += with->hosted.store.stats.dirsync_ns;
		rb_free(with);
		rb_free(without);
	}
	qsort(ours, ROUNDS, sizeof(double), cmp_d);
	qsort(peer, ROUNDS, sizeof(double), cmp_d);
	qsort(drain, ROUNDS, sizeof(double), cmp_d);
	out->ours_ns = ours[ROUNDS / 2];
	out->peer_ns = peer[ROUNDS / 2];
	if (!puts)
		snprintf(out->note, sizeof(out->note),
			 "per message over %" PRIu64 "k; no checkpoint forced", n / 1000);
	else
		snprintf(out->note, sizeof(out->note),
			 "per msg over %" PRIu64 "k; %" PRIu64 " forced, stored off-lock "
			 "(fsync %.1f+dir %.1f ms), tail %.1f ms",
			 n / 1000, forced, (double)fsync_ns / 1e6 / (double)puts,
			 (double)dir_ns / 1e6 / (double)puts, drain[ROUNDS / 2] / 1e6);
}

static void run_tape_ipc(struct rvm_bench_result *out)
{
	tape_ipc(out, 10000);
}
RVM_BENCH_ROW(replay_tape_ipc, "agent IPC without tapes", "ratio <= 1.15", run_tape_ipc)

static void run_tape_ipc_forced(struct rvm_bench_result *out)
{
	tape_ipc(out, 100000);
}
RVM_BENCH_ROW(replay_tape_ipc_forced, "agent IPC without tapes", "ratio <= 1.15",
	      run_tape_ipc_forced)
