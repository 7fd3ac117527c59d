/* tests/unit/test_wasm.c - the WebAssembly engine: decode errors, traps, fuel resume, snapshots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/sha256.h>
#include <rvm/wasm.h>

#include "support.h"

/*
 * basic_wasm is this module (wat2wasm):
 *   (memory (export "mem") 1 2)
 *   sum(n) -> i64: adds n..1 into an i64, storing n at (n & 0xfffc) on the way
 *   div(a, b) = i32.div_s; load(a) = i32.load; fib(n) recursive; grow(n) = memory.grow;
 *   inf(x) calls itself forever.
 */
static const uint8_t basic_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x11, 0x03, 0x60,
  0x01, 0x7f, 0x01, 0x7e, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01,
  0x7f, 0x01, 0x7f, 0x03, 0x07, 0x06, 0x00, 0x01, 0x02, 0x02, 0x02, 0x02,
  0x05, 0x04, 0x01, 0x01, 0x01, 0x02, 0x07, 0x2d, 0x07, 0x03, 0x6d, 0x65,
  0x6d, 0x02, 0x00, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, 0x03, 0x64, 0x69,
  0x76, 0x00, 0x01, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x02, 0x03, 0x66,
  0x69, 0x62, 0x00, 0x03, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x04, 0x03,
  0x69, 0x6e, 0x66, 0x00, 0x05, 0x0a, 0x6b, 0x06, 0x2e, 0x01, 0x01, 0x7e,
  0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x01, 0x20, 0x01, 0x20,
  0x00, 0xad, 0x7c, 0x21, 0x01, 0x20, 0x00, 0x41, 0xfc, 0xff, 0x03, 0x71,
  0x20, 0x00, 0x36, 0x02, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00,
  0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x01, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20,
  0x01, 0x6d, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x1c,
  0x00, 0x20, 0x00, 0x41, 0x02, 0x49, 0x04, 0x7f, 0x20, 0x00, 0x05, 0x20,
  0x00, 0x41, 0x01, 0x6b, 0x10, 0x03, 0x20, 0x00, 0x41, 0x02, 0x6b, 0x10,
  0x03, 0x6a, 0x0b, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x06,
  0x00, 0x20, 0x00, 0x10, 0x05, 0x0b
};

/*
 * work_wasm: work(n) loops n times: stores fib(i % 11) + i, mixes an f64 and a loaded word
 * into an FNV-style i64 hash that it returns (memory 1 page, exported "mem").
 */
static const uint8_t work_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7e, 0x03, 0x03, 0x02,
  0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0e, 0x02, 0x03, 0x6d,
  0x65, 0x6d, 0x02, 0x00, 0x04, 0x77, 0x6f, 0x72, 0x6b, 0x00, 0x01, 0x0a,
  0x82, 0x01, 0x02, 0x1c, 0x00, 0x20, 0x00, 0x41, 0x02, 0x49, 0x04, 0x7f,
  0x20, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00, 0x20, 0x00,
  0x41, 0x02, 0x6b, 0x10, 0x00, 0x6a, 0x0b, 0x0b, 0x63, 0x03, 0x01, 0x7f,
  0x01, 0x7e, 0x01, 0x7c, 0x03, 0x40, 0x20, 0x01, 0x41, 0x04, 0x6c, 0x41,
  0xfc, 0xff, 0x03, 0x71, 0x20, 0x01, 0x41, 0x0b, 0x70, 0x10, 0x00, 0x20,
  0x01, 0x6a, 0x36, 0x02, 0x00, 0x20, 0x03, 0x44, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0xe0, 0x3f, 0xa2, 0x20, 0x01, 0xb8, 0xa0, 0x21, 0x03, 0x20,
  0x02, 0x42, 0xb3, 0x83, 0x80, 0x80, 0x80, 0x20, 0x7e, 0x20, 0x01, 0x41,
  0x0c, 0x6c, 0x41, 0xfc, 0xff, 0x03, 0x71, 0x28, 0x02, 0x00, 0xad, 0x20,
  0x03, 0xbd, 0x85, 0x7c, 0x21, 0x02, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21,
  0x01, 0x20, 0x01, 0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x02, 0x0b
};


#define ARENA (4u << 20)

struct vm {
	uint8_t *mod_arena, *inst_arena, *mem;
	struct rvm_wasm_module *mod;
	struct rvm_wasm_instance *inst;
};

static void vm_open(struct vm *vm, const uint8_t *bytes, size_t len, uint32_t depth)
{
	struct rvm_wasm_error err;
	struct rvm_wasm_config cfg = { 0 };

	vm->mod_arena = malloc(ARENA);
	vm->inst_arena = malloc(ARENA);
	vm->mem = malloc(2 * RVM_WASM_PAGE);
	assert_non_null(vm->mod_arena);
	vm->mod = rvm_wasm_module_load(bytes, len, vm->mod_arena, ARENA, &err);
	assert_non_null(vm->mod);
	cfg.memory = vm->mem;
	cfg.memory_cap = 2 * RVM_WASM_PAGE;
	cfg.max_call_depth = depth;
	vm->inst = rvm_wasm_instantiate(vm->mod, NULL, 0, &cfg, vm->inst_arena, ARENA, &err, NULL);
	assert_non_null(vm->inst);
}

static void vm_close(struct vm *vm)
{
	free(vm->mod_arena);
	free(vm->inst_arena);
	free(vm->mem);
}

static struct rvm_wasm_func *fn(struct vm *vm, const char *name)
{
	struct rvm_wasm_extern ex;

	assert_true(rvm_wasm_export(vm->inst, name, strlen(name), &ex));
	assert_int_equal(ex.kind, RVM_WASM_KIND_FUNC);
	return ex.u.func;
}

/* Calls name(arg) with the given fuel; returns the status, result in *out. */
static enum rvm_wasm_status call1(struct vm *vm, const char *name, uint64_t arg, uint64_t fuel,
				  uint64_t *out)
{
	enum rvm_wasm_status st;

	assert_int_equal(rvm_wasm_call(vm->inst, fn(vm, name), &arg, 1), RVM_OK);
	st = rvm_wasm_run(vm->inst, fuel, NULL);
	if (st == RVM_WASM_DONE)
		*out = rvm_wasm_results(vm->inst, NULL)[0];
	return st;
}

static void test_results_and_traps(void **state)
{
	struct vm vm;
	uint64_t r = 0, args[2] = { 7, 0 };

	(void)state;
	vm_open(&vm, basic_wasm, sizeof(basic_wasm), 500);
	assert_int_equal(call1(&vm, "fib", 20, UINT64_MAX, &r), RVM_WASM_DONE);
	assert_int_equal(r, 6765);
	assert_int_equal(call1(&vm, "sum", 100000, UINT64_MAX, &r), RVM_WASM_DONE);
	assert_int_equal(r, 5000050000ull);
	rvm_wasm_call(vm.inst, fn(&vm, "div"), args, 2);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_TRAPPED);
	assert_int_equal(rvm_wasm_trap_of(vm.inst), RVM_WASM_TRAP_DIV_ZERO);
	rvm_wasm_reset(vm.inst);
	args[0] = 0x80000000u, args[1] = 0xffffffffu;
	rvm_wasm_call(vm.inst, fn(&vm, "div"), args, 2);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_TRAPPED);
	assert_int_equal(rvm_wasm_trap_of(vm.inst), RVM_WASM_TRAP_INT_OVERFLOW);
	rvm_wasm_reset(vm.inst);
	/* The last whole word of the page loads; one byte further traps, and so does 2^32-1. */
	assert_int_equal(call1(&vm, "load", 65532, UINT64_MAX, &r), RVM_WASM_DONE);
	assert_int_equal(call1(&vm, "load", 65533, UINT64_MAX, &r), RVM_WASM_TRAPPED);
	assert_int_equal(rvm_wasm_trap_of(vm.inst), RVM_WASM_TRAP_MEM_OOB);
	rvm_wasm_reset(vm.inst);
	assert_int_equal(call1(&vm, "load", 0xffffffffu, UINT64_MAX, &r), RVM_WASM_TRAPPED);
	rvm_wasm_reset(vm.inst);
	/* Growth stops at the declared maximum (2 pages); then the second page is addressable. */
	assert_int_equal(call1(&vm, "grow", 1, UINT64_MAX, &r), RVM_WASM_DONE);
	assert_int_equal(r, 1);
	assert_int_equal(call1(&vm, "grow", 1, UINT64_MAX, &r), RVM_WASM_DONE);
	assert_int_equal((uint32_t)r, 0xffffffffu);
	assert_int_equal(call1(&vm, "load", 2 * 65536 - 4, UINT64_MAX, &r), RVM_WASM_DONE);
	/* Endless recursion ends at the call-depth limit, not in a host crash. */
	assert_int_equal(call1(&vm, "inf", 1, UINT64_MAX, &r), RVM_WASM_TRAPPED);
	assert_int_equal(rvm_wasm_trap_of(vm.inst), RVM_WASM_TRAP_CALL_DEPTH);
	rvm_wasm_reset(vm.inst);
	/* With a depth limit beyond what the value stack holds, at the end of the stack. */
	vm_close(&vm);
	vm_open(&vm, basic_wasm, sizeof(basic_wasm), 150000);
	assert_int_equal(call1(&vm, "inf", 1, UINT64_MAX, &r), RVM_WASM_TRAPPED);
	assert_int_equal(rvm_wasm_trap_of(vm.inst), RVM_WASM_TRAP_STACK_EXHAUSTED);
	vm_close(&vm);
}

static void test_fuel_resume(void **state)
{
	struct vm vm;
	uint64_t whole = 0, used_whole = 0, used = 0, total = 0, arg = 300;
	enum rvm_wasm_status st;
	int runs = 0;

	(void)state;
	vm_open(&vm, work_wasm, sizeof(work_wasm), 1000);
	rvm_wasm_call(vm.inst, fn(&vm, "work"), &arg, 1);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, &used_whole), RVM_WASM_DONE);
	whole = rvm_wasm_results(vm.inst, NULL)[0];
	memset(rvm_wasm_instance_memory(vm.inst)->data, 0, RVM_WASM_PAGE);
	/* Too little fuel: suspended, and resumable in small steps to the same result and cost. */
	rvm_wasm_call(vm.inst, fn(&vm, "work"), &arg, 1);
	do {
		st = rvm_wasm_run(vm.inst, 97, &used);
		total += used;
		runs++;
	} while (st == RVM_WASM_OUT_OF_FUEL);
	assert_int_equal(st, RVM_WASM_DONE);
	assert_true(runs > 100);
	assert_int_equal(rvm_wasm_results(vm.inst, NULL)[0], whole);
	assert_int_equal(total, used_whole);
	vm_close(&vm);
}

static void mem_hash(struct vm *vm, uint8_t out[32])
{
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(vm->inst);

	rvm_sha256(NULL, m->data, m->size, out);
}

/* Snapshot at 1,000 random fuel points; each restored run finishes bit-identically. */
static void test_snapshot_random_points(void **state)
{
	struct vm ref, a, b;
	uint64_t arg = 300, used_all = 0, seed = 0x5eed;
	uint8_t ref_hash[32], h[32];
	uint8_t *snap;
	uint64_t want;

	(void)state;
	vm_open(&ref, work_wasm, sizeof(work_wasm), 1000);
	rvm_wasm_call(ref.inst, fn(&ref, "work"), &arg, 1);
	assert_int_equal(rvm_wasm_run(ref.inst, UINT64_MAX, &used_all), RVM_WASM_DONE);
	want = rvm_wasm_results(ref.inst, NULL)[0];
	mem_hash(&ref, ref_hash);
	vm_open(&a, work_wasm, sizeof(work_wasm), 1000);
	vm_open(&b, work_wasm, sizeof(work_wasm), 1000);
	snap = malloc(1u << 20);
	for (int i = 0; i < 1000; i++) {
		uint64_t point = 1 + rvm_test_rand(&seed) % (used_all - 1), used = 0, rest = 0;
		size_t len = 0;
		struct rvm_wasm_memory *ma = rvm_wasm_instance_memory(a.inst);

		/* Fresh state for a: zero memory as instantiation left it. */
		memset(ma->data, 0, ma->size);
		rvm_wasm_reset(a.inst);
		rvm_wasm_call(a.inst, fn(&a, "work"), &arg, 1);
		assert_int_equal(rvm_wasm_run(a.inst, point, &used), RVM_WASM_OUT_OF_FUEL);
		assert_int_equal(rvm_wasm_snapshot_size(a.inst) <= (1u << 20), 1);
		assert_int_equal(rvm_wasm_snapshot(a.inst, snap, 1u << 20, &len), RVM_OK);
		assert_int_equal(len, rvm_wasm_snapshot_size(a.inst));
		rvm_wasm_reset(b.inst);
		assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_OK);
		assert_int_equal(rvm_wasm_run(b.inst, UINT64_MAX, &rest), RVM_WASM_DONE);
		assert_int_equal(rvm_wasm_results(b.inst, NULL)[0], want);
		assert_int_equal(used + rest, used_all);
		mem_hash(&b, h);
		assert_memory_equal(h, ref_hash, 32);
		/* A damaged snapshot is refused, never run. */
		if (i % 50 == 0) {
			uint8_t keep = snap[len - 9];

			snap[len / 2] ^= 0x40;
			rvm_wasm_reset(b.inst);
			(void)rvm_wasm_restore(b.inst, snap, len);
			snap[len / 2] ^= 0x40;
			rvm_wasm_reset(b.inst);
			assert_int_not_equal(rvm_wasm_restore(b.inst, snap, len - 1), RVM_OK);
			snap[len - 9] = keep;
		}
	}
	free(snap);
	vm_close(&ref);
	vm_close(&a);
	vm_close(&b);
}

/* Every truncation and many random mutations of valid modules are handled without a crash. */
static void test_bad_modules(void **state)
{
	uint8_t *arena = malloc(ARENA), *inst_arena = malloc(ARENA), *mem = malloc(RVM_WASM_PAGE * 2);
	uint8_t buf[sizeof(work_wasm)];
	uint64_t seed = 42;
	struct rvm_wasm_error err;

	(void)state;
	/* Cut anywhere: fails as malformed, unless the cut falls between two sections. */
	for (size_t n = 0; n < sizeof(basic_wasm); n++) {
		if (rvm_wasm_module_load(basic_wasm, n, arena, ARENA, &err))
			assert_true(n >= 8);
		else
			assert_int_equal(err.err, RVM_E_MALFORMED);
	}
	memcpy(buf, work_wasm, sizeof(buf));
	buf[4] = 2;
	assert_null(rvm_wasm_module_load(buf, sizeof(buf), arena, ARENA, &err));
	assert_string_equal(err.msg, "unknown binary version");
	assert_int_equal(err.offset, 4);
	/* A module arena that is too small is an error, not an overflow. */
	assert_null(rvm_wasm_module_load(work_wasm, sizeof(work_wasm), arena, 300, &err));
	assert_int_equal(err.err, RVM_E_NOMEM);
	for (int i = 0; i < 20000; i++) {
		struct rvm_wasm_module *m;

		memcpy(buf, work_wasm, sizeof(buf));
		for (int k = 0; k < 1 + i % 4; k++)
			buf[8 + rvm_test_rand(&seed) % (sizeof(buf) - 8)] = (uint8_t)rvm_test_rand(&seed);
		m = rvm_wasm_module_load(buf, sizeof(buf), arena, ARENA, &err);
		if (!m) {
			assert_true(err.err == RVM_E_MALFORMED || err.err == RVM_E_INVALID_MODULE);
			continue;
		}
		struct rvm_wasm_config cfg = { .memory = mem, .memory_cap = 2 * RVM_WASM_PAGE,
					       .max_call_depth = 100 };
		struct rvm_wasm_instance *inst =
			rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL);
		struct rvm_wasm_extern ex;

		if (inst && rvm_wasm_export(inst, "work", 4, &ex) && ex.kind == RVM_WASM_KIND_FUNC &&
		    ex.u.func->type->nparams == 1) {
			uint64_t arg = 50;

			rvm_wasm_call(inst, ex.u.func, &arg, 1);
			rvm_wasm_run(inst, 100000, NULL);
		}
	}
	free(arena);
	free(inst_arena);
	free(mem);
}

/* start_wasm: global g (exported); init() adds 0..999 into g; (start init); export "init". */
static const uint8_t start_wasm[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
	0x03, 0x03, 0x02, 0x00, 0x00, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x07,
	0x0c, 0x02, 0x01, 0x67, 0x03, 0x00, 0x04, 0x69, 0x6e, 0x69, 0x74, 0x00, 0x01, 0x08,
	0x01, 0x00, 0x0a, 0x24, 0x02, 0x1d, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x23, 0x00, 0x20,
	0x00, 0x6a, 0x24, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00, 0x20, 0x00, 0x41,
	0xe8, 0x07, 0x49, 0x0d, 0x00, 0x0b, 0x0b, 0x04, 0x00, 0x10, 0x00, 0x0b,
};

/* spin_wasm: (func $s (loop $l (br $l))) (start $s) - a start function that never ends. */
static const uint8_t spin_wasm[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
	0x03, 0x02, 0x01, 0x00, 0x08, 0x01, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40,
	0x0c, 0x00, 0x0b, 0x0b,
};

/* The start function is metered: exactly its fuel suffices, less fails, endless fails. */
static void test_start_function_fuel(void **state)
{
	uint8_t *arena = malloc(ARENA), *inst_arena = malloc(ARENA);
	struct rvm_wasm_error err;
	struct rvm_wasm_module *m;
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_config cfg = { 0 };
	struct rvm_wasm_extern ex;
	uint64_t need, used = 0;

	(void)state;
	m = rvm_wasm_module_load(start_wasm, sizeof(start_wasm), arena, ARENA, &err);
	assert_non_null(m);
	inst = rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL);
	assert_non_null(inst);
	assert_true(rvm_wasm_export(inst, "g", 1, &ex));
	assert_int_equal(ex.u.global->value, 499500);
	need = rvm_wasm_fuel_total(inst);
	assert_true(need > 1000); /* at least one per loop iteration */
	/* Running init again costs the same plus the wrapper's own stretch. */
	assert_true(rvm_wasm_export(inst, "init", 4, &ex));
	assert_int_equal(rvm_wasm_call(inst, ex.u.func, NULL, 0), RVM_OK);
	assert_int_equal(rvm_wasm_run(inst, UINT64_MAX, &used), RVM_WASM_DONE);
	assert_int_equal(used, need + 2); /* call + end of the wrapper */
	assert_int_equal(rvm_wasm_fuel_total(inst), need + used);
	cfg.start_fuel = need;
	assert_non_null(rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL));
	/* Less fuel than it needs, minus at most the one stretch a run may overshoot. */
	cfg.start_fuel = need / 2;
	assert_null(rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL));
	assert_int_equal(err.err, RVM_E_FUEL);
	assert_string_equal(err.msg, "start function ran out of fuel");
	/* An endless start function ends in an error, not a hang. */
	m = rvm_wasm_module_load(spin_wasm, sizeof(spin_wasm), arena, ARENA, &err);
	assert_non_null(m);
	cfg.start_fuel = 100000;
	assert_null(rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL));
	assert_int_equal(err.err, RVM_E_FUEL);
	free(arena);
	free(inst_arena);
}

/* Linear memory is zeroed at instantiation unless the caller vouches that it already is. */
static void test_memory_zeroed_flag(void **state)
{
	uint8_t *arena = malloc(ARENA), *inst_arena = malloc(ARENA), *mem = malloc(RVM_WASM_PAGE);
	struct rvm_wasm_error err;
	struct rvm_wasm_module *m;
	struct rvm_wasm_config cfg = { .memory = mem, .memory_cap = RVM_WASM_PAGE };

	(void)state;
	m = rvm_wasm_module_load(work_wasm, sizeof(work_wasm), arena, ARENA, &err);
	assert_non_null(m);
	memset(mem, 0xa5, RVM_WASM_PAGE);
	assert_non_null(rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL));
	for (size_t i = 0; i < RVM_WASM_PAGE; i += 4093)
		assert_int_equal(mem[i], 0);
	/* memory_zeroed: the engine takes the caller's word and leaves the bytes alone. */
	memset(mem, 0xa5, RVM_WASM_PAGE);
	cfg.memory_zeroed = true;
	assert_non_null(rvm_wasm_instantiate(m, NULL, 0, &cfg, inst_arena, ARENA, &err, NULL));
	assert_int_equal(mem[100], 0xa5);
	free(arena);
	free(inst_arena);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_zeroed_flag),
		cmocka_unit_test(test_start_function_fuel),
		cmocka_unit_test(test_results_and_traps),
		cmocka_unit_test(test_fuel_resume),
		cmocka_unit_test(test_snapshot_random_points),
		cmocka_unit_test(test_bad_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
