# Toolchain: bare-metal AArch64 (QEMU virt, EL2) with Debian's aarch64-linux-gnu-gcc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE _cc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
# Only the compiler's own headers (stdint.h, stddef.h, ...): no libc can leak in.
# RVM_CAP_TABLES: the board's partitions (EL1 guests, agents' partitions and those splits make)
# come from the kernel's pool, each with its own cap table of 1024 slots (64 KiB); 32 tables (the
# kernel's and 31 partitions') keep the cap space at 2 MiB of the machine's 128 MiB instead of
# the appliance default's 64 MiB.
set(RVM_CORE_FLAGS -ffreestanding -nostdlib -nostdinc -isystem ${_cc_include}
    -fno-pie -mstrict-align -mno-outline-atomics -fno-stack-protector -DRVM_CAP_TABLES=32u)
# kernel/ and lib/ never touch the FP/SIMD registers at EL2.
set(RVM_CORE_NOFP_FLAGS -mgeneral-regs-only)
