/* arch/aarch64/stage2.c - per-partition stage-2 tables (4 KiB granule, 3 levels, VMID tagged). */
#include "mmu.h"

#define S2_VALID	  3ul /* table descriptor at levels 1-2, page descriptor at level 3 */
#define S2_ADDR_MASK	  0x0000fffffffff000ul
#define S2_MEMATTR_NORMAL (0xful << 2) /* outer and inner write-back */
#define S2_AP_SHIFT	  6
#define S2_SH_INNER	  (3ul << 8)
#define S2_AF		  (1ul << 10)
#define S2_XN		  (1ul << 54)
#define S2_IPA_LIMIT	  (1ul << 32)

/* VTCR_EL2: T0SZ = 32 (4 GiB IPA), SL0 = 1 (start at level 1), cacheable inner shareable
 * walks, 4 KiB granule, 40-bit PA, RES1 bit 31. */
#define VTCR_VALUE (32ul | 1ul << 6 | 1ul << 8 | 1ul << 10 | 3ul << 12 | 2ul << 16 | 1ul << 31)

enum rvm_err rvm_s2_init(struct rvm_s2 *s, uint16_t vmid, rvm_a64_page_alloc_fn *alloc, void *ctx)
{
	s->alloc = alloc;
	s->alloc_ctx = ctx;
	s->vmid = vmid;
	s->l1 = alloc(ctx);
	return s->l1 ? RVM_OK : RVM_E_NOMEM;
}

/* The next-level table under entry e, made on demand. NULL when out of pages. */
static uint64_t *next_table(struct rvm_s2 *s, uint64_t *e)
{
	uint64_t *t;

	if (*e & 1)
		return (uint64_t *)(uintptr_t)(*e & S2_ADDR_MASK);
	t = s->alloc(s->alloc_ctx);
	if (t)
		*e = (uintptr_t)t | S2_VALID;
	return t;
}

enum rvm_err rvm_s2_map(struct rvm_s2 *s, uint64_t ipa, uint64_t pa, unsigned perm)
{
	uint64_t *l2, *l3, *e;

	if ((ipa | pa) & 0xfff || ipa >= S2_IPA_LIMIT || (pa & ~S2_ADDR_MASK) || !(perm & 3))
		return RVM_E_INVAL;
	l2 = next_table(s, &s->l1[(ipa >> 30) & 3]);
	l3 = l2 ? next_table(s, &l2[(ipa >> 21) & 511]) : NULL;
	if (!l3)
		return RVM_E_NOMEM;
	e = &l3[(ipa >> 12) & 511];
	if (*e & 1)
		return RVM_E_EXISTS;
	*e = pa | S2_VALID | S2_MEMATTR_NORMAL | (uint64_t)(perm & 3) << S2_AP_SHIFT | S2_SH_INNER |
	     S2_AF | ((perm & RVM_S2_EXEC) ? 0 : S2_XN);
	rvm_a64_dsb_sy();
	return RVM_OK;
}

uint64_t rvm_s2_lookup(const struct rvm_s2 *s, uint64_t ipa)
{
	const uint64_t *t = s->l1;
	uint64_t e;

	if (ipa >= S2_IPA_LIMIT)
		return 0;
	for (int level = 1; level <= 3; level++) {
		e = t[(ipa >> (39 - 9 * level)) & (level == 1 ? 3 : 511)];
		if (!(e & 1))
			return 0;
		t = (const uint64_t *)(uintptr_t)(e & S2_ADDR_MASK);
	}
	return (e & S2_ADDR_MASK) | (ipa & 0xfff);
}

void rvm_s2_activate(const struct rvm_s2 *s)
{
	rvm_a64_write(vtcr_el2, VTCR_VALUE);
	rvm_a64_write(vttbr_el2, (uintptr_t)s->l1 | (uint64_t)s->vmid << 48);
	rvm_a64_isb();
	/* VMIDs are never reused here, but a partition restarted in place may have been
	 * remapped: drop this VMID's stage-1+2 TLB entries. */
	__asm__ volatile("tlbi vmalls12e1is\n\tdsb ish\n\tisb" ::: "memory");
}

uint64_t rvm_s2_fault_ipa(void)
{
	/* HPFAR_EL2.FIPA [39:4] holds IPA bits [47:12]. */
	return (rvm_a64_read(hpfar_el2) & 0x0ffffffffff0ul) << 8 | (rvm_a64_read(far_el2) & 0xfff);
}
