/* bench/rows_lz4.c - LZ4 compress and decompress of 4 KiB pages, ours vs liblz4 (zero, structured, random). */
#include <stdio.h>
#include <string.h>

#include <lz4.h>

#include <rvm/lz4.h>

#include "bench.h"

#define PAGE 4096
#define NPAGES 8 /* cycle through a few pages so one page's branches are not learnt by heart */

enum kind { KIND_ZERO, KIND_STRUCT, KIND_RANDOM };

struct lz4_ctx {
	uint8_t in[NPAGES][PAGE];
	uint8_t ours_block[NPAGES][PAGE + PAGE / 255 + 16];
	char peer_block[NPAGES][PAGE + PAGE / 255 + 16];
	size_t ours_len[NPAGES];
	int peer_len[NPAGES];
	uint8_t out[PAGE];
	struct rvm_lz4_work work;
};

static struct lz4_ctx ctx;

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Structured: a page of JSON-ish records with small varying numbers, like agent state. */
static void fill_struct(uint64_t *s, uint8_t *p)
{
	static const char *const keys[] = { "id", "seq", "owner", "tier", "epoch", "score", "name" };
	size_t i = 0;

	while (i < PAGE) {
		char tmp[64];
		uint64_t r = next_rand(s);
		int n = snprintf(tmp, sizeof(tmp), "{\"%s\":%u,\"%s\":\"agent-%u\"},\n", keys[r % 7],
				 (unsigned)(r >> 8) % 5000u, keys[(r >> 4) % 7], (unsigned)(r >> 32) % 64u);

		for (int k = 0; k < n && i < PAGE; k++)
			p[i++] = (uint8_t)tmp[k];
	}
}

static void prepare(enum kind kind)
{
	uint64_t s = 42 + (uint64_t)kind;

	for (int i = 0; i < NPAGES; i++) {
		if (kind == KIND_ZERO)
			memset(ctx.in[i], 0, PAGE);
		else if (kind == KIND_STRUCT)
			fill_struct(&s, ctx.in[i]);
		else
			for (int k = 0; k < PAGE; k += 8) {
				uint64_t r = next_rand(&s);

				memcpy(ctx.in[i] + k, &r, 8);
			}
		rvm_lz4_compress(&ctx.work, ctx.in[i], PAGE, ctx.ours_block[i],
				 sizeof(ctx.ours_block[i]), &ctx.ours_len[i]);
		ctx.peer_len[i] = LZ4_compress_default((const char *)ctx.in[i], ctx.peer_block[i], PAGE,
						       (int)sizeof(ctx.peer_block[i]));
	}
}

static void ours_compress(void *c, uint64_t iters)
{
	size_t len = 0;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		int p = (int)(i % NPAGES);

		rvm_lz4_compress(&ctx.work, ctx.in[p], PAGE, ctx.ours_block[p], sizeof(ctx.ours_block[p]),
				 &len);
	}
	rvm_bench_sink(&len, sizeof(len));
}

static void peer_compress(void *c, uint64_t iters)
{
	int len = 0;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		int p = (int)(i % NPAGES);

		len = LZ4_compress_default((const char *)ctx.in[p], ctx.peer_block[p], PAGE,
					   (int)sizeof(ctx.peer_block[p]));
	}
	rvm_bench_sink(&len, sizeof(len));
}

/* Each decoder decodes its own compressor's blocks (the like-for-like round trip). */
static void ours_decompress(void *c, uint64_t iters)
{
	size_t len = 0;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		int p = (int)(i % NPAGES);

		rvm_lz4_decompress(ctx.ours_block[p], ctx.ours_len[p], ctx.out, PAGE, &len);
	}
	rvm_bench_sink(ctx.out, 64);
}

static void peer_decompress(void *c, uint64_t iters)
{
	int len = 0;

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		int p = (int)(i % NPAGES);

		len = LZ4_decompress_safe(ctx.peer_block[p], (char *)ctx.out, ctx.peer_len[p], PAGE);
	}
	rvm_bench_sink(&len, sizeof(len));
	rvm_bench_sink(ctx.out, 64);
}

static void note_ratio(struct rvm_bench_result *out)
{
	size_t ours = 0, peer = 0;

	for (int i = 0; i < NPAGES; i++) {
		ours += ctx.ours_len[i];
		peer += (size_t)ctx.peer_len[i];
	}
	snprintf(out->note, sizeof(out->note), "ratio ours %.3f liblz4 %.3f",
		 (double)ours / (NPAGES * PAGE), (double)peer / (NPAGES * PAGE));
}

static void run_compress(struct rvm_bench_result *out, enum kind kind)
{
	prepare(kind);
	rvm_bench_pair(ours_compress, NULL, peer_compress, NULL, 2000, 21, &out->ours_ns,
		       &out->peer_ns);
	prepare(kind);
	note_ratio(out);
}

static void run_decompress(struct rvm_bench_result *out, enum kind kind)
{
	prepare(kind);
	rvm_bench_pair(ours_decompress, NULL, peer_decompress, NULL, 4000, 21, &out->ours_ns,
		       &out->peer_ns);
	note_ratio(out);
}

static void run_c_zero(struct rvm_bench_result *out)
{
	run_compress(out, KIND_ZERO);
}
static void run_c_struct(struct rvm_bench_result *out)
{
	run_compress(out, KIND_STRUCT);
}
static void run_c_random(struct rvm_bench_result *out)
{
	run_compress(out, KIND_RANDOM);
}
static void run_d_zero(struct rvm_bench_result *out)
{
	run_decompress(out, KIND_ZERO);
}
static void run_d_struct(struct rvm_bench_result *out)
{
	run_decompress(out, KIND_STRUCT);
}
static void run_d_random(struct rvm_bench_result *out)
{
	run_decompress(out, KIND_RANDOM);
}

/* Target: at least 0.7x liblz4's speed, i.e. our time at most 1/0.7 of theirs. */
RVM_BENCH_ROW(lz4_compress_zero, "liblz4-compress", "ratio <= 1.43", run_c_zero)
RVM_BENCH_ROW(lz4_compress_struct, "liblz4-compress", "ratio <= 1.43", run_c_struct)
RVM_BENCH_ROW(lz4_compress_random, "liblz4-compress", "ratio <= 1.43", run_c_random)
RVM_BENCH_ROW(lz4_decompress_zero, "liblz4-decompress", "ratio <= 1.43", run_d_zero)
RVM_BENCH_ROW(lz4_decompress_struct, "liblz4-decompress", "ratio <= 1.43", run_d_struct)
RVM_BENCH_ROW(lz4_decompress_random, "liblz4-decompress", "ratio <= 1.43", run_d_random)
