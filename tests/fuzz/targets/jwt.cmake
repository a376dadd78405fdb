# SPDX-License-Identifier: Apache-2.0
# Access tokens and key sets (src/auth), compiled again with coverage like the parsers. The
# remoting receiver is left out: it only calls rr_jwt_verify, which is fuzzed directly.
if(TARGET openrr_auth)
  get_target_property(_auth_src openrr_auth SOURCES)
  get_target_property(_auth_dir openrr_auth SOURCE_DIR)
  list(FILTER _auth_src EXCLUDE REGEX "receiver")
  list(TRANSFORM _auth_src PREPEND "${_auth_dir}/")
  add_library(rr_fuzz_auth STATIC ${_auth_src})
  target_include_directories(rr_fuzz_auth PUBLIC ${_auth_dir})
  target_compile_options(rr_fuzz_auth PRIVATE -fsanitize=fuzzer-no-link ${RR_FUZZ_SAN})
  target_link_libraries(rr_fuzz_auth PUBLIC openrr_util OpenSSL::Crypto PkgConfig::JANSSON m)
  # A token is at most 8192 bytes; the room above lets JWK Sets of a few dozen keys through.
  rr_add_fuzzer(fuzz_jwt 16384 LIBS rr_fuzz_auth)
  # The committed seeds must be what jwt-seeds.py writes.
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_test(NAME fuzz_jwt_corpus_current
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/jwt-seeds.py --check)
    set_tests_properties(fuzz_jwt_corpus_current PROPERTIES LABELS fuzz)
  endif()
endif()
