/* lib/lz4_decompress.c - LZ4 block decoder that bounds-checks every read and write. */
#include <rvm/bytes.h>
#include <rvm/lz4.h>

#include "lz4_internal.h"

/* Margins that let a sequence skip its end-of-buffer checks (see the fast path below). */
#define LZ4_FAST_IN 32u
#define LZ4_FAST_OUT 64u

/*
 * Copies a match of ml bytes from op - off to op (off >= 1, may overlap).
 * `room` (>= ml + 5) is how many bytes the output has from op on. 16-byte
 * moves may write up to 15 bytes past the match while they stay inside room:
 * those bytes are overwritten by what follows.
 */
static inline void lz4_copy_match(uint8_t *op, size_t off, size_t ml, size_t room)
{
	uint8_t *const end = op + ml;
	/* Word moves start before wend; bytes finish the rest. */
	uint8_t *const wend = room >= ml + 16u ? end : op + room - 15u;
	const uint8_t *mp = op - off;

	if (off < 16u) {
		/*
		 * The output repeats with period off. Build 16 bytes of the pattern
		 * from the off bytes before op, then store it every `step` bytes,
		 * step being a multiple of off: stores only, no read of fresh output.
		 */
		/* The largest multiple of off that is at most 16, by off. */
		static const uint8_t steps[16] = { 0, 16, 16, 15, 16, 15, 12, 14,
						   16, 9,  10, 11, 12, 13, 14, 15 };
		uint8_t pat[16];
		size_t step = steps[off];

		for (size_t i = 0, j = 0; i < 16u; i++) {
			pat[i] = mp[j];
			if (++j == off)
				j = 0;
		}
		while (op < wend) {
			__builtin_memcpy(op, pat, 16);
			op += step;
		}
		for (; op < end; op++)
			*op = op[-(ptrdiff_t)off];
		return;
	}
	while (op < wend) {
		__builtin_memcpy(op, mp, 16);
		op += 16;
		mp += 16;
	}
	while (op < end)
		*op++ = *mp++;
}

enum rvm_err rvm_lz4_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
				size_t *out_len)
{
	const uint8_t *ip = src, *iend;
	uint8_t *op = dst, *oend;

	if (!src || !dst || !out_len)
		return RVM_E_INVAL;
	*out_len = 0;
	if (n == 0)
		return RVM_E_CORRUPT;
	iend = src + n;
	oend = dst + cap;
	/* Invariant at the top of the loop: ip < iend (a token is there). */
	for (;;) {
		unsigned token = *ip++;
		size_t lit = token >> 4, ml, off, in_left = (size_t)(iend - ip),
		       out_left = (size_t)(oend - op);

		if (lit < LZ4_RUN_MASK && in_left >= LZ4_FAST_IN && out_left >= LZ4_FAST_OUT) {
			/*
			 * Fast path: a short run far from both ends cannot be the last
			 * sequence (lit + 12 <= out_left, lit + 8 <= in_left), and 16
			 * bytes fit in both buffers.
			 */
			__builtin_memcpy(op, ip, 16);
			op += lit;
			ip += lit;
		} else {
			if (lit == LZ4_RUN_MASK) {
				unsigned s;

				/* A long run needs a length byte and 15+ literals after it. */
				if (in_left <= LZ4_RUN_MASK)
					return RVM_E_CORRUPT;
				do {
					s = *ip++;
					lit += s;
					/* The run must fit the rest of the input; this also stops overflow. */
					if (ip >= iend || lit > (size_t)(iend - ip))
						return RVM_E_CORRUPT;
				} while (s == 255u);
				in_left = (size_t)(iend - ip);
			}
			/*
			 * Literals ending within 12 bytes of the output's end, or within
			 * 8 bytes of the input's end (no room for offset, token and 5 last
			 * literals), must be the block's last sequence: the rest of the input.
			 */
			if (lit + LZ4_MFLIMIT > out_left || lit + 2u + 1u + LZ4_LASTLITERALS > in_left) {
				if (lit + 2u + 1u + LZ4_LASTLITERALS <= in_left)
					return RVM_E_RANGE; /* the block goes on past the output's end */
				if (lit != in_left)
					return RVM_E_CORRUPT;
				if (lit > out_left)
					return RVM_E_RANGE;
				/* liblz4 takes only the one-byte block 0x00 into no room. */
				if (cap == 0 && (n != 1 || token != 0))
					return RVM_E_CORRUPT;
				lz4_copy_exact(op, ip, lit);
				op += lit;
				*out_len = (size_t)(op - dst);
				return RVM_OK;
			}
			lz4_copy_exact(op, ip, lit);
			op += lit;
			ip += lit;
		}
		off = rvm_load_le16(ip);
		ip += 2;
		if (off == 0 || off > (size_t)(op - dst))
			return RVM_E_CORRUPT;
		ml = token & LZ4_RUN_MASK;
		out_left = (size_t)(oend - op);
		if (ml < LZ4_RUN_MASK && off >= 8u && out_left >= LZ4_FAST_OUT - LZ4_RUN_MASK) {
			/*
			 * Fast path: at most 18 bytes from 8+ bytes back, with 49+ bytes of
			 * room: three 8-byte moves, each reading bytes already written.
			 */
			const uint8_t *mp = op - off;

			lz4_copy8(op, mp);
			lz4_copy8(op + 8, mp + 8);
			lz4_copy8(op + 16, mp + 16);
			op += ml + LZ4_MINMATCH;
			continue;
		}
		if (ml == LZ4_RUN_MASK) {
			unsigned s;

			do {
				s = *ip++;
				ml += s;
				/* 5 input bytes (token, last literals) must remain. */
				if ((size_t)(iend - ip) <= LZ4_LASTLITERALS - 1u)
					return RVM_E_CORRUPT;
				if (ml > cap)
					return RVM_E_RANGE;
			} while (s == 255u);
		}
		ml += LZ4_MINMATCH;
		/* The last 5 output bytes are always literals. */
		if (ml + LZ4_LASTLITERALS > out_left)
			return RVM_E_RANGE;
		lz4_copy_match(op, off, ml, out_left);
		op += ml;
	}
}
