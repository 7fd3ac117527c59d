/* bench/rows_buddy.c - buddy allocator alloc/free cycles vs glibc malloc/free of the same sizes. */
#include <stdio.h>
#include <stdlib.h>

#include <rvm/buddy.h>

#include "bench.h"

#define ARENA (64u * 1024u * 1024u)
#define MIXED_LIVE 256
/* Many short interleaved rounds: a burst of load on the shared machine hits few of them. */
#define ROUNDS 101

struct buddy_ctx {
	struct rvm_buddy b;
	struct rvm_buddy_frame frames[ARENA / 4096];
	unsigned orders[MIXED_LIVE];
	uint64_t addrs[MIXED_LIVE];
	void *ptrs[MIXED_LIVE];
	unsigned free_order[MIXED_LIVE]; /* a shuffled freeing order */
};

static struct buddy_ctx ctx;

/*
 * The allocator manages addresses only and never touches the memory, so the
 * range needs no backing here: a 64 MiB range at 1 GiB, like a RAM bank.
 */
static void setup(void)
{
	struct rvm_phys_range r = { 1ull << 30, ARENA };
	uint64_t s = 7;

	if (rvm_buddy_init(&ctx.b, ctx.frames, ARENA / 4096, &r, 1) != RVM_OK)
		abort();
	for (unsigned i = 0; i < MIXED_LIVE; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		ctx.orders[i] = (unsigned)(s >> 60) % 5; /* 4 KiB .. 64 KiB */
		ctx.free_order[i] = i;
	}
	for (unsigned i = MIXED_LIVE - 1; i > 0; i--) {
		unsigned j, t;

		s = s * 6364136223846793005ull + 1442695040888963407ull;
		j = (unsigned)(s >> 33) % (i + 1);
		t = ctx.free_order[i];
		ctx.free_order[i] = ctx.free_order[j];
		ctx.free_order[j] = t;
	}
}

static void ours_one(void *c, uint64_t iters)
{
	uint64_t a = 0;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		rvm_buddy_alloc(&ctx.b, 0, 0, &a);
		rvm_buddy_free(&ctx.b, a);
	}
	rvm_bench_sink(&a, sizeof(a));
}

/* A 4 KiB and an 8 KiB block live at once, freed in allocation order. */
static void ours_pair(void *c, uint64_t iters)
{
	uint64_t a = 0, d = 0;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		rvm_buddy_alloc(&ctx.b, 0, 0, &a);
		rvm_buddy_alloc(&ctx.b, 1, 0, &d);
		rvm_buddy_free(&ctx.b, a);
		rvm_buddy_free(&ctx.b, d);
	}
	rvm_bench_sink(&a, sizeof(a));
	rvm_bench_sink(&d, sizeof(d));
}

static void peer_pair(void *c, uint64_t iters)
{
	void *p = NULL, *q = NULL;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		p = malloc(4096);
		q = malloc(8192);
		rvm_bench_sink(&p, sizeof(p));
		rvm_bench_sink(&q, sizeof(q));
		free(p);
		free(q);
	}
}

static void peer_one(void *c, uint64_t iters)
{
	void *p = NULL;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		p = malloc(4096);
		rvm_bench_sink(&p, sizeof(p));
		free(p);
	}
}

/* One iteration: MIXED_LIVE blocks of orders 0..4 allocated, then freed shuffled. */
static void ours_mixed(void *c, uint64_t iters)
{
	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		for (unsigned k = 0; k < MIXED_LIVE; k++)
			rvm_buddy_alloc(&ctx.b, ctx.orders[k], 0, &ctx.addrs[k]);
		for (unsigned k = 0; k < MIXED_LIVE; k++)
			rvm_buddy_free(&ctx.b, ctx.addrs[ctx.free_order[k]]);
	}
	rvm_bench_sink(ctx.addrs, sizeof(ctx.addrs));
}

static void peer_mixed(void *c, uint64_t iters)
{
	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		for (unsigned k = 0; k < MIXED_LIVE; k++)
			ctx.ptrs[k] = malloc((size_t)4096 << ctx.orders[k]);
		rvm_bench_sink(ctx.ptrs, sizeof(ctx.ptrs));
		for (unsigned k = 0; k < MIXED_LIVE; k++)
			free(ctx.ptrs[ctx.free_order[k]]);
	}
}

/*
 * Steady state: the allocator is in use (one frame live), so a 4 KiB cycle
 * takes the free buddy frame and gives it back, as it does in a running kernel.
 */
static void run_one(struct rvm_bench_result *out)
{
	uint64_t held;

	setup();
	if (rvm_buddy_alloc(&ctx.b, 0, 0, &held) != RVM_OK)
		abort();
	rvm_bench_pair(ours_one, NULL, peer_one, NULL, 20000, ROUNDS, &out->ours_ns, &out->peer_ns);
	if (rvm_buddy_check_invariants(&ctx.b) != RVM_OK)
		abort();
	snprintf(out->note, sizeof(out->note), "one 4 KiB block, alloc+free, allocator in use");
}

/*
 * From a fully coalesced allocator: each cycle splits a 4 MiB block 10 times
 * and merges it back. The split's halves stay a record until the next
 * operation (kernel/buddy.c), so freeing the block right away merges them in
 * one step.
 */
static void run_cold(struct rvm_bench_result *out)
{
	setup();
	rvm_bench_pair(ours_one, NULL, peer_one, NULL, 20000, ROUNDS, &out->ours_ns, &out->peer_ns);
	if (rvm_buddy_check_invariants(&ctx.b) != RVM_OK)
		abort();
	snprintf(out->note, sizeof(out->note), "4 KiB from all-free: 10 splits, 10 merges");
}

/*
 * The same with a 4 KiB and an 8 KiB block live: the second allocation takes
 * the 8 KiB half off the split's record; freeing the 4 KiB block merges its
 * buddy half from the record and links the 8 KiB result; freeing the other
 * unlinks it and merges the eight halves left. Per pair (two allocs, two frees).
 */
static void run_cold_pair(struct rvm_bench_result *out)
{
	setup();
	rvm_bench_pair(ours_pair, NULL, peer_pair, NULL, 10000, ROUNDS, &out->ours_ns, &out->peer_ns);
	if (rvm_buddy_check_invariants(&ctx.b) != RVM_OK)
		abort();
	snprintf(out->note, sizeof(out->note), "4 KiB + 8 KiB from all-free, both freed; per pair");
}

static void run_mixed(struct rvm_bench_result *out)
{
	setup();
	rvm_bench_pair(ours_mixed, NULL, peer_mixed, NULL, 20, ROUNDS, &out->ours_ns, &out->peer_ns);
	if (rvm_buddy_check_invariants(&ctx.b) != RVM_OK)
		abort();
	/* Per block: an alloc and a free. */
	out->ours_ns /= MIXED_LIVE;
	out->peer_ns /= MIXED_LIVE;
	snprintf(out->note, sizeof(out->note), "%d blocks of 4-64 KiB, freed shuffled; per block",
		 MIXED_LIVE);
}

/*
 * glibc returns freed memory to the kernel past 128 KiB of free top: the
 * tunables keep it in user space so the rows compare allocators, not syscalls.
 */
#define GLIBC_NO_TRIM \
	"GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432"

RVM_BENCH_ROW_ENV(buddy_alloc_free, "glibc-malloc", "ratio < 1.0", run_one, GLIBC_NO_TRIM)
RVM_BENCH_ROW_ENV(buddy_alloc_free_cold, "glibc-malloc", "ratio < 1.0", run_cold, GLIBC_NO_TRIM)
RVM_BENCH_ROW_ENV(buddy_alloc_free_cold_pair, "glibc-malloc", "ratio < 1.0", run_cold_pair,
		  GLIBC_NO_TRIM)
RVM_BENCH_ROW_ENV(buddy_alloc_free_mixed, "glibc-malloc", "ratio < 1.0", run_mixed, GLIBC_NO_TRIM)
