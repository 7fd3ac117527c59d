/* lib/sha256_armv8.c - SHA-256 block function with the ARMv8 cryptographic extension (SHA2). */
#include "sha256_internal.h"

/*
 * This file uses the SIMD registers, which kernel/ and lib/ may not touch at
 * EL2 (they are built with -mgeneral-regs-only): CMake builds it on its own
 * into rvm_lib_simd, without that flag. Hosted builds on AArch64 let
 * rvm_sha256_detect() pick it; a bare-metal platform must opt in by calling
 * rvm_sha256_armv8() itself, and only where the FP/SIMD state it would
 * clobber is saved (see include/rvm/sha256.h).
 */
#if defined(__aarch64__)
#include <arm_neon.h>

#define RVM_CE __attribute__((target("+crypto")))

/* Four rounds: SHA256H updates abcd, SHA256H2 efgh from the old abcd. */
#define QROUND(m, ki)                                                    \
	do {                                                             \
		uint32x4_t wk_ = vaddq_u32(m, vld1q_u32(&rvm_sha256_k[ki])); \
		uint32x4_t abcd0_ = abcd;                                \
		abcd = vsha256hq_u32(abcd, efgh, wk_);                   \
		efgh = vsha256h2q_u32(efgh, abcd0_, wk_);                \
	} while (0)

/* Next four schedule words into m0 from the previous sixteen (m0 oldest). */
#define SCHED(m0, m1, m2, m3) ((m0) = vsha256su1q_u32(vsha256su0q_u32(m0, m1), m2, m3))

RVM_CE static void sha256_blocks_armv8(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
	uint32x4_t abcd = vld1q_u32(&state[0]);
	uint32x4_t efgh = vld1q_u32(&state[4]);

	for (; nblocks--; p += RVM_SHA256_BLOCK) {
		uint32x4_t abcd_save = abcd, efgh_save = efgh;
		uint32x4_t m0 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 0)));
		uint32x4_t m1 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16)));
		uint32x4_t m2 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 32)));
		uint32x4_t m3 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 48)));

		QROUND(m0, 0);
		QROUND(m1, 4);
		QROUND(m2, 8);
		QROUND(m3, 12);
		for (int k = 16; k < 64; k += 16) {
			SCHED(m0, m1, m2, m3);
			QROUND(m0, k);
			SCHED(m1, m2, m3, m0);
			QROUND(m1, k + 4);
			SCHED(m2, m3, m0, m1);
			QROUND(m2, k + 8);
			SCHED(m3, m0, m1, m2);
			QROUND(m3, k + 12);
		}
		abcd = vaddq_u32(abcd, abcd_save);
		efgh = vaddq_u32(efgh, efgh_save);
	}
	vst1q_u32(&state[0], abcd);
	vst1q_u32(&state[4], efgh);
}

const struct rvm_sha256_impl rvm_sha256_armv8_impl = {
	.name = "armv8-ce",
	.blocks = sha256_blocks_armv8,
};

const struct rvm_sha256_impl *rvm_sha256_armv8(void)
{
	uint64_t isar0;

	/* ID_AA64ISAR0_EL1.SHA2, bits [15:12]: 1 = SHA256H & co. Linux emulates this read at EL0. */
	__asm__ volatile("mrs %0, ID_AA64ISAR0_EL1" : "=r"(isar0));
	return ((isar0 >> 12) & 0xf) >= 1 ? &rvm_sha256_armv8_impl : NULL;
}
#endif
