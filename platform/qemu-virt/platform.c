/* platform/qemu-virt/platform.c - rvm_platform on QEMU virt: timer clock, PL011, framed sinks. */
#include "qemu.h"

#include <rvm/bytes.h>
#include <rvm/witness.h>
#include <rvm/witness_file.h>

#include "../../arch/aarch64/a64.h"
#include "../common/frame.h"
#include "board.h"

uint64_t rvm_qemu_ticks_to_ns(const struct rvm_qemu *q, uint64_t ticks)
{
	/* Split so ticks * 1e9 cannot overflow for any realistic uptime. */
	return ticks / q->cntfrq * 1000000000u + ticks % q->cntfrq * 1000000000u / q->cntfrq;
}

static uint64_t qemu_now_ns(void *ctx)
{
	rvm_a64_isb(); /* the counter read must not be hoisted above earlier work */
	return rvm_qemu_ticks_to_ns(ctx, rvm_a64_read(cntpct_el0));
}

static void qemu_console_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	rvm_board_write(s, n);
}

static uint32_t qemu_cpu_id(void *ctx)
{
	(void)ctx;
	return rvm_a64_this_cpu()->index;
}

static uint32_t qemu_cpu_count(void *ctx)
{
	return ((struct rvm_qemu *)ctx)->cpus_online;
}

/* PSTATE.I is DAIF bit 7. */
static bool qemu_irq_mask(void *ctx, bool masked)
{
	uint64_t daif = rvm_a64_read(daif);

	(void)ctx;
	if (masked)
		__asm__ volatile("msr daifset, #2" ::: "memory");
	else
		__asm__ volatile("msr daifclr, #2" ::: "memory");
	return (daif & (1u << 7)) != 0;
}

/* The console is the only channel to the host: sinks travel on it as framed lines, whole
 * lines through the board's frame buffer, so lines from other CPUs never split one. Written
 * out at once unless the run defers it (then a CPU leaving the kernel lock writes it). */
static enum rvm_err qemu_sink_append(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n)
{
	struct rvm_qemu *q = ctx;
	enum rvm_err err = rvm_frame_sink_append(rvm_board_frame_put, s, buf, n);

	rvm_board_frames_flush(RVM_FLUSH_UNLESS_DEFERRED);

	/* The header and one record: what the host waits for to call it the first witness. */
	if (err == RVM_OK && s == RVM_SINK_WITNESS && !q->first_record_ticks) {
		q->wbytes += n;
		if (q->wbytes >= RVM_WFILE_HEADER_SIZE + RVM_WITNESS_RECORD_SIZE)
			q->first_record_ticks = rvm_a64_read(cntpct_el0);
	}
	return err;
}

/* The console write returns once the bytes are in QEMU's hands: what is buffered goes out
 * now, and then what was appended is durable. */
static enum rvm_err qemu_sink_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)ctx;
	if ((unsigned)s >= RVM_SINK_COUNT)
		return RVM_E_INVAL;
	rvm_board_frames_flush(RVM_FLUSH_ALL);
	return RVM_OK;
}

static enum rvm_err qemu_checkpoint_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	struct rvm_qemu *q = ctx;
	int slot = -1;

	if (n > RVM_QEMU_CKPT_BYTES)
		return RVM_E_NOMEM;
	rvm_lock_take(&q->ckpt_lock);
	for (unsigned i = 0; i < RVM_QEMU_CKPT_SLOTS; i++)
		if (q->ckpt[i].used && q->ckpt[i].id == id)
			slot = (int)i;
	for (unsigned i = 0; slot < 0 && i < RVM_QEMU_CKPT_SLOTS; i++)
		if (!q->ckpt[i].used)
			slot = (int)i;
	if (slot >= 0) {
		/* Under the lock no reader sees a half-written slot. */
		rvm_memcpy(q->ckpt[slot].data, buf, n);
		q->ckpt[slot].len = (uint32_t)n;
		q->ckpt[slot].id = id;
		q->ckpt[slot].used = true;
	}
	rvm_lock_give(&q->ckpt_lock);
	return slot >= 0 ? RVM_OK : RVM_E_FULL;
}

static enum rvm_err qemu_checkpoint_get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	struct rvm_qemu *q = ctx;
	enum rvm_err err = RVM_E_NOTFOUND;

	rvm_lock_take(&q->ckpt_lock);
	for (unsigned i = 0; i < RVM_QEMU_CKPT_SLOTS; i++) {
		if (q->ckpt[i].used && q->ckpt[i].id == id) {
			*len = q->ckpt[i].len;
			rvm_memcpy(buf, q->ckpt[i].data, cap < *len ? cap : *len);
			err = RVM_OK;
		}
	}
	rvm_lock_give(&q->ckpt_lock);
	return err;
}

/*
 * SHA-256 in counter mode over a key hashed from the device tree's rng-seed
 * and kaslr-seed, which QEMU fills from the host's random source each boot.
 * Without a seed there is no honest source here: fail.
 */
static enum rvm_err qemu_entropy(void *ctx, void *buf, size_t n)
{
	struct rvm_qemu *q = ctx;
	uint8_t *p = buf;

	if (!q->rng_ok)
		return RVM_E_UNSUPPORTED;
	rvm_lock_take(&q->rng_lock);
	while (n) {
		struct rvm_sha256 h;
		uint8_t ctr[8], block[RVM_SHA256_DIGEST];
		size_t k = n < sizeof(block) ? n : sizeof(block);

		rvm_store_le64(ctr, q->rng_ctr++);
		rvm_sha256_init(&h, q->sha);
		rvm_sha256_update(&h, q->rng_key, sizeof(q->rng_key));
		rvm_sha256_update(&h, ctr, sizeof(ctr));
		rvm_sha256_final(&h, block);
		rvm_memcpy(p, block, k);
		rvm_wipe(block, sizeof(block));
		p += k;
		n -= k;
	}
	rvm_lock_give(&q->rng_lock);
	return RVM_OK;
}

void rvm_qemu_platform(struct rvm_qemu *q, struct rvm_platform *out)
{
	q->cntfrq = rvm_a64_read(cntfrq_el0);
	/*
	 * The SHA-256 instructions when the CPU has them (cortex-a72 does): every witness record
	 * hashes, so this is most of the kernel's work per message. They use the SIMD registers,
	 * which is safe here: EL2 takes no interrupt while it runs (the guests' tick is only armed
	 * around a guest's run), a guest's FP/SIMD state is saved before the board hashes anything
	 * after its exit and loaded after the last hash before its entry, and the wasm
	 * interpreter, the other SIMD user at EL2, calls the kernel as an ordinary C function.
	 */
	q->sha = rvm_sha256_armv8();
	if (!q->sha)
		q->sha = rvm_sha256_detect();
	if (q->fdt.seed_len >= 16) {
		struct rvm_sha256 h;

		rvm_sha256_init(&h, q->sha);
		rvm_sha256_update(&h, "RVM-qemu-virt-rng", 17);
		rvm_sha256_update(&h, q->fdt.seed, q->fdt.seed_len);
		rvm_sha256_final(&h, q->rng_key);
		q->rng_ok = true;
	}
	*out = (struct rvm_platform){
		.ctx = q,
		.name = "qemu-virt",
		.now_ns = qemu_now_ns,
		.console_write = qemu_console_write,
		.cpu_id = qemu_cpu_id,
		.cpu_count = qemu_cpu_count,
		.irq_mask = qemu_irq_mask,
		.sink_append = qemu_sink_append,
		.sink_sync = qemu_sink_sync,
		.checkpoint_put = qemu_checkpoint_put,
		.checkpoint_get = qemu_checkpoint_get,
		.entropy = qemu_entropy,
		.sha256 = q->sha,
	};
}
