/* platform/seed/semihost.c - ARM semihosting: exit with a status, read the host's clock. */
#include "seed.h"

#define SYS_TIME          0x11u
#define SYS_GET_CMDLINE   0x15u
#define SYS_EXIT_EXTENDED 0x20u
/* ADP_Stopped_ApplicationExit: with SYS_EXIT_EXTENDED the second word is the exit status. */
#define ADP_APPLICATION_EXIT 0x20026u

/* One semihosting call: op in r0, argument in r1, BKPT 0xAB; the answer comes back in r0. */
static uint32_t semihost(uint32_t op, const void *arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

_Noreturn void rvm_seed_exit(uint32_t status)
{
	const uint32_t block[2] = {ADP_APPLICATION_EXIT, status};

	semihost(SYS_EXIT_EXTENDED, block);
	/* Only reached without -semihosting: nothing else can stop the board. */
	for (;;)
		__asm__ volatile("wfi");
}

uint32_t rvm_seed_host_time(void)
{
	return semihost(SYS_TIME, 0);
}

size_t rvm_seed_cmdline(char *buf, size_t cap)
{
	uint32_t block[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)cap};

	if (cap == 0)
		return 0;
	if (semihost(SYS_GET_CMDLINE, block) != 0 || block[1] >= cap) {
		buf[0] = 0;
		return 0;
	}
	buf[block[1]] = 0;
	return block[1];
}
