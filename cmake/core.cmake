# The freestanding core: lib/ and kernel/ (no floating point) and wasm/ (FP allowed).
# On cross targets the toolchain file adds -ffreestanding -nostdinc, so any
# libc header or symbol in the core is a build error there.

file(GLOB RVM_LIB_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/*.c)
# lib/sha256_armv8.c needs the SIMD registers: it alone goes into rvm_lib_simd, built without
# RVM_CORE_NOFP_FLAGS, so the rest of lib/ keeps -mgeneral-regs-only.
set(RVM_LIB_SIMD_SOURCES ${CMAKE_SOURCE_DIR}/lib/sha256_armv8.c)
list(REMOVE_ITEM RVM_LIB_SOURCES ${RVM_LIB_SIMD_SOURCES})
file(GLOB RVM_KERNEL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/kernel/*.c)
if(NOT RVM_GPU)
  list(FILTER RVM_KERNEL_SOURCES EXCLUDE REGEX "/kernel/gpu[^/]*\\.c$")
endif()
file(GLOB RVM_WASM_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/wasm/*.c)

function(rvm_core_target name)
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(${name} PUBLIC ${RVM_PROFILE_DEFINE})
  target_compile_options(${name} PRIVATE ${RVM_WARNINGS} ${RVM_CORE_FLAGS})
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    # Stop GCC turning our own copy loops into calls to memcpy.
    target_compile_options(${name} PRIVATE -fno-tree-loop-distribute-patterns)
  endif()
endfunction()

add_library(rvm_lib STATIC ${RVM_LIB_SOURCES})
rvm_core_target(rvm_lib)
target_compile_options(rvm_lib PRIVATE ${RVM_CORE_NOFP_FLAGS})

# Empty except on AArch64. Hosted AArch64 builds let rvm_sha256_detect() pick it (Linux saves
# SIMD state); bare-metal platforms opt in with rvm_sha256_armv8() (include/rvm/sha256.h).
add_library(rvm_lib_simd STATIC ${RVM_LIB_SIMD_SOURCES})
rvm_core_target(rvm_lib_simd)
target_link_libraries(rvm_lib_simd PUBLIC rvm_lib)
if(RVM_PLATFORM STREQUAL "hosted" AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  target_compile_definitions(rvm_lib PRIVATE RVM_SHA256_ARMV8_DETECT)
  target_link_libraries(rvm_lib PUBLIC rvm_lib_simd)
endif()

add_library(rvm_kernel STATIC ${RVM_KERNEL_SOURCES})
rvm_core_target(rvm_kernel)
target_compile_options(rvm_kernel PRIVATE ${RVM_CORE_NOFP_FLAGS})
target_link_libraries(rvm_kernel PUBLIC rvm_lib)
if(RVM_GPU)
  target_compile_definitions(rvm_kernel PUBLIC RVM_HAS_GPU=1)
endif()

if(RVM_WASM_SOURCES)
  add_library(rvm_wasm STATIC ${RVM_WASM_SOURCES})
  rvm_core_target(rvm_wasm)
  target_link_libraries(rvm_wasm PUBLIC rvm_lib)
  # Bit-exact floats: sqrt stays one instruction (no errno path into libm), no FMA fusion.
  target_compile_options(rvm_wasm PRIVATE -fno-math-errno -ffp-contract=off)
endif()
