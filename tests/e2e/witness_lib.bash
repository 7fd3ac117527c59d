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

# blocks FILE FIRST [COUNT]: 64-byte blocks FIRST.. of FILE (the header is blocks 0-1,
# unit u is block u+2); all of the rest without COUNT. dd, not head|tail: no SIGPIPE races.
blocks() {
  if [ $# -ge 3 ]; then
    dd if="$1" bs=64 skip="$2" count="$3" status=none
  else
    dd if="$1" bs=64 skip="$2" status=none
  fi
}

# unit_map LOG: fills UNIT_SEQ[u] and UNIT_SIG[u] (1 = signature block) for every 64-byte unit.
# One od call lists each unit's flags (u16 at offset 18, the 10th u16; x86 and Arm are little-endian).
unit_map() {
  local seq=0 u=0 sig_next=0 flags
  UNIT_SEQ=() UNIT_SIG=()
  while read -r flags; do
    if [ $sig_next = 1 ]; then
      UNIT_SEQ[$u]=$((seq - 1)) UNIT_SIG[$u]=1 sig_next=0
    else
      UNIT_SEQ[$u]=$seq UNIT_SIG[$u]=0
      (( flags & 2 )) && sig_next=1
      seq=$((seq + 1))
    fi
    u=$((u + 1))
  done < <(od -An -v -tu2 -w64 -j128 "$1" | awk 'NF == 32 { print $10 }')
  NUNITS=$u
}

# hmac_key FILE: a fresh HMAC key file.
hmac_key() {
  printf 'RVM-HMAC-SHA256-KEY\n%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$1"
  chmod 600 "$1"
}
