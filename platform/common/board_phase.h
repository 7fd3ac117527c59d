/* platform/common/board_phase.h - the bare-metal boards' own boot phases, witnessed after the
 * kernel's as RVM_ACT_BOOT_PHASE with target = phase. */
#ifndef RVM_BOARD_PHASE_H
#define RVM_BOARD_PHASE_H

/* From 0x100, so they never collide with enum rvm_boot_phase. A board witnesses the phases
 * it has, in this order; the arguments are per phase. */
enum rvm_board_phase {
	RVM_PH_IMAGE = 0x100,	   /* image measured: arg0 = first 8 bytes of its SHA-256, arg1 = size */
	RVM_PH_PROTECT = 0x101,	   /* memory protection on (EL2 MMU, Cortex-M MPU) */
	RVM_PH_IRQ = 0x102,	   /* interrupt controller up */
	RVM_PH_SMP = 0x103,	   /* secondary CPUs online: arg0 = CPUs online */
	RVM_PH_PARTITIONS = 0x104, /* partitions created: arg0 = how many */
	RVM_PH_AGENTS = 0x105,	   /* agent module loaded: arg0 = first 8 bytes of its SHA-256 */
};

#endif
