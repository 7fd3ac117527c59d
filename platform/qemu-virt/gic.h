/* platform/qemu-virt/gic.h - the interrupt controller (GICv3 or GICv2) and the EL2 timer tick. */
#ifndef RVM_QEMU_GIC_H
#define RVM_QEMU_GIC_H

#include <stdint.h>

#include <rvm/err.h>

#include "fdt.h"

/* Distributor on: once, by the boot CPU. RVM_E_UNSUPPORTED without a GICv2 or GICv3. */
enum rvm_err rvm_gic_init(const struct rvm_fdt_info *f);
/* This CPU's redistributor awake, its CPU interface on, the EL2 timer PPI enabled.
 * RVM_E_NOTFOUND when no redistributor has this CPU's affinity. */
enum rvm_err rvm_gic_cpu_init(const struct rvm_fdt_info *f, uint64_t mpidr);
/* Acknowledges the highest-priority pending interrupt: its INTID (1023 = none). */
uint32_t rvm_gic_ack(void);
/* Ends handling of intid. */
void rvm_gic_eoi(uint32_t intid);

/* Arms the EL2 physical timer (CNTHP) to fire in `ticks` counter ticks. */
void rvm_timer_arm(uint64_t ticks);
/* Stops the EL2 timer. */
void rvm_timer_stop(void);

#endif
