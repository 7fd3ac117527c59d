/* platform/qemu-virt/board.c - boot of the QEMU virt board: find the machine, bring up every
 * CPU, run the demo swarm, shut down through PSCI. */
#include "board.h"

#include <rvm/bytes.h>
#include <rvm/ed25519.h>
#include <rvm/kernel.h>
#include <rvm/sha256.h>
#include <rvm/witness.h>

#include "../../arch/aarch64/a64.h"
#include "../../arch/aarch64/mmu.h"
#include "../common/board_phase.h"
#include "../common/frame.h"
#include "gic.h"
#include "qemu.h"
#include "scenario.h"
#include "swarm.h"

extern const unsigned char rvm_agent_wasm[];
extern const unsigned long rvm_agent_wasm_len;

extern char __image_start[], __image_end[], __rodata_end[];
extern struct rvm_a64_cpu rvm_a64_cpus[RVM_A64_MAX_CPUS];


/* Boot arguments (QEMU's -append): "rvm.twin" runs only the deterministic agent scenario with
 * this fixed boot nonce (the one tests/qemu/twin.c uses); "rvm.unsigned" skips the signing key;
 * "rvm.test-panic" makes EL2 fault on
 * purpose once booted, to test the panic path of the vectors. */
#define RVM_TWIN_NONCE "rvm-twin-nonce01"

/*
 * The machine's one board: platform services, witness log, EL2 page table,
 * page allocator and swarm. Platform state, not core. Written by the boot
 * CPU before secondaries start, except where a lock or atomic says otherwise.
 */
static struct rvm_qemu board;
static struct rvm_platform plat;
static struct rvm_kernel kernel;
static struct rvm_lock wlog_lock;
static struct rvm_scenario_mem *agents_mem;
static struct rvm_swarm swarm;
static uint64_t el2_l1[512] __attribute__((aligned(4096)));
static struct {
	struct rvm_lock lock;
	uint64_t next, end;
} pages;

/* Where QEMU put the device tree: x0 if it points at one, else the start of RAM. */
static const uint8_t *find_dtb(uint64_t x0)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)x0;

	if (x0 && rvm_load_be32(p) == 0xd00dfeedu)
		return p;
	return (const uint8_t *)RVM_QEMU_RAM_BASE;
}

/* n contiguous zeroed bytes (rounded up to pages) of RAM above the image, or NULL. */
static void *pages_take(uint64_t n)
{
	void *p = NULL;

	n = (n + 4095) & ~4095ul;
	rvm_lock_take(&pages.lock);
	if (n <= pages.end - pages.next) {
		p = (void *)(uintptr_t)pages.next;
		pages.next += n;
	}
	rvm_lock_give(&pages.lock);
	if (p)
		rvm_memset(p, 0, n);
	return p;
}

void *rvm_board_page_alloc(void *ctx)
{
	(void)ctx;
	return pages_take(4096);
}

void *rvm_board_take(uint64_t n)
{
	return pages_take(n);
}

void rvm_board_kernel_take(void)
{
	rvm_lock_take(&wlog_lock);
}

void rvm_board_kernel_give(void)
{
	/* Stream what the kernel call witnessed before anyone else emits. */
	(void)rvm_witness_flush(&kernel.witness);
	rvm_lock_give(&wlog_lock);
}

struct rvm_witness_log *rvm_board_wlog(void)
{
	return &kernel.witness;
}

enum rvm_err rvm_board_witness(uint16_t action, uint32_t actor, uint64_t target, uint64_t arg0,
			       uint64_t arg1)
{
	enum rvm_err err;

	rvm_lock_take(&wlog_lock);
	err = rvm_witness_emit(&kernel.witness, action, 0, actor, target, arg0, arg1, NULL);
	if (err == RVM_OK)
		err = rvm_witness_flush(&kernel.witness);
	rvm_lock_give(&wlog_lock);
	return err;
}

static enum rvm_err scenario_emit(void *ctx, uint16_t action, uint32_t actor, uint64_t target,
				  uint64_t arg0, uint64_t arg1)
{
	(void)ctx;
	return rvm_board_witness(action, actor, target, arg0, arg1);
}

static void scenario_print(void *ctx, const char *what, uint32_t agent, uint64_t value)
{
	(void)ctx;
	rvm_board_printf("rvm: wasm agent %u %s (%lu) at EL2 on cpu %u\n", agent, what,
			 (unsigned long)value, rvm_a64_this_cpu()->index);
}

/* The WebAssembly agents, in the interpreter at EL2 on the calling CPU. */
static enum rvm_err run_agents(void)
{
	struct rvm_scenario_result res;
	enum rvm_err err;

	if (!agents_mem)
		return RVM_E_NOMEM;
	err = rvm_scenario_run(agents_mem, rvm_agent_wasm, rvm_agent_wasm_len, scenario_emit,
			       scenario_print, NULL, &res);
	rvm_board_printf("rvm: wasm agents: %s, %u fuel slices, results %lx %lx %lx\n",
			 rvm_err_str(err), res.slices, (unsigned long)res.result[0],
			 (unsigned long)res.result[1], (unsigned long)res.result[2]);
	return err;
}

/* RAM for pages: from the end of the image to the end of the memory node holding it. */
static enum rvm_err pages_init(const struct rvm_fdt_info *f)
{
	uint64_t img = (uintptr_t)__image_end;

	for (uint32_t i = 0; i < f->nmem; i++) {
		if (img >= f->mem[i].base && img < f->mem[i].base + f->mem[i].size) {
			pages.next = (img + 4095) & ~4095ul;
			pages.end = (f->mem[i].base + f->mem[i].size) & ~4095ul;
			return RVM_OK;
		}
	}
	return RVM_E_NOMEM;
}

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
	rvm_board_printf("rvm: image %p..%p, GICv%u distributor %lx, console pl011 %lx, timer %lu "
			 "Hz\n",
			 (void *)__image_start, (void *)__image_end, f->gic_version,
			 (unsigned long)f->gicd_base, (unsigned long)f->uart_base,
			 (unsigned long)board.cntfrq);
}

/* The per-CPU part of bring-up, shared by the boot CPU and secondaries. */
static enum rvm_err cpu_up(uint32_t index)
{
	struct rvm_a64_cpu *c = rvm_a64_this_cpu();

	c->index = index;
	c->mpidr = rvm_a64_read(mpidr_el1);
	rvm_a64_mmu_enable(el2_l1);
	return rvm_gic_cpu_init(&board.fdt, c->mpidr);
}

/* Starts every other CPU the device tree lists and waits (bounded) until each runs C code. */
static uint32_t start_secondaries(void)
{
	uint32_t n = board.fdt.ncpus < RVM_A64_MAX_CPUS ? board.fdt.ncpus : RVM_A64_MAX_CPUS;

	for (uint32_t i = 1; i < n; i++) {
		int64_t r =
			rvm_psci_cpu_on(board.fdt.mpidr[i], (uintptr_t)rvm_a64_secondary_entry, i);
		uint64_t deadline = rvm_a64_read(cntpct_el0) + board.cntfrq; /* 1 s */

		if (r != 0) {
			rvm_board_printf("rvm: PSCI CPU_ON for cpu %u failed: %ld\n", i, (long)r);
			continue;
		}
		while (!__atomic_load_n(&rvm_a64_cpus[i].online, __ATOMIC_ACQUIRE) &&
		       rvm_a64_read(cntpct_el0) < deadline)
			;
	}
	return board.cpus_online;
}

void rvm_qemu_secondary(uint64_t index)
{
	enum rvm_err err = cpu_up((uint32_t)index);

	if (err != RVM_OK) {
		rvm_board_printf("rvm: cpu %lu: %s\n", (unsigned long)index, rvm_err_str(err));
		return;
	}
	__atomic_fetch_add(&board.cpus_online, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&rvm_a64_cpus[index].online, 1, __ATOMIC_RELEASE);
	rvm_board_printf("rvm: cpu %lu online (mpidr %lx)\n", (unsigned long)index,
			 (unsigned long)rvm_a64_cpus[index].mpidr);
	while (!__atomic_load_n(&swarm.go, __ATOMIC_ACQUIRE))
		__asm__ volatile("wfe");
	rvm_swarm_run_cpu(&swarm, (uint32_t)index);
}

static enum rvm_err phase(enum rvm_board_phase p, uint64_t arg0, uint64_t arg1)
{
	return rvm_board_witness(RVM_ACT_BOOT_PHASE, 0, p, arg0, arg1);
}

/* Is word (e.g. "rvm.twin") among the boot arguments (QEMU's -append)? */
static bool bootarg(const char *word)
{
	size_t n = rvm_strlen(word);

	for (const char *a = board.fdt.bootargs; *a; a++)
		if ((a == board.fdt.bootargs || a[-1] == ' ') && !rvm_memcmp(a, word, n) &&
		    (a[n] == 0 || a[n] == ' '))
			return true;
	return false;
}

/*
 * A signing key for this boot only: an Ed25519 key pair from the platform's entropy. The
 * secret half stays in the log's config until shutdown; the public half goes to the host as a
 * framed "@rvm:k:" line (it is also in the log header), so the host pins it at boot.
 */
static enum rvm_err boot_key(struct rvm_witness_config *wcfg)
{
	uint8_t seed[RVM_ED25519_SEED], pk[RVM_ED25519_PUBLIC];
	enum rvm_err err = rvm_platform_entropy(&plat, seed, sizeof(seed));

	if (err != RVM_OK)
		return err;
	rvm_ed25519_keypair(pk, wcfg->key, seed);
	rvm_wipe(seed, sizeof(seed));
	wcfg->sig = RVM_SIG_ED25519;
	wcfg->key_pair_fresh = true; /* derived once, here: the kernel takes it as it is */
	rvm_frame_write(rvm_board_write, 'k', pk, sizeof(pk));
	return RVM_OK;
}

/* The kernel's boot: genesis and the first records, streamed before anything else. */
static enum rvm_err boot_kernel(uint64_t t0, bool twin)
{
	struct rvm_witness_config wcfg = {.chain = RVM_CHAIN_SHA256,
					  .sig = RVM_SIG_NONE,
					  .checkpoint_every = RVM_WITNESS_CHECKPOINT_EVERY};
	enum rvm_err err = RVM_OK;

	board.cpus_online = 1;
	rvm_qemu_platform(&board, &plat);
	if (twin)
		rvm_memcpy(wcfg.boot_nonce, RVM_TWIN_NONCE, sizeof(wcfg.boot_nonce));
	/* Signed by default; rvm.unsigned skips deriving the key pair (tens of ms under TCG,
	 * all before the first witness) for the fastest first witness. */
	if (!bootarg("rvm.unsigned"))
		err = boot_key(&wcfg);
	if (err == RVM_OK)
		err = rvm_kernel_boot(&kernel, &plat, &wcfg);
	rvm_wipe(wcfg.key, sizeof(wcfg.key));
	if (err != RVM_OK)
		return err;
	rvm_board_printf(
		"rvm: first witness record %lu us after entry (%lu us after reset)\n",
		(unsigned long)(rvm_qemu_ticks_to_ns(&board, rvm_a64_read(cntpct_el0) - t0) / 1000),
		(unsigned long)(plat.now_ns(plat.ctx) / 1000));
	describe(&board.fdt);
	return RVM_OK;
}

/* MMU, page allocator, agent memory, interrupt controller on the boot CPU. */
static enum rvm_err boot_board(void)
{
	uint64_t ram[RVM_FDT_MAX_MEM][2];
	enum rvm_err err;

	for (uint32_t i = 0; i < board.fdt.nmem; i++)
		ram[i][0] = board.fdt.mem[i].base, ram[i][1] = board.fdt.mem[i].size;
	rvm_a64_mmu_build(el2_l1, (const uint64_t(*)[2])ram, board.fdt.nmem);
	err = pages_init(&board.fdt);
	if (err == RVM_OK)
		err = rvm_gic_init(&board.fdt);
	if (err == RVM_OK)
		err = cpu_up(0);
	agents_mem = pages_take(sizeof(*agents_mem));
	return err;
}

/* Normal boot: the board's steps witnessed, every CPU up, partitions created. */
static enum rvm_err boot_swarm(uint64_t t0)
{
	uint8_t d[RVM_SHA256_DIGEST];
	enum rvm_err err;

	/* Measure the image: code and constants, as loaded (arg0 = first 8 digest bytes). */
	size_t len = (size_t)((uintptr_t)__rodata_end - (uintptr_t)__image_start);

	rvm_sha256(plat.sha256, __image_start, len, d);
	err = phase(RVM_PH_IMAGE, rvm_load_le64(d), len);
	if (err == RVM_OK)
		err = phase(RVM_PH_PROTECT, (uintptr_t)el2_l1, pages.end - pages.next);
	if (err == RVM_OK)
		err = phase(RVM_PH_IRQ, board.fdt.gic_version, board.fdt.gicd_base);
	if (err != RVM_OK)
		return err;
	rvm_a64_cpus[0].online = 1;
	err = phase(RVM_PH_SMP, start_secondaries(), board.fdt.ncpus);
	if (err == RVM_OK)
		err = rvm_swarm_create(&swarm, board.cpus_online, board.cntfrq / 1000, plat.sha256);
	if (err == RVM_OK)
		err = phase(RVM_PH_PARTITIONS, swarm.nparts,
			    rvm_qemu_ticks_to_ns(&board, rvm_a64_read(cntpct_el0) - t0));
	return err;
}

/* Closes the log with the kernel's shutdown record and checkpoint. */
static void shutdown(void)
{
	enum rvm_err err;

	rvm_lock_take(&wlog_lock);
	err = rvm_kernel_shutdown(&kernel);
	rvm_lock_give(&wlog_lock);
	if (err != RVM_OK)
		rvm_board_printf("rvm: FATAL: shutdown: %s\n", rvm_err_str(err));
	rvm_board_printf("rvm: %lu witness records streamed; shutdown via PSCI SYSTEM_OFF\n",
			 (unsigned long)kernel.witness.next_seq);
}

/* Every CPU runs its partitions; CPU 0 first runs the WebAssembly agents. */
static void run_swarm(void)
{
	enum rvm_err err;

	rvm_board_printf("rvm: boot complete: %u CPU(s) online, %u partitions\n", board.cpus_online,
			 swarm.nparts);
	__atomic_store_n(&swarm.go, 1, __ATOMIC_RELEASE);
	__asm__ volatile("sev");
	err = run_agents();
	rvm_swarm_run_cpu(&swarm, 0);
	while (__atomic_load_n(&swarm.cpus_done, __ATOMIC_ACQUIRE) < board.cpus_online)
		__asm__ volatile("wfe");
	for (uint32_t i = 0; i < board.cpus_online; i++)
		rvm_board_printf("rvm: cpu %u: %u timer preemptions\n", i, swarm.preemptions[i]);
	rvm_swarm_destroy(&swarm);
	if (err != RVM_OK)
		rvm_board_printf("rvm: FATAL: wasm agents: %s\n", rvm_err_str(err));
	shutdown();
}

void rvm_qemu_main(uint64_t dtb)
{
	uint64_t t0 = rvm_a64_read(cntpct_el0);
	const uint8_t *blob;
	enum rvm_err err;
	bool twin;

	rvm_board_early_console();
	blob = find_dtb(dtb);
	/* The blob lies below the image: it may span at most the gap between them. */
	err = rvm_fdt_parse(blob, (size_t)((uintptr_t)__image_start - (uintptr_t)blob), &board.fdt);
	if (err != RVM_OK) {
		rvm_board_printf("rvm: FATAL: device tree at %p unreadable: %s\n",
				 (const void *)blob, rvm_err_str(err));
		return;
	}
	if (board.fdt.uart_base)
		rvm_board_console_set(board.fdt.uart_base);
	twin = bootarg("rvm.twin");
	err = boot_kernel(t0, twin);
	if (err == RVM_OK)
		err = boot_board();
	if (err == RVM_OK && bootarg("rvm.test-panic")) {
		/* Fault injection for the tests: a load beyond the 4 GiB the EL2 map covers. */
		rvm_board_printf("rvm: test: loading from an unmapped address at EL2\n");
		(void)*(volatile uint64_t *)(uintptr_t)0x100000000ul;
	}
	if (err == RVM_OK && twin) {
		/* The twin scenario: only what the hosted twin does too, on one CPU. */
		rvm_board_printf("rvm: twin scenario (fixed nonce, agents only)\n");
		err = run_agents();
		if (err == RVM_OK)
			shutdown();
	} else if (err == RVM_OK) {
		err = boot_swarm(t0);
		if (err == RVM_OK)
			run_swarm();
	}
	if (err != RVM_OK)
		rvm_board_printf("rvm: FATAL: %s\n", rvm_err_str(err));
}

void rvm_board_irq(void)
{
	uint32_t intid = rvm_gic_ack();

	if (intid < 1020)
		rvm_gic_eoi(intid);
	rvm_board_printf("rvm: unexpected IRQ %u on cpu %u\n", intid, rvm_a64_this_cpu()->index);
}
