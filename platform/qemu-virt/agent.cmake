# platform/qemu-virt/agent.cmake - rvm_embed_agent(OUTVAR): builds agent.wat with wat2wasm and
# embeds the module as rvm_agent_wasm[] in a generated C file, whose path goes to OUTVAR.
find_program(RVM_WAT2WASM wat2wasm REQUIRED)
function(rvm_embed_agent outvar)
  set(_dir ${CMAKE_SOURCE_DIR}/platform/qemu-virt)
  set(_wasm ${CMAKE_CURRENT_BINARY_DIR}/agent.wasm)
  set(_c ${CMAKE_CURRENT_BINARY_DIR}/agent_wasm.c)
  add_custom_command(OUTPUT ${_wasm}
    COMMAND ${RVM_WAT2WASM} ${_dir}/agent.wat -o ${_wasm}
    DEPENDS ${_dir}/agent.wat VERBATIM)
  add_custom_command(OUTPUT ${_c}
    COMMAND ${CMAKE_COMMAND} -DIN=${_wasm} -DOUT=${_c} -DNAME=rvm_agent_wasm
            -P ${_dir}/embed.cmake
    DEPENDS ${_wasm} ${_dir}/embed.cmake VERBATIM)
  set(${outvar} ${_c} PARENT_SCOPE)
endfunction()
