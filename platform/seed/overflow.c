/* platform/seed/overflow.c - the kernel stack guard, shown: recursion until the MPU stops it. */
#include "seed.h"

/* Each level keeps 64 bytes live on the stack; the sum after the call stops a tail call. */
static __attribute__((noinline)) uint32_t dive(volatile uint32_t *depth)
{
	volatile uint8_t pad[64];

	pad[0] = (uint8_t)*depth;
	if (++*depth > 1000000u)
		return pad[0];
	return dive(depth) + pad[0];
}

/*
 * Recurses on the kernel (main) stack. The 32-byte no-access guard below it
 * turns the overflow into a MemManage fault in privileged code, which
 * rvm_seed_kernel_fault reports before the board stops; without the guard the
 * stack would run on into .bss and silently overwrite the kernel's state.
 */
void rvm_seed_overflow(void)
{
	volatile uint32_t depth = 0;

	rvm_seed_puts("stack overflow test: recursing on the kernel stack\n");
	dive(&depth);
	rvm_seed_puts("stack overflow test: the guard did not fire\n");
}
