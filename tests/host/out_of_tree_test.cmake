# ctest driver (cmake -P): install the sdk from the build tree into a fresh
# prefix, build tests/host/out_of_tree against it with find_package(vigy), and
# load the result with the real `vigy` binary.
# Inputs: VIGY_BUILD_DIR SOURCE_DIR WORK_DIR VIGY_EXE CXX
foreach(var VIGY_BUILD_DIR SOURCE_DIR WORK_DIR VIGY_EXE CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "out_of_tree_test.cmake: ${var} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

# 1. install the sdk (headers, vigyConfig.cmake, VigyPlugin.cmake) only
run(${CMAKE_COMMAND} --install "${VIGY_BUILD_DIR}" --prefix "${prefix}" --component sdk)
if(NOT EXISTS "${prefix}/include/vigy/sdk.hpp")
  message(FATAL_ERROR "sdk headers were not installed under ${prefix}/include")
endif()

# 2. configure + build the application's plugin against the prefix
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
set(plugin "${WORK_DIR}/build/plugins/hello_plugin.so")
if(NOT EXISTS "${plugin}")
  message(FATAL_ERROR "the plugin was not built at ${plugin}")
endif()

# 3. only vigy_plugin_entry is exported
run(nm -D --defined-only "${plugin}")
string(REGEX MATCHALL "[^\n]+" symbols "${run_output}")
list(LENGTH symbols nsym)
if(NOT nsym EQUAL 1 OR NOT run_output MATCHES " T vigy_plugin_entry")
  message(FATAL_ERROR "expected only vigy_plugin_entry to be exported, got:\n${run_output}")
endif()

# 4. the host loads it
run(${CMAKE_COMMAND} -E env --unset=VIGY_PLUGIN_PATH NO_COLOR=1
    "${VIGY_EXE}" plugins inspect com.example.hello --plugin-dir "${WORK_DIR}/build/plugins")
foreach(expected "com.example.hello 1.0.0 (abi 1.1)" "hello" "hello-greet" "(hello-greet name) -> string")
  string(FIND "${run_output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "`vigy plugins inspect` output lacks \"${expected}\":\n${run_output}")
  endif()
endforeach()
message(STATUS "out-of-tree plugin built against ${prefix} and loaded:\n${run_output}")
