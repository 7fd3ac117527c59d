/* platform/qemu-virt/board.c - boot of the QEMU virt board: find the machine, run RVM, power off.
 */
#include "board.h"

#include <rvm/bytes.h>
#include <rvm/witness.h>

#include "../../arch/aarch64/a64.h"
#include "qemu.h"

extern char __image_start[], __image_end[];

/* Where QEMU put the device tree: x0 if it points at one, else the start of RAM. */
static const uint8_t *find_dtb(uint64_t x0)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)x0;

	if (x0 && rvm_load_be32(p) == 0xd00dfeedu)
		return p;
	return (const uint8_t *)RVM_QEMU_RAM_BASE;
}

/* The machine's one board, platform table and witness log (platform state, not core). */
static struct rvm_qemu board;
static struct rvm_platform plat;
static struct rvm_witness_log wlog;

static void describe(const struct rvm_fdt_info *f)
{
	rvm_board_printf("rvm: RVM on qemu-virt, EL%u, %u CPU(s), PSCI %u.%u via %s\n",
			 rvm_a64_current_el(), f->ncpus, rvm_psci_version() >> 16,
			 rvm_psci_version() & 0xffff, f->psci_smc ? "smc" : "hvc");
	for (uint32_t i = 0; i < f->nmem; i++)
		rvm_board_printf("rvm: memory %lx..%lx (%lu MiB) from the device tree\n",
				 (unsigned long)f->mem[i].base,
				 (unsigned long)(f->mem[i].base + f->mem[i].size),
				 (unsigned long)(f->mem[i].size >> 20));
	rvm_board_printf("rvm: image %p..%p, GICv%u distributor %lx, console pl011 %lx\n",
			 (void *)__image_start, (void *)__image_end, f->gic_version,
			 (unsigned long)f->gicd_base, (unsigned long)f->uart_base);
}

void rvm_qemu_main(uint64_t dtb)
{
	uint64_t t0 = rvm_a64_read(cntpct_el0);
	struct rvm_witness_config wcfg = {.chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE};
	const uint8_t *blob;
	enum rvm_err err;

	rvm_board_early_console();
	blob = find_dtb(dtb);
	/* The blob lies below the image: it may span at most the gap between them. */
	err = rvm_fdt_parse(blob, (size_t)((const uint8_t *)__image_start - blob), &board.fdt);
	if (err != RVM_OK) {
		rvm_board_printf("rvm: FATAL: device tree at %p unreadable: %s\n",
				 (const void *)blob, rvm_err_str(err));
		return;
	}
	if (board.fdt.uart_base)
		rvm_board_console_set(board.fdt.uart_base);
	board.cpus_online = 1;
	rvm_qemu_platform(&board, &plat);
	err = rvm_witness_init(&wlog, &plat, &wcfg);
	if (err == RVM_OK)
		err = rvm_witness_emit(&wlog, RVM_ACT_BOOT_PHASE, 0, 0, 1, board.fdt.ncpus, 0,
				       NULL);
	if (err != RVM_OK) {
		rvm_board_printf("rvm: FATAL: witness genesis failed: %s\n", rvm_err_str(err));
		return;
	}
	rvm_board_printf(
		"rvm: first witness record %lu us after entry (%lu us after reset)\n",
		(unsigned long)(rvm_qemu_ticks_to_ns(&board, rvm_a64_read(cntpct_el0) - t0) / 1000),
		(unsigned long)(plat.now_ns(plat.ctx) / 1000));
	describe(&board.fdt);
	err = rvm_witness_close(&wlog);
	if (err != RVM_OK)
		rvm_board_printf("rvm: witness close failed: %s\n", rvm_err_str(err));
	rvm_board_printf("rvm: shutdown via PSCI SYSTEM_OFF\n");
}

void rvm_qemu_secondary(uint64_t index)
{
	(void)index;
}

void rvm_board_irq(void)
{
	rvm_board_printf("rvm: unexpected IRQ on cpu %u\n", rvm_a64_this_cpu()->index);
}
