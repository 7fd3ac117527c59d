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
	err = rvm_witness_append_counted(log, log->batch.action, RVM_WF_BATCH | RVM_WF_WORDFOLD,
					 log->batch.actor, log->batch.count, log->batch.sum,
					 log->batch.fold, NULL);
	/* Cleared once its record exists (a failing periodic checkpoint after it does not
	 * count); otherwise it stays pending so a later flush can still record it. */
	if (log->next_seq != before)
		rvm_memset(&log->batch, 0, sizeof(log->batch));
	return err;
}

/*
 * One step of the word fold: xor the word in, multiply by an odd constant, xor the high half
 * into the low. Each part is a bijection of h for a given w, so two runs that differ in one
 * word of one event end with different folds. Three such steps per event cost a fraction of
 * FNV-1a's 22 dependent byte steps (a launch's or a message's hot path).
 */
static uint64_t fold_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * RVM_WITNESS_FOLD_MUL;
	return h ^ (h >> 32);
}

enum rvm_err rvm_witness_batch_add(struct rvm_witness_log *log, uint16_t action, uint32_t actor,
				   uint64_t target, uint64_t arg0)
{
	uint64_t h;

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
	h = fold_word(log->batch.fold, (uint64_t)action | (uint64_t)actor << 16);
	h = fold_word(h, target);
	log->batch.fold = fold_word(h, arg0);
	log->batch.sum += arg0;
	log->batch.count++;
	return RVM_OK;
}
