/* tools/rvm/logfile.h - helpers the witness commands share: key files, reading and verifying a log. */
#ifndef RVM_TOOL_LOGFILE_H
#define RVM_TOOL_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/witness_file.h>

/*
 * Key files are two lines of text: a kind line, then the key in hex.
 *   RVM-ED25519-SECRET-KEY  64 bytes (seed || public key), mode 0600
 *   RVM-ED25519-PUBLIC-KEY  32 bytes
 *   RVM-HMAC-SHA256-KEY     32 bytes, mode 0600
 */
#define RVM_KEY_ED25519_SECRET "RVM-ED25519-SECRET-KEY"
#define RVM_KEY_ED25519_PUBLIC "RVM-ED25519-PUBLIC-KEY"
#define RVM_KEY_HMAC "RVM-HMAC-SHA256-KEY"

/* Writes a key file (mode 0600 when secret); RVM_E_IO on failure. */
enum rvm_err rvm_tool_key_write(const char *path, const char *kind, const uint8_t *key, size_t n,
				bool secret);
/* Reads a key file of the given kind and exact size; prints why on failure. */
enum rvm_err rvm_tool_key_read(const char *path, const char *kind, uint8_t *key, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void rvm_tool_hex(const uint8_t *p, size_t n, char *out);

/* Reads path through a verifier; on a read error prints it and returns RVM_E_IO. */
enum rvm_err rvm_tool_verify_file(const char *path, struct rvm_witness_reader *rd);
/* Exit status for a verdict error: 0 none, 1 a finding, 2 bad input. */
int rvm_tool_exit_for(enum rvm_err err);
/* "sha256", "fnv1a64"; "none", "hmac-sha256", "ed25519". */
const char *rvm_tool_chain_name(unsigned chain);
const char *rvm_tool_sig_name(unsigned sig);
/* Parses a decimal or 0x-hex u64, optionally with a time suffix (ns, us, ms, s) when
 * allow_units; false on anything else. */
bool rvm_tool_parse_u64(const char *s, bool allow_units, uint64_t *out);

#endif
