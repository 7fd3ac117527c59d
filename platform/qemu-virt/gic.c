/* platform/qemu-virt/gic.c - GICv3 (distributor, per-CPU redistributor, system-register CPU
 * interface) or GICv2 (memory-mapped CPU interface); and the EL2 timer that drives the tick. */
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
/* GICv2: the distributor banks SGI/PPI registers per CPU; the CPU interface is MMIO. */
#define GICD_ISENABLER0 0x0100
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR	0x0800
#define GICD_SGIR	0x0f00
#define GICC_CTLR	0x0000
#define GICC_PMR	0x0004
#define GICC_IAR	0x000c
#define GICC_EOIR	0x0010

/* Which controller the device tree named, the GICv2 distributor and CPU interface, and how
 * to address each CPU's SGIs (GICv3: ICC_SGI1R_EL1 affinity and target list; GICv2: GICD_SGIR
 * target list). Written by the boot CPU in rvm_gic_init, and sgi_to[i] by CPU i in its
 * rvm_gic_cpu_init, before the CPU can be sent one; read-only afterwards. */
static struct {
	uint32_t version;
	uint64_t gicd, gicc;
	uint64_t sgi_to[RVM_A64_MAX_CPUS];
} gic;

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
	gic.version = f->gic_version;
	gic.gicd = f->gicd_base;
	gic.gicc = f->gicc_base;
	if (f->gic_version == 2) {
		*reg32(f->gicd_base, GICD_CTLR) = 1; /* forward interrupts to CPU interfaces */
		return RVM_OK;
	}
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
	uint32_t intid = timer_intid(f), cpu = rvm_a64_this_cpu()->index;
	uint64_t rd = 0;
	uint8_t self;

	if (cpu >= RVM_A64_MAX_CPUS)
		return RVM_E_RANGE;
	if (gic.version == 2) {
		/* This CPU's banked view of the SGI/PPI registers, then its CPU interface. */
		*(volatile uint8_t *)(uintptr_t)(f->gicd_base + GICD_IPRIORITYR + intid) = 0x80;
		*(volatile uint8_t *)(uintptr_t)(f->gicd_base + GICD_IPRIORITYR + RVM_SGI_WAKE) =
			0x80;
		*reg32(f->gicd_base, GICD_ISENABLER0) = 1u << intid | 1u << RVM_SGI_WAKE;
		/* ITARGETSR0's bytes read as this CPU's own interface bit (GICD_SGIR [23:16]). */
		self = *(volatile uint8_t *)(uintptr_t)(f->gicd_base + GICD_ITARGETSR);
		gic.sgi_to[cpu] = (uint64_t)self << 16;
		*reg32(gic.gicc, GICC_PMR) = 0xff;
		*reg32(gic.gicc, GICC_CTLR) = 1;
		return RVM_OK;
	}
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
	*reg32(rd + GICR_SGI, GICR_IGROUPR0) |= 1u << intid | 1u << RVM_SGI_WAKE;
	*(volatile uint8_t *)(uintptr_t)(rd + GICR_SGI + GICR_IPRIORITYR + intid) = 0x80;
	*(volatile uint8_t *)(uintptr_t)(rd + GICR_SGI + GICR_IPRIORITYR + RVM_SGI_WAKE) = 0x80;
	*reg32(rd + GICR_SGI, GICR_ISENABLER0) = 1u << intid | 1u << RVM_SGI_WAKE;
	/* ICC_SGI1R_EL1: Aff3 [55:48], Aff2 [39:32], Aff1 [23:16], target list [15:0] (Aff0 < 16
	 * on QEMU virt). */
	if ((mpidr & 0xff) >= 16)
		return RVM_E_RANGE;
	gic.sgi_to[cpu] = (mpidr >> 32 & 0xff) << 48 | (mpidr >> 16 & 0xff) << 32 |
			  (mpidr >> 8 & 0xff) << 16 | 1ul << (mpidr & 0xff);
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
	uint32_t iar;

	if (gic.version == 2)
		return *reg32(gic.gicc, GICC_IAR) & 0x1fff; /* INTID and, for an SGI, its source */
	iar = (uint32_t)rvm_a64_read(S3_0_C12_C12_0) & 0xffffff; /* ICC_IAR1_EL1 */
	__asm__ volatile("dsb sy" ::: "memory");
	return iar;
}

uint32_t rvm_gic_intid(uint32_t ack)
{
	return gic.version == 2 ? ack & 0x3ff : ack;
}

void rvm_gic_eoi(uint32_t ack)
{
	if (gic.version == 2) {
		*reg32(gic.gicc, GICC_EOIR) = ack;
		return;
	}
	rvm_a64_write(S3_0_C12_C12_1, ack); /* ICC_EOIR1_EL1 */
	rvm_a64_isb();
}

void rvm_gic_sgi_send(uint32_t cpus)
{
	/* The wake-up's cause (a store) must be visible before the SGI is. */
	__asm__ volatile("dsb ish" ::: "memory");
	for (uint32_t i = 0; i < RVM_A64_MAX_CPUS; i++) {
		if (!(cpus >> i & 1) || !gic.sgi_to[i])
			continue;
		if (gic.version == 2)
			*reg32(gic.gicd, GICD_SGIR) = (uint32_t)gic.sgi_to[i] | RVM_SGI_WAKE;
		else
			rvm_a64_write(S3_0_C12_C11_5, gic.sgi_to[i] | (uint64_t)RVM_SGI_WAKE << 24);
	}
	rvm_a64_isb();
}

bool rvm_gic_clear_pending(void)
{
	bool woken = false;

	/* Bounded: each pass ends one interrupt; none stays pending for long with the timer off. */
	for (uint32_t n = 0; n < 4; n++) {
		uint32_t ack = rvm_gic_ack(), intid = rvm_gic_intid(ack);

		if (intid >= 1020)
			break;
		woken |= intid == RVM_SGI_WAKE;
		rvm_gic_eoi(ack);
	}
	return woken;
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
