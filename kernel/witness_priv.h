/* kernel/witness_priv.h - what the witness log's own files share and nobody else calls. */
#ifndef RVM_KERNEL_WITNESS_PRIV_H
#define RVM_KERNEL_WITNESS_PRIV_H

#include <rvm/witness.h>

/* Appends one chained record with any flags (the log's own BATCH and SIGNATURE records);
 * counts it towards the next periodic checkpoint and emits that checkpoint when due. */
enum rvm_err rvm_witness_append_counted(struct rvm_witness_log *log, uint16_t action,
					uint16_t flags, uint32_t actor, uint64_t target,
					uint64_t arg0, uint64_t arg1, uint64_t *seq_out);

#endif
