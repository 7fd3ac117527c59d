# Toolchain: the seed profile's Cortex-M3 (QEMU lm3s6965evb) with Debian's arm-none-eabi-gcc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE _cc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
set(RVM_CORE_FLAGS -mcpu=cortex-m3 -mthumb -ffreestanding -nostdlib -nostdinc
    -isystem ${_cc_include} -fno-stack-protector -Os -ffunction-sections -fdata-sections)
# The M3 has no FPU: any float in kernel/ or lib/ would pull in soft-float
# helpers; the purity check (tests/core_purity.sh) rejects those symbols.
set(RVM_CORE_NOFP_FLAGS -mfloat-abi=soft)
