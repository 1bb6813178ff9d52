# out_of_tree.cmake — proves plugins/ext-mado builds the way an application
# outside this repository builds its plugin: install the sdk alone into a
# prefix, then configure plugins/ext-mado standalone with find_package(vigy).
# Usage: cmake -DREPO=<repo root> -DWORK=<scratch dir> -P out_of_tree.cmake
file(REMOVE_RECURSE "${WORK}")
file(WRITE "${WORK}/sdk-wrapper/CMakeLists.txt"
  "cmake_minimum_required(VERSION 3.25)\nproject(vigy VERSION 0.1.0 LANGUAGES C CXX)\nadd_subdirectory(\"${REPO}/sdk\" sdk)\n")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

step(${CMAKE_COMMAND} -S "${WORK}/sdk-wrapper" -B "${WORK}/sdk-build" "-DCMAKE_INSTALL_PREFIX=${WORK}/prefix")
step(${CMAKE_COMMAND} --install "${WORK}/sdk-build")
step(${CMAKE_COMMAND} -S "${REPO}/plugins/ext-mado" -B "${WORK}/mado" "-DCMAKE_PREFIX_PATH=${WORK}/prefix")
step(${CMAKE_COMMAND} --build "${WORK}/mado")
if(NOT EXISTS "${WORK}/mado/lib/vigy/app-plugins/mado_tear.so")
  message(FATAL_ERROR "mado_tear.so was not built into lib/vigy/app-plugins")
endif()
message(STATUS "ext-mado built out of tree against ${WORK}/prefix")
