/* tests/unit/test_wasm_suspend.c - host calls that say "not now": retry, fuel, snapshots. */
#include <stdlib.h>
#include <string.h>

#include <rvm/sha256.h>
#include <rvm/wasm.h>

#include "support.h"

/*
 * susp_wasm is this module (wat2wasm):
 *   (type $t (func (param i32) (result i32)))
 *   (import "env" "recv" (func $recv (type $t)))
 *   (memory (export "mem") 1) (table 1 funcref) (elem (i32.const 0) $recv)
 *   inner(x): ten times acc = acc*31 + recv(x+i); stores acc at i*4; returns acc
 *   mid(x) = inner(x) * 3
 *   direct(x) = recv(x); nested(x) = mid(x) + 1 (wasm -> wasm -> wasm -> host)
 *   indirect(x) = call_indirect $t (table[0] = recv) (x) + 5
 */
static const uint8_t susp_wasm[] = {
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f,
	0x01, 0x7f, 0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x72, 0x65, 0x63, 0x76,
	0x00, 0x00, 0x03, 0x06, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70,
	0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x24, 0x04, 0x03, 0x6d, 0x65, 0x6d,
	0x02, 0x00, 0x06, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x00, 0x03, 0x06, 0x6e, 0x65,
	0x73, 0x74, 0x65, 0x64, 0x00, 0x04, 0x08, 0x69, 0x6e, 0x64, 0x69, 0x72, 0x65, 0x63,
	0x74, 0x00, 0x05, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x0a, 0x5a,
	0x05, 0x30, 0x01, 0x02, 0x7f, 0x03, 0x40, 0x20, 0x02, 0x41, 0x1f, 0x6c, 0x20, 0x00,
	0x20, 0x01, 0x6a, 0x10, 0x00, 0x6a, 0x21, 0x02, 0x20, 0x01, 0x41, 0x02, 0x74, 0x20,
	0x02, 0x36, 0x02, 0x00, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x20, 0x01, 0x41,
	0x0a, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x02, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x10, 0x01,
	0x41, 0x03, 0x6c, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x09, 0x00, 0x20,
	0x00, 0x10, 0x02, 0x41, 0x01, 0x6a, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x41, 0x00, 0x11,
	0x00, 0x00, 0x41, 0x05, 0x6a, 0x0b,
};

/* The host's recv: says "not now" suspend_each times per call, then answers f(arg). */
struct host {
	uint32_t suspend_each;
	uint32_t pending;   /* suspensions left for the call in progress */
	bool waiting;	    /* a call is suspended; its retry must bring the same argument */
	uint64_t arg;	    /* argument of the suspended call */
	uint64_t first_arg; /* argument of the first invocation (UINT64_MAX: none yet) */
	uint32_t calls, answers, suspends;
	enum rvm_wasm_trap fail; /* returned instead of an answer if set */
};

static enum rvm_wasm_trap host_recv(void *ctx, struct rvm_wasm_instance *caller, uint64_t *slots)
{
	struct host *h = ctx;

	(void)caller;
	if (h->first_arg == UINT64_MAX)
		h->first_arg = slots[0];
	h->calls++;
	if (h->fail)
		return h->fail;
	if (h->waiting)
		assert_int_equal(slots[0], h->arg);
	else
		h->pending = h->suspend_each;
	if (h->pending) {
		h->pending--;
		h->waiting = true;
		h->arg = slots[0];
		h->suspends++;
		return RVM_WASM_TRAP_SUSPEND;
	}
	h->waiting = false;
	h->answers++;
	slots[0] = (uint32_t)((uint32_t)slots[0] * 2654435761u + 17u);
	return RVM_WASM_TRAP_NONE;
}

static const uint8_t i32_1[1] = { RVM_WASM_I32 };
static const struct rvm_wasm_functype recv_type = { 1, 1, i32_1, i32_1 };

#define ARENA (1u << 20)

struct vm {
	uint8_t *mod_arena, *inst_arena, *mem;
	struct rvm_wasm_module *mod;
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_func recv;
	struct host host;
};

static void vm_open(struct vm *vm, uint32_t suspend_each)
{
	struct rvm_wasm_error err;
	struct rvm_wasm_config cfg = { 0 };
	struct rvm_wasm_extern imp;

	memset(vm, 0, sizeof(*vm));
	vm->host.suspend_each = suspend_each;
	vm->host.first_arg = UINT64_MAX;
	vm->mod_arena = malloc(ARENA);
	vm->inst_arena = malloc(ARENA);
	vm->mem = malloc(RVM_WASM_PAGE);
	assert_non_null(vm->mod_arena);
	assert_non_null(vm->inst_arena);
	assert_non_null(vm->mem);
	vm->mod = rvm_wasm_module_load(susp_wasm, sizeof(susp_wasm), vm->mod_arena, ARENA, &err);
	assert_non_null(vm->mod);
	rvm_wasm_host_func(&vm->recv, &recv_type, host_recv, &vm->host);
	imp.kind = RVM_WASM_KIND_FUNC;
	imp.u.func = &vm->recv;
	cfg.memory = vm->mem;
	cfg.memory_cap = RVM_WASM_PAGE;
	vm->inst = rvm_wasm_instantiate(vm->mod, &imp, 1, &cfg, vm->inst_arena, ARENA, &err, NULL);
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

struct outcome {
	uint64_t result, fuel;
	uint32_t suspended, out_of_fuel;
	uint8_t hash[32];
};

/* Runs vm's started call in slices of `slice` fuel until it ends; tallies how it stopped. */
static enum rvm_wasm_status finish(struct vm *vm, uint64_t slice, struct outcome *o)
{
	enum rvm_wasm_status st;
	struct rvm_wasm_memory *m = rvm_wasm_instance_memory(vm->inst);

	for (;;) {
		uint64_t used = 0;

		st = rvm_wasm_run(vm->inst, slice, &used);
		o->fuel += used;
		if (st == RVM_WASM_SUSPENDED)
			o->suspended++;
		else if (st == RVM_WASM_OUT_OF_FUEL)
			o->out_of_fuel++;
		else
			break;
		assert_true(o->suspended + o->out_of_fuel < 1000000);
	}
	if (st == RVM_WASM_DONE)
		o->result = rvm_wasm_results(vm->inst, NULL)[0];
	rvm_sha256(NULL, m->data, m->size, o->hash);
	return st;
}

static void run_export(struct vm *vm, const char *name, uint64_t arg, uint64_t slice,
		       struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(rvm_wasm_call(vm->inst, fn(vm, name), &arg, 1), RVM_OK);
	assert_int_equal(finish(vm, slice, o), RVM_WASM_DONE);
}

/* Suspending N times changes neither results, fuel nor memory; in any fuel slicing. */
static void test_suspend_retry_same_fuel(void **state)
{
	static const char *const names[] = { "direct", "nested", "indirect" };
	static const uint32_t host_calls[] = { 1, 10, 1 };

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		struct vm ref;
		struct outcome want;

		vm_open(&ref, 0);
		run_export(&ref, names[k], 1234, UINT64_MAX, &want);
		assert_int_equal(want.suspended, 0);
		assert_int_equal(ref.host.answers, host_calls[k]);
		assert_true(want.fuel > 0);
		for (uint32_t n = 1; n <= 5; n += 2) {
			static const uint64_t slices[] = { UINT64_MAX, 1, 7 };

			for (size_t s = 0; s < 3; s++) {
				struct vm vm;
				struct outcome got;

				vm_open(&vm, n);
				run_export(&vm, names[k], 1234, slices[s], &got);
				assert_int_equal(got.suspended, n * host_calls[k]);
				assert_int_equal(vm.host.calls, (n + 1) * host_calls[k]);
				assert_int_equal(got.result, want.result);
				assert_int_equal(got.fuel, want.fuel);
				assert_memory_equal(got.hash, want.hash, 32);
				if (slices[s] != UINT64_MAX && host_calls[k] > 1)
					assert_true(got.out_of_fuel > 0);
				vm_close(&vm);
			}
		}
		vm_close(&ref);
	}
}

/* While suspended: no new call starts; reset abandons it; an unknown host code is a trap. */
static void test_suspend_state(void **state)
{
	struct vm vm;
	uint64_t arg = 5, used = 1;
	struct rvm_wasm_memory *m;

	(void)state;
	vm_open(&vm, 2);
	m = rvm_wasm_instance_memory(vm.inst);
	assert_int_equal(rvm_wasm_call(vm.inst, fn(&vm, "nested"), &arg, 1), RVM_OK);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_SUSPENDED);
	/* Nothing stored yet: the first store follows the first recv. */
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(m->data[i], 0);
	assert_int_equal(rvm_wasm_call(vm.inst, fn(&vm, "direct"), &arg, 1), RVM_E_STATE);
	/* A retry that suspends again charges nothing. */
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, &used), RVM_WASM_SUSPENDED);
	assert_int_equal(used, 0);
	assert_string_equal(rvm_wasm_trap_str(RVM_WASM_TRAP_SUSPEND), "host call suspended");
	rvm_wasm_reset(vm.inst);
	vm.host.waiting = false;
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_IDLE);
	/* Host functions invoked directly as the entry suspend too. */
	assert_int_equal(rvm_wasm_call(vm.inst, &vm.recv, &arg, 1), RVM_OK);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_SUSPENDED);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_SUSPENDED);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_DONE);
	assert_int_equal(rvm_wasm_results(vm.inst, NULL)[0], (uint32_t)(5u * 2654435761u + 17u));
	/* A host returning a code that is no trap at all traps as a host trap. */
	vm.host.fail = (enum rvm_wasm_trap)0x55;
	assert_int_equal(rvm_wasm_call(vm.inst, fn(&vm, "nested"), &arg, 1), RVM_OK);
	assert_int_equal(rvm_wasm_run(vm.inst, UINT64_MAX, NULL), RVM_WASM_TRAPPED);
	assert_int_equal(rvm_wasm_trap_of(vm.inst), RVM_WASM_TRAP_HOST);
	vm_close(&vm);
}

/*
 * Snapshot at every suspension (nested: wasm -> wasm -> wasm -> host; and through
 * call_indirect), restore into a fresh instance, finish there: identical to never stopping,
 * and the restored instance retries the host call with the same argument.
 */
static void test_suspend_snapshot(void **state)
{
	static const char *const names[] = { "nested", "indirect" };
	uint8_t *snap = malloc(1u << 18);

	(void)state;
	assert_non_null(snap);
	for (size_t k = 0; k < 2; k++) {
		struct vm ref, a, b;
		struct outcome want, probe;

		vm_open(&ref, 0);
		run_export(&ref, names[k], 99, UINT64_MAX, &want);
		vm_close(&ref);
		vm_open(&ref, 2);
		run_export(&ref, names[k], 99, 5, &probe);
		vm_close(&ref);
		for (uint32_t stop = 1; stop <= probe.suspended; stop++) {
			struct outcome x = { 0 }, y = { 0 };
			uint64_t arg = 99, used;
			size_t len = 0;
			enum rvm_wasm_status st;

			vm_open(&a, 2);
			vm_open(&b, 0);
			assert_int_equal(rvm_wasm_call(a.inst, fn(&a, names[k]), &arg, 1), RVM_OK);
			while (x.suspended < stop) {
				st = rvm_wasm_run(a.inst, 5, &used);
				x.fuel += used;
				x.suspended += st == RVM_WASM_SUSPENDED;
				assert_true(st == RVM_WASM_SUSPENDED || st == RVM_WASM_OUT_OF_FUEL);
			}
			assert_int_equal(rvm_wasm_snapshot(a.inst, snap, 1u << 18, &len), RVM_OK);
			assert_int_equal(len, rvm_wasm_snapshot_size(a.inst));
			assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_OK);
			y.fuel = x.fuel;
			assert_int_equal(finish(&b, UINT64_MAX, &y), RVM_WASM_DONE);
			assert_int_equal(b.host.first_arg, a.host.arg);
			assert_int_equal(y.result, want.result);
			assert_int_equal(y.fuel, want.fuel);
			assert_memory_equal(y.hash, want.hash, 32);
			/* The original, resumed, agrees as well. */
			assert_int_equal(finish(&a, 3, &x), RVM_WASM_DONE);
			assert_int_equal(x.result, want.result);
			assert_int_equal(x.fuel, want.fuel);
			/* A suspended snapshot relabelled as out of fuel (pc not on a fuel op) and
			 * corrupted positions are refused. */
			snap[40] = RVM_WASM_OUT_OF_FUEL;
			rvm_wasm_reset(b.inst);
			assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_E_CORRUPT);
			snap[40] = RVM_WASM_SUSPENDED;
			rvm_wasm_reset(b.inst);
			assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_OK);
			vm_close(&a);
			vm_close(&b);
		}
	}
	free(snap);
}

/* An out-of-fuel snapshot relabelled as suspended is refused (its pc is on a fuel op). */
static void test_suspend_snapshot_label(void **state)
{
	struct vm a, b;
	uint64_t arg = 3;
	uint8_t *snap = malloc(1u << 18);
	size_t len = 0;

	(void)state;
	assert_non_null(snap);
	vm_open(&a, 0);
	vm_open(&b, 0);
	assert_int_equal(rvm_wasm_call(a.inst, fn(&a, "nested"), &arg, 1), RVM_OK);
	assert_int_equal(rvm_wasm_run(a.inst, 20, NULL), RVM_WASM_OUT_OF_FUEL);
	assert_int_equal(rvm_wasm_snapshot(a.inst, snap, 1u << 18, &len), RVM_OK);
	assert_int_equal(snap[40], RVM_WASM_OUT_OF_FUEL);
	snap[40] = RVM_WASM_SUSPENDED;
	assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_E_CORRUPT);
	snap[40] = RVM_WASM_SUSPENDED + 1;
	rvm_wasm_reset(b.inst);
	assert_int_equal(rvm_wasm_restore(b.inst, snap, len), RVM_E_CORRUPT);
	free(snap);
	vm_close(&a);
	vm_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suspend_retry_same_fuel),
		cmocka_unit_test(test_suspend_state),
		cmocka_unit_test(test_suspend_snapshot),
		cmocka_unit_test(test_suspend_snapshot_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
