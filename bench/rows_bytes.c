/* bench/rows_bytes.c - rvm_memmove of 4 KiB, overlapping, both directions, vs glibc memmove. */
#include <stdio.h>
#include <string.h>

#include <rvm/bytes.h>

#include "bench.h"

#define MOVE_LEN 4096

typedef void *move_fn(void *dst, const void *src, size_t n);

/*
 * Each iteration does four overlapping moves of 4 KiB inside one buffer: down and up by a word
 * (aligned: the kernel's tape and capture shifts) and down and up by 13 bytes (unaligned: a
 * wasm memory.copy at arbitrary offsets). Down-moves copy upwards, up-moves copy downwards.
 */
struct move_ctx {
	move_fn *volatile fn; /* volatile: the compiler may not turn the peer into an inline copy */
	_Alignas(64) unsigned char buf[MOVE_LEN + 128];
};

static struct move_ctx ours_ctx = { .fn = rvm_memmove }, peer_ctx = { .fn = memmove };

static void run_moves(void *arg, uint64_t iters)
{
	struct move_ctx *c = arg;
	move_fn *fn = c->fn;

	for (uint64_t i = 0; i < iters; i++) {
		fn(c->buf, c->buf + 8, MOVE_LEN);
		fn(c->buf + 8, c->buf, MOVE_LEN);
		fn(c->buf, c->buf + 13, MOVE_LEN);
		fn(c->buf + 13, c->buf, MOVE_LEN);
	}
	rvm_bench_sink(c->buf, 64);
}

static void run_memmove_4k(struct rvm_bench_result *out)
{
	for (size_t i = 0; i < sizeof(ours_ctx.buf); i++)
		ours_ctx.buf[i] = peer_ctx.buf[i] = (unsigned char)(i * 7 + 1);
	rvm_bench_pair(run_moves, &ours_ctx, run_moves, &peer_ctx, 500, 21, &out->ours_ns,
		       &out->peer_ns);
	/* Per move, not per iteration of four. */
	out->ours_ns /= 4;
	out->peer_ns /= 4;
	snprintf(out->note, sizeof(out->note), "4 KiB overlapping, +-8 and +-13 bytes");
}

RVM_BENCH_ROW(memmove_4k, "glibc-memmove", "informational", run_memmove_4k)
