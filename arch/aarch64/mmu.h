/* arch/aarch64/mmu.h - EL2 stage-1 translation (identity map) and per-partition stage-2 tables. */
#ifndef RVM_A64_MMU_H
#define RVM_A64_MMU_H

#include "a64.h"

/* The EL2 map covers 4 GiB of physical address space in 1 GiB blocks. */
#define RVM_A64_MMU_L1_ENTRIES 4u

/*
 * Fills the level-1 table l1 (4 KiB aligned): blocks overlapping one of the
 * nram RAM ranges {base, size} are Normal cacheable memory, the rest Device
 * memory that never executes.
 */
void rvm_a64_mmu_build(uint64_t l1[RVM_A64_MMU_L1_ENTRIES], const uint64_t (*ram)[2],
		       unsigned nram);
/* Turns on the EL2 MMU and caches on the calling CPU with table l1. */
void rvm_a64_mmu_enable(const uint64_t l1[RVM_A64_MMU_L1_ENTRIES]);

/* Page allocator the stage-2 code draws its tables from: returns a zeroed 4 KiB page or NULL. */
typedef void *rvm_a64_page_alloc_fn(void *ctx);

/* Stage-2 permissions of a mapping. */
enum rvm_s2_perm { RVM_S2_RO = 1, RVM_S2_RW = 3, RVM_S2_EXEC = 4 };

/*
 * One partition's stage-2 address space: a 4 GiB IPA space (VTCR T0SZ = 32)
 * walked from level 1. Invariant: every valid descriptor points at a page
 * from alloc; IPAs not mapped fault to EL2.
 */
struct rvm_s2 {
	uint64_t *l1;
	uint16_t vmid;
	rvm_a64_page_alloc_fn *alloc;
	void *alloc_ctx;
};

/* Starts an empty space with its level-1 table. RVM_E_NOMEM when no page is left. */
enum rvm_err rvm_s2_init(struct rvm_s2 *s, uint16_t vmid, rvm_a64_page_alloc_fn *alloc, void *ctx);
/* Maps the 4 KiB page at ipa to physical pa with perm (RVM_S2_RO/RW | RVM_S2_EXEC).
 * RVM_E_INVAL for unaligned or out-of-range addresses, RVM_E_EXISTS if mapped already. */
enum rvm_err rvm_s2_map(struct rvm_s2 *s, uint64_t ipa, uint64_t pa, unsigned perm);
/* Physical address ipa maps to, or 0 when unmapped. */
uint64_t rvm_s2_lookup(const struct rvm_s2 *s, uint64_t ipa);
/* Makes s the stage-2 space of the calling CPU (VTCR_EL2, VTTBR_EL2 with its VMID). */
void rvm_s2_activate(const struct rvm_s2 *s);
/* IPA of the last stage-2 fault on this CPU (HPFAR_EL2 with FAR_EL2's page offset). */
uint64_t rvm_s2_fault_ipa(void);

#endif
