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

enum rvm_err rvm_journal_append(struct rvm_journal *j, uint64_t seq, uint32_t agent,
				enum rvm_journal_kind kind, uint32_t aux, const void *payload,
				uint32_t len)
{
	uint32_t need = RVM_JOURNAL_HEAD + pad8(len);
	uint8_t *p;
	enum rvm_err err;

	if (!j || (len && !payload) || kind == 0 || kind >= RVM_JK_COUNT)
		return RVM_E_INVAL;
	if (len > RVM_JOURNAL_MAX_PAYLOAD)
		return RVM_E_RANGE;
	if (j->used + need > RVM_JOURNAL_BUFFER && (err = rvm_journal_flush(j)) != RVM_OK)
		return err;
	p = j->buf + j->used;
	rvm_store_le64(p, seq);
	rvm_store_le32(p + 8, agent);
	rvm_store_le16(p + 12, (uint16_t)kind);
	rvm_store_le16(p + 14, 0);
	rvm_store_le32(p + 16, len);
	rvm_store_le32(p + 20, aux);
	rvm_store_le64(p + 24, rvm_journal_hash8(j->plat, payload, len));
	if (len)
		rvm_memcpy(p + RVM_JOURNAL_HEAD, payload, len);
	rvm_memset(p + RVM_JOURNAL_HEAD + len, 0, pad8(len) - len);
	/* Without a sink the bytes are only counted: the buffer is reused at once. */
	if (j->has_sink)
		j->used += need;
	j->entries++;
	j->bytes += need;
	return RVM_OK;
}

enum rvm_err rvm_journal_check_header(const uint8_t *buf, size_t len)
{
	if (!buf)
		return RVM_E_INVAL;
	if (len < RVM_JOURNAL_HEADER)
		return RVM_E_TRUNCATED;
	if (rvm_memcmp(buf, RVM_JOURNAL_MAGIC, sizeof(RVM_JOURNAL_MAGIC)) != 0)
		return RVM_E_FORMAT;
	if (rvm_load_le32(buf + 12) != RVM_JOURNAL_VERSION)
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
	if (out->kind == 0 || out->kind >= RVM_JK_COUNT || out->flags != 0 ||
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
