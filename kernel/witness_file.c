/* kernel/witness_file.c - encodes and checks the 128-byte witness log file header. */
#include <rvm/bytes.h>
#include <rvm/witness_file.h>

/*
 * Layout (little-endian), docs/witness-format.md section 2:
 *   0 magic[8]  8 version u16  10 header_size u16  12 unit_size u16  14 chain u8
 *  15 sig u8   16 checkpoint_every u32  20 reserved u32  24 boot_clock_ns u64
 *  32 nonce[16]  48 genesis[32]  80 key[32]  112 reserved[8]
 * 120 checksum[8] = SHA-256(bytes 0..120)[0..8)
 */
#define HDR_SUM_OFF 120u

static void header_sum(const uint8_t *in, uint8_t out[8])
{
	uint8_t d[RVM_SHA256_DIGEST];

	rvm_sha256(NULL, in, HDR_SUM_OFF, d);
	rvm_memcpy(out, d, 8);
}

void rvm_witness_header_encode(const struct rvm_witness_file_header *h,
			       uint8_t out[RVM_WFILE_HEADER_SIZE])
{
	rvm_memset(out, 0, RVM_WFILE_HEADER_SIZE);
	rvm_memcpy(out, RVM_WFILE_MAGIC, 8);
	rvm_store_le16(out + 8, h->version);
	rvm_store_le16(out + 10, h->header_size);
	rvm_store_le16(out + 12, h->unit_size);
	out[14] = h->chain;
	out[15] = h->sig;
	rvm_store_le32(out + 16, h->checkpoint_every);
	rvm_store_le64(out + 24, h->boot_clock_ns);
	rvm_memcpy(out + 32, h->nonce, 16);
	rvm_memcpy(out + 48, h->genesis, 32);
	rvm_memcpy(out + 80, h->key, 32);
	header_sum(out, out + HDR_SUM_OFF);
}

/* Bits in which the first n bytes differ from our magic. */
static unsigned magic_distance(const uint8_t *in, size_t n)
{
	unsigned bits = 0;

	for (size_t i = 0; i < n && i < 8; i++) {
		uint8_t x = (uint8_t)(in[i] ^ (uint8_t)RVM_WFILE_MAGIC[i]);

		for (; x; x &= (uint8_t)(x - 1))
			bits++;
	}
	return bits;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void header_fields(const uint8_t *in, struct rvm_witness_file_header *h)
{
	h->version = rvm_load_le16(in + 8);
	h->header_size = rvm_load_le16(in + 10);
	h->unit_size = rvm_load_le16(in + 12);
	h->chain = in[14];
	h->sig = in[15];
	h->checkpoint_every = rvm_load_le32(in + 16);
	h->boot_clock_ns = rvm_load_le64(in + 24);
	rvm_memcpy(h->nonce, in + 32, 16);
	rvm_memcpy(h->genesis, in + 48, 32);
	rvm_memcpy(h->key, in + 80, 32);
}

/* Semantic checks once the checksum holds: only what version 1 defines. */
static enum rvm_err header_check(const uint8_t *in, const struct rvm_witness_file_header *h)
{
	uint8_t d0[RVM_SHA256_DIGEST];

	if (h->version > RVM_WFILE_VERSION)
		return RVM_E_VERSION;
	if (h->version != RVM_WFILE_VERSION || h->header_size != RVM_WFILE_HEADER_SIZE ||
	    h->unit_size != RVM_WFILE_UNIT)
		return RVM_E_FORMAT;
	if (h->chain != RVM_CHAIN_SHA256 && h->chain != RVM_CHAIN_FNV1A)
		return RVM_E_FORMAT;
	if (h->sig != RVM_SIG_NONE && h->sig != RVM_SIG_HMAC_SHA256 && h->sig != RVM_SIG_ED25519)
		return RVM_E_FORMAT;
	if (!all_zero(in + 20, 4) || !all_zero(in + 112, 8))
		return RVM_E_FORMAT;
	rvm_witness_genesis((enum rvm_witness_chain)h->chain, NULL, h->nonce, d0);
	if (!rvm_ct_equal(d0, h->genesis, sizeof(d0)))
		return RVM_E_FORMAT;
	return RVM_OK;
}

enum rvm_err rvm_witness_header_decode(const uint8_t *in, size_t n,
				       struct rvm_witness_file_header *h)
{
	uint8_t sum[8];

	rvm_memset(h, 0, sizeof(*h));
	if (n == 0)
		return RVM_E_TRUNCATED;
	/* Up to 4 flipped bits is our header damaged; more is another kind of file. */
	if (magic_distance(in, n) > 4)
		return RVM_E_FORMAT;
	if (n < RVM_WFILE_HEADER_SIZE)
		return RVM_E_TRUNCATED;
	header_sum(in, sum);
	if (!rvm_ct_equal(sum, in + HDR_SUM_OFF, 8))
		return RVM_E_CORRUPT;
	header_fields(in, h);
	return header_check(in, h);
}

void rvm_witness_hmac_key_id(const uint8_t key[32], uint8_t id[32])
{
	static const char dom[] = "RVM-WITNESS-HMAC-KEY-ID";
	struct rvm_sha256 ctx;

	rvm_sha256_init(&ctx, NULL);
	rvm_sha256_update(&ctx, dom, sizeof(dom) - 1);
	rvm_sha256_update(&ctx, key, 32);
	rvm_sha256_final(&ctx, id);
}
