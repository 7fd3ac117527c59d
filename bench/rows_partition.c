/* bench/rows_partition.c - IPC round trip and partition switch, ours vs a pipe and a futex ping-pong;
 * split + merge. */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hosted.h>
#include <rvm/gate.h>
#include <rvm/ipc.h>
#include <rvm/reshape.h>
#include <rvm/sched.h>
#include <rvm/vmid.h>
#include <rvm/witness.h>

#include "bench.h"

/* One kernel's worth of state: two running partitions, an edge each way, scheduler, VMIDs. */
struct part_bench {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_witness_log wlog;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_part_pool pool;
	struct rvm_ipc ipc;
	struct rvm_sched sched;
	struct rvm_vmid_table vmids;
	uint32_t a, b;
	struct rvm_edge_caps ab, ba;
};

static struct part_bench *part_bench_new(void)
{
	struct part_bench *b = calloc(1, sizeof(*b));
	struct rvm_witness_config cfg;
	struct rvm_sched_config sc;
	rvm_obj_id id;
	rvm_cap_t ca, cb;

	if (!b || rvm_hosted_open(&b->hosted, NULL, RVM_HOSTED_QUIET, &b->plat) != RVM_OK)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	memset(cfg.boot_nonce, 7, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&b->wlog, &b->plat, &cfg) != RVM_OK)
		abort();
	rvm_obj_init(&b->objs);
	rvm_cap_space_init(&b->caps, &b->objs, b->plat.sha256);
	rvm_map_init(&b->maps);
	rvm_gate_init(&b->gate, &b->caps, &b->wlog, &b->maps);
	rvm_part_pool_init(&b->pool, &b->gate);
	rvm_ipc_init(&b->ipc, &b->pool, NULL);
	rvm_sched_config_default(&sc);
	rvm_sched_init(&b->sched, &b->pool, &sc);
	rvm_vmid_init(&b->vmids, &b->pool);
	if (rvm_partition_create(&b->pool, 0, &b->a, &id, &ca) != RVM_OK ||
	    rvm_partition_create(&b->pool, 0, &b->b, &id, &cb) != RVM_OK ||
	    rvm_partition_op(&b->pool, 0, ca, RVM_PART_START) != RVM_OK ||
	    rvm_partition_op(&b->pool, 0, cb, RVM_PART_START) != RVM_OK ||
	    rvm_edge_create(&b->ipc, 0, ca, cb, &b->ab) != RVM_OK ||
	    rvm_edge_create(&b->ipc, 0, cb, ca, &b->ba) != RVM_OK ||
	    rvm_sched_enqueue(&b->sched, 0, b->a, 0) != RVM_OK ||
	    rvm_sched_enqueue(&b->sched, 0, b->b, 0) != RVM_OK)
		abort();
	return b;
}

static void part_bench_free(struct part_bench *b)
{
	rvm_hosted_close(&b->hosted);
	free(b);
}

/* a -> b, b -> a: four gated, witnessed operations (send, recv, send, recv). */
static void ours_ipc(void *ctx, uint64_t iters)
{
	struct part_bench *b = ctx;
	struct rvm_ipc_desc d = { .length = 64 }, got;

	for (uint64_t i = 0; i < iters; i++) {
		d.tag = i;
		if (rvm_ipc_send(&b->ipc, b->a, b->ab.send, &d) != RVM_OK ||
		    rvm_ipc_recv(&b->ipc, b->b, b->ab.recv, &got) != RVM_OK ||
		    rvm_ipc_send(&b->ipc, b->b, b->ba.send, &got) != RVM_OK ||
		    rvm_ipc_recv(&b->ipc, b->a, b->ba.recv, &d) != RVM_OK)
			abort();
	}
	rvm_bench_sink(&d, sizeof(d));
}

/* Peer threads: an echo thread on two pipes, and a futex ping-pong. */
struct peer {
	int to[2], from[2];
	pthread_t th;
	_Atomic uint32_t word; /* futex: 1 = main's turn done, wake the echo; 2 = echo's done */
	_Atomic int stop;
};

static void *pipe_echo(void *arg)
{
	struct peer *p = arg;
	char c;

	while (read(p->to[0], &c, 1) == 1 && c != 'q')
		if (write(p->from[1], &c, 1) != 1)
			break;
	return NULL;
}

static void peer_pipe(void *ctx, uint64_t iters)
{
	struct peer *p = ctx;
	char c = 'x';

	for (uint64_t i = 0; i < iters; i++)
		if (write(p->to[1], &c, 1) != 1 || read(p->from[0], &c, 1) != 1)
			abort();
}

static void run_ipc_roundtrip(struct rvm_bench_result *out)
{
	struct part_bench *b = part_bench_new();
	struct peer p;

	memset(&p, 0, sizeof(p));
	if (pipe(p.to) || pipe(p.from) || pthread_create(&p.th, NULL, pipe_echo, &p))
		abort();
	rvm_bench_pair(ours_ipc, b, peer_pipe, &p, 2000, 15, &out->ours_ns, &out->peer_ns);
	if (write(p.to[1], "q", 1) != 1)
		abort();
	pthread_join(p.th, NULL);
	close(p.to[0]);
	close(p.to[1]);
	close(p.from[0]);
	close(p.from[1]);
	snprintf(out->note, sizeof(out->note),
		 "4 gated+witnessed ops, 1 thread; peer 2 threads, 2 pipes");
	part_bench_free(b);
}

RVM_BENCH_ROW(ipc_roundtrip, "pipe", "ratio <= 1.0", run_ipc_roundtrip)

/* Two switches: pick the next partition (Flow mode) and enter its VMID, twice. */
static void ours_switch(void *ctx, uint64_t iters)
{
	struct part_bench *b = ctx;
	uint32_t part = 0;
	uint16_t vmid = 0;
	bool flush;

	for (uint64_t i = 0; i < 2 * iters; i++)
		if (rvm_sched_pick(&b->sched, 0, i, &part) != RVM_OK ||
		    rvm_vmid_acquire(&b->vmids, 0, part, &vmid, &flush) != RVM_OK)
			abort();
	rvm_bench_sink(&vmid, sizeof(vmid));
}

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

static void *futex_echo(void *arg)
{
	struct peer *p = arg;

	uint32_t seen;

	for (;;) {
		/* Sleep only on the value just checked: a 1 stored after the check (and its wake,
		 * sent before this thread slept) makes the wait return at once. Re-reading the word
		 * for the wait lost that wake and hung the row. */
		while ((seen = atomic_load(&p->word)) != 1) {
			if (atomic_load(&p->stop))
				return NULL;
			futex(&p->word, FUTEX_WAIT_PRIVATE, seen);
		}
		atomic_store(&p->word, 2);
		futex(&p->word, FUTEX_WAKE_PRIVATE, 1);
	}
}

static void peer_futex(void *ctx, uint64_t iters)
{
	struct peer *p = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		atomic_store(&p->word, 1);
		futex(&p->word, FUTEX_WAKE_PRIVATE, 1);
		while (atomic_load(&p->word) != 2)
			futex(&p->word, FUTEX_WAIT_PRIVATE, 1);
	}
}

static void run_partition_switch(struct rvm_bench_result *out)
{
	struct part_bench *b = part_bench_new();
	struct peer p;

	memset(&p, 0, sizeof(p));
	if (pthread_create(&p.th, NULL, futex_echo, &p))
		abort();
	rvm_bench_pair(ours_switch, b, peer_futex, &p, 2000, 15, &out->ours_ns, &out->peer_ns);
	atomic_store(&p.stop, 1);
	atomic_store(&p.word, 3);
	futex(&p.word, FUTEX_WAKE_PRIVATE, 1);
	pthread_join(p.th, NULL);
	snprintf(out->note, sizeof(out->note),
		 "per 2 switches: sched pick + VMID, no world switch; peer futex ping-pong");
	part_bench_free(b);
}

RVM_BENCH_ROW(partition_switch, "futex", "ratio <= 1.0", run_partition_switch)

/*
 * Split + merge: partition a (4 agents, each with a cap of its own, and both
 * edge caps) splits off agents 2 and 3 along with their caps and the send
 * edge, then the new partition merges back (caps move back). No peer: no
 * library splits a capability-holding domain.
 */
#define SB_CAPS 6u

struct split_bench {
	struct part_bench *b;
	struct rvm_coherence coh;
	struct rvm_reshape_work work;
	struct rvm_reshape_env env;
	struct rvm_split_use use[SB_CAPS];
	uint32_t table[SB_CAPS]; /* where each used cap lives now */
	rvm_cap_t ca;
	struct rvm_split_req req;
	struct rvm_merge_limits lim;
};

/* Each used cap's current table and handle, after a split or merge moved some. */
static void sb_follow(struct split_bench *sb)
{
	for (uint32_t i = 0; i < SB_CAPS; i++) {
		uint32_t t;
		rvm_cap_t h;

		if (rvm_cap_moves_find(&sb->work.moves, sb->table[i], sb->use[i].handle, &t, &h) ==
		    RVM_OK) {
			sb->table[i] = t;
			sb->use[i].handle = h;
		}
	}
}

static void ours_split_merge(void *ctx, uint64_t iters)
{
	struct split_bench *sb = ctx;
	struct rvm_split_result out;

	for (uint64_t i = 0; i < iters; i++) {
		if (rvm_partition_split(&sb->env, 0, &sb->req, &out) != RVM_OK)
			abort();
		sb_follow(sb);
		if (out.caps != 3 || out.edges != 1 ||
		    rvm_partition_merge_env(&sb->env, 0, out.cap, sb->ca, &sb->lim) != RVM_OK)
			abort();
		sb_follow(sb);
		/* The cap to the merged-away partition is dead: its holder drops it. */
		if (rvm_cap_delete(&sb->b->gate, 0, out.cap) != RVM_OK)
			abort();
	}
}

static void run_split_merge(struct rvm_bench_result *out)
{
	struct split_bench *sb = calloc(1, sizeof(*sb));
	struct rvm_coh_config cc;
	const struct rvm_cap *c;
	rvm_obj_id oid;
	uint64_t seq0;

	if (!sb)
		abort();
	sb->b = part_bench_new();
	rvm_coh_config_default(&cc);
	if (rvm_coh_init(&sb->coh, &cc, 16) != RVM_OK)
		abort();
	sb->env = (struct rvm_reshape_env){ .pp = &sb->b->pool, .coh = &sb->coh,
					    .ipc = &sb->b->ipc, .work = &sb->work };
	/* The kernel's cap to a: the partition's root cap is in table 0 at slot 0. */
	sb->ca = rvm_cap_handle_of(&sb->b->caps, rvm_cap_ref(0, 0));
	if (rvm_cap_resolve(&sb->b->caps, 0, sb->ca, &c) != RVM_OK ||
	    rvm_partition_find(&sb->b->pool, c->object) != &sb->b->pool.p[sb->b->a])
		abort();
	sb->b->pool.p[sb->b->a].agents = 4;
	for (uint32_t i = 0; i < 4; i++) {
		rvm_cap_t h;

		if (rvm_obj_create(&sb->b->objs, RVM_OBJ_AGENT, &oid) != RVM_OK ||
		    rvm_cap_mint(&sb->b->gate, sb->b->a, RVM_OBJ_AGENT, oid, RVM_RIGHTS_ALL, &h) !=
			    RVM_OK)
			abort();
		sb->use[i] = (struct rvm_split_use){ h, i, 1, RVM_USE_CAP };
		rvm_nodeset_add(&sb->req.members, i);
	}
	sb->use[4] = (struct rvm_split_use){ sb->b->ab.send, 2, 5, RVM_USE_CAP };
	sb->use[5] = (struct rvm_split_use){ sb->b->ba.recv, 0, 5, RVM_USE_CAP };
	for (uint32_t i = 0; i < SB_CAPS; i++)
		sb->table[i] = sb->b->a;
	rvm_nodeset_add(&sb->req.move, 2);
	rvm_nodeset_add(&sb->req.move, 3);
	sb->req.cap = sb->ca;
	sb->req.use = sb->use;
	sb->req.nuse = SB_CAPS;
	sb->req.cut_weight = 100;
	sb->lim = (struct rvm_merge_limits){ .max_agents = 8, .max_mem_bytes = UINT64_MAX,
					     .min_mutual = 5000 };
	seq0 = sb->b->wlog.next_seq;
	out->ours_ns = rvm_bench_time(ours_split_merge, sb, 200, 15);
	out->peer_ns = 0;
	/* rvm_bench_time runs one warm-up pass and 15 timed ones. */
	snprintf(out->note, sizeof(out->note),
		 "split 4 agents 2|2 (3 caps, 1 edge move) + merge back + drop cap; %.0f witness rec/iter",
		 (double)(sb->b->wlog.next_seq - seq0) / (200.0 * 16.0));
	part_bench_free(sb->b);
	free(sb);
}

RVM_BENCH_ROW(partition_split_merge, NULL, "< 10000 ns", run_split_merge)
