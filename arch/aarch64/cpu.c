/* arch/aarch64/cpu.c - per-CPU blocks, and what the CPU does when something is wrong at entry. */
#include "a64.h"

#include "../../platform/qemu-virt/board.h"

_Static_assert(sizeof(struct rvm_a64_cpu) == (1u << RVM_A64_CPU_SHIFT), "start.S indexes cpus");

/* One block per CPU; start.S points TPIDR_EL2 at cpus[index]. Platform state, not core. */
struct rvm_a64_cpu rvm_a64_cpus[RVM_A64_MAX_CPUS];

static const char *const slot_names[16] = {
	"EL2t sync",	"EL2t irq",    "EL2t fiq",    "EL2t serror",	"EL2 sync", "EL2 irq",
	"EL2 fiq",	"EL2 serror",  "EL1 sync",    "EL1 irq",	"EL1 fiq",  "EL1 serror",
	"AArch32 sync", "AArch32 irq", "AArch32 fiq", "AArch32 serror",
};

void rvm_a64_panic(const struct rvm_a64_frame *f, uint64_t kind)
{
	/* Witness lines still buffered go out first (unless this CPU faulted inside a console
	 * write), so the host's log runs up to the fault. */
	rvm_board_frames_flush(RVM_FLUSH_TRY);
	rvm_board_printf("rvm: PANIC: unexpected %s exception at EL2 on cpu %u\n",
			 slot_names[kind & 15], (unsigned)(rvm_a64_read(mpidr_el1) & 0xff));
	rvm_board_printf("rvm:   esr %lx (class %lx) elr %lx far %lx spsr %lx sp %lx\n",
			 (unsigned long)f->esr, (unsigned long)(f->esr >> 26),
			 (unsigned long)f->elr, (unsigned long)f->far, (unsigned long)f->spsr,
			 (unsigned long)f->sp);
	for (int i = 0; i < 31; i++)
		rvm_board_printf("rvm:   x%d %lx\n", i, (unsigned long)f->x[i]);
	rvm_psci_system_off();
}

/*
 * Entered below or above EL2 (QEMU without virtualization=on, or with
 * secure=on): print what to do and stop. At EL1 the PSCI conduit is HVC,
 * so the machine can still be powered off; at EL3 there is no PSCI firmware.
 */
void rvm_a64_wrong_el(uint64_t el, uint64_t dtb);
void rvm_a64_wrong_el(uint64_t el, uint64_t dtb)
{
	(void)dtb;
	rvm_board_early_console();
	rvm_board_printf("rvm: FATAL: entered at EL%u, but RVM is a hypervisor and must start at "
			 "EL2.\n",
			 (unsigned)el);
	if (el < 2)
		rvm_board_printf("rvm: run QEMU with -M virt,virtualization=on\n");
	else
		rvm_board_printf("rvm: run QEMU without secure=on (no EL3 firmware is expected)\n");
	if (el == 1) {
		register uint64_t x0 __asm__("x0") = 0x84000008u; /* PSCI SYSTEM_OFF */

		__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
	}
}

/* IRQ taken while EL2 code ran: the board's interrupt controller knows what it was. */
void rvm_a64_irq(void)
{
	rvm_board_irq();
}
