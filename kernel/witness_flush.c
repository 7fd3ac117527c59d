/* kernel/witness_flush.c - moves witness records from the ring to the durable platform sink. */
#include <rvm/bytes.h>
#include <rvm/witness.h>

#define RING_MASK (RVM_WITNESS_RING_RECORDS - 1u)
/* Records encoded per sink append: 512 bytes of stack, small enough for the seed. */
#define FLUSH_CHUNK 8u

static enum rvm_err sink_put(struct rvm_witness_log *log, const void *buf, size_t n)
{
	enum rvm_err err = rvm_platform_sink_append(log->plat, RVM_SINK_WITNESS, buf, n);

	log->sink_err = err;
	return err;
}

/* Appends records [flushed_seq, end) in chunks; flushed_seq advances with each chunk. */
static enum rvm_err flush_until(struct rvm_witness_log *log, uint64_t end)
{
	uint8_t buf[FLUSH_CHUNK * RVM_WITNESS_RECORD_SIZE];

	while (log->flushed_seq < end) {
		uint64_t n = end - log->flushed_seq;
		enum rvm_err err;

		if (n > FLUSH_CHUNK)
			n = FLUSH_CHUNK;
		for (uint64_t i = 0; i < n; i++)
			rvm_witness_encode(&log->ring[(log->flushed_seq + i) & RING_MASK],
					   buf + i * RVM_WITNESS_RECORD_SIZE);
		err = sink_put(log, buf, (size_t)n * RVM_WITNESS_RECORD_SIZE);
		if (err != RVM_OK)
			return err;
		log->flushed_seq += n;
	}
	return RVM_OK;
}

enum rvm_err rvm_witness_flush(struct rvm_witness_log *log)
{
	enum rvm_err err;

	if (!log->has_sink)
		return RVM_OK;
	/* A pending signature block goes right after its checkpoint record. */
	if (log->sig_pending) {
		err = flush_until(log, log->sig_seq + 1);
		if (err != RVM_OK)
			return err;
		err = sink_put(log, log->sig, RVM_WITNESS_SIG_BLOCK);
		if (err != RVM_OK)
			return err;
		log->sig_pending = false;
	}
	return flush_until(log, log->next_seq);
}

enum rvm_err rvm_witness_sync(struct rvm_witness_log *log)
{
	enum rvm_err err;

	if (!log->has_sink)
		return RVM_E_UNSUPPORTED;
	err = rvm_witness_flush(log);
	if (err != RVM_OK)
		return err;
	err = rvm_platform_sink_sync(log->plat, RVM_SINK_WITNESS);
	log->sink_err = err;
	if (err == RVM_OK)
		log->durable_seq = log->flushed_seq;
	return err;
}
