/* tools/rvm/cmd.h - the sub-commands of the rvm host tool, one file each. */
#ifndef RVM_TOOL_CMD_H
#define RVM_TOOL_CMD_H

#include <stddef.h>
#include <stdint.h>

/* Each returns the process exit status: 0 ok, 1 a finding (e.g. tampering), 2 bad usage or input. */
struct rvm_cmd {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

/* Witness log commands (cmd_audit.c, cmd_query.c, cmd_keygen.c, cmd_run.c). */
int rvm_cmd_audit(int argc, char **argv);
int rvm_cmd_query(int argc, char **argv);
int rvm_cmd_keygen(int argc, char **argv);
int rvm_cmd_run(int argc, char **argv);
/* rvm journal RUNDIR [--check]: the journal of a run, and its replay check (cmd_journal.c) */
int rvm_cmd_journal(int argc, char **argv);
/* Checks every journal entry of RUNDIR against its witness.log (journal_bind.c): 0 all bound,
 * 1 a finding (printed), 2 the log cannot be read. */
int rvm_tool_journal_bind(const char *dir, const uint8_t *jbuf, size_t jlen);

/* The table lives in main.c; sub-commands print it on bad usage. */
extern const struct rvm_cmd rvm_cmds[];

/* rvm sim: placement on a recorded agent trace (cmd_sim.c) */
int rvm_cmd_sim(int argc, char **argv);

/* rvm replay: a partition's state at a seq, rebuilt from checkpoint + log + journal (cmd_replay.c) */
int rvm_cmd_replay(int argc, char **argv);

/* rvm wasm validate|run|spec (cmd_wasm.c) */
int cmd_wasm(int argc, char **argv);

/* rvm gpu demo: matrix multiply and reduction through the GPU objects (cmd_gpu.c) */
int rvm_cmd_gpu(int argc, char **argv);

#endif
