/* tools/rvm/journal_gpu.h - replaying an agent's rvm.gpu_* calls from its journal (rvm journal --check). */
#ifndef RVM_TOOL_JOURNAL_GPU_H
#define RVM_TOOL_JOURNAL_GPU_H

#include <stdbool.h>

#include <rvm/agent.h>
#include <rvm/journal.h>
#include <rvm/wasm.h>

/*
 * Where replayed GPU calls take their answers: next returns the next GPU entry the agent may
 * see (and consumes it), or NULL. bad is set when the agent makes a call the journal does not
 * answer, or answers with another call's entry.
 */
struct journal_gpu_src {
	const struct rvm_journal_entry *(*next)(void *ctx);
	void *ctx;
	bool bad;
};

#if RVM_AGENT_GPU_IMPORTS > 0
/* Host functions for imports RVM_AGENT_BASE_IMPORTS.. in order; their ctx is a journal_gpu_src. */
extern rvm_wasm_host_fn *const journal_gpu_fns[RVM_AGENT_GPU_IMPORTS];
#endif

#endif
