/* platform/qemu-virt/gic.h - the interrupt controller (GICv3 or GICv2) and the EL2 timer tick. */
#ifndef RVM_QEMU_GIC_H
#define RVM_QEMU_GIC_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>

#include "fdt.h"

/* Distributor on: once, by the boot CPU. RVM_E_UNSUPPORTED without a GICv2 or GICv3. */
enum rvm_err rvm_gic_init(const struct rvm_fdt_info *f);
/* This CPU's redistributor awake, its CPU interface on, the EL2 timer PPI and the wake SGI
 * enabled, the SGI's route to it noted (under its index, rvm_a64_this_cpu()).
 * RVM_E_NOTFOUND when no redistributor has this CPU's affinity. */
enum rvm_err rvm_gic_cpu_init(const struct rvm_fdt_info *f, uint64_t mpidr);
/* Acknowledges the highest-priority pending interrupt: the acknowledgement (its INTID and, on
 * GICv2, an SGI's source CPU), which rvm_gic_eoi must be given back whole. */
uint32_t rvm_gic_ack(void);
/* The INTID of an acknowledgement (1020..1023: none). */
uint32_t rvm_gic_intid(uint32_t ack);
/* Ends handling of the interrupt ack acknowledged. */
void rvm_gic_eoi(uint32_t ack);

/* The SGI that wakes a CPU sleeping in WFI (wait.c). */
#define RVM_SGI_WAKE 1u
/* Sends RVM_SGI_WAKE to every CPU (by index) in cpus, a bit mask. */
void rvm_gic_sgi_send(uint32_t cpus);
/* Acknowledges and ends every interrupt pending here (the wake SGI, a fired idle timer);
 * whether the wake SGI was among them. */
bool rvm_gic_clear_pending(void);

/* Arms the EL2 physical timer (CNTHP) to fire in `ticks` counter ticks. */
void rvm_timer_arm(uint64_t ticks);
/* Stops the EL2 timer. */
void rvm_timer_stop(void);

#endif
