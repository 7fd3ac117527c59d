/* tests/unit/test_proof_token.c - signed derivation chains verified by "another instance", real keys. */
#include "support.h"

#include <sodium.h>

#include <rvm/bytes.h>
#include <rvm/ed25519.h>

#include "test_cap_fixture.h"

struct keys {
	uint8_t pk[RVM_ED25519_PUBLIC], sk[RVM_ED25519_SECRET];
};

static void keys_from_seed(struct keys *k, uint8_t fill)
{
	uint8_t seed[RVM_ED25519_SEED], spk[32], ssk[64];

	memset(seed, fill, sizeof(seed));
	rvm_ed25519_keypair(k->pk, k->sk, seed);
	/* The same key pair as libsodium derives from the seed. */
	assert_int_equal(crypto_sign_seed_keypair(spk, ssk, seed), 0);
	assert_memory_equal(spk, k->pk, 32);
}

/* A depth-8 chain root (table 1) .. leaf (table 9), rights narrowing on the way. */
static rvm_cap_t make_chain(struct cap_fixture *f)
{
	rvm_cap_t h = cap_fixture_root(f, 1, RVM_OBJ_PARTITION, RVM_RIGHTS_ALL, NULL);

	for (uint32_t d = 1; d <= RVM_CAP_MAX_DEPTH; d++)
		assert_int_equal(rvm_cap_grant(&f->gate, d, h, d + 1,
					       (uint8_t)(RVM_RIGHTS_ALL & ~(d > 4 ? RVM_RIGHT_WRITE : 0)),
					       &h),
				 RVM_OK);
	return h;
}

static void test_export_verify_unsigned(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	struct rvm_cap_token ch[RVM_CAP_MAX_DEPTH + 1], bad[RVM_CAP_MAX_DEPTH + 1];
	rvm_cap_t leaf = make_chain(f);
	uint32_t n = 0;

	(void)state;
	assert_int_equal(rvm_proof_chain_export(&f->caps, 9, leaf, ch, &n), RVM_OK);
	assert_int_equal(n, 9);
	assert_int_equal(ch[0].depth, 0);
	assert_int_equal(ch[8].table, 9);
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, n, NULL), RVM_OK);
	/* Any prefix is a valid chain too; nothing else is. */
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, 4, NULL), RVM_OK);
	assert_int_equal(rvm_proof_chain_verify(NULL, ch + 1, 3, NULL), RVM_E_DEPTH);
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, 0, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, 10, NULL), RVM_E_INVAL);
	memcpy(bad, ch, sizeof(ch));
	bad[6].gen ^= 1; /* a sealed field changed: the seal no longer matches */
	assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, NULL), RVM_E_CORRUPT);
	bad[6].gen ^= 1;
	bad[6].rights |= RVM_RIGHT_WRITE; /* widened past its parent */
	assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, NULL), RVM_E_PERM);
	/* Widened and resealed by whoever can compute SHA-256: caught by rights inclusion. */
	rvm_cap_seal_fields(NULL, bad[6].table, bad[6].slot, bad[6].gen, bad[6].type,
			    bad[6].rights, bad[6].depth, bad[6].object, bad[6].epoch,
			    bad[6].parent_digest, bad[6].digest);
	for (uint32_t i = 7; i < n; i++) {
		memcpy(bad[i].parent_digest, bad[i - 1].digest, RVM_CAP_DIGEST);
		rvm_cap_seal_fields(NULL, bad[i].table, bad[i].slot, bad[i].gen, bad[i].type,
				    bad[i].rights, bad[i].depth, bad[i].object, bad[i].epoch,
				    bad[i].parent_digest, bad[i].digest);
	}
	assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, NULL), RVM_E_PERM);
	/* The export of a revoked cap is refused. */
	assert_int_equal(rvm_cap_revoke(&f->gate, 5, rvm_cap_handle_of(&f->caps,
			 rvm_cap_ref(ch[4].table, ch[4].slot))), RVM_OK);
	assert_int_equal(rvm_proof_chain_export(&f->caps, 9, leaf, ch, &n), RVM_E_REVOKED);
	cap_fixture_free(f);
}

/* Regression: a signer that accepts everything. Only the right key over the right bytes passes. */
static void test_regression_signed_chain(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	struct rvm_cap_token ch[RVM_CAP_MAX_DEPTH + 1], bad[RVM_CAP_MAX_DEPTH + 1];
	struct keys a, b;
	rvm_cap_t leaf = make_chain(f);
	uint32_t n = 0;

	(void)state;
	keys_from_seed(&a, 0x11);
	keys_from_seed(&b, 0x22);
	assert_int_equal(rvm_proof_chain_export(&f->caps, 9, leaf, ch, &n), RVM_OK);
	/* Unsigned links do not pass a signature check. */
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, n, a.pk), RVM_E_BADSIG);
	for (uint32_t i = 0; i < n; i++)
		rvm_proof_token_sign(&ch[i], a.sk);
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, n, a.pk), RVM_OK);
	assert_int_equal(rvm_proof_chain_verify(NULL, ch, n, b.pk), RVM_E_BADSIG);
	/* The other instance: libsodium verifies every link on its own. */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t body[RVM_CAP_TOKEN_BODY];

		rvm_cap_token_encode(&ch[i], body);
		assert_int_equal(crypto_sign_verify_detached(ch[i].sig, body, sizeof(body), a.pk), 0);
	}
	/* One flipped bit anywhere in any link's body or signature. */
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t bit = 0; bit < 8 * (RVM_CAP_TOKEN_BODY - 4) + 8 * RVM_ED25519_SIG;
		     bit += 37) {
			uint8_t body[RVM_CAP_TOKEN_BODY];

			memcpy(bad, ch, sizeof(ch));
			if (bit < 8 * (RVM_CAP_TOKEN_BODY - 4)) {
				/* Flip in the decoded fields via the encoded layout. */
				uint32_t byte = 4 + bit / 8;

				rvm_cap_token_encode(&bad[i], body);
				body[byte] ^= (uint8_t)(1u << (bit % 8));
				bad[i].table = rvm_load_le32(body + 4);
				bad[i].slot = rvm_load_le32(body + 8);
				bad[i].gen = rvm_load_le32(body + 12);
				bad[i].type = body[16];
				bad[i].rights = body[17];
				bad[i].depth = body[18];
				if (byte == 19)
					continue; /* the pad byte is not decoded */
				bad[i].object = rvm_load_le64(body + 20);
				bad[i].epoch = rvm_load_le64(body + 28);
				memcpy(bad[i].parent_digest, body + 36, 16);
				memcpy(bad[i].digest, body + 52, 16);
			} else {
				uint32_t sbit = bit - 8 * (RVM_CAP_TOKEN_BODY - 4);

				bad[i].sig[sbit / 8] ^= (uint8_t)(1u << (sbit % 8));
			}
			assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, a.pk), RVM_E_BADSIG);
		}
	}
	/* Two validly signed links in the wrong order, or a link from another chain. */
	memcpy(bad, ch, sizeof(ch));
	bad[3] = ch[4];
	bad[4] = ch[3];
	assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, a.pk), RVM_E_DEPTH);
	/* A forger re-signing a widened link with their own key is refused under our key. */
	memcpy(bad, ch, sizeof(ch));
	bad[6].rights |= RVM_RIGHT_WRITE;
	rvm_proof_token_sign(&bad[6], b.sk);
	assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, a.pk), RVM_E_BADSIG);
	/* A signature made by libsodium with our key is accepted: the format is plain Ed25519. */
	memcpy(bad, ch, sizeof(ch));
	{
		uint8_t body[RVM_CAP_TOKEN_BODY], ssk[64], spk[32], seed[32];

		memset(seed, 0x11, sizeof(seed));
		crypto_sign_seed_keypair(spk, ssk, seed);
		rvm_cap_token_encode(&bad[2], body);
		crypto_sign_detached(bad[2].sig, NULL, body, sizeof(body), ssk);
	}
	assert_int_equal(rvm_proof_chain_verify(NULL, bad, n, a.pk), RVM_OK);
	cap_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_verify_unsigned),
		cmocka_unit_test(test_regression_signed_chain),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
