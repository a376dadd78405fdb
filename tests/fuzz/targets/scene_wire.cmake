# SPDX-License-Identifier: Apache-2.0
# The scene RPC wire format (src/scene/scene_wire.c), compiled again with coverage like the
# parsers in ../CMakeLists.txt. Seeds are written at build time by fuzz-scene-wire-seeds.c with
# the real encoders, so they follow the format as it is.
if(TARGET openrr_scene_wire)
  get_target_property(_sw_src openrr_scene_wire SOURCES)
  get_target_property(_sw_dir openrr_scene_wire SOURCE_DIR)
  list(TRANSFORM _sw_src PREPEND "${_sw_dir}/")
  add_library(rr_fuzz_scene_wire STATIC ${_sw_src})
  target_include_directories(rr_fuzz_scene_wire PUBLIC ${_sw_dir})
  target_compile_options(rr_fuzz_scene_wire PRIVATE -fsanitize=fuzzer-no-link ${RR_FUZZ_SAN})

  set(_sw_seeds ${CMAKE_CURRENT_BINARY_DIR}/corpus-scene-wire)
  add_executable(fuzz_scene_wire_seeds fuzz-scene-wire-seeds.c)
  target_link_libraries(fuzz_scene_wire_seeds PRIVATE openrr_scene_wire)
  add_custom_command(OUTPUT ${_sw_seeds}.stamp
                     COMMAND ${CMAKE_COMMAND} -E rm -rf ${_sw_seeds}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${_sw_seeds}
                     COMMAND fuzz_scene_wire_seeds ${_sw_seeds}
                     COMMAND ${CMAKE_COMMAND} -E touch ${_sw_seeds}.stamp
                     DEPENDS fuzz_scene_wire_seeds
                     COMMENT "Writing the fuzz_scene_wire seeds")
  add_custom_target(fuzz_scene_wire_corpus DEPENDS ${_sw_seeds}.stamp)
  # The largest request is 2060 bytes and the largest response 16395.
  rr_add_fuzzer(fuzz_scene_wire 17000 LIBS rr_fuzz_scene_wire SEEDS ${_sw_seeds})
  add_dependencies(fuzz_scene_wire fuzz_scene_wire_corpus)
endif()
