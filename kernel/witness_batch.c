/* kernel/witness_batch.c - DC-10 epoch batching: many high-frequency events, one witness record. */
#include <rvm/bytes.h>
#include <rvm/fnv.h>
#include <rvm/witness.h>

#include "witness_priv.h"

enum rvm_err rvm_witness_batch_flush(struct rvm_witness_log *log)
{
	uint64_t before = log->next_seq;
	enum rvm_err err;

	if (log->batch.count == 0)
		return RVM_OK;
	err = rvm_witness_append_counted(log, log->batch.action, RVM_WF_BATCH, log->batch.actor,
					 log->batch.count, log->batch.sum, log->batch.fold, NULL);
	/* Cleared once its record exists (a failing periodic checkpoint after it does not
	 * count); otherwise it stays pending so a later flush can still record it. */
	if (log->next_seq != before)
		rvm_memset(&log->batch, 0, sizeof(log->batch));
	return err;
}

enum rvm_err rvm_witness_batch_add(struct rvm_witness_log *log, uint16_t action, uint32_t actor,
				   uint64_t target, uint64_t arg0)
{
	uint8_t ev[22];

	if (log->batch.count && (log->batch.action != action || log->batch.actor != actor)) {
		enum rvm_err err = rvm_witness_batch_flush(log);

		if (err != RVM_OK)
			return err;
	}
	if (log->batch.count == 0) {
		log->batch.action = action;
		log->batch.actor = actor;
		log->batch.fold = RVM_FNV1A64_OFFSET;
	}
	rvm_store_le16(ev, action);
	rvm_store_le32(ev + 2, actor);
	rvm_store_le64(ev + 6, target);
	rvm_store_le64(ev + 14, arg0);
	log->batch.fold = rvm_fnv1a64_update(log->batch.fold, ev, sizeof(ev));
	log->batch.sum += arg0;
	log->batch.count++;
	return RVM_OK;
}
