/* platform/qemu-virt/gic.c - GICv3: distributor, per-CPU redistributor, system-register CPU
 * interface; and the EL2 physical timer whose PPI drives the scheduler tick. */
#include "gic.h"

#include "../../arch/aarch64/a64.h"

#define GICD_CTLR	  0x0000
#define GICD_CTLR_RWP	  (1u << 31)
#define GICD_CTLR_ARE	  (1u << 4) /* single security state (QEMU virt without secure=on) */
#define GICD_CTLR_GRP1	  (1u << 1)
#define GICR_FRAME	  0x20000u /* RD_base + SGI_base, 64 KiB each */
#define GICR_TYPER	  0x0008
#define GICR_TYPER_LAST	  (1u << 4)
#define GICR_WAKER	  0x0014
#define GICR_WAKER_SLEEP  (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_SGI	  0x10000u
#define GICR_IGROUPR0	  0x0080
#define GICR_ISENABLER0	  0x0100
#define GICR_IPRIORITYR	  0x0400

static volatile uint32_t *reg32(uint64_t base, uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(base + off);
}

/* The PPI the device tree gives the EL2 physical timer, as an INTID (PPIs start at 16). */
static uint32_t timer_intid(const struct rvm_fdt_info *f)
{
	return 16u + (f->timer_hyp_ppi ? f->timer_hyp_ppi : 10u);
}

enum rvm_err rvm_gic_init(const struct rvm_fdt_info *f)
{
	if (f->gic_version != 3)
		return RVM_E_UNSUPPORTED;
	*reg32(f->gicd_base, GICD_CTLR) = GICD_CTLR_ARE | GICD_CTLR_GRP1;
	while (*reg32(f->gicd_base, GICD_CTLR) & GICD_CTLR_RWP)
		;
	return RVM_OK;
}

enum rvm_err rvm_gic_cpu_init(const struct rvm_fdt_info *f, uint64_t mpidr)
{
	/* GICR_TYPER[63:32] is Aff3.Aff2.Aff1.Aff0; MPIDR keeps Aff3 at [39:32]. */
	uint32_t aff = (uint32_t)((mpidr & 0xffffff) | (mpidr >> 8 & 0xff000000));
	uint32_t intid;
	uint64_t rd = 0;

	for (uint64_t off = 0; off + GICR_FRAME <= f->gicr_size; off += GICR_FRAME) {
		uint32_t lo = *reg32(f->gicr_base + off, GICR_TYPER);
		uint32_t hi = *reg32(f->gicr_base + off, GICR_TYPER + 4);

		if (hi == aff) {
			rd = f->gicr_base + off;
			break;
		}
		if (lo & GICR_TYPER_LAST)
			break;
	}
	if (!rd)
		return RVM_E_NOTFOUND;
	*reg32(rd, GICR_WAKER) &= ~GICR_WAKER_SLEEP;
	while (*reg32(rd, GICR_WAKER) & GICR_WAKER_ASLEEP)
		;
	intid = timer_intid(f);
	*reg32(rd + GICR_SGI, GICR_IGROUPR0) |= 1u << intid;
	*(volatile uint8_t *)(uintptr_t)(rd + GICR_SGI + GICR_IPRIORITYR + intid) = 0x80;
	*reg32(rd + GICR_SGI, GICR_ISENABLER0) = 1u << intid;
	/* CPU interface through system registers, group 1 on, every priority unmasked. */
	rvm_a64_write(S3_4_C12_C9_5, 0xf); /* ICC_SRE_EL2: SRE, DFB, DIB, Enable (EL1 use) */
	rvm_a64_isb();
	rvm_a64_write(S3_0_C4_C6_0, 0xff); /* ICC_PMR_EL1 */
	rvm_a64_write(S3_0_C12_C12_7, 1);  /* ICC_IGRPEN1_EL1 */
	rvm_a64_isb();
	return RVM_OK;
}

uint32_t rvm_gic_ack(void)
{
	uint32_t intid = (uint32_t)rvm_a64_read(S3_0_C12_C12_0) & 0xffffff; /* ICC_IAR1_EL1 */

	__asm__ volatile("dsb sy" ::: "memory");
	return intid;
}

void rvm_gic_eoi(uint32_t intid)
{
	rvm_a64_write(S3_0_C12_C12_1, intid); /* ICC_EOIR1_EL1 */
	rvm_a64_isb();
}

void rvm_timer_arm(uint64_t ticks)
{
	rvm_a64_write(cnthp_tval_el2, ticks);
	rvm_a64_write(cnthp_ctl_el2, 1); /* ENABLE, interrupt not masked */
	rvm_a64_isb();
}

void rvm_timer_stop(void)
{
	rvm_a64_write(cnthp_ctl_el2, 0);
	rvm_a64_isb();
}
