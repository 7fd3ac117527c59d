/* platform/qemu-virt/fdt.h - what the board needs from the flattened device tree QEMU passes. */
#ifndef RVM_QEMU_FDT_H
#define RVM_QEMU_FDT_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>

#define RVM_FDT_MAX_CPUS 8u
#define RVM_FDT_MAX_MEM	 4u

/* The machine as the device tree describes it; zero where a node was absent. */
struct rvm_fdt_info {
	uint32_t totalsize; /* bytes of the blob, so the board can keep it out of its heap */
	struct {
		uint64_t base, size;
	} mem[RVM_FDT_MAX_MEM];
	uint32_t nmem;
	uint64_t uart_base;	       /* first "arm,pl011" */
	uint64_t gicd_base, gicd_size; /* distributor */
	uint64_t gicr_base, gicr_size; /* GICv3 redistributors */
	uint64_t gicc_base;	       /* GICv2 CPU interface */
	uint32_t gic_version;	       /* 2, 3, or 0 when no GIC was found */
	uint64_t mpidr[RVM_FDT_MAX_CPUS];
	uint32_t ncpus;		/* cpu nodes seen (may exceed RVM_FDT_MAX_CPUS) */
	uint32_t psci_smc;	/* 1: PSCI method "smc", 0: "hvc" or absent */
	uint32_t timer_hyp_ppi; /* the EL2 physical timer's PPI number (4th timer interrupt) */
	/* /chosen/rng-seed then kaslr-seed: random bytes QEMU draws from the host for us. */
	uint8_t seed[64];
	uint32_t seed_len;
	/* /chosen/bootargs (QEMU's -append), NUL-terminated, cut at 127 bytes. */
	char bootargs[128];
};

/*
 * Reads the blob at fdt (at most cap bytes may be read) and fills *out.
 * RVM_E_FORMAT: bad magic or version; RVM_E_MALFORMED: an offset, length or
 * token outside the blob, or nesting deeper than the parser follows;
 * RVM_E_NOTFOUND: no memory node. Never reads outside [fdt, fdt + cap).
 */
enum rvm_err rvm_fdt_parse(const uint8_t *fdt, size_t cap, struct rvm_fdt_info *out);

#endif
