# tests/e2e/witness_lib.bash - shell helpers for the witness e2e tests (sourced, not a test itself).
set -euo pipefail
: "${RVM_BIN:?RVM_BIN must name the rvm binary}"
WORK=$(mktemp -d /tmp/rvm-e2e-witness.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# byte FILE OFFSET -> decimal value of that byte
byte() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }

# u16 FILE OFFSET -> little-endian 16-bit value
u16() { echo $(( $(byte "$1" "$2") | $(byte "$1" $(($2 + 1))) << 8 )); }

# put_byte FILE OFFSET VALUE
put_byte() {
  printf "\\$(printf %03o "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# flip_bit FILE OFFSET BIT
flip_bit() { put_byte "$1" "$2" $(( $(byte "$1" "$2") ^ (1 << $3) )); }

# expect_rc WANT CMD... : runs CMD, keeps its stdout+stderr in $OUT, checks the exit status.
expect_rc() {
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$want" ] || { echo "$OUT" >&2; fail "'$*' exited $rc, expected $want"; }
}

# unit_map LOG: fills UNIT_SEQ[u] and UNIT_SIG[u] (1 = signature block) for every 64-byte unit.
unit_map() {
  local log=$1 size units seq=0 u=0 flags
  size=$(stat -c %s "$log")
  units=$(( (size - 128) / 64 ))
  UNIT_SEQ=() UNIT_SIG=()
  while [ $u -lt $units ]; do
    flags=$(u16 "$log" $((128 + u * 64 + 18)))
    UNIT_SEQ[$u]=$seq UNIT_SIG[$u]=0
    if (( flags & 2 )); then
      u=$((u + 1)); UNIT_SEQ[$u]=$seq UNIT_SIG[$u]=1
    fi
    u=$((u + 1)); seq=$((seq + 1))
  done
  NUNITS=$units
}

# hmac_key FILE: a fresh HMAC key file.
hmac_key() {
  printf 'RVM-HMAC-SHA256-KEY\n%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$1"
  chmod 600 "$1"
}
