# SPDX-License-Identifier: Apache-2.0
# openrrd's parsers (src/frontend), compiled again with coverage like the parsers in
# ../CMakeLists.txt: REST requests through the API (fuzz_fe_rest), conversion and service
# settings with the path, URL and key helpers (fuzz_fe_settings), and the external files a
# glTF names (fuzz_fe_gltf). The whole library is compiled; each target links what it calls.
if(TARGET openrr_frontend)
  get_target_property(_fe_src openrr_frontend SOURCES)
  get_target_property(_fe_dir openrr_frontend SOURCE_DIR)
  set(_fe_abs)
  foreach(f ${_fe_src})
    if(IS_ABSOLUTE ${f})
      list(APPEND _fe_abs ${f})
    else()
      list(APPEND _fe_abs ${_fe_dir}/${f})
    endif()
  endforeach()
  # The imported targets of src/frontend are visible there only: find them again here.
  pkg_check_modules(RR_FZ_SQLITE REQUIRED IMPORTED_TARGET sqlite3)
  pkg_check_modules(RR_FZ_MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
  pkg_check_modules(RR_FZ_INIH REQUIRED IMPORTED_TARGET inih)
  find_package(CURL REQUIRED)
  add_library(rr_fuzz_frontend STATIC ${_fe_abs})
  target_include_directories(rr_fuzz_frontend PUBLIC ${_fe_dir})
  target_compile_options(rr_fuzz_frontend PRIVATE -fsanitize=fuzzer-no-link ${RR_FUZZ_SAN})
  target_link_libraries(rr_fuzz_frontend PUBLIC openrr_auth openrr_util PkgConfig::RR_FZ_SQLITE
                        PkgConfig::RR_FZ_MHD PkgConfig::RR_FZ_INIH PkgConfig::JANSSON
                        CURL::libcurl OpenSSL::SSL OpenSSL::Crypto Threads::Threads m)

  # Up to eight requests; 16 KiB leaves room for bodies of every size the settings allow.
  rr_add_fuzzer(fuzz_fe_rest 16384 LIBS rr_fuzz_frontend
                -dict=${CMAKE_CURRENT_SOURCE_DIR}/fe_rest.dict)
  # Settings bound URIs at 2048 bytes, paths at 1024 and SAS at 8192: 12 KiB passes them all.
  rr_add_fuzzer(fuzz_fe_settings 12288 LIBS rr_fuzz_frontend
                -dict=${CMAKE_CURRENT_SOURCE_DIR}/fe_settings.dict)
  # A glTF's JSON naming a few dozen files; 256 distinct files need more, seldom reached.
  rr_add_fuzzer(fuzz_fe_gltf 16384 LIBS rr_fuzz_frontend
                -dict=${CMAKE_CURRENT_SOURCE_DIR}/fe_gltf.dict)
endif()
