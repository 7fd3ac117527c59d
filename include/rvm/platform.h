/* rvm/platform.h - the only door between the freestanding core and a platform. */
#ifndef RVM_PLATFORM_H
#define RVM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>

struct rvm_sha256_impl;

/* Finished asynchronous checkpoint puts a platform keeps until they are reported, at least. */
#define RVM_PLATFORM_STORE_UNREPORTED 16u

/* Durable append-only streams a platform keeps for the core. */
enum rvm_sink_stream {
	RVM_SINK_WITNESS = 0, /* the witness log file (docs/witness-format.md) */
	RVM_SINK_JOURNAL = 1, /* payloads replay needs, referenced by seq */
	RVM_SINK_COUNT
};

/*
 * A platform is a table of services plus its private context. The core never
 * calls the operating system or the hardware except through this table, and
 * never caches a platform pointer in hidden global state: whoever owns a
 * subsystem's struct hands it the platform.
 *
 * Contracts:
 *  - now_ns is monotonic and never goes backwards on any CPU.
 *  - sink_append either appends all n bytes or returns an error; bytes appended
 *    are durable only once sink_sync has returned RVM_OK.
 *  - checkpoint_put replaces the object under `id` atomically: a crash leaves
 *    either the old or the new bytes, never a mix. The bytes are durable when it
 *    returns RVM_OK.
 *  - checkpoint_put_async and checkpoint_done are optional (both NULL: only the
 *    synchronous put). put_async takes a copy of buf[0..n) and returns at once;
 *    the object is written as checkpoint_put would, off the caller's thread, in
 *    the order the puts were queued. It is durable only once checkpoint_done
 *    has reported its id with RVM_OK; reported with an error, the store holds
 *    what it held before under that id (or nothing). Each queued put is reported
 *    exactly once. put_async may block while the platform's queue is full and
 *    returns RVM_E_BUSY instead when RVM_PLATFORM_STORE_UNREPORTED puts have
 *    finished unreported (report them first). checkpoint_done reports one
 *    finished put (*id, *result) and returns RVM_OK, or RVM_E_NOTFOUND when
 *    none has finished; with wait it blocks until one finishes, and returns
 *    RVM_E_NOTFOUND only when none is queued or being written.
 *  - entropy fills the buffer from a cryptographic source or fails.
 *  - sha256 may be NULL (portable code is used); otherwise it names an
 *    accelerated implementation the platform has checked the CPU supports.
 */
struct rvm_platform {
	void *ctx;
	const char *name;
	uint64_t (*now_ns)(void *ctx);
	void (*console_write)(void *ctx, const char *s, size_t n);
	uint32_t (*cpu_id)(void *ctx);
	uint32_t (*cpu_count)(void *ctx);
	/* Returns the previous mask state so masks nest. */
	bool (*irq_mask)(void *ctx, bool masked);
	enum rvm_err (*sink_append)(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n);
	enum rvm_err (*sink_sync)(void *ctx, enum rvm_sink_stream s);
	enum rvm_err (*checkpoint_put)(void *ctx, uint64_t id, const void *buf, size_t n);
	/* Copies at most cap bytes; *len receives the stored object's full size. */
	enum rvm_err (*checkpoint_get)(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len);
	enum rvm_err (*checkpoint_put_async)(void *ctx, uint64_t id, const void *buf, size_t n);
	enum rvm_err (*checkpoint_done)(void *ctx, bool wait, uint64_t *id, enum rvm_err *result);
	enum rvm_err (*entropy)(void *ctx, void *buf, size_t n);
	const struct rvm_sha256_impl *sha256;
};

static inline uint64_t rvm_platform_now_ns(const struct rvm_platform *p)
{
	return p->now_ns(p->ctx);
}

static inline void rvm_platform_console(const struct rvm_platform *p, const char *s, size_t n)
{
	p->console_write(p->ctx, s, n);
}

static inline enum rvm_err rvm_platform_sink_append(const struct rvm_platform *p,
						    enum rvm_sink_stream s, const void *buf,
						    size_t n)
{
	return p->sink_append(p->ctx, s, buf, n);
}

static inline enum rvm_err rvm_platform_sink_sync(const struct rvm_platform *p,
						  enum rvm_sink_stream s)
{
	return p->sink_sync(p->ctx, s);
}

static inline enum rvm_err rvm_platform_entropy(const struct rvm_platform *p, void *buf, size_t n)
{
	return p->entropy(p->ctx, buf, n);
}

#endif
