# cmake -P script run by the build (packaging/CMakeLists.txt, target vigy_docs):
# the man pages and shell completions from `vigy __generate`, the same command tree
# that prints --help. Stale pages of removed commands are deleted first.
# Inputs: VIGY SOURCE MAN_DIR MAN_GZ_DIR BASH ZSH STAMP
foreach(var VIGY SOURCE MAN_DIR MAN_GZ_DIR BASH ZSH STAMP)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "gen_docs.cmake: ${var} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${MAN_DIR}" "${MAN_GZ_DIR}")
file(MAKE_DIRECTORY "${MAN_GZ_DIR}")
run("${VIGY}" __generate man "${MAN_DIR}" --source "${SOURCE}")
file(GLOB pages "${MAN_DIR}/*.1")
foreach(page IN LISTS pages)
  get_filename_component(name "${page}" NAME)
  # -n: no name or time stamp in the .gz, so the output is reproducible
  run(gzip -9nc "${page}" OUTPUT_FILE "${MAN_GZ_DIR}/${name}.gz")
endforeach()

foreach(shell bash zsh)
  string(TOUPPER ${shell} var)
  run("${VIGY}" __generate ${shell})
  get_filename_component(dir "${${var}}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(WRITE "${${var}}" "${run_output}")
endforeach()
file(TOUCH "${STAMP}")
