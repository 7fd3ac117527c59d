/* tests/unit/test_wasm_refs.c - snapshots of frames holding funcref and externref values. */
#include <stdlib.h>
#include <string.h>

#include <rvm/wasm.h>

#include "support.h"

/*
 * refs_wasm is this module (wat2wasm):
 *   (type $t (func (param i32) (result i32)))
 *   (import "env" "ext" (func $ext (param externref i32) (result i32)))
 *   (table $tab 2 funcref) (elem declare func $f1 $f2)
 *   f1(x) = x + 1; f2(x) = x * 3
 *   run(n, e: externref): locals i, acc, fr: funcref; a funcref loop parameter (on the
 *     operand stack at the loop's fuel point); each round stores fr in the table,
 *     acc = acc*7 + call_indirect(table[0])(i), then with ref.func f2 on the operand stack
 *     acc ^= ext(e, i), and the next parameter is select(f2, fr, i & 1).
 */
static const uint8_t refs_wasm[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x17, 0x04, 0x60, 0x01, 0x7f,
	0x01, 0x7f, 0x60, 0x02, 0x6f, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x6f, 0x01, 0x7f,
	0x60, 0x01, 0x70, 0x01, 0x70, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x65,
	0x78, 0x74, 0x00, 0x01, 0x03, 0x04, 0x03, 0x00, 0x00, 0x02, 0x04, 0x04, 0x01, 0x70,
	0x00, 0x02, 0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x03, 0x09, 0x06, 0x01,
	0x03, 0x00, 0x02, 0x01, 0x02, 0x0a, 0x5c, 0x03, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01,
	0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x41, 0x03, 0x6c, 0x0b, 0x4a, 0x02, 0x02, 0x7f,
	0x01, 0x70, 0xd2, 0x01, 0x03, 0x03, 0x21, 0x04, 0x41, 0x00, 0x20, 0x04, 0x26, 0x00,
	0x20, 0x03, 0x41, 0x07, 0x6c, 0x20, 0x02, 0x41, 0x00, 0x11, 0x00, 0x00, 0x6a, 0x21,
	0x03, 0xd2, 0x02, 0x20, 0x03, 0x20, 0x01, 0x20, 0x02, 0x10, 0x00, 0x73, 0x21, 0x03,
	0x20, 0x04, 0x20, 0x02, 0x41, 0x01, 0x71, 0x1c, 0x01, 0x70, 0x20, 0x02, 0x41, 0x01,
	0x6a, 0x21, 0x02, 0x20, 0x02, 0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b, 0x1a, 0x20, 0x03,
	0x0b,
};

#define TOKEN 0x5eed0000c0ffee01ull /* the externref the host hands in and expects back */

struct host {
	int suspend; /* say "not now" once before each answer */
	bool waiting;
	int bad_token;
};

static enum rvm_wasm_trap host_ext(void *ctx, struct rvm_wasm_instance *caller, uint64_t *slots)
{
	struct host *h = ctx;

	(void)caller;
	if (h->suspend && !h->waiting) {
		h->waiting = true;
		return RVM_WASM_TRAP_SUSPEND;
	}
	h->waiting = false;
	if (slots[0] != TOKEN)
		h->bad_token++;
	slots[0] = (uint32_t)slots[1] * 5u + (slots[0] == TOKEN);
	return RVM_WASM_TRAP_NONE;
}

static const uint8_t p_ext[2] = { RVM_WASM_EXTERNREF, RVM_WASM_I32 }, r_ext[1] = { RVM_WASM_I32 };
static const struct rvm_wasm_functype t_ext = { 2, 1, p_ext, r_ext };

#define ARENA (1u << 20)

struct vm {
	uint8_t *mod_arena, *inst_arena;
	struct rvm_wasm_module *mod;
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_func ext;
	struct host host;
};

static void vm_open(struct vm *vm, int suspend)
{
	struct rvm_wasm_error err;
	struct rvm_wasm_extern imp;

	memset(vm, 0, sizeof(*vm));
	vm->host.suspend = suspend;
	vm->mod_arena = malloc(ARENA);
	vm->inst_arena = malloc(ARENA);
	assert_non_null(vm->mod_arena);
	assert_non_null(vm->inst_arena);
	vm->mod = rvm_wasm_module_load(refs_wasm, sizeof(refs_wasm), vm->mod_arena, ARENA, &err);
	assert_non_null(vm->mod);
	rvm_wasm_host_func(&vm->ext, &t_ext, host_ext, &vm->host);
	imp.kind = RVM_WASM_KIND_FUNC;
	imp.u.func = &vm->ext;
	vm->inst = rvm_wasm_instantiate(vm->mod, &imp, 1, NULL, vm->inst_arena, ARENA, &err, NULL);
	assert_non_null(vm->inst);
}

/* A fresh instance in the same arena (the old one is dropped). */
static void vm_renew(struct vm *vm, int suspend)
{
	struct rvm_wasm_error err;
	struct rvm_wasm_extern imp = { .kind = RVM_WASM_KIND_FUNC, .u.func = &vm->ext };

	memset(&vm->host, 0, sizeof(vm->host));
	vm->host.suspend = suspend;
	vm->inst = rvm_wasm_instantiate(vm->mod, &imp, 1, NULL, vm->inst_arena, ARENA, &err, NULL);
	assert_non_null(vm->inst);
}

static void vm_close(struct vm *vm)
{
	free(vm->mod_arena);
	free(vm->inst_arena);
}

static void start(struct vm *vm, uint64_t n)
{
	struct rvm_wasm_extern ex;
	uint64_t args[2] = { n, TOKEN };

	assert_true(rvm_wasm_export(vm->inst, "run", 3, &ex));
	assert_int_equal(rvm_wasm_call(vm->inst, ex.u.func, args, 2), RVM_OK);
}

/* Runs to the end in slices; returns the fuel used. */
static uint64_t finish(struct vm *vm, uint64_t slice)
{
	uint64_t total = 0, used;
	enum rvm_wasm_status st;

	while ((st = rvm_wasm_run(vm->inst, slice, &used)) == RVM_WASM_OUT_OF_FUEL ||
	       st == RVM_WASM_SUSPENDED)
		total += used;
	assert_int_equal(st, RVM_WASM_DONE);
	return total + used;
}

/* The result run(n, TOKEN) must give, computed natively. */
static uint32_t expect(uint32_t n)
{
	uint32_t acc = 0;
	bool f2 = false;

	for (uint32_t i = 0; i < n; i++) {
		acc = acc * 7 + (f2 ? i * 3 : i + 1);
		acc ^= i * 5 + 1;
		if (i & 1) /* select(f2, fr, i & 1): f2 on odd i, else fr stays */
			f2 = true;
	}
	return acc;
}

/*
 * Stop at every fuel slice and every suspension (funcref and externref in locals, a funcref
 * loop parameter on the operand stack, a funcref under a suspended host call and an
 * externref among its arguments), snapshot, restore into another instance (other
 * addresses), finish: same result and fuel, the externref intact.
 */
static void test_snapshot_with_refs(void **state)
{
	struct vm ref, a, b;
	uint64_t want_fuel, stops = 0;
	uint32_t want;
	uint8_t *snap = malloc(1u << 16);

	(void)state;
	assert_non_null(snap);
	vm_open(&ref, 0);
	start(&ref, 40);
	want_fuel = finish(&ref, UINT64_MAX);
	want = (uint32_t)rvm_wasm_results(ref.inst, NULL)[0];
	assert_int_equal(ref.host.bad_token, 0);
	assert_int_equal(want, expect(40));
	vm_open(&a, 1);
	vm_open(&b, 0);
	for (uint64_t slice = 1; slice <= 23; slice += 11) {
		for (uint64_t stop = 1;; stop++) {
			uint64_t fuel = 0, used;
			enum rvm_wasm_status st = RVM_WASM_READY;
			size_t len = 0;

			vm_renew(&a, 1);
			vm_renew(&b, 0);
			start(&a, 40);
			for (uint64_t k = 0; k < stop; k++) {
				st = rvm_wasm_run(a.inst, slice, &used);
				fuel += used;
				if (st == RVM_WASM_DONE)
					break;
			}
			if (st == RVM_WASM_DONE)
				break;
			stops++;
			assert_int_equal(rvm_wasm_snapshot(a.inst, snap, 1u << 16, &len), RVM_OK);
			assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_OK);
			b.host.waiting = a.host.waiting;
			fuel += finish(&b, UINT64_MAX);
			assert_int_equal(fuel, want_fuel);
			assert_int_equal((uint32_t)rvm_wasm_results(b.inst, NULL)[0], want);
			assert_int_equal(b.host.bad_token, 0);
			/* Damaged snapshots: refused or run safely, never a crash. */
			for (int m = 0; m < 8; m++) {
				uint8_t keep;
				size_t at = 40 + (size_t)((stop * 131 + (uint64_t)m * 977) % (len - 40));

				keep = snap[at];
				snap[at] ^= (uint8_t)(1u << (m & 7));
				rvm_wasm_reset(b.inst);
				if (rvm_wasm_restore(b.inst, snap, len) == RVM_OK)
					(void)rvm_wasm_run(b.inst, 5000, NULL);
				snap[at] = keep;
			}
		}
	}
	vm_close(&a);
	vm_close(&b);
	assert_true(stops > 100);
	free(snap);
	vm_close(&ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_with_refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
