/* platform/qemu-virt/qemu.h - the QEMU virt implementation of struct rvm_platform. */
#ifndef RVM_QEMU_H
#define RVM_QEMU_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/platform.h>
#include <rvm/sha256.h>

#include "fdt.h"
#include "lock.h"

/* Sink lines on the console: platform/common/frame.h. */
#define RVM_QEMU_CKPT_SLOTS 4u
#define RVM_QEMU_CKPT_BYTES 16384u

/*
 * The board's services; one per machine, owned by board.c.
 * Invariants: fdt and cntfrq are written by the boot CPU before any
 * secondary starts and read-only afterwards; rng_* and ckpt_* change only
 * under their locks.
 */
struct rvm_qemu {
	struct rvm_fdt_info fdt;
	uint64_t cntfrq; /* generic timer frequency, Hz (62.5 MHz under QEMU 7.2) */
	volatile uint32_t cpus_online;
	const struct rvm_sha256_impl *sha;
	/* Witness bytes streamed, and the counter when the first whole record had left. */
	uint64_t wbytes, first_record_ticks;
	/* Entropy: a SHA-256 counter-mode generator keyed from /chosen/rng-seed. */
	struct rvm_lock rng_lock;
	uint8_t rng_key[RVM_SHA256_DIGEST];
	uint64_t rng_ctr;
	bool rng_ok;
	/* Checkpoint store: a few fixed RAM slots (lost at power-off: RAM is all we have). */
	struct rvm_lock ckpt_lock;
	struct {
		uint64_t id;
		uint32_t len;
		bool used;
		uint8_t data[RVM_QEMU_CKPT_BYTES];
	} ckpt[RVM_QEMU_CKPT_SLOTS];
};

/* Fills *out with the board's services over q (whose fdt must already be read). */
void rvm_qemu_platform(struct rvm_qemu *q, struct rvm_platform *out);
/* Nanoseconds since the counter started (QEMU starts it with the machine). */
uint64_t rvm_qemu_ticks_to_ns(const struct rvm_qemu *q, uint64_t ticks);

#endif
