/* tools/rvm/cmd_wasm.h - helpers shared by the `rvm wasm` sub-commands (host code). */
#ifndef RVM_TOOL_CMD_WASM_H
#define RVM_TOOL_CMD_WASM_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/wasm.h>

/* A loaded module with the host storage behind it. */
struct tool_module {
	struct rvm_wasm_module *mod;
	void *arena;
	size_t arena_size;
};

/* An instance with its arena and linear memory (mmap'd, so untouched pages cost nothing). */
struct tool_instance {
	struct rvm_wasm_instance *inst;
	void *arena;
	uint8_t *memory;
	size_t memory_cap;
};

/* Reads a whole file; NULL (after printing why) on failure. */
uint8_t *tool_read_file(const char *path, size_t *len);
/* Loads bytes as a module; fills *err on failure. */
int tool_module_load(struct tool_module *tm, const uint8_t *bytes, size_t len,
		     struct rvm_wasm_error *err);
void tool_module_free(struct tool_module *tm);
/* Instantiates with the given imports; returns 0 or -1 with *err / *trap. */
int tool_instantiate(struct tool_instance *ti, const struct tool_module *tm,
		     const struct rvm_wasm_extern *imports, struct rvm_wasm_error *err,
		     enum rvm_wasm_trap *trap);
void tool_instance_free(struct tool_instance *ti);
/* Prints a value as the spec writes it, e.g. "i32:42", "f64:1.5". */
void tool_print_value(uint8_t type, uint64_t v);
/* Name of a value type ("i32", "externref", ...). */
const char *tool_valtype_name(uint8_t t);

int cmd_wasm_spec(int argc, char **argv);

#endif
