/* kernel/witness.c - the witness log writer: genesis, emit into the ring, checkpoints, flush, sync. */
#include <rvm/bytes.h>
#include <rvm/witness.h>
#include <rvm/witness_file.h>
#include <rvm/witness_sign.h>

#include "witness_priv.h"

#define RING_MASK (RVM_WITNESS_RING_RECORDS - 1u)
#define NO_SEQ UINT64_MAX

static enum rvm_err check_config(const struct rvm_witness_config *cfg)
{
	if (cfg->chain != RVM_CHAIN_SHA256 && cfg->chain != RVM_CHAIN_FNV1A)
		return RVM_E_INVAL;
	if (cfg->sig != RVM_SIG_NONE && cfg->sig != RVM_SIG_HMAC_SHA256 &&
	    cfg->sig != RVM_SIG_ED25519)
		return RVM_E_INVAL;
	return RVM_OK;
}

/* Writes the file header and syncs it; a sink that is not there makes the log ring-only. */
static enum rvm_err write_header(struct rvm_witness_log *log)
{
	struct rvm_witness_file_header h = {
		.version = RVM_WFILE_VERSION,
		.header_size = RVM_WFILE_HEADER_SIZE,
		.unit_size = RVM_WFILE_UNIT,
		.chain = (uint8_t)log->cfg.chain,
		.sig = (uint8_t)log->cfg.sig,
		.checkpoint_every = log->cfg.checkpoint_every,
		.boot_clock_ns = log->boot_clock_ns,
	};
	uint8_t buf[RVM_WFILE_HEADER_SIZE];
	enum rvm_err err;

	rvm_memcpy(h.nonce, log->cfg.boot_nonce, 16);
	rvm_memcpy(h.genesis, log->genesis, 32);
	rvm_memcpy(h.key, log->public_key, 32);
	rvm_witness_header_encode(&h, buf);
	err = rvm_platform_sink_append(log->plat, RVM_SINK_WITNESS, buf, sizeof(buf));
	if (err == RVM_E_UNSUPPORTED)
		return RVM_OK;
	if (err == RVM_OK)
		err = rvm_platform_sink_sync(log->plat, RVM_SINK_WITNESS);
	log->has_sink = err == RVM_OK;
	return err;
}

enum rvm_err rvm_witness_init(struct rvm_witness_log *log, const struct rvm_platform *plat,
			      const struct rvm_witness_config *cfg)
{
	static const uint8_t zero[16];
	enum rvm_err err;

	if (!log || !plat || !cfg)
		return RVM_E_INVAL;
	if ((err = check_config(cfg)) != RVM_OK)
		return err;
	rvm_memset(log, 0, sizeof(*log));
	log->plat = plat;
	log->cfg = *cfg;
	log->sha = plat->sha256;
	log->last_ckpt_seq = NO_SEQ;
	if (rvm_memcmp(cfg->boot_nonce, zero, 16) == 0) {
		err = rvm_platform_entropy(plat, log->cfg.boot_nonce, 16);
		if (err != RVM_OK)
			return err;
	}
	err = rvm_witness_sign_setup(&log->cfg, log->public_key);
	if (err != RVM_OK)
		return err;
	rvm_witness_genesis(cfg->chain, log->sha, log->cfg.boot_nonce, log->genesis);
	rvm_memcpy(log->digest, log->genesis, RVM_SHA256_DIGEST);
	log->boot_clock_ns = rvm_platform_now_ns(plat);
	return write_header(log);
}

/* Frees one ring slot: flush to the sink, or (ring-only) forget the oldest record. */
static enum rvm_err make_room(struct rvm_witness_log *log)
{
	if (log->next_seq - log->flushed_seq < RVM_WITNESS_RING_RECORDS)
		return RVM_OK;
	if (!log->has_sink) {
		log->flushed_seq++;
		return RVM_OK;
	}
	if (rvm_witness_flush(log) != RVM_OK ||
	    log->next_seq - log->flushed_seq >= RVM_WITNESS_RING_RECORDS)
		return RVM_E_FULL;
	return RVM_OK;
}

/* Appends one chained record; any flags allowed (the log's own records use this). */
static enum rvm_err append(struct rvm_witness_log *log, uint16_t action, uint16_t flags,
			   uint32_t actor, uint64_t target, uint64_t arg0, uint64_t arg1)
{
	struct rvm_witness_record *r;
	uint8_t enc[RVM_WITNESS_RECORD_SIZE];
	enum rvm_err err = make_room(log);

	if (err != RVM_OK)
		return err;
	r = &log->ring[log->next_seq & RING_MASK];
	r->seq = log->next_seq;
	r->time_ns = rvm_platform_now_ns(log->plat) - log->boot_clock_ns;
	r->action = action;
	r->flags = flags;
	r->actor = actor;
	r->target = target;
	r->arg0 = arg0;
	r->arg1 = arg1;
	rvm_memcpy(r->prev8, log->digest, 8);
	rvm_memset(r->self8, 0, 8);
	rvm_witness_encode(r, enc);
	rvm_witness_chain_next(log->cfg.chain, log->sha, log->digest, enc, log->digest);
	rvm_memcpy(r->self8, log->digest, 8);
	log->next_seq++;
	return RVM_OK;
}

/* Emits a chain checkpoint; signed unless the log is unsigned. */
static enum rvm_err checkpoint(struct rvm_witness_log *log, uint64_t reason)
{
	bool sign = log->cfg.sig != RVM_SIG_NONE;
	enum rvm_err err;

	/* Only one signature block may wait for the sink (see the struct's invariants). */
	if (log->sig_pending && (rvm_witness_flush(log) != RVM_OK || log->sig_pending))
		return log->sink_err != RVM_OK ? log->sink_err : RVM_E_IO;
	err = append(log, RVM_ACT_CHAIN_CHECKPOINT, sign ? RVM_WF_SIGNATURE : 0, 0,
		     log->last_ckpt_seq, reason, log->since_checkpoint);
	if (err != RVM_OK)
		return err;
	log->last_ckpt_seq = log->next_seq - 1;
	log->since_checkpoint = 0;
	if (!sign)
		return RVM_OK;
	rvm_witness_sign_checkpoint(&log->cfg, log->sha, log->last_ckpt_seq, log->digest, log->sig);
	log->sig_seq = log->last_ckpt_seq;
	log->sig_pending = log->has_sink;
	return log->has_sink ? rvm_witness_flush(log) : RVM_OK;
}

enum rvm_err rvm_witness_append_counted(struct rvm_witness_log *log, uint16_t action,
					uint16_t flags, uint32_t actor, uint64_t target,
					uint64_t arg0, uint64_t arg1, uint64_t *seq_out)
{
	enum rvm_err err = append(log, action, flags, actor, target, arg0, arg1);

	if (err != RVM_OK)
		return err;
	if (seq_out)
		*seq_out = log->next_seq - 1;
	if (log->cfg.checkpoint_every && ++log->since_checkpoint >= log->cfg.checkpoint_every)
		return checkpoint(log, RVM_CKPT_PERIODIC);
	return RVM_OK;
}

enum rvm_err rvm_witness_emit(struct rvm_witness_log *log, uint16_t action, uint16_t flags,
			      uint32_t actor, uint64_t target, uint64_t arg0, uint64_t arg1,
			      uint64_t *seq_out)
{
	if (flags & (RVM_WF_SIGNATURE | RVM_WF_BATCH | RVM_WF_WORDFOLD))
		return RVM_E_INVAL;
	return rvm_witness_append_counted(log, action, flags, actor, target, arg0, arg1, seq_out);
}

enum rvm_err rvm_witness_checkpoint(struct rvm_witness_log *log)
{
	return checkpoint(log, RVM_CKPT_EXPLICIT);
}

enum rvm_err rvm_witness_close(struct rvm_witness_log *log)
{
	enum rvm_err err = rvm_witness_batch_flush(log);

	if (err == RVM_OK)
		err = checkpoint(log, RVM_CKPT_SHUTDOWN);
	if (err == RVM_OK && log->has_sink)
		err = rvm_witness_sync(log);
	return err;
}

bool rvm_witness_can_emit(const struct rvm_witness_log *log, uint32_t n)
{
	uint64_t need = n, used = log->next_seq - log->flushed_seq;

	if (log->cfg.checkpoint_every)
		need += n / log->cfg.checkpoint_every + 1;
	if (need > RVM_WITNESS_RING_RECORDS)
		return false;
	/* Ring-only logs never refuse; a healthy sink makes room by flushing. */
	if (!log->has_sink || log->sink_err == RVM_OK)
		return true;
	return need <= RVM_WITNESS_RING_RECORDS - used;
}

const struct rvm_witness_record *rvm_witness_get(const struct rvm_witness_log *log, uint64_t seq)
{
	if (seq >= log->next_seq || log->next_seq - seq > RVM_WITNESS_RING_RECORDS)
		return NULL;
	if (!log->has_sink && seq < log->flushed_seq)
		return NULL;
	return &log->ring[seq & RING_MASK];
}
