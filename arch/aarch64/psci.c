/* arch/aarch64/psci.c - PSCI calls through the SMC conduit (QEMU virt with virtualization=on). */
#include "a64.h"

/* Function ids from the PSCI specification (SMC64 calling convention where it matters). */
#define PSCI_VERSION	0x84000000u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_CPU_ON_64	0xC4000003u

/* One SMC: function id and up to three arguments in x0..x3; the status comes back in x0. */
static uint64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

int64_t rvm_psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t ctx)
{
	return (int64_t)psci_call(PSCI_CPU_ON_64, mpidr, entry, ctx);
}

uint32_t rvm_psci_version(void)
{
	return (uint32_t)psci_call(PSCI_VERSION, 0, 0, 0);
}

void rvm_psci_system_off(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	/* Only reached if the call failed: stop this CPU for good. */
	for (;;)
		__asm__ volatile("wfi");
}
