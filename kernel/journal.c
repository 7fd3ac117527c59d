/* kernel/journal.c - the journal writer (buffered, over the platform sink) and its reader. */
#include <rvm/bytes.h>
#include <rvm/journal.h>
#include <rvm/sha256.h>

static uint32_t pad8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

enum rvm_err rvm_journal_init(struct rvm_journal *j, const struct rvm_platform *plat)
{
	uint8_t hdr[RVM_JOURNAL_HEADER] = { 0 };
	enum rvm_err err;

	if (!j || !plat)
		return RVM_E_INVAL;
	j->plat = plat;
	j->used = 0;
	j->entries = 0;
	j->sink_err = RVM_OK;
	rvm_memcpy(hdr, RVM_JOURNAL_MAGIC, sizeof(RVM_JOURNAL_MAGIC));
	rvm_store_le32(hdr + 12, RVM_JOURNAL_VERSION);
	j->bytes = RVM_JOURNAL_HEADER;
	j->has_sink = plat->sink_append != NULL;
	if (!j->has_sink)
		return RVM_OK;
	err = rvm_platform_sink_append(plat, RVM_SINK_JOURNAL, hdr, sizeof(hdr));
	if (err == RVM_E_UNSUPPORTED) {
		j->has_sink = false; /* ring-only platform: count, do not store */
		return RVM_OK;
	}
	return err;
}

uint64_t rvm_journal_hash8(const struct rvm_platform *plat, const void *payload, size_t len)
{
	uint8_t d[RVM_SHA256_DIGEST];

	rvm_sha256(plat ? plat->sha256 : NULL, payload, len, d);
	return rvm_load_le64(d);
}

enum rvm_err rvm_journal_flush(struct rvm_journal *j)
{
	enum rvm_err err;

	if (!j->used || !j->has_sink)
		return j->sink_err;
	err = rvm_platform_sink_append(j->plat, RVM_SINK_JOURNAL, j->buf, j->used);
	j->used = 0;
	if (err != RVM_OK)
		j->sink_err = err;
	return err;
}

enum rvm_err rvm_journal_sync(struct rvm_journal *j)
{
	enum rvm_err err = rvm_journal_flush(j);

	if (err == RVM_OK && j->has_sink)
		err = rvm_platform_sink_sync(j->plat, RVM_SINK_JOURNAL);
	return err;
}

/* Writes one entry in file form at p (RVM_JOURNAL_HEAD + pad8(len) bytes). */
static void put_entry(uint8_t *p, uint64_t seq, uint32_t agent, enum rvm_journal_kind kind,
		      uint16_t flags, uint32_t aux, uint64_t hash8, const void *payload,
		      uint32_t len)
{
	rvm_store_le64(p, seq);
	rvm_store_le32(p + 8, agent);
	rvm_store_le16(p + 12, (uint16_t)kind);
	rvm_store_le16(p + 14, flags);
	rvm_store_le32(p + 16, len);
	rvm_store_le32(p + 20, aux);
	rvm_store_le64(p + 24, hash8);
	if (len)
		rvm_memcpy(p + RVM_JOURNAL_HEAD, payload, len);
	rvm_memset(p + RVM_JOURNAL_HEAD + len, 0, pad8(len) - len);
}

/* Room for need more bytes in the buffer (flushing it if it has a sink). */
static enum rvm_err make_room(struct rvm_journal *j, uint32_t need)
{
	if (j->used + need > RVM_JOURNAL_BUFFER)
		return rvm_journal_flush(j);
	return RVM_OK;
}

/* Counts bytes written at buf + used; without a sink they are dropped (the buffer is
 * reused at once). */
static void account(struct rvm_journal *j, uint32_t bytes, uint32_t entries)
{
	if (j->has_sink)
		j->used += bytes;
	j->entries += entries;
	j->bytes += bytes;
}

enum rvm_err rvm_journal_append(struct rvm_journal *j, uint64_t seq, uint32_t agent,
				enum rvm_journal_kind kind, uint32_t aux, const void *payload,
				uint32_t len)
{
	uint32_t need = RVM_JOURNAL_HEAD + pad8(len);
	enum rvm_err err;

	if (!j || (len && !payload) || kind == 0 || kind >= RVM_JK_COUNT)
		return RVM_E_INVAL;
	if (len > RVM_JOURNAL_MAX_PAYLOAD)
		return RVM_E_RANGE;
	if ((err = make_room(j, need)) != RVM_OK)
		return err;
	put_entry(j->buf + j->used, seq, agent, kind, 0, aux,
		  rvm_journal_hash8(j->plat, payload, len), payload, len);
	account(j, need, 1);
	return RVM_OK;
}

enum rvm_err rvm_journal_batch_add(struct rvm_journal_batch *b, uint32_t agent,
				   enum rvm_journal_kind kind, uint32_t aux, const void *payload,
				   uint32_t len)
{
	uint32_t need;

	if (!b || (len && !payload) || kind == 0 || kind >= RVM_JK_COUNT)
		return RVM_E_INVAL;
	if (len > RVM_JOURNAL_BATCH_BYTES - RVM_JOURNAL_HEAD)
		return RVM_E_RANGE;
	need = RVM_JOURNAL_HEAD + pad8(len);
	if (b->used + need > RVM_JOURNAL_BATCH_BYTES)
		return RVM_E_FULL;
	/* No per-entry hash: the batch hash covers the entry whole, payload included. */
	put_entry(b->buf + b->used, 0, agent, kind, RVM_JOURNAL_F_BATCH, aux, 0, payload, len);
	b->used += need;
	b->count++;
	return RVM_OK;
}

/* Offset of the entry after the one at off in a well-formed staged run. */
static uint32_t next_off(const uint8_t *buf, uint32_t off)
{
	return off + RVM_JOURNAL_HEAD + pad8(rvm_load_le32(buf + off + 16));
}

uint64_t rvm_journal_batch_hash8(const struct rvm_journal_batch *b,
				 const struct rvm_platform *plat)
{
	/* Staged entries carry seq 0: exactly the form the binding hashes. */
	return rvm_journal_hash8(plat, b->buf, b->used);
}

enum rvm_err rvm_journal_batch_commit(struct rvm_journal *j, struct rvm_journal_batch *b,
				      uint64_t seq)
{
	enum rvm_err err;

	if (!j || !b)
		return RVM_E_INVAL;
	if (!b->count)
		return RVM_OK;
	for (uint32_t off = 0; off < b->used; off = next_off(b->buf, off))
		rvm_store_le64(b->buf + off, seq);
	/* A batch is smaller than the buffer: after a flush it fits whole. */
	if ((err = make_room(j, b->used)) == RVM_OK) {
		rvm_memcpy(j->buf + j->used, b->buf, b->used);
		account(j, b->used, b->count);
	}
	b->count = 0;
	b->used = 0;
	return err;
}

enum rvm_err rvm_journal_check_header(const uint8_t *buf, size_t len)
{
	if (!buf)
		return RVM_E_INVAL;
	if (len < RVM_JOURNAL_HEADER)
		return RVM_E_TRUNCATED;
	if (rvm_memcmp(buf, RVM_JOURNAL_MAGIC, sizeof(RVM_JOURNAL_MAGIC)) != 0)
		return RVM_E_FORMAT;
	if (rvm_load_le32(buf + 12) < RVM_JOURNAL_VERSION_MIN ||
	    rvm_load_le32(buf + 12) > RVM_JOURNAL_VERSION)
		return RVM_E_VERSION;
	return RVM_OK;
}

enum rvm_err rvm_journal_next(const uint8_t *buf, size_t len, size_t *off,
			      struct rvm_journal_entry *out)
{
	const uint8_t *p;
	size_t at;
	uint32_t padded;

	if (!buf || !off || !out || *off < RVM_JOURNAL_HEADER || *off > len)
		return RVM_E_INVAL;
	at = *off;
	if (at == len)
		return RVM_E_EMPTY;
	if (len - at < RVM_JOURNAL_HEAD)
		return RVM_E_TRUNCATED;
	p = buf + at;
	out->seq = rvm_load_le64(p);
	out->agent = rvm_load_le32(p + 8);
	out->kind = rvm_load_le16(p + 12);
	out->flags = rvm_load_le16(p + 14);
	out->len = rvm_load_le32(p + 16);
	out->aux = rvm_load_le32(p + 20);
	rvm_memcpy(out->hash8, p + 24, 8);
	if (out->kind == 0 || out->kind >= RVM_JK_COUNT || (out->flags & ~RVM_JOURNAL_F_BATCH) ||
	    out->len > RVM_JOURNAL_MAX_PAYLOAD)
		return RVM_E_CORRUPT;
	padded = pad8(out->len);
	if (len - at - RVM_JOURNAL_HEAD < padded)
		return RVM_E_TRUNCATED;
	out->payload = p + RVM_JOURNAL_HEAD;
	for (uint32_t i = out->len; i < padded; i++)
		if (out->payload[i] != 0)
			return RVM_E_CORRUPT;
	*off = at + RVM_JOURNAL_HEAD + padded;
	return RVM_OK;
}
