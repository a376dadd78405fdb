# SPDX-License-Identifier: Apache-2.0
# Runs one fuzz target for a bounded time as a ctest test. libFuzzer adds the inputs it finds
# to its corpus directory, so it works on a fresh copy of the seeds in the build tree: the
# source tree stays untouched and every run starts from the same seeds.
#
#   cmake -DFUZZER=path -DSEEDS=dir -DWORK=dir [-DREGRESSIONS=dir] [-DARGS=a|b] -P run-fuzzer.cmake
foreach(v FUZZER SEEDS WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run-fuzzer.cmake: ${v} is not set")
  endif()
endforeach()

string(REPLACE "|" ";" ARGS "${ARGS}")

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB _seeds "${SEEDS}/*")
if(NOT _seeds)
  message(FATAL_ERROR "no seeds in ${SEEDS}")
endif()
file(COPY ${_seeds} DESTINATION "${WORK}/corpus")

# Known crashers are replayed first and on their own, so a regression fails the test every
# time instead of whenever the fuzzer happens to find it again.
if(DEFINED REGRESSIONS AND IS_DIRECTORY "${REGRESSIONS}")
  file(GLOB _repro "${REGRESSIONS}/*")
  list(FILTER _repro EXCLUDE REGEX "\\.md$")
  if(_repro)
    execute_process(COMMAND "${FUZZER}" -runs=1 ${_repro} RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "a saved regression input crashes ${FUZZER} again (exit ${_rc})")
    endif()
  endif()
endif()

execute_process(
  COMMAND "${FUZZER}" ${ARGS} "-artifact_prefix=${WORK}/artifacts/" "${WORK}/corpus"
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  file(GLOB _art "${WORK}/artifacts/*")
  message(FATAL_ERROR "${FUZZER} failed (exit ${_rc}); reproduce with: ${FUZZER} ${_art}")
endif()
