/* platform/seed/platform.c - rvm_platform on the seed board: SysTick clock, UART0, framed sinks. */
#include "seed.h"

#include "../common/frame.h"

#include <rvm/sha256.h>

static uint64_t seed_now_ns(void *ctx)
{
	(void)ctx;
	return rvm_seed_ticks() * RVM_SEED_NS_PER_TICK;
}

static void seed_console_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	rvm_seed_uart_write(s, n);
}

static uint32_t seed_cpu_id(void *ctx)
{
	(void)ctx;
	return 0;
}

static uint32_t seed_cpu_count(void *ctx)
{
	(void)ctx;
	return 1;
}

/* PRIMASK masks every configurable interrupt; returns whether it was set before. */
static bool seed_irq_mask(void *ctx, bool masked)
{
	uint32_t primask;

	(void)ctx;
	__asm__ volatile("mrs %0, primask" : "=r"(primask));
	if (masked)
		__asm__ volatile("cpsid i" ::: "memory");
	else
		__asm__ volatile("cpsie i" ::: "memory");
	return (primask & 1u) != 0;
}

/* UART0 is the only channel to the host: sinks travel on it as framed lines (the framing of
 * every bare-metal board), turned back into files by rvm-qemu-run. */
static enum rvm_err seed_sink_append(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n)
{
	(void)ctx;
	return rvm_frame_sink_append(rvm_seed_uart_write, s, buf, n);
}

/* A UART write returns once QEMU holds the byte: appended is durable. */
static enum rvm_err seed_sink_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)ctx;
	return (unsigned)s < RVM_SINK_COUNT ? RVM_OK : RVM_E_INVAL;
}

/* No checkpoint store on the seed: 64 KB holds no second copy of anything. */
static enum rvm_err seed_checkpoint_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	(void)ctx, (void)id, (void)buf, (void)n;
	return RVM_E_UNSUPPORTED;
}

static enum rvm_err seed_checkpoint_get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	(void)ctx, (void)id, (void)buf, (void)cap;
	*len = 0;
	return RVM_E_UNSUPPORTED;
}

/* The LM3S6965 as QEMU models it has no random source: refuse rather than pretend.
 * The board's main derives the boot nonce itself (see main.c). */
static enum rvm_err seed_entropy(void *ctx, void *buf, size_t n)
{
	(void)ctx, (void)buf, (void)n;
	return RVM_E_UNSUPPORTED;
}

void rvm_seed_platform(struct rvm_platform *out)
{
	*out = (struct rvm_platform){
		.ctx = 0,
		.name = "seed",
		.now_ns = seed_now_ns,
		.console_write = seed_console_write,
		.cpu_id = seed_cpu_id,
		.cpu_count = seed_cpu_count,
		.irq_mask = seed_irq_mask,
		.sink_append = seed_sink_append,
		.sink_sync = seed_sink_sync,
		.checkpoint_put = seed_checkpoint_put,
		.checkpoint_get = seed_checkpoint_get,
		.entropy = seed_entropy,
		.sha256 = rvm_sha256_detect(),
	};
}
