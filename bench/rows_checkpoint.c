/* bench/rows_checkpoint.c - checkpoint take/restore per MiB vs memcpy + liblz4, replay per 1k
 * writes vs memcpy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include <hosted.h>
#include <rvm/checkpoint.h>
#include <rvm/replay.h>

#include "bench.h"

#define ARENA	  (16u << 20)
#define NFRAMES	  (ARENA / 4096u)
#define MIB	  (1u << 20)
#define NREG	  4
#define PAGE	  4096u
#define NWRITES	  1000u
#define WRITE_LEN 256u

/*
 * Partition 1 owns 1 MiB in four 256 KiB regions of agent-state-like text.
 * The checkpoint store keeps nothing (the row measures the kernel's work, not
 * a disk); the witness log is ring-only.
 */
struct ckb {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[NFRAMES];
	struct rvm_region_frame rframes[NFRAMES];
	struct rvm_region_store store;
	struct rvm_region_space space;
	struct rvm_ckpt_ctx ck;
	uint8_t store_buf[4096];
	uint8_t *buf;
	size_t cap, len;
	struct rvm_ckpt_view view;
	rvm_region_id ids[NREG];
	/* peer */
	uint8_t *staging;
	char *blocks;
	int block_len[MIB / PAGE];
	uint8_t *dst;
	/* replay: the writes' records and payloads */
	struct rvm_witness_record rec[NWRITES];
	uint8_t payload[NWRITES][WRITE_LEN];
	uint64_t first_seq;
};

static struct ckb *b;

static enum rvm_err put_nothing(void *ctx, uint64_t id, const void *buf, size_t n)
{
	(void)ctx;
	(void)id;
	rvm_bench_sink(buf, n ? 1 : 0);
	return RVM_OK;
}

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* JSON-ish records with small varying numbers, as in the lz4 rows. */
static void fill_struct(uint64_t *s, uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		char tmp[64];
		uint64_t r = next_rand(s);
		int k = snprintf(
			tmp, sizeof(tmp), "{\"seq\":%u,\"owner\":\"agent-%u\",\"tier\":%u},\n",
			(unsigned)(r >> 8) % 5000u, (unsigned)(r >> 32) % 64u, (unsigned)r % 4u);

		for (int j = 0; j < k && i < n; j++)
			p[i++] = (uint8_t)tmp[j];
	}
}

static void setup(void)
{
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .boot_nonce = {3}};
	struct rvm_phys_range r;
	uint8_t *arena = aligned_alloc(4u << 20, ARENA);
	uint64_t s = 2026;

	if (b)
		return;
	b = calloc(1, sizeof(*b));
	if (!b || !arena || rvm_hosted_open(&b->hosted, NULL, RVM_HOSTED_QUIET, &b->plat))
		abort();
	b->plat.checkpoint_put = put_nothing;
	if (rvm_witness_init(&b->wlog, &b->plat, &cfg) != RVM_OK)
		abort();
	r.base = (uint64_t)(uintptr_t)arena;
	r.size = ARENA;
	if (rvm_buddy_init(&b->buddy, b->bframes, NFRAMES, &r, 1) != RVM_OK)
		abort();
	rvm_region_store_init(&b->store, b->store_buf, sizeof(b->store_buf));
	if (rvm_region_space_init(&b->space, &b->buddy, b->rframes, NFRAMES, &b->store, &b->wlog,
				  &b->plat) != RVM_OK)
		abort();
	b->ck.regions = &b->space;
	for (int i = 0; i < NREG; i++) {
		if (rvm_region_create(&b->space, 0, 1, MIB / NREG, RVM_REGION_DATA, true, 0,
				      &b->ids[i]) != RVM_OK)
			abort();
		fill_struct(&s, rvm_phys_ptr(rvm_region_get(&b->space, b->ids[i])->base),
			    MIB / NREG);
	}
	if (rvm_checkpoint_bound(&b->ck, 1, NULL, 0, &b->cap) != RVM_OK)
		abort();
	b->buf = malloc(b->cap);
	b->staging = malloc(MIB);
	b->blocks = malloc((size_t)(MIB / PAGE) * (size_t)LZ4_compressBound(PAGE));
	b->dst = malloc(MIB);
	if (!b->buf || !b->staging || !b->blocks || !b->dst)
		abort();
}

/* ---- checkpoint_take_1m: ours vs memcpy + LZ4_compress_default of the same pages ---- */

static void take(void *c, uint64_t iters)
{
	struct rvm_ckpt_info info;

	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		if (rvm_checkpoint_take(&b->ck, 1, NULL, 0, b->buf, b->cap, &info) != RVM_OK)
			abort();
	b->len = info.len;
}

static void peer_take(void *c, uint64_t iters)
{
	int bound = LZ4_compressBound(PAGE);

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		for (int r = 0; r < NREG; r++)
			memcpy(b->staging + (size_t)r * (MIB / NREG),
			       rvm_phys_ptr(rvm_region_get(&b->space, b->ids[r])->base),
			       MIB / NREG);
		for (unsigned p = 0; p < MIB / PAGE; p++)
			b->block_len[p] = LZ4_compress_default(
				(const char *)b->staging + p * PAGE,
				b->blocks + (size_t)p * (size_t)bound, PAGE, bound);
	}
}

static void run_take(struct rvm_bench_result *out)
{
	size_t peer_bytes = 0;

	setup();
	rvm_bench_pair(take, NULL, peer_take, NULL, 1, 31, &out->ours_ns, &out->peer_ns);
	for (unsigned p = 0; p < MIB / PAGE; p++)
		peer_bytes += (size_t)b->block_len[p];
	snprintf(out->note, sizeof(out->note),
		 "per MiB; image %zu B vs %zu B; ours + SHA-256 of pages, seals, trailer", b->len,
		 peer_bytes);
}

RVM_BENCH_ROW(checkpoint_take_1m, "memcpy+liblz4", "<= 2x (ours also hashes twice)", run_take)

/* ---- checkpoint_restore_1m: ours (verify + decode + reinstate) vs LZ4_decompress_safe ---- */

static void restore(void *c, uint64_t iters)
{
	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		if (rvm_checkpoint_restore(&b->ck, &b->view, 1, NULL) != RVM_OK)
			abort();
}

static void peer_restore(void *c, uint64_t iters)
{
	int bound = LZ4_compressBound(PAGE);

	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		for (unsigned p = 0; p < MIB / PAGE; p++)
			if (LZ4_decompress_safe(b->blocks + (size_t)p * (size_t)bound,
						(char *)b->dst + p * PAGE, b->block_len[p],
						PAGE) != PAGE)
				abort();
}

static void run_restore(struct rvm_bench_result *out)
{
	setup();
	take(NULL, 1);
	peer_take(NULL, 1);
	if (rvm_checkpoint_parse(b->buf, b->len, b->plat.sha256, &b->view) != RVM_OK)
		abort();
	rvm_bench_pair(restore, NULL, peer_restore, NULL, 1, 31, &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note),
		 "per MiB; ours checks seals (SHA-256 of images), decodes, reinstates");
}

RVM_BENCH_ROW(checkpoint_restore_1m, "liblz4", "<= 2x (ours also verifies)", run_restore)

/*
 * ---- checkpoint_load_restore_1m: the whole path from stored bytes (parse: the trailer's
 * SHA-256 and every entry; then restore) vs LZ4_decompress_safe ----
 */

static void load_restore(void *c, uint64_t iters)
{
	struct rvm_ckpt_view v;

	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		if (rvm_checkpoint_parse(b->buf, b->len, b->plat.sha256, &v) != RVM_OK ||
		    rvm_checkpoint_restore(&b->ck, &v, 1, NULL) != RVM_OK)
			abort();
}

static void run_load_restore(struct rvm_bench_result *out)
{
	setup();
	take(NULL, 1);
	peer_take(NULL, 1);
	rvm_bench_pair(load_restore, NULL, peer_restore, NULL, 1, 31, &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note),
		 "per MiB; ours parses (SHA-256 of all), checks seals, decodes");
}

RVM_BENCH_ROW(checkpoint_load_restore_1m, "liblz4", "<= 2x (ours also verifies)", run_load_restore)

/* ---- replay_writes_1k: 1000 witnessed 256-byte writes re-applied vs plain memcpy ---- */

static enum rvm_err src_record(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	(void)ctx;
	if (seq < b->first_seq || seq - b->first_seq >= NWRITES)
		return RVM_E_NOTFOUND;
	*out = b->rec[seq - b->first_seq];
	return RVM_OK;
}

static enum rvm_err src_payload(void *ctx, uint64_t seq, const uint8_t **data, size_t *len)
{
	(void)ctx;
	if (seq < b->first_seq || seq - b->first_seq >= NWRITES)
		return RVM_E_NOTFOUND;
	*data = b->payload[seq - b->first_seq];
	*len = WRITE_LEN;
	return RVM_OK;
}

static void replay(void *c, uint64_t iters)
{
	struct rvm_replay_source src = {src_record, src_payload, NULL, NULL};

	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		if (rvm_replay_range(&b->ck, &src, NULL, b->first_seq, b->first_seq + NWRITES - 1,
				     UINT64_MAX, NULL) != RVM_OK)
			abort();
}

static void peer_replay(void *c, uint64_t iters)
{
	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		for (unsigned w = 0; w < NWRITES; w++) {
			const struct rvm_witness_record *r = &b->rec[w];
			const struct rvm_region *reg = rvm_region_get(&b->space, r->target);

			memcpy((uint8_t *)rvm_phys_ptr(reg->base) + (r->arg0 & 0xFFFFFFFFu),
			       b->payload[w], WRITE_LEN);
		}
}

static void run_replay(struct rvm_bench_result *out)
{
	uint64_t s = 99;

	setup();
	b->first_seq = b->wlog.next_seq;
	for (unsigned w = 0; w < NWRITES; w++) {
		uint64_t seq;

		fill_struct(&s, b->payload[w], WRITE_LEN);
		if (rvm_region_write(&b->space, 1, 7, b->ids[w % NREG],
				     next_rand(&s) % (MIB / NREG - WRITE_LEN), b->payload[w],
				     WRITE_LEN, &seq) != RVM_OK ||
		    seq != b->first_seq + w)
			abort();
		b->rec[w] = *rvm_witness_get(&b->wlog, seq);
	}
	rvm_bench_pair(replay, NULL, peer_replay, NULL, 3, 9, &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note),
		 "per 1k records of 256 B; ours verifies + re-witnesses");
}

RVM_BENCH_ROW(replay_writes_1k, "memcpy", "none: the cost of verification", run_replay)
