# platform/common/wat.cmake - rvm_embed_wat(WAT NAME OUTVAR): builds WAT with wat2wasm and embeds
# the module as `const unsigned char NAME[]` (and NAME_len) in a generated C file, whose path
# goes to OUTVAR. Used by the bare-metal boards, which have no file system to load agents from.
find_program(RVM_WAT2WASM wat2wasm REQUIRED)
function(rvm_embed_wat wat name outvar)
  set(_wasm ${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm)
  set(_c ${CMAKE_CURRENT_BINARY_DIR}/${name}.c)
  add_custom_command(OUTPUT ${_wasm}
    COMMAND ${RVM_WAT2WASM} ${wat} -o ${_wasm}
    DEPENDS ${wat} VERBATIM)
  add_custom_command(OUTPUT ${_c}
    COMMAND ${CMAKE_COMMAND} -DIN=${_wasm} -DOUT=${_c} -DNAME=${name}
            -P ${CMAKE_SOURCE_DIR}/platform/common/embed.cmake
    DEPENDS ${_wasm} ${CMAKE_SOURCE_DIR}/platform/common/embed.cmake VERBATIM)
  set(${outvar} ${_c} PARENT_SCOPE)
endfunction()
