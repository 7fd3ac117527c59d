/* arch/aarch64/mmu.c - the EL2 stage-1 MMU: an identity map in 1 GiB blocks, RAM cacheable. */
#include "mmu.h"

/* MAIR_EL2 slots: 0 = Device-nGnRnE (MMIO), 1 = Normal write-back read/write-allocate (RAM). */
#define MAIR_VALUE    0xff00ul
#define ATTR_DEVICE   (0ul << 2)
#define ATTR_NORMAL   (1ul << 2)
#define DESC_BLOCK    1ul
#define DESC_AF	      (1ul << 10)
#define DESC_SH_INNER (3ul << 8)
#define DESC_XN	      (1ul << 54)

/* TCR_EL2: 32-bit VA (T0SZ = 32, so the walk starts at level 1), 4 KiB granule, walks
 * cacheable and inner shareable, 40-bit PA, plus the two RES1 bits. */
#define TCR_VALUE (32ul | 1ul << 8 | 1ul << 10 | 3ul << 12 | 2ul << 16 | 1ul << 23 | 1ul << 31)
/* SCTLR_EL2: RES1 bits, then M (MMU), C (data cache), SA (stack alignment), I (i-cache). */
#define SCTLR_RES1 0x30c50830ul
#define SCTLR_ON   (SCTLR_RES1 | 1ul << 0 | 1ul << 2 | 1ul << 3 | 1ul << 12)

void rvm_a64_mmu_build(uint64_t l1[RVM_A64_MMU_L1_ENTRIES], const uint64_t (*ram)[2], unsigned nram)
{
	for (uint64_t i = 0; i < RVM_A64_MMU_L1_ENTRIES; i++) {
		uint64_t base = i << 30;
		bool is_ram = false;

		for (unsigned k = 0; k < nram; k++)
			if (base + (1ul << 30) > ram[k][0] && base < ram[k][0] + ram[k][1])
				is_ram = true;
		/* Below RAM on QEMU virt lie the devices (GIC, UART, ...): never executable. */
		l1[i] = base | DESC_BLOCK | DESC_AF |
			(is_ram ? ATTR_NORMAL | DESC_SH_INNER : ATTR_DEVICE | DESC_XN);
	}
	rvm_a64_dsb_sy();
}

void rvm_a64_mmu_enable(const uint64_t l1[RVM_A64_MMU_L1_ENTRIES])
{
	rvm_a64_write(mair_el2, MAIR_VALUE);
	rvm_a64_write(tcr_el2, TCR_VALUE);
	rvm_a64_write(ttbr0_el2, (uintptr_t)l1);
	rvm_a64_isb();
	__asm__ volatile("tlbi alle2\n\tdsb sy\n\tisb" ::: "memory");
	rvm_a64_write(sctlr_el2, SCTLR_ON);
	rvm_a64_isb();
}
