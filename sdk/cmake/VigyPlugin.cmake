# vigy_add_plugin(<target> <sources>...)
#
# Builds a vigy plugin: a MODULE library named <target>.so (no "lib" prefix)
# that exports only `vigy_plugin_entry` (hidden visibility + version script),
# with unresolved symbols failing at link time (-Wl,--no-undefined). Links the
# sdk headers (target vigy::sdk). Used in-tree and, through find_package(vigy),
# by applications building their own plugins out of tree.
include_guard(GLOBAL)
set(VIGY_PLUGIN_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/vigy_plugin.map" CACHE INTERNAL "")

function(vigy_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE vigy::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${VIGY_PLUGIN_VERSION_SCRIPT}")
  target_link_options(${target} PRIVATE
    "-Wl,--version-script=${VIGY_PLUGIN_VERSION_SCRIPT}" "-Wl,--no-undefined")
  if(DEFINED VIGY_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${VIGY_PLUGIN_OUTPUT_DIR}")
  endif()
endfunction()
