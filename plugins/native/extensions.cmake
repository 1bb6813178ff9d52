# extensions.cmake — the six standard extension plugins, one shared object each
# (included by plugins/native/CMakeLists.txt). sdk headers only.
foreach(ext actions state kv convergence scheduling diagnostics)
  vigy_add_plugin(vigy_ext_${ext} "${CMAKE_CURRENT_LIST_DIR}/ext_${ext}.cpp")
  target_link_libraries(vigy_ext_${ext} PRIVATE vigy_options)
endforeach()
