/* bench/rows_replay.c - DC-14 replay in the swarm: re-running an agent against its input tape,
 * and what keeping the tapes costs agent IPC. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <hosted_world.h>

#include "bench.h"

/* One booted kernel writing a real run directory (sinks, checkpoint store), as `rvm run` does,
 * and its sensor -> sink pair. */
struct rb {
	struct rvm_hosted_world *hw;
	struct rvm_hosted_world_pair p;
};

static void rb_free(struct rb *b)
{
	rvm_hosted_world_free(b->hw);
	free(b);
}

/*
 * A sensor in one partition feeding a sink in another (one vCPU), recovery attached or not;
 * NULL if the example agents are not built.
 */
static struct rb *rb_new(bool recovery)
{
	const struct rvm_hosted_world_config cfg = {.run_dir = "/tmp/rvm-bench-replay.XXXXXX",
						    .nmem = 4,
						    .pages = 2,
						    .ncpus = 1,
						    .nonce = 9};
	struct rb *b = calloc(1, sizeof(*b));
	enum rvm_err e;

	if (!b || rvm_hosted_world_new(&cfg, &b->hw) != RVM_OK ||
	    (recovery && rvm_hosted_world_recovery(b->hw, NULL) != RVM_OK))
		abort();
	if ((e = rvm_hosted_world_pair(b->hw, &b->p)) != RVM_OK) {
		if (e != RVM_E_NOTFOUND)
			abort();
		rb_free(b);
		return NULL;
	}
	return b;
}

/* Slices until the sink has received `want` messages; the seconds it took. */
static double run_to(struct rb *b, uint64_t want)
{
	uint64_t t0 = rvm_bench_now_ns();

	while (b->hw->w->agents[b->p.k].received < want) {
		struct rvm_slice sl;

		if (rvm_kernel_run_slice(&b->hw->k, 0, 20000, &sl) != RVM_OK)
			abort();
	}
	return (double)(rvm_bench_now_ns() - t0);
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
		if (rvm_kernel_checkpoint(&b->hw->k, b->hw->w->agents[b->p.k].part, NULL) != RVM_OK)
			abort();
		/* Durable before the timing starts (a fault would wait for it: docs/recovery.md). */
		(void)rvm_kernel_checkpoint_settle(&b->hw->k, true);
		base = b->hw->w->agents[b->p.k].received;
		peer[r] = run_to(b, base + 5000);
		/* Only the sink runs now: its next receive traps and recovery replays it. */
		b->hw->w->agents[b->p.s].state = RVM_AGENT_STOPPED;
		while (b->hw->w->agents[b->p.k].received < b->hw->w->agents[b->p.s].sent)
			(void)run_to(b, b->hw->w->agents[b->p.s].sent);
		if (rvm_kernel_inject_fault(&b->hw->k, b->p.k) != RVM_OK)
			abort();
		t0 = rvm_bench_now_ns();
		while (!b->hw->rec->replays)
			if (rvm_kernel_run_slice(&b->hw->k, 0, 20000, &sl) != RVM_OK)
				abort();
		ours[r] = (double)(rvm_bench_now_ns() - t0);
		msgs = b->hw->rec->msgs_replayed;
		ours[r] /= (double)msgs;
		peer[r] /= (double)(b->hw->w->agents[b->p.k].received - base);
		rb_free(b);
	}
	out->ours_ns = rvm_bench_median(ours, ROUNDS);
	out->peer_ns = rvm_bench_median(peer, ROUNDS);
	snprintf(out->note, sizeof(out->note), "per message; %" PRIu64 " re-run in %.2f ms", msgs,
		 out->ours_ns * (double)msgs / 1e6);
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
		ours[r] = tw / (double)with->hw->w->agents[with->p.k].received;
		peer[r] = tp / (double)without->hw->w->agents[without->p.k].received;
		t0 = rvm_bench_now_ns();
		(void)rvm_kernel_checkpoint_settle(&with->hw->k, true);
		drain[r] = (double)(rvm_bench_now_ns() - t0);
		forced = with->hw->rec->forced;
		puts += with->hw->hosted.store.stats.puts;
		fsync_ns += with->hw->hosted.store.stats.fsync_ns;
		dir_ns += with->hw->hosted.store.stats.dirsync_ns;
		rb_free(with);
		rb_free(without);
	}
	out->ours_ns = rvm_bench_median(ours, ROUNDS);
	out->peer_ns = rvm_bench_median(peer, ROUNDS);
	if (!puts)
		snprintf(out->note, sizeof(out->note),
			 "per message over %" PRIu64 "k; no checkpoint forced", n / 1000);
	else
		snprintf(out->note, sizeof(out->note),
			 "per msg over %" PRIu64 "k; %" PRIu64 " forced, stored off-lock "
			 "(fsync %.1f+dir %.1f ms), tail %.1f ms",
			 n / 1000, forced, (double)fsync_ns / 1e6 / (double)puts,
			 (double)dir_ns / 1e6 / (double)puts, rvm_bench_median(drain, ROUNDS) / 1e6);
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
