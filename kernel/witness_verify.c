/* kernel/witness_verify.c - streaming verifier of witness log files: chain, signatures, tail. */
#include <rvm/bytes.h>
#include <rvm/witness_file.h>
#include <rvm/witness_sign.h>

enum { RD_HEADER, RD_RECORD, RD_SIGNATURE, RD_STOPPED };

#define KNOWN_FLAGS (RVM_WF_DENIED | RVM_WF_SIGNATURE | RVM_WF_BATCH | RVM_WF_WORDFOLD)

void rvm_witness_reader_init(struct rvm_witness_reader *r, const struct rvm_sha256_impl *sha,
			     const uint8_t *key, rvm_witness_record_fn *on_record, void *ctx)
{
	rvm_memset(r, 0, sizeof(*r));
	r->sha = sha;
	r->on_record = on_record;
	r->ctx = ctx;
	if (key) {
		rvm_memcpy(r->key, key, 32);
		r->have_key = true;
	}
	r->state = RD_HEADER;
}

static enum rvm_err stop(struct rvm_witness_reader *r, enum rvm_err err,
			 enum rvm_witness_where where, const char *why)
{
	r->v.err = err;
	r->v.where = where;
	r->v.why = why;
	r->v.bad_seq = r->next_seq;
	r->v.bad_offset = r->v.bytes - r->have;
	r->state = RD_STOPPED;
	return err;
}

/* The key signatures are checked with, or false when none can be had. */
static enum rvm_err pick_key(struct rvm_witness_reader *r)
{
	uint8_t id[32];

	if (r->hdr.sig == RVM_SIG_NONE)
		return r->have_key ? stop(r, RVM_E_BADSIG, RVM_WHERE_HEADER,
					  "the log is unsigned but a signing key is trusted (downgrade)")
				   : RVM_OK;
	if (r->hdr.sig == RVM_SIG_ED25519) {
		if (r->have_key && !rvm_ct_equal(r->key, r->hdr.key, 32))
			return stop(r, RVM_E_BADSIG, RVM_WHERE_HEADER,
				    "the log names another signing key than the trusted one");
		r->v.key_trusted = r->have_key;
		rvm_memcpy(r->key, r->hdr.key, 32);
		r->v.sig_checked = true;
		return RVM_OK;
	}
	if (!r->have_key)
		return RVM_OK;
	rvm_witness_hmac_key_id(r->key, id);
	if (!rvm_ct_equal(id, r->hdr.key, 32))
		return stop(r, RVM_E_BADSIG, RVM_WHERE_HEADER,
			    "the log names another HMAC key id than the trusted key's");
	r->v.key_trusted = true;
	r->v.sig_checked = true;
	return RVM_OK;
}

static enum rvm_err on_header(struct rvm_witness_reader *r)
{
	static const char *const why[] = {
		[RVM_E_FORMAT] = "not a witness log, or a header this version does not define",
		[RVM_E_CORRUPT] = "header checksum mismatch: the header was altered",
		[RVM_E_VERSION] = "witness log format version newer than this reader",
	};
	enum rvm_err err = rvm_witness_header_decode(r->unit, RVM_WFILE_HEADER_SIZE, &r->hdr);

	if (err != RVM_OK)
		return stop(r, err, RVM_WHERE_HEADER,
			    (unsigned)err < sizeof(why) / sizeof(why[0]) ? why[err] : NULL);
	rvm_memcpy(r->digest, r->hdr.genesis, 32);
	r->state = RD_RECORD;
	return pick_key(r);
}

/* Rules the chain cannot express: which records carry signature blocks. */
static const char *record_rule(const struct rvm_witness_reader *r,
			       const struct rvm_witness_record *rec)
{
	bool is_ckpt = rec->action == RVM_ACT_CHAIN_CHECKPOINT;
	bool signed_log = r->hdr.sig != RVM_SIG_NONE;

	if (rec->flags & ~KNOWN_FLAGS)
		return "record has flags this format does not define";
	if ((rec->flags & RVM_WF_WORDFOLD) && !(rec->flags & RVM_WF_BATCH))
		return "word-fold flag on a record that is not an epoch batch";
	if ((rec->flags & RVM_WF_SIGNATURE) && !(is_ckpt && signed_log))
		return "signature flag on a record that is not a signed checkpoint";
	if (is_ckpt && signed_log && !(rec->flags & RVM_WF_SIGNATURE))
		return "checkpoint of a signed log without a signature";
	return NULL;
}

static enum rvm_err on_record(struct rvm_witness_reader *r)
{
	struct rvm_witness_record rec;
	uint8_t d[RVM_SHA256_DIGEST];
	const char *rule;

	rvm_witness_decode(r->unit, &rec);
	if (rec.seq != r->next_seq)
		return stop(r, RVM_E_TAMPER, RVM_WHERE_RECORD,
			    "seq out of order: record dropped, inserted, reordered or altered");
	if (!rvm_ct_equal(rec.prev8, r->digest, 8))
		return stop(r, RVM_E_TAMPER, RVM_WHERE_RECORD, "prev8 does not match D(seq-1)");
	rvm_memset(r->unit + 56, 0, 8);
	rvm_witness_chain_next((enum rvm_witness_chain)r->hdr.chain, r->sha, r->digest, r->unit, d);
	if (!rvm_ct_equal(rec.self8, d, 8))
		return stop(r, RVM_E_TAMPER, RVM_WHERE_RECORD,
			    "self8 does not match the recomputed digest: record altered");
	if ((rule = record_rule(r, &rec)) != NULL)
		return stop(r, RVM_E_CORRUPT, RVM_WHERE_RECORD, rule);
	rvm_memcpy(r->digest, d, 32);
	if (r->v.records == 0)
		r->v.first_time_ns = rec.time_ns;
	r->v.last_time_ns = rec.time_ns;
	r->v.records++;
	r->next_seq++;
	r->v.clean = false;
	if (rec.action == RVM_ACT_CHAIN_CHECKPOINT) {
		r->v.checkpoints++;
		r->v.clean = rec.arg0 == RVM_CKPT_SHUTDOWN && r->hdr.sig == RVM_SIG_NONE;
	}
	if (rec.flags & RVM_WF_SIGNATURE) {
		r->ckpt = rec;
		rvm_memcpy(r->ckpt_digest, d, 32);
		r->state = RD_SIGNATURE;
	}
	if (r->on_record)
		r->on_record(r->ctx, &rec);
	return RVM_OK;
}

static enum rvm_err on_signature(struct rvm_witness_reader *r)
{
	r->state = RD_RECORD;
	if (r->v.sig_checked) {
		if (!rvm_witness_sig_verify((enum rvm_witness_sig)r->hdr.sig, r->sha, r->key,
					    r->ckpt.seq, r->ckpt_digest, r->unit)) {
			r->next_seq = r->ckpt.seq;
			return stop(r, RVM_E_BADSIG, RVM_WHERE_SIGNATURE,
				    "checkpoint signature does not verify");
		}
		r->v.signatures_ok++;
		r->v.pinned = true;
		r->v.last_pinned_seq = r->ckpt.seq;
	}
	r->v.clean = r->ckpt.arg0 == RVM_CKPT_SHUTDOWN;
	return RVM_OK;
}

static uint32_t unit_size(const struct rvm_witness_reader *r)
{
	return r->state == RD_HEADER ? RVM_WFILE_HEADER_SIZE : RVM_WFILE_UNIT;
}

enum rvm_err rvm_witness_reader_feed(struct rvm_witness_reader *r, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n && r->state != RD_STOPPED) {
		uint32_t take = unit_size(r) - r->have;
		enum rvm_err err;

		if (take > n)
			take = (uint32_t)n;
		rvm_memcpy(r->unit + r->have, p, take);
		r->have += take;
		r->v.bytes += take;
		p += take;
		n -= take;
		if (r->have < unit_size(r))
			break;
		if (r->state == RD_HEADER)
			err = on_header(r);
		else if (r->state == RD_RECORD)
			err = on_record(r);
		else
			err = on_signature(r);
		if (err != RVM_OK)
			return err;
		r->have = 0;
	}
	return r->v.err;
}

const struct rvm_witness_verdict *rvm_witness_reader_finish(struct rvm_witness_reader *r)
{
	if (r->state == RD_STOPPED)
		return &r->v;
	if (r->state == RD_HEADER) {
		enum rvm_err err = rvm_witness_header_decode(r->unit, r->have, &r->hdr);

		stop(r, err == RVM_OK ? RVM_E_TRUNCATED : err, RVM_WHERE_HEADER,
		     r->have == 0	      ? "empty file"
		     : err == RVM_E_FORMAT ? "not a witness log (bad magic)"
					   : "file ends inside the header");
		return &r->v;
	}
	r->v.torn_bytes = r->have;
	if (r->state == RD_SIGNATURE) {
		r->v.torn_checkpoint = true;
		r->v.clean = false;
	}
	r->state = RD_STOPPED;
	return &r->v;
}
