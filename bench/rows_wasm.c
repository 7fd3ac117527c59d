/* bench/rows_wasm.c - RVM's wasm engine vs wabt's wasm-interp (and node's V8) on C kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvm/wasm.h>

#include "bench.h"

/*
 * Kernels come from agents/kernels.c, built as bench_<name>.wasm exporting only `run` (fixed
 * arguments). Ours: load (decode + validate + translate) + instantiate + run, in process.
 * wasm-interp: a whole process with --run-all-exports, minus the median time of the same
 * command on bench_empty.wasm (process start-up and module load). node: the run() call alone,
 * timed inside node after one warm-up call (the JIT ceiling, for scale).
 */

#ifndef RVM_AGENTS_DIR
#define RVM_AGENTS_DIR NULL
#endif

#define ARENA (8u << 20)
#define MEMORY (32u << 20)
#define ROUNDS 3

struct engine {
	uint8_t *bytes;
	size_t len;
	uint8_t *mod_arena, *inst_arena, *mem;
	uint64_t result;
};

static int path_of(char *out, size_t cap, const char *kernel)
{
	if (!RVM_AGENTS_DIR)
		return -1;
	snprintf(out, cap, "%s/bench_%s.wasm", RVM_AGENTS_DIR, kernel);
	return access(out, R_OK);
}

static int engine_open(struct engine *e, const char *kernel)
{
	char path[512];
	FILE *f;

	memset(e, 0, sizeof(*e));
	if (path_of(path, sizeof(path), kernel) != 0 || !(f = fopen(path, "rb")))
		return -1;
	e->bytes = malloc(1u << 20);
	e->len = fread(e->bytes, 1, 1u << 20, f);
	fclose(f);
	e->mod_arena = malloc(ARENA);
	e->inst_arena = malloc(ARENA);
	e->mem = malloc(MEMORY);
	return 0;
}

static void engine_close(struct engine *e)
{
	free(e->bytes);
	free(e->mod_arena);
	free(e->inst_arena);
	free(e->mem);
}

/* Load + instantiate (+ run, if run) once; 0 on success. */
static int engine_once(struct engine *e, int run)
{
	struct rvm_wasm_config cfg = { .memory = e->mem, .memory_cap = MEMORY };
	struct rvm_wasm_module *m = rvm_wasm_module_load(e->bytes, e->len, e->mod_arena, ARENA, NULL);
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_extern ex;

	if (!m)
		return -1;
	inst = rvm_wasm_instantiate(m, NULL, 0, &cfg, e->inst_arena, ARENA, NULL, NULL);
	if (!inst || !rvm_wasm_export(inst, "run", 3, &ex))
		return -1;
	if (!run)
		return 0;
	if (rvm_wasm_call(inst, ex.u.func, NULL, 0) != RVM_OK ||
	    rvm_wasm_run(inst, UINT64_MAX, NULL) != RVM_WASM_DONE)
		return -1;
	e->result = rvm_wasm_results(inst, NULL)[0];
	return 0;
}

static double run_ours(struct engine *e)
{
	uint64_t t0 = rvm_bench_now_ns();

	if (engine_once(e, 1) != 0)
		return -1;
	return (double)(rvm_bench_now_ns() - t0);
}

/* Wall time of one command (stdout and stderr discarded), ns; -1 if it fails. */
static double run_process(char *const argv[])
{
	uint64_t t0 = rvm_bench_now_ns();
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (double)(rvm_bench_now_ns() - t0);
}

static double interp_once(const char *kernel)
{
	char path[512];
	char *argv[] = { "wasm-interp", path, "--run-all-exports", NULL };

	if (path_of(path, sizeof(path), kernel) != 0)
		return -1;
	return run_process(argv);
}

/* node: ms for one run() after a warm-up call, best of three; -1 if node is unavailable. */
static double node_ms(const char *kernel)
{
	char path[512], script[1024], line[128];
	FILE *p;
	double ms = -1;

	if (path_of(path, sizeof(path), kernel) != 0)
		return -1;
	snprintf(script, sizeof(script),
		 "node -e \"const m=new WebAssembly.Instance(new WebAssembly.Module("
		 "require('fs').readFileSync('%s')));m.exports.run();let b=1e9;"
		 "for(let i=0;i<3;i++){const t=process.hrtime.bigint();m.exports.run();"
		 "b=Math.min(b,Number(process.hrtime.bigint()-t)/1e6);}console.log(b)\" 2>/dev/null",
		 path);
	p = popen(script, "r");
	if (!p)
		return -1;
	if (fgets(line, sizeof(line), p))
		ms = atof(line);
	if (pclose(p) != 0)
		return -1;
	return ms;
}

static void run_kernel(struct rvm_bench_result *out, const char *kernel)
{
	struct engine e;
	double ours[ROUNDS], peer[ROUNDS], base[ROUNDS];
	double node;

	if (engine_open(&e, kernel) != 0) {
		snprintf(out->note, sizeof(out->note), "bench_%s.wasm not built", kernel);
		return;
	}
	/* Interleaved: ours, wasm-interp, wasm-interp on the empty module, and again. */
	for (int r = 0; r < ROUNDS; r++) {
		ours[r] = run_ours(&e);
		peer[r] = interp_once(kernel);
		base[r] = interp_once("empty");
		if (ours[r] < 0 || peer[r] < 0 || base[r] < 0) {
			snprintf(out->note, sizeof(out->note), "a run failed (is wabt installed?)");
			engine_close(&e);
			return;
		}
	}
	out->ours_ns = rvm_bench_median(ours, ROUNDS);
	out->peer_ns = rvm_bench_median(peer, ROUNDS) - rvm_bench_median(base, ROUNDS);
	node = node_ms(kernel);
	snprintf(out->note, sizeof(out->note),
		 "%.1fx faster; node %.1f ms (%.1fx ours); peer less %.0f ms start-up",
		 out->peer_ns / out->ours_ns, node, out->ours_ns / 1e6 / node,
		 rvm_bench_median(base, ROUNDS) / 1e6);
	engine_close(&e);
}

static void run_fib(struct rvm_bench_result *out) { run_kernel(out, "fib"); }
static void run_sieve(struct rvm_bench_result *out) { run_kernel(out, "sieve"); }
static void run_sha256(struct rvm_bench_result *out) { run_kernel(out, "sha256"); }
static void run_matmul(struct rvm_bench_result *out) { run_kernel(out, "matmul"); }
static void run_mix(struct rvm_bench_result *out) { run_kernel(out, "mix"); }

RVM_BENCH_ROW(wasm_fib, "wabt-wasm-interp", "ratio <= 0.1", run_fib)
RVM_BENCH_ROW(wasm_sieve, "wabt-wasm-interp", "ratio <= 0.1", run_sieve)
RVM_BENCH_ROW(wasm_sha256, "wabt-wasm-interp", "ratio <= 0.1", run_sha256)
RVM_BENCH_ROW(wasm_matmul, "wabt-wasm-interp", "ratio <= 0.1", run_matmul)
RVM_BENCH_ROW(wasm_mix, "wabt-wasm-interp", "ratio <= 0.067", run_mix)

/* ---- instantiation ---- */

#define SPAWN_ITERS 3001

/* Bound to every import (with the module's own types); instantiation never calls it. */
static enum rvm_wasm_trap spawn_host(void *ctx, struct rvm_wasm_instance *caller, uint64_t *slots)
{
	(void)ctx, (void)caller, (void)slots;
	return RVM_WASM_TRAP_HOST;
}

struct spawn {
	uint8_t *bytes;
	size_t len;
	uint8_t *type_arena; /* a load kept alive: the import types point into it */
	uint8_t *mod_arena, *inst_arena, *mem;
	struct rvm_wasm_func funcs[16];
	struct rvm_wasm_extern imports[16];
	uint32_t nimports;
	size_t mem_bytes; /* initial linear memory of an instance */
};

/* Load + validate + translate + instantiate once; 0 on success. */
static int spawn_once(struct spawn *s, bool zeroed)
{
	struct rvm_wasm_config cfg = { .memory = s->mem, .memory_cap = MEMORY,
				       .memory_zeroed = zeroed };
	struct rvm_wasm_module *m = rvm_wasm_module_load(s->bytes, s->len, s->mod_arena, ARENA, NULL);
	struct rvm_wasm_instance *inst;

	if (!m)
		return -1;
	inst = rvm_wasm_instantiate(m, s->imports, s->nimports, &cfg, s->inst_arena, ARENA, NULL,
				    NULL);
	if (!inst)
		return -1;
	s->mem_bytes = rvm_wasm_instance_memory(inst) ? rvm_wasm_instance_memory(inst)->size : 0;
	return 0;
}

static void spawn_close(struct spawn *s)
{
	free(s->bytes);
	free(s->type_arena);
	free(s->mod_arena);
	free(s->inst_arena);
	free(s->mem);
}

static int spawn_open(struct spawn *s, const char *file)
{
	char path[512];
	FILE *f;
	struct rvm_wasm_module *m;
	struct rvm_wasm_import_desc d;

	memset(s, 0, sizeof(*s));
	if (!RVM_AGENTS_DIR)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", RVM_AGENTS_DIR, file);
	if (!(f = fopen(path, "rb")))
		return -1;
	s->bytes = malloc(1u << 20);
	s->len = fread(s->bytes, 1, 1u << 20, f);
	fclose(f);
	s->type_arena = malloc(ARENA);
	s->mod_arena = malloc(ARENA);
	s->inst_arena = malloc(ARENA);
	s->mem = calloc(1, MEMORY);
	m = rvm_wasm_module_load(s->bytes, s->len, s->type_arena, ARENA, NULL);
	if (!m || rvm_wasm_module_import_count(m) > 16)
		return -1;
	s->nimports = rvm_wasm_module_import_count(m);
	for (uint32_t i = 0; i < s->nimports; i++) {
		rvm_wasm_module_import(m, i, &d);
		if (d.kind != RVM_WASM_KIND_FUNC)
			return -1;
		rvm_wasm_host_func(&s->funcs[i], d.type, spawn_host, NULL);
		s->imports[i].kind = RVM_WASM_KIND_FUNC;
		s->imports[i].u.func = &s->funcs[i];
	}
	return spawn_once(s, false);
}

/*
 * Median wall time of one load + instantiate, each timed alone. With `zeroed`, the harness
 * clears the instance's memory before each iteration (untimed), as a pool of pre-zeroed
 * pages would, and the engine skips zeroing; otherwise the engine zeroes it (timed).
 */
static double spawn_median(struct spawn *s, bool zeroed, double *mean)
{
	static double t[SPAWN_ITERS];
	double sum = 0;

	for (int i = 0; i < SPAWN_ITERS; i++) {
		uint64_t t0;

		if (zeroed)
			memset(s->mem, 0, s->mem_bytes);
		t0 = rvm_bench_now_ns();
		if (spawn_once(s, zeroed) != 0)
			return -1;
		t[i] = (double)(rvm_bench_now_ns() - t0);
		sum += t[i];
	}
	*mean = sum / SPAWN_ITERS;
	return rvm_bench_median(t, SPAWN_ITERS);
}

static void run_spawn(struct rvm_bench_result *out, const char *file, bool zeroed)
{
	struct spawn s;
	double mean = 0;

	if (spawn_open(&s, file) != 0) {
		snprintf(out->note, sizeof(out->note), "%s not built or not loadable", file);
		spawn_close(&s);
		return;
	}
	out->ours_ns = spawn_median(&s, zeroed, &mean);
	snprintf(out->note, sizeof(out->note),
		 "%s %zu B, %zu KiB memory %s; median of %d (mean %.0f ns)", file, s.len,
		 s.mem_bytes / 1024, zeroed ? "pre-zeroed" : "engine-zeroed", SPAWN_ITERS, mean);
	spawn_close(&s);
}

static void run_inst_1k(struct rvm_bench_result *out) { run_spawn(out, "relay.wasm", true); }
static void run_inst_1k_zero(struct rvm_bench_result *out) { run_spawn(out, "relay.wasm", false); }
static void run_inst_2k(struct rvm_bench_result *out) { run_spawn(out, "bench_sha256.wasm", true); }

RVM_BENCH_ROW(wasm_instantiate_1k, NULL, "< 10 us", run_inst_1k)
RVM_BENCH_ROW(wasm_instantiate_1k_zeroing, NULL, NULL, run_inst_1k_zero)
RVM_BENCH_ROW(wasm_instantiate_2k, NULL, "< 20 us", run_inst_2k)
