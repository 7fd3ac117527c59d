/* rvm/wasm.h - RVM's WebAssembly engine: decode, validate, instantiate, run with fuel, snapshot. */
#ifndef RVM_WASM_H
#define RVM_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>

/*
 * The engine is freestanding and never allocates: the embedder hands it an arena for the
 * decoded module and its translated code, an arena for each instance (globals, tables,
 * value stack, call frames) and a buffer for linear memory. Supported: WebAssembly 1.0
 * plus sign-extension ops, non-trapping float-to-int, multi-value, bulk memory and
 * reference types (one memory per module, as in those proposals).
 *
 * Values travel as 64-bit slots: i32 in the low 32 bits (zero-extended), f32/f64 as their
 * IEEE bit patterns, funcref as a pointer to a struct rvm_wasm_func (0 = null), externref
 * as an opaque 64-bit host value (RVM_WASM_EXTERN_NULL = null).
 */

#define RVM_WASM_PAGE 65536u
#define RVM_WASM_EXTERN_NULL 0u

enum rvm_wasm_valtype {
	RVM_WASM_I32 = 0x7f,
	RVM_WASM_I64 = 0x7e,
	RVM_WASM_F32 = 0x7d,
	RVM_WASM_F64 = 0x7c,
	RVM_WASM_FUNCREF = 0x70,
	RVM_WASM_EXTERNREF = 0x6f,
};

enum rvm_wasm_kind {
	RVM_WASM_KIND_FUNC = 0,
	RVM_WASM_KIND_TABLE = 1,
	RVM_WASM_KIND_MEMORY = 2,
	RVM_WASM_KIND_GLOBAL = 3,
};

/* Why execution stopped abnormally; rvm_wasm_trap_str() gives the spec's wording. */
enum rvm_wasm_trap {
	RVM_WASM_TRAP_NONE = 0,
	RVM_WASM_TRAP_UNREACHABLE,
	RVM_WASM_TRAP_MEM_OOB,
	RVM_WASM_TRAP_TABLE_OOB,
	RVM_WASM_TRAP_DIV_ZERO,
	RVM_WASM_TRAP_INT_OVERFLOW,
	RVM_WASM_TRAP_INVALID_CONV,
	RVM_WASM_TRAP_UNDEF_ELEM,
	RVM_WASM_TRAP_UNINIT_ELEM,
	RVM_WASM_TRAP_SIG_MISMATCH,
	RVM_WASM_TRAP_STACK_EXHAUSTED,
	RVM_WASM_TRAP_CALL_DEPTH,
	RVM_WASM_TRAP_HOST,
	RVM_WASM_TRAP_COUNT,
	/*
	 * Not a trap: a host function's "not now" (see rvm_wasm_host_fn). Never stored as an
	 * instance's trap; rvm_wasm_run reports it as RVM_WASM_SUSPENDED.
	 */
	RVM_WASM_TRAP_SUSPEND = 0x80
};

const char *rvm_wasm_trap_str(enum rvm_wasm_trap trap);

/* A function type; the arrays live in the module arena (or the embedder's storage). */
struct rvm_wasm_functype {
	uint32_t nparams;
	uint32_t nresults;
	const uint8_t *params;	/* enum rvm_wasm_valtype each */
	const uint8_t *results;
};

struct rvm_wasm_instance;

/*
 * A host function: reads its nparams arguments from slots[0..) and writes its results to
 * slots[0..). Returns RVM_WASM_TRAP_NONE or a trap (RVM_WASM_TRAP_HOST for its own).
 *
 * Or RVM_WASM_TRAP_SUSPEND: "not now" (a receive with nothing to receive). Then rvm_wasm_run
 * returns RVM_WASM_SUSPENDED with the instance exactly as it was before the call
 * instruction that invoked the host function, and the next rvm_wasm_run retries that
 * instruction: the host function is called again with the same arguments. A host function
 * that suspends must not have written slots[] or changed the instance (memory, globals,
 * tables) - the retry must see the state the first attempt saw. Retries consume no fuel:
 * the call is paid for once, at the fuel point before it, whatever the number of attempts,
 * so fuel use and results never depend on how often a call was suspended (replay stays
 * exact). A snapshot of a suspended instance restores as suspended and retries the call.
 */
typedef enum rvm_wasm_trap rvm_wasm_host_fn(void *ctx, struct rvm_wasm_instance *caller,
					    uint64_t *slots);

/* A function instance: wasm code of an instance, or a host function. */
struct rvm_wasm_func {
	const struct rvm_wasm_functype *type;
	struct rvm_wasm_instance *inst;	  /* owner; NULL for host functions */
	const struct rvm_wasm_code *code; /* translated body; NULL for host functions */
	uint32_t index;			  /* index in the owner's function space */
	rvm_wasm_host_fn *host;
	void *host_ctx;
};

/* Linear memory. Invariant: size <= cap; bytes in [size, cap) are unspecified until grown. */
struct rvm_wasm_memory {
	uint8_t *data;
	uint64_t size;	   /* bytes, a multiple of RVM_WASM_PAGE */
	uint64_t cap;	   /* bytes the buffer holds; growth beyond fails (returns -1) */
	uint32_t max_pages; /* declared maximum (65536 if none) */
	bool has_max;
};

/* A table of references. Invariant: size <= cap <= max. */
struct rvm_wasm_table {
	uint64_t *elems;
	uint32_t size;
	uint32_t cap;
	uint32_t max;
	bool has_max;
	uint8_t type; /* RVM_WASM_FUNCREF or RVM_WASM_EXTERNREF */
};

struct rvm_wasm_global {
	uint64_t value;
	uint8_t type;
	bool mut;
};

/* One resolved import or export. */
struct rvm_wasm_extern {
	uint8_t kind; /* enum rvm_wasm_kind */
	union {
		struct rvm_wasm_func *func;
		struct rvm_wasm_table *table;
		struct rvm_wasm_memory *memory;
		struct rvm_wasm_global *global;
	} u;
};

/* Where a decode or validation error happened. */
struct rvm_wasm_error {
	enum rvm_err err;  /* RVM_E_MALFORMED, RVM_E_INVALID_MODULE, RVM_E_LINK, RVM_E_NOMEM ... */
	uint32_t offset;   /* byte offset in the module */
	char msg[96];	   /* spec wording, e.g. "type mismatch" */
};

struct rvm_wasm_module;

/* Describes import or export i (name pointers are into the module arena, not NUL-terminated). */
struct rvm_wasm_import_desc {
	const char *module;
	uint32_t module_len;
	const char *name;
	uint32_t name_len;
	uint8_t kind;
	const struct rvm_wasm_functype *type; /* functions */
	uint8_t valtype;		      /* globals: type; tables: element type */
	bool mut;			      /* globals */
	uint32_t min, max;		      /* tables, memories (max 0xffffffff = none) */
	bool has_max;
};

/*
 * Decodes, validates and translates a binary module. The module's bytes are copied into the
 * arena; all of the module's storage comes from arena[0..arena_size). On error returns
 * NULL and fills *err (if given).
 */
struct rvm_wasm_module *rvm_wasm_module_load(const uint8_t *bytes, size_t len, void *arena,
					     size_t arena_size, struct rvm_wasm_error *err);

uint32_t rvm_wasm_module_import_count(const struct rvm_wasm_module *m);
uint32_t rvm_wasm_module_export_count(const struct rvm_wasm_module *m);
void rvm_wasm_module_import(const struct rvm_wasm_module *m, uint32_t i,
			    struct rvm_wasm_import_desc *out);
void rvm_wasm_module_export(const struct rvm_wasm_module *m, uint32_t i,
			    struct rvm_wasm_import_desc *out);
/* Per-section summary for tools: count of functions, types, ... */
struct rvm_wasm_module_info {
	uint32_t types, imports, funcs, tables, memories, globals, exports, elems, datas;
	bool has_start;
	uint32_t code_words; /* size of the translated code, 32-bit words */
	size_t arena_used;
};
void rvm_wasm_module_info(const struct rvm_wasm_module *m, struct rvm_wasm_module_info *out);

/* Instance limits and buffers. Zeroed fields take the defaults documented per field. */
struct rvm_wasm_config {
	uint8_t *memory;	  /* linear memory buffer (needed if the module defines one) */
	uint64_t memory_cap;	  /* bytes in it */
	uint32_t max_call_depth;  /* default 10000 */
	uint32_t table_cap_limit; /* most elements a defined table may grow to; default 100000 */
	/*
	 * The caller guarantees memory[0, initial pages) is already zero (fresh pages from the
	 * OS, or a pool zeroed ahead of time), so instantiation need not clear it: zeroing is
	 * most of the cost of instantiating a small module (64 KiB per page).
	 */
	bool memory_zeroed;
	/*
	 * Fuel for the start function, charged like rvm_wasm_run's; default (0)
	 * RVM_WASM_START_FUEL, UINT64_MAX for unlimited. A start function that runs out fails
	 * instantiation with RVM_E_FUEL, so a hostile module cannot hang its embedder there.
	 */
	uint64_t start_fuel;
};

#define RVM_WASM_START_FUEL 100000000ull

/*
 * Instantiates m. imports[i] satisfies import i (see rvm_wasm_module_import). All instance
 * state comes from arena; what remains after tables and globals becomes the value stack
 * and call frames. Runs active element/data segments and the start function, metered by
 * cfg->start_fuel (the fuel it used counts in rvm_wasm_fuel_total). Returns NULL with *err
 * on failure: RVM_E_LINK (unlinkable), RVM_E_TRAP (a segment or the start function
 * trapped: *trap says which), RVM_E_FUEL (the start function ran out of fuel), RVM_E_STATE
 * (a host function called by the start function suspended: there is no run to resume),
 * RVM_E_NOMEM.
 */
struct rvm_wasm_instance *rvm_wasm_instantiate(const struct rvm_wasm_module *m,
					       const struct rvm_wasm_extern *imports,
					       uint32_t nimports,
					       const struct rvm_wasm_config *cfg, void *arena,
					       size_t arena_size, struct rvm_wasm_error *err,
					       enum rvm_wasm_trap *trap);

/* Finds an export by name; returns false if absent. */
bool rvm_wasm_export(struct rvm_wasm_instance *inst, const char *name, size_t name_len,
		     struct rvm_wasm_extern *out);
/* The instance's linear memory, or NULL. */
struct rvm_wasm_memory *rvm_wasm_instance_memory(struct rvm_wasm_instance *inst);

/* Outcome of rvm_wasm_run. */
enum rvm_wasm_status {
	RVM_WASM_IDLE = 0,	/* nothing to run */
	RVM_WASM_DONE,		/* the invoked function returned: results available */
	RVM_WASM_TRAPPED,	/* trap: see rvm_wasm_trap_of() */
	RVM_WASM_OUT_OF_FUEL,	/* suspended; rvm_wasm_run again to resume */
	RVM_WASM_READY,		/* a call has been started and not yet run */
	RVM_WASM_SUSPENDED,	/* a host function said "not now"; rvm_wasm_run again retries it */
};

/*
 * Starts a call of f (a function of inst, or any function whose instances share nothing
 * with inst's stack) with args[0..nparams). Fails with RVM_E_STATE if a call is in progress,
 * RVM_E_INVAL on a wrong argument count.
 */
enum rvm_err rvm_wasm_call(struct rvm_wasm_instance *inst, struct rvm_wasm_func *f,
			   const uint64_t *args, uint32_t nargs);
/*
 * Runs the started call until it returns, traps, fuel runs out, or a host function suspends
 * (RVM_WASM_SUSPENDED: see rvm_wasm_host_fn; running again retries the host call). Fuel is charged at
 * function entry, at each loop iteration and after each loop ends, by the number of wasm
 * instructions in the straight-line stretch that follows (up to the next such point); a
 * stretch starts only while fuel > 0, so the total charged may exceed `fuel` by at most
 * one stretch. *used (optional) receives the fuel charged by this call. Charging
 * depends only on the module and the inputs: every platform consumes identically.
 * UINT64_MAX fuel means unlimited.
 */
enum rvm_wasm_status rvm_wasm_run(struct rvm_wasm_instance *inst, uint64_t fuel,
				  uint64_t *used);
enum rvm_wasm_trap rvm_wasm_trap_of(const struct rvm_wasm_instance *inst);
/* Fuel charged over the instance's life: its start function and every rvm_wasm_run. */
uint64_t rvm_wasm_fuel_total(const struct rvm_wasm_instance *inst);
/* For RVM_WASM_TRAP_UNDEF_ELEM / UNINIT_ELEM: the table index that was called. */
uint32_t rvm_wasm_trap_index(const struct rvm_wasm_instance *inst);
/* After RVM_WASM_DONE: the results (count = the function's nresults). */
const uint64_t *rvm_wasm_results(const struct rvm_wasm_instance *inst, uint32_t *count);
/* Abandons a suspended or trapped call; the instance is IDLE again. */
void rvm_wasm_reset(struct rvm_wasm_instance *inst);

/* Initialises a host function record. */
void rvm_wasm_host_func(struct rvm_wasm_func *f, const struct rvm_wasm_functype *type,
			rvm_wasm_host_fn *fn, void *ctx);
/* Structural equality of function types. */
bool rvm_wasm_functype_eq(const struct rvm_wasm_functype *a, const struct rvm_wasm_functype *b);

/*
 * Snapshot of a whole instance: linear memory, mutable globals, tables, dropped segments
 * and the suspended call stack with its fuel accounting (reference values in frames
 * included). Only state owned by inst is saved (imported memories/tables/globals are the
 * embedder's); funcrefs, wherever they are, must be inst's functions or its imports
 * (saved as function indices), else RVM_E_UNSUPPORTED. rvm_wasm_snapshot_size() gives the
 * bytes needed.
 * Restore targets a fresh instance of the same module (checked by SHA-256 of the module
 * bytes) with the same imports; running on is bit-identical to never having stopped.
 */
size_t rvm_wasm_snapshot_size(const struct rvm_wasm_instance *inst);
enum rvm_err rvm_wasm_snapshot(const struct rvm_wasm_instance *inst, uint8_t *buf, size_t cap,
			       size_t *len);
enum rvm_err rvm_wasm_restore(struct rvm_wasm_instance *inst, const uint8_t *buf, size_t len);

#endif
