/* bench/rows_seed.c - seed profile costs on the Cortex-M3 board (instructions per operation,
 * counted exactly under QEMU -icount) next to the same operations on this host (ns). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/cap.h>
#include <rvm/gate.h>
#include <rvm/witness.h>

#include "bench.h"
#include "board_boot.h"
#include "hosted.h"

/* The board's figures from one run of the bench image; ok when both runs agreed. */
struct seed_figures {
	double emit_sha256, emit_fnv1a, p1, send, calibration, wasm_event, wasm_fuel;
	int runs, agree;
};

/* Collects the figures from the bench image's "seed-bench NAME ... insns_per_op=X" lines. */
struct figures_run {
	struct seed_figures *f;
	int got;
};

static void figure_line(void *ctx, const char *line, bool console)
{
	struct figures_run *r = ctx;
	const char *s = strstr(line, "insns_per_op=");
	double v;

	if (!console || !s || sscanf(s, "insns_per_op=%lf", &v) != 1)
		return;
	if (strstr(line, " witness_emit_sha256 "))
		r->f->emit_sha256 = v, r->got |= 1;
	else if (strstr(line, " witness_emit_fnv1a "))
		r->f->emit_fnv1a = v, r->got |= 2;
	else if (strstr(line, " calibration_loop_2insn "))
		r->f->calibration = v, r->got |= 4;
	else if (strstr(line, " p1_check "))
		r->f->p1 = v, r->got |= 8;
	else if (strstr(line, " gate_send_p1p2p3 "))
		r->f->send = v, r->got |= 16;
	else if (strstr(line, " wasm_event "))
		r->f->wasm_event = v, r->got |= 32;
	else if (strstr(line, " wasm_per_fuel "))
		r->f->wasm_fuel = v, r->got |= 64;
}

/* One boot of the bench image under -icount shift=0; 0 when every figure was reported. */
static int board_run(const char *runner, const char *elf, struct seed_figures *f)
{
	struct figures_run r = {f, 0};

	if (rvm_board_boot(runner, elf, "--board seed -- -icount shift=0", "seed-console.txt",
			   figure_line, &r) != 0)
		return -1;
	return r.got == 127 ? 0 : -1;
}

/* Two boots: the figures must be identical run to run (icount makes them exact). */
static int board(struct seed_figures *f)
{
	static struct seed_figures cached;
	static int done, status = -1;
	char runner[PATH_MAX], elf[PATH_MAX];
	struct seed_figures a = {0}, b = {0};

	if (done) {
		*f = cached;
		return status;
	}
	done = 1;
	if (system("command -v qemu-system-arm >/dev/null 2>&1") != 0 ||
	    rvm_board_paths("seed-image/platform/seed/rvm-seed-bench.elf", runner, elf,
			    sizeof(runner)) != 0)
		return status;
	if (board_run(runner, elf, &a) != 0 || board_run(runner, elf, &b) != 0)
		return status;
	a.runs = 2;
	a.agree = a.emit_sha256 == b.emit_sha256 && a.emit_fnv1a == b.emit_fnv1a &&
		  a.p1 == b.p1 && a.send == b.send && a.calibration == b.calibration &&
		  a.wasm_event == b.wasm_event && a.wasm_fuel == b.wasm_fuel;
	cached = a;
	*f = a;
	status = 0;
	return status;
}

static struct rvm_witness_log host_log;
static struct rvm_hosted host_hosted;
static struct rvm_platform host_plat;

static void host_emit(void *ctx, uint64_t iters)
{
	(void)ctx;
	for (uint64_t i = 0; i < iters; i++)
		rvm_witness_emit(&host_log, RVM_ACT_IPC_SEND, 0, 3, i, i, 0, NULL);
	rvm_bench_sink(host_log.digest, 8);
}

/* The host's ns per emit with the same chain and the portable SHA-256 the M3 runs. */
static double host_emit_ns(enum rvm_witness_chain chain)
{
	struct rvm_witness_config cfg = {.chain = chain, .sig = RVM_SIG_NONE};

	rvm_hosted_open(&host_hosted, NULL, RVM_HOSTED_QUIET, &host_plat);
	host_plat.sha256 = rvm_sha256_portable();
	memset(cfg.boot_nonce, 1, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&host_log, &host_plat, &cfg) != RVM_OK)
		abort();
	return rvm_bench_time(host_emit, NULL, 50000, 11);
}

static void emit_row(struct rvm_bench_result *out, enum rvm_witness_chain chain)
{
	struct seed_figures f;
	double host = host_emit_ns(chain);

	if (board(&f) != 0) {
		snprintf(out->note, sizeof(out->note),
			 "skipped: qemu-system-arm or the seed bench image missing; host %.0f ns",
			 host);
		return;
	}
	out->ours_ns = chain == RVM_CHAIN_SHA256 ? f.emit_sha256 : f.emit_fnv1a;
	snprintf(out->note, sizeof(out->note), "insns/op on M3 (%s run to run, calib %.2f); host %.0f ns",
		 f.agree ? "equal" : "DIFFERENT", f.calibration, host);
}

static void run_emit_sha256(struct rvm_bench_result *out)
{
	emit_row(out, RVM_CHAIN_SHA256);
}

static void run_emit_fnv1a(struct rvm_bench_result *out)
{
	emit_row(out, RVM_CHAIN_FNV1A);
}

RVM_BENCH_ROW(seed_witness_emit_insns, NULL, "insns/op on Cortex-M3, reproducible",
	      run_emit_sha256)
RVM_BENCH_ROW(seed_witness_emit_fnv_insns, NULL, "insns/op on Cortex-M3, reproducible",
	      run_emit_fnv1a)

/* The host's side of the P1 row: the same rvm_cap_check on a cap granted from a kernel root. */
struct host_gate {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_gate gate;
	rvm_obj_id edge;
	rvm_cap_t root, cap;
};

static void host_p1(void *ctx, uint64_t iters)
{
	struct host_gate *h = ctx;
	uint64_t bad = 0;

	for (uint64_t i = 0; i < iters; i++)
		bad += rvm_cap_check(&h->gate, 1, h->cap, RVM_OBJ_EDGE, h->edge, RVM_RIGHT_WRITE) !=
		       RVM_OK;
	if (bad)
		abort();
}

static double host_p1_ns(void)
{
	struct host_gate *h = calloc(1, sizeof(*h));
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE};
	double ns;

	rvm_hosted_open(&host_hosted, NULL, RVM_HOSTED_QUIET, &host_plat);
	memset(cfg.boot_nonce, 2, sizeof(cfg.boot_nonce));
	if (!h || rvm_witness_init(&host_log, &host_plat, &cfg) != RVM_OK)
		abort();
	rvm_obj_init(&h->objs);
	rvm_cap_space_init(&h->caps, &h->objs, host_plat.sha256);
	rvm_gate_init(&h->gate, &h->caps, &host_log, NULL);
	if (rvm_obj_create(&h->objs, RVM_OBJ_EDGE, &h->edge) != RVM_OK ||
	    rvm_cap_mint(&h->gate, RVM_CAP_KERNEL_TABLE, RVM_OBJ_EDGE, h->edge,
			 RVM_RIGHT_WRITE | RVM_RIGHT_GRANT, &h->root) != RVM_OK ||
	    rvm_cap_grant(&h->gate, RVM_CAP_KERNEL_TABLE, h->root, 1, RVM_RIGHT_WRITE, &h->cap) !=
		    RVM_OK)
		abort();
	ns = rvm_bench_time(host_p1, h, 200000, 11);
	free(h);
	return ns;
}

static void run_p1(struct rvm_bench_result *out)
{
	struct seed_figures f;
	double host = host_p1_ns();

	if (board(&f) != 0) {
		snprintf(out->note, sizeof(out->note),
			 "skipped: qemu-system-arm or the seed bench image missing; host %.1f ns",
			 host);
		return;
	}
	out->ours_ns = f.p1;
	snprintf(out->note, sizeof(out->note),
		 "insns/op on M3 (%s run to run); host %.1f ns; gated send %.0f insns",
		 f.agree ? "equal" : "DIFFERENT", host, f.send);
}

RVM_BENCH_ROW(seed_p1_check_insns, NULL, "insns/op on Cortex-M3, reproducible", run_p1)

/* The WebAssembly task on the board: instructions per unit of fuel (about one wasm
 * instruction) of the kernel's interpreter on the M3, and per whole event in the note. */
static void run_wasm(struct rvm_bench_result *out)
{
	struct seed_figures f;

	if (board(&f) != 0) {
		snprintf(out->note, sizeof(out->note),
			 "skipped: qemu-system-arm or the seed bench image missing");
		return;
	}
	out->ours_ns = f.wasm_fuel;
	snprintf(out->note, sizeof(out->note),
		 "M3 insns per fuel unit (%s run to run); %.0f insns per event",
		 f.agree ? "equal" : "DIFFERENT", f.wasm_event);
}

RVM_BENCH_ROW(seed_wasm_fuel_insns, NULL, "insns/fuel on Cortex-M3, reproducible", run_wasm)
