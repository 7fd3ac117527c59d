#!/bin/sh
# platform/seed/memreport.sh ELF - the seed image's memory report from its linker symbols;
# exits 1 when RAM use passes 64 KB or flash use passes 256 KB.
set -eu
elf=${1:?usage: memreport.sh ELF}
NM=${NM:-arm-none-eabi-nm}
sym() {
  v=$($NM "$elf" | awk -v s="$1" '$3 == s { print $1 }')
  [ -n "$v" ] || { echo "memreport: symbol $1 missing from $elf" >&2; exit 2; }
  printf '%d' "0x$v"
}
ram0=$((0x20000000))
data=$(($(sym __data_end) - $(sym __data_start)))
bss=$(($(sym __bss_end) - $(sym __bss_start)))
parts=$(($(sym __partitions_end) - $(sym __partitions_start)))
stack=$(($(sym __main_stack_top) - $(sym __main_stack_bottom)))
ram=$(($(sym __ram_end) - ram0))
pad=$((ram - data - bss - parts - stack))
flash=$(($(sym __data_load) + data))
ttext=$(($(sym __task_text_end) - $(sym __task_text_start)))
echo "seed memory report ($(basename "$elf")):"
echo "  RAM   $ram of 65536 bytes: data $data + bss $bss + partitions $parts + kernel stack $stack + alignment $pad"
echo "  flash $flash of 262144 bytes (task code region $ttext, data image $data)"
echo "  largest RAM objects:"
$NM --size-sort -S "$elf" | awk '$3 ~ /^[bBdD]$/ { print }' | tail -n 5 |
  while read -r addr size type name; do printf '    %-28s %6d bytes\n' "$name" "$((0x$size))"; done
status=0
[ "$ram" -le 65536 ] || { echo "FAIL: RAM $ram > 65536" >&2; status=1; }
[ "$flash" -le 262144 ] || { echo "FAIL: flash $flash > 262144" >&2; status=1; }
exit $status
