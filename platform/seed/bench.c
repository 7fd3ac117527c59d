/* platform/seed/bench.c - the board half of the seed benchmarks: instructions per operation. */
#include <rvm/bytes.h>
#include <rvm/witness.h>

#include "ipc.h"
#include "seed.h"
#include "wasm_task.h"

extern const unsigned char rvm_seed_agent_wasm[];
extern const unsigned long rvm_seed_agent_wasm_len;

int rvm_seed_bench_main(void);

/* Operations per measurement: enough that the 80-instruction SysTick step is under 1%. */
#define OPS 512u

static struct rvm_witness_log bench_log;
static struct rvm_seed_ipc bench_ipc;
static struct rvm_seed_wasm bench_wasm;

/* The board's platform with no sink: a ring-only log, so emit is measured without the UART. */
static enum rvm_err no_sink(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n)
{
	(void)ctx, (void)s, (void)buf, (void)n;
	return RVM_E_UNSUPPORTED;
}

/* Two instructions per iteration (subs, bne): the calibration of ticks against instructions. */
static void spin(uint32_t n)
{
	__asm__ volatile("1: subs %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

/*
 * Under -icount shift=0 QEMU advances virtual time 1 ns per instruction and SysTick
 * counts that time at 12.5 MHz: one count is 80 instructions. Prints the count
 * for `what` as "seed-bench NAME ops=N insns=I insns_per_op=X.YY".
 */
static void report(const char *name, uint32_t ops, uint64_t ticks)
{
	uint64_t insns = ticks * RVM_SEED_NS_PER_TICK, centi = insns * 100u / ops;

	rvm_seed_puts("seed-bench ");
	rvm_seed_puts(name);
	rvm_seed_putu(" ops=", ops);
	rvm_seed_putu(" insns=", insns);
	rvm_seed_putu(" insns_per_op=", centi / 100u);
	rvm_seed_puts(centi % 100u < 10u ? ".0" : ".");
	rvm_seed_putu("", centi % 100u);
	rvm_seed_puts("\n");
}

static void emit_bench(const struct rvm_platform *plat, enum rvm_witness_chain chain,
		       const char *name)
{
	struct rvm_witness_config cfg = {.chain = chain, .sig = RVM_SIG_NONE};
	uint64_t t0, t1;

	rvm_memset(cfg.boot_nonce, 1, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&bench_log, plat, &cfg) != RVM_OK)
		rvm_seed_panic("bench: witness init");
	t0 = rvm_seed_ticks();
	for (uint32_t i = 0; i < OPS; i++)
		if (rvm_witness_emit(&bench_log, RVM_ACT_IPC_SEND, 0, 3, i, i, 0, NULL) != RVM_OK)
			rvm_seed_panic("bench: witness emit");
	t1 = rvm_seed_ticks();
	report(name, OPS, t1 - t0);
}

/* P1 alone (rvm_cap_check: resolve the handle, check type, object and rights), and a whole
 * gated send (P1, P2 owner/epoch/nonce, P3 over a chain of two, apply, witness record). */
static void gate_bench(const struct rvm_platform *plat)
{
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE};
	uint64_t t0, t1;

	rvm_memset(cfg.boot_nonce, 2, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&bench_log, plat, &cfg) != RVM_OK ||
	    rvm_seed_ipc_init(&bench_ipc, &bench_log, plat->sha256) != RVM_OK)
		rvm_seed_panic("bench: gate set-up");
	t0 = rvm_seed_ticks();
	for (uint32_t i = 0; i < OPS; i++)
		if (rvm_cap_check(&bench_ipc.gate, 1, bench_ipc.cap[1], RVM_OBJ_EDGE, bench_ipc.edge,
				  RVM_RIGHT_WRITE) != RVM_OK)
			rvm_seed_panic("bench: P1");
	t1 = rvm_seed_ticks();
	report("p1_check", OPS, t1 - t0);
	t0 = rvm_seed_ticks();
	for (uint32_t i = 0; i < OPS; i++)
		if (rvm_seed_ipc_send(&bench_ipc, 1, i) != RVM_OK)
			rvm_seed_panic("bench: gated send");
	t1 = rvm_seed_ticks();
	report("gate_send_p1p2p3", OPS, t1 - t0);
}

/* The demo's WebAssembly task: whole events (call, fuel slices, one witnessed host call,
 * result), and the same time per unit of fuel (about one wasm instruction each). */
static void wasm_bench(const struct rvm_platform *plat)
{
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE};
	uint64_t t0, t1, fuel0;
	uint32_t r;

	rvm_memset(cfg.boot_nonce, 3, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&bench_log, plat, &cfg) != RVM_OK ||
	    rvm_seed_wasm_load(&bench_wasm, rvm_seed_agent_wasm, rvm_seed_agent_wasm_len,
			       &bench_log, 4) != RVM_OK)
		rvm_seed_panic("bench: wasm set-up");
	fuel0 = bench_wasm.fuel;
	t0 = rvm_seed_ticks();
	for (uint32_t i = 0; i < OPS / 8; i++)
		if (rvm_seed_wasm_event(&bench_wasm, 1u << 16 | i, &r) != RVM_OK)
			rvm_seed_panic("bench: wasm event");
	t1 = rvm_seed_ticks();
	report("wasm_event", OPS / 8, t1 - t0);
	report("wasm_per_fuel", (uint32_t)(bench_wasm.fuel - fuel0), t1 - t0);
}

int rvm_seed_bench_main(void)
{
	struct rvm_platform plat;
	uint64_t t0, t1;

	rvm_seed_systick_start();
	__asm__ volatile("cpsie i" ::: "memory");
	rvm_seed_platform(&plat);
	plat.sink_append = no_sink;
	rvm_seed_puts("RVM seed benchmarks (run under -icount shift=0: 1 ns per instruction)\n");
	t0 = rvm_seed_ticks();
	spin(100000);
	t1 = rvm_seed_ticks();
	report("calibration_loop_2insn", 100000, t1 - t0);
	emit_bench(&plat, RVM_CHAIN_SHA256, "witness_emit_sha256");
	emit_bench(&plat, RVM_CHAIN_FNV1A, "witness_emit_fnv1a");
	gate_bench(&plat);
	wasm_bench(&plat);
	return 0;
}
