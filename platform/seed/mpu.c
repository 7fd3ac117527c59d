/* platform/seed/mpu.c - the Cortex-M3 MPU (PMSAv7, 8 regions): what unprivileged tasks may touch. */
#include "seed.h"
#include "task.h"

#define MPU_TYPE 0xE000ED90u
#define MPU_CTRL 0xE000ED94u
#define MPU_RNR  0xE000ED98u
#define MPU_RBAR 0xE000ED9Cu
#define MPU_RASR 0xE000EDA0u

#define CTRL_ENABLE     (1u << 0)
#define CTRL_PRIVDEFENA (1u << 2) /* privileged code keeps the default memory map */
#define SHCSR_MEMFAULTENA (1u << 16)

#define RASR_ENABLE 1u
#define RASR_SIZE(log2) (((log2) - 1u) << 1) /* region of 2^log2 bytes */
#define RASR_XN     (1u << 28)
#define RASR_AP_NONE (0u << 24)   /* no access, privileged or not */
#define RASR_AP_RW  (3u << 24)    /* read-write for both */
#define RASR_AP_RO  (6u << 24)    /* read-only for both */
#define RASR_NORMAL ((1u << 17) | (1u << 18)) /* normal memory, write-through, shareable */

/* Region numbers: a higher number wins where regions overlap (none do here). */
enum { REGION_TASK_TEXT = 0, REGION_STACK_GUARD = 1, REGION_PARTITION = 2 };

/* The bottom of the kernel stack: 32 bytes no one may touch, so an overflow faults. */
#define GUARD_LOG2 5u

extern const uint8_t __task_text_start[], __task_text_end[];
extern uint8_t __main_stack_bottom[];

static unsigned log2_of(uint32_t n)
{
	unsigned l = 0;

	while ((1u << l) < n)
		l++;
	return l;
}

static void region(unsigned n, uint32_t base, uint32_t rasr)
{
	RVM_SEED_REG(MPU_RNR) = n;
	RVM_SEED_REG(MPU_RBAR) = base;
	RVM_SEED_REG(MPU_RASR) = rasr;
}

void rvm_seed_mpu_init(void)
{
	uint32_t text = (uint32_t)(__task_text_end - __task_text_start);

	if (((RVM_SEED_REG(MPU_TYPE) >> 8) & 0xFFu) < 8u)
		rvm_seed_panic("this CPU has no MPU with 8 regions");
	/* The linker script pads .task_text to a power of two aligned to its size. */
	if (text & (text - 1u) || (uint32_t)(uintptr_t)__task_text_start & (text - 1u))
		rvm_seed_panic("task text is not one MPU region");
	RVM_SEED_REG(MPU_CTRL) = 0;
	region(REGION_TASK_TEXT, (uint32_t)(uintptr_t)__task_text_start,
	       RASR_ENABLE | RASR_SIZE(log2_of(text)) | RASR_AP_RO | (1u << 17));
	region(REGION_STACK_GUARD, (uint32_t)(uintptr_t)__main_stack_bottom,
	       RASR_ENABLE | RASR_SIZE(GUARD_LOG2) | RASR_AP_NONE | RASR_XN);
	region(REGION_PARTITION, 0, 0);
	RVM_SEED_REG(RVM_SEED_SHCSR) |= SHCSR_MEMFAULTENA;
	RVM_SEED_REG(MPU_CTRL) = CTRL_ENABLE | CTRL_PRIVDEFENA;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
}

void rvm_seed_mpu_partition(const void *base)
{
	region(REGION_PARTITION, (uint32_t)(uintptr_t)base,
	       RASR_ENABLE | RASR_SIZE(log2_of(RVM_SEED_PART_BYTES)) | RASR_AP_RW | RASR_NORMAL |
		       RASR_XN);
	__asm__ volatile("dsb\n\tisb" ::: "memory");
}
