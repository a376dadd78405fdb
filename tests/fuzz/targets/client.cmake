# SPDX-License-Identifier: Apache-2.0
# The SDK's readers of openrrd's answers (src/client), compiled again with coverage like the
# parsers in ../CMakeLists.txt: a malicious or broken server must not crash the client.
if(TARGET openrr_client)
  get_target_property(_cl_src openrr_client SOURCES)
  get_target_property(_cl_dir openrr_client SOURCE_DIR)
  set(_cl_abs)
  foreach(f ${_cl_src})
    if(IS_ABSOLUTE ${f})
      list(APPEND _cl_abs ${f})
    else()
      list(APPEND _cl_abs ${_cl_dir}/${f})
    endif()
  endforeach()
  find_package(CURL REQUIRED)
  add_library(rr_fuzz_client STATIC ${_cl_abs})
  target_include_directories(rr_fuzz_client PUBLIC ${_cl_dir})
  target_compile_options(rr_fuzz_client PRIVATE -fsanitize=fuzzer-no-link ${RR_FUZZ_SAN})
  target_link_libraries(rr_fuzz_client PUBLIC openrr_remoting openrr_auth openrr_util
                        CURL::libcurl PkgConfig::JANSSON OpenSSL::SSL OpenSSL::Crypto
                        Threads::Threads)
  # Answers of a few KiB: a session list page of a dozen sessions, tokens of 8 KiB.
  rr_add_fuzzer(fuzz_cl_json 16384 LIBS rr_fuzz_client
                -dict=${CMAKE_CURRENT_SOURCE_DIR}/cl_json.dict)
endif()
