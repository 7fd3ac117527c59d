/* rvm/journal.h - the journal: every input an agent sees, bound to a witness record, for exact replay. */
#ifndef RVM_JOURNAL_H
#define RVM_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/platform.h>

/*
 * File format (docs/journal.md), little-endian, written to RVM_SINK_JOURNAL:
 *   header  16 bytes: "RVM-JOURNAL\0" then u32 version (2; readers take 1 and 2)
 *   entry   32-byte head then the payload, zero-padded to a multiple of 8:
 *     0  u64 seq     witness seq of the record that binds the entry
 *     8  u32 agent   agent number (the record's target)
 *    12  u16 kind    enum rvm_journal_kind
 *    14  u16 flags   0, or RVM_JOURNAL_F_BATCH
 *    16  u32 len     payload bytes
 *    20  u32 aux     kind-specific (below)
 *    24  u8  hash8[8] first 8 bytes of SHA-256(payload); 0 in a batch
 * A single entry (flags 0) is bound by an agent.hostcall record: target
 * e.agent, arg0 = kind << 32 | len, arg1 = hash8 read as a little-endian u64.
 * A batch is a run of consecutive entries of one agent flagged BATCH that share
 * one seq, bound by the agent.hostcall_batch record at that seq: target the
 * agent, arg0 = the number of entries, arg1 = the first 8 bytes of SHA-256 over
 * the entries as written (heads and zero-padded payloads), each seq zeroed.
 * Either way a payload edited after the fact no longer matches the signed chain.
 */
#define RVM_JOURNAL_MAGIC "RVM-JOURNAL"
#define RVM_JOURNAL_VERSION 2u
/* Oldest version readers take (1 had no batches). */
#define RVM_JOURNAL_VERSION_MIN 1u
#define RVM_JOURNAL_HEADER 16u
#define RVM_JOURNAL_HEAD 32u
/* Largest payload one entry carries (an agent message is smaller). */
#define RVM_JOURNAL_MAX_PAYLOAD 4096u
/* Bytes buffered before the journal appends them to the platform sink. */
#define RVM_JOURNAL_BUFFER 65536u
/* Entry flag: bound, with the rest of its batch, by an agent.hostcall_batch record. */
#define RVM_JOURNAL_F_BATCH 0x0001u
/* Bytes of entries (heads and padded payloads) one batch stages before it is bound. */
#define RVM_JOURNAL_BATCH_BYTES 2048u

/* What an entry records; values are part of the format: append only. */
enum rvm_journal_kind {
	RVM_JK_RECV = 1,  /* payload: u32 polls, then the message; aux: inbound edge index */
	RVM_JK_NOW = 2,	  /* payload: u64 time the agent saw */
	RVM_JK_SPAWN = 3, /* payload: i32 result of rvm.spawn; aux: template index */
	RVM_JK_SEND = 4,  /* payload: u32 sends accepted, then u32 sends answered "full", since
			   * the last SEND entry, then i32 the result of the send that ended the
			   * run (0 accepted after refusals, -2, -3; -1: none, counts only) */
	RVM_JK_START = 5, /* payload: module SHA-256 (32 bytes), the 4 i64 init arguments, u32
			   * rights; aux: module index; the agent (re)started here */
	RVM_JK_DIGEST = 6, /* not an input: the agent's state for replay checks; payload: u64
			    * fuel used since its START (or RESUME), SHA-256 of its linear memory */
	RVM_JK_GPU = 7,	   /* payload: i64 result of an rvm.gpu_* call, then the bytes it wrote
			    * into the agent's memory (at most RVM_JOURNAL_GPU_CHUNK per entry: a
			    * longer gpu_read is several entries); aux: enum rvm_agent_gpu_op */
	RVM_JK_RESUME = 8, /* payload: u64 checkpoint id, module SHA-256 (32 bytes), u32 rights;
			    * aux: module index; the agent (re)started from its snapshot in that
			    * checkpoint (F1/F2 recovery), not from its module */
	RVM_JK_REGION_WRITE = 9, /* payload: the bytes of the REGION_WRITE record seq (kernels
				  * with region spaces; the swarm's agents write none) */
	RVM_JK_COUNT
};

/*
 * RECV payload layout: u32 polls (empty polls before this message, for
 * agents that poll rather than block) then the message bytes.
 */
#define RVM_JOURNAL_RECV_PREFIX 4u
/* RECV aux of an entry that only carries counted empty polls (no message). */
#define RVM_JOURNAL_NO_EDGE UINT32_MAX
/* RESUME payload: u64 checkpoint id, module SHA-256, u32 rights. */
#define RVM_JOURNAL_RESUME_LEN 44u

/* Bytes of agent memory one GPU entry carries after its 8-byte result. */
#define RVM_JOURNAL_GPU_CHUNK (RVM_JOURNAL_MAX_PAYLOAD - 8u)

/* One decoded entry; payload points into the caller's buffer. */
struct rvm_journal_entry {
	uint64_t seq;
	uint32_t agent;
	uint16_t kind;
	uint16_t flags;
	uint32_t len;
	uint32_t aux;
	uint8_t hash8[8];
	const uint8_t *payload;
};

/*
 * The writer: caller-owned, no allocation. Invariant: used <= RVM_JOURNAL_BUFFER;
 * buf[0..used) holds whole entries not yet appended to the sink; entries before
 * them were appended (durable after rvm_journal_sync). Without a sink (ring-only
 * kernels, tests) the bytes are counted and dropped.
 */
struct rvm_journal {
	const struct rvm_platform *plat;
	uint8_t buf[RVM_JOURNAL_BUFFER];
	uint32_t used;
	bool has_sink;
	uint64_t entries; /* written since init */
	uint64_t bytes;	  /* file bytes produced, header included */
	enum rvm_err sink_err;
};

/*
 * One agent's batch: entries staged in file form (seq 0, flags BATCH) until a
 * single witness record binds them all (DC-10 for journal entries: one record
 * per run of inputs instead of one per input). Caller-owned. Invariant:
 * buf[0..used) holds count whole entries, used <= RVM_JOURNAL_BATCH_BYTES.
 */
struct rvm_journal_batch {
	uint32_t count;
	uint32_t used;
	uint8_t buf[RVM_JOURNAL_BATCH_BYTES];
};

/* Starts a journal: writes the header to the sink if the platform has one. */
enum rvm_err rvm_journal_init(struct rvm_journal *j, const struct rvm_platform *plat);
/* The first 8 bytes of SHA-256(payload) as a little-endian u64 (the binding record's arg1). */
uint64_t rvm_journal_hash8(const struct rvm_platform *plat, const void *payload, size_t len);
/*
 * Appends one entry (len <= RVM_JOURNAL_MAX_PAYLOAD, else RVM_E_RANGE). The
 * caller has emitted the binding witness record as seq. RVM_E_IO if the sink
 * failed (the entry is lost and sink_err keeps the error).
 */
enum rvm_err rvm_journal_append(struct rvm_journal *j, uint64_t seq, uint32_t agent,
				enum rvm_journal_kind kind, uint32_t aux, const void *payload,
				uint32_t len);
/*
 * Stages one entry in batch b (hash8 0: the batch hash covers it). RVM_E_FULL when it does
 * not fit beside those staged (bind them, then retry), RVM_E_RANGE when it could
 * never fit a batch, RVM_E_INVAL for a bad kind.
 */
enum rvm_err rvm_journal_batch_add(struct rvm_journal_batch *b, uint32_t agent,
				   enum rvm_journal_kind kind, uint32_t aux, const void *payload,
				   uint32_t len);
/* The binding record's arg1: first 8 bytes of SHA-256 over the staged entries (seq zero). */
uint64_t rvm_journal_batch_hash8(const struct rvm_journal_batch *b,
				 const struct rvm_platform *plat);
/*
 * Writes the staged entries to the journal with seq (the binding record, already
 * emitted) and empties b. RVM_E_IO if the sink failed (sink_err keeps the error).
 */
enum rvm_err rvm_journal_batch_commit(struct rvm_journal *j, struct rvm_journal_batch *b,
				      uint64_t seq);
/* Appends buffered entries to the sink. */
enum rvm_err rvm_journal_flush(struct rvm_journal *j);
/* Flush, then make the journal durable. */
enum rvm_err rvm_journal_sync(struct rvm_journal *j);

/* ---- Reading (replay, audit, tests) ---- */

/* RVM_OK if buf starts with a valid header (version 1 or 2); RVM_E_FORMAT / RVM_E_VERSION /
 * RVM_E_TRUNCATED. */
enum rvm_err rvm_journal_check_header(const uint8_t *buf, size_t len);
/*
 * Decodes the entry at *off (start at RVM_JOURNAL_HEADER) and advances *off.
 * RVM_E_EMPTY at the clean end, RVM_E_TRUNCATED for a torn tail (an entry cut
 * short: everything before it is good), RVM_E_CORRUPT for an impossible
 * head (unknown kind, unknown flags, len too large, padding not zero).
 */
enum rvm_err rvm_journal_next(const uint8_t *buf, size_t len, size_t *off,
			      struct rvm_journal_entry *out);

/*
 * The witness record at seq, for binding checks: RVM_OK and *out, RVM_E_NOTFOUND
 * past the log's end. Records are those of <rvm/witness.h>.
 */
struct rvm_witness_record;
typedef enum rvm_err rvm_journal_record_fn(void *ctx, uint64_t seq,
					   struct rvm_witness_record *out);
/* Where a binding check stopped. */
struct rvm_journal_bind_report {
	uint64_t entries, singles, batches;
	uint64_t unbound;  /* entries past the log's end (a torn log or batch): not checked */
	size_t bad_off;	   /* file offset of the first entry that does not match */
	uint64_t bad_seq;  /* its seq */
	const char *why;   /* what did not match, for messages */
};
/*
 * Checks every entry of the journal file buf against the witness log (lookup):
 * a single entry's payload against its hash8 and the entry against its
 * agent.hostcall record, a batch against its agent.hostcall_batch record (count
 * and hash),
 * and that seqs never decrease (entries follow their records in log order).
 * Entries whose seq is past the log's end are counted in rep->unbound. RVM_OK; RVM_E_TAMPER for an entry that does not match (rep says which and why);
 * a reading error of rvm_journal_next other than a torn tail. rep may be NULL.
 */
enum rvm_err rvm_journal_bind_check(const uint8_t *buf, size_t len, rvm_journal_record_fn *lookup,
				    void *ctx, struct rvm_journal_bind_report *rep);

#endif
