/* arch/aarch64/a64_asm.h - constants shared by the assembly files (kept in step with a64.h). */
#ifndef RVM_A64_ASM_H
#define RVM_A64_ASM_H

#define RVM_A64_MAX_CPUS   8
#define RVM_A64_STACK_SIZE 16384
/* sizeof(struct rvm_a64_cpu) == 1 << RVM_A64_CPU_SHIFT (asserted in cpu.c). */
#define RVM_A64_CPU_SHIFT 7
/* struct rvm_a64_cpu: host[13] at 0, guest at 104. */
#define CPU_HOST  0
#define CPU_GUEST 104
/* struct rvm_a64_regs: x[31] at 0, sp_el1 at 248, elr at 256, spsr at 264. */
#define REGS_SP_EL1 248
#define REGS_ELR    256
#define REGS_SPSR   264
/* struct rvm_a64_fpsimd: q0..q31 at 0, fpsr then fpcr at 512. */
#define FPSIMD_FPSR 512

#define CPTR_EL2_RES1 0x33ff
#define HCR_EL2_RW    (1 << 31)

#endif
