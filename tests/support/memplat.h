/* tests/support/memplat.h - a platform in memory for unit tests: sink streams in buffers, a
 * checkpoint store of objects, a clock that ticks per reading, failures on demand. */
#ifndef RVM_TEST_MEMPLAT_H
#define RVM_TEST_MEMPLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/platform.h>

#define RVM_MEMPLAT_STORE 4096u /* checkpoint objects */

/*
 * The platform's state; the caller owns it (static, or inside a calloc'd fixture).
 * Sinks: each stream s is buf[s] (len[s] bytes of cap[s]); it grows on demand, or, with limit
 * nonzero, is allocated once at limit bytes (its address stays put) and an append past it is
 * RVM_E_IO. Clock: now_ns adds tick and reads. Store: objects by id, each replaced whole by a put;
 * a get copies at most cap bytes and reports the object's full size.
 * Invariants: len[s] <= cap[s]; limit == 0 or cap[s] == limit once allocated; obj[0..nobj) hold
 * distinct ids.
 */
struct rvm_memplat {
	uint8_t *buf[RVM_SINK_COUNT];
	size_t len[RVM_SINK_COUNT], cap[RVM_SINK_COUNT];
	size_t limit;	 /* 0: the buffers grow */
	uint64_t clock;	 /* ns */
	uint64_t tick;	 /* ns per reading */
	uint32_t cpus;	 /* what cpu_count reports */
	uint8_t entropy; /* the byte entropy fills with */
	/* Failures: every append and sync (fail); appends after fail_after more have succeeded
	 * (-1: never); streams the platform does not have (bit s of absent: RVM_E_UNSUPPORTED). */
	bool fail;
	int fail_after;
	uint32_t absent;
	uint32_t appends, syncs; /* the ones that succeeded */
	/* Called after each append that succeeded, with its stream; NULL: none. */
	void (*on_append)(struct rvm_memplat *m, enum rvm_sink_stream s);
	bool store_fail; /* every put is RVM_E_IO */
	uint32_t nobj;
	uint64_t id[RVM_MEMPLAT_STORE];
	uint8_t *obj[RVM_MEMPLAT_STORE];
	size_t objlen[RVM_MEMPLAT_STORE];
};

/*
 * Empties the streams and the store (buffers kept), zeroes the clock and the counters, and sets
 * tick, limit, one CPU, entropy 0x5a, no failures, no hook. Fills *p with m's services (name
 * "mem"; no console, cpu_id, irq_mask or asynchronous store).
 */
void rvm_memplat_reset(struct rvm_memplat *m, struct rvm_platform *p, uint64_t tick, size_t limit);
/* Releases every buffer and object; m may then be reset again. */
void rvm_memplat_free(struct rvm_memplat *m);

#endif
