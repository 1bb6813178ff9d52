# embed_dashboard.cmake — turns the built dashboard (dist/) into one C++ source: each
# file's bytes, its path, Content-Type and a strong ETag (the first 128 bits of its
# SHA-256, quoted), in the table vigy::api::dashboard_assets() returns.
#   cmake -DDIST=<dir> -DFILES="a;b;..." -DOUTPUT=<file.cpp> -P embed_dashboard.cmake
# Every listed file must exist (a missing one fails the build).
set(body "")
set(table "")
set(index 0)
foreach(name IN LISTS FILES)
  set(path "${DIST}/${name}")
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "dashboard asset ${path} is missing: run scripts/build-dashboard.sh")
  endif()
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  file(SHA256 "${path}" sha)
  string(SUBSTRING "${sha}" 0 32 etag)
  get_filename_component(ext "${name}" LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".svg")
    set(type "image/svg+xml")
  elseif(ext STREQUAL ".txt")
    set(type "text/plain; charset=utf-8")
  else()
    message(FATAL_ERROR "dashboard asset ${name}: no Content-Type for '${ext}' files")
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(REGEX REPLACE "(('[^']*',){16})" "\\1\n    " bytes "${bytes}")
  string(APPEND body "// ${name}: ${size} bytes\nconstexpr char file_${index}[] = {\n    ${bytes}'\\0'};\n\n")
  string(APPEND table "    {\"/${name}\", \"${type}\", \"\\\"${etag}\\\"\", std::string_view(file_${index}, ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from the dashboard's dist/ by api/dashboard/cmake/embed_dashboard.cmake; do not edit.\n"
"#include \"vigy/api/dashboard.hpp\"\n\n"
"namespace vigy::api::detail {\n"
"namespace {\n\n"
"${body}"
"}  // namespace\n\n"
"extern const dashboard_file dashboard_files[];\n"
"extern const std::size_t dashboard_file_count;\n"
"const dashboard_file dashboard_files[] = {\n${table}};\n"
"const std::size_t dashboard_file_count = ${index};\n"
"}  // namespace vigy::api::detail\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
