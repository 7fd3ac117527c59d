/* kernel/kernel_priv.h - boot helpers shared by the minimal and the full boot. */
#ifndef RVM_KERNEL_PRIV_H
#define RVM_KERNEL_PRIV_H

#include <rvm/kernel.h>

/* Witnesses boot phase p (BOOT_PHASE) and counts it. */
enum rvm_err rvm_kernel_phase(struct rvm_kernel *k, uint32_t p, uint64_t arg0, uint64_t arg1);
/* BOOT_COMPLETE (target phases, arg0 boot ns, arg1 as given), a sync, then RUNNING. */
enum rvm_err rvm_kernel_boot_done(struct rvm_kernel *k, uint64_t arg1);

#endif
