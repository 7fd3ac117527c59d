/* platform/seed/start.c - the vector table, the reset handler and the kernel's fatal-fault path. */
#include "seed.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __main_stack_top[];

void rvm_seed_reset(void);
void rvm_seed_svc_handler(void);
void rvm_seed_memmanage_handler(void);
void rvm_seed_fatal_handler(void);
void rvm_seed_systick_handler(void);
_Noreturn void rvm_seed_kernel_fault(void);
int rvm_seed_main(void);
int rvm_seed_bench_main(void);

typedef void (*rvm_seed_vector)(void);

/* An interrupt nobody enabled: report it rather than run on. */
static void unexpected_irq(void)
{
	rvm_seed_panic("unexpected interrupt");
}

/*
 * Cortex-M vector table at 0: initial MSP, then the exception entries; the
 * LM3S6965 has 48 device interrupts after the 16 system ones, none used here.
 */
__attribute__((section(".vectors"), used)) const rvm_seed_vector rvm_seed_vectors[16 + 48] = {
	[0] = (rvm_seed_vector)(uintptr_t)__main_stack_top,
	[1] = rvm_seed_reset,
	[2] = rvm_seed_fatal_handler,  /* NMI */
	[3] = rvm_seed_fatal_handler,  /* HardFault */
	[4] = rvm_seed_memmanage_handler,
	[5] = rvm_seed_fatal_handler,  /* BusFault */
	[6] = rvm_seed_fatal_handler,  /* UsageFault */
	[11] = rvm_seed_svc_handler,
	[12] = rvm_seed_fatal_handler, /* DebugMonitor */
	[14] = rvm_seed_fatal_handler, /* PendSV */
	[15] = rvm_seed_systick_handler,
	[16 ... 63] = unexpected_irq,
};

/* Copies .data from flash, zeroes .bss, runs the board's main (the benchmarks in the bench
 * image) and exits with its status. */
void rvm_seed_reset(void)
{
	for (uint32_t *d = __data_start, *s = __data_load; d < __data_end;)
		*d++ = *s++;
	for (uint32_t *d = __bss_start; d < __bss_end;)
		*d++ = 0;
#ifdef RVM_SEED_BENCH
	rvm_seed_exit((uint32_t)rvm_seed_bench_main());
#else
	rvm_seed_exit((uint32_t)rvm_seed_main());
#endif
}

_Noreturn void rvm_seed_panic(const char *why)
{
	rvm_seed_puts("PANIC: ");
	rvm_seed_puts(why);
	rvm_seed_puts("\n");
	rvm_seed_exit(1);
}

/* A fault in privileged code: the stack guard, or a bug. Reported, then the board stops. */
_Noreturn void rvm_seed_kernel_fault(void)
{
	uint32_t ipsr;

	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	rvm_seed_putu("FATAL: kernel fault, exception ", ipsr & 0x1FFu);
	rvm_seed_putx(", CFSR 0x", RVM_SEED_REG(RVM_SEED_CFSR));
	rvm_seed_putx(", MMFAR 0x", RVM_SEED_REG(RVM_SEED_MMFAR));
	rvm_seed_puts("\n");
	rvm_seed_exit(1);
}
