# embed.cmake — turns a file into a C++ source defining a byte array.
#   cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DNAMESPACE=<ns> -DSYMBOL=<name> -P embed.cmake
# Defines `extern const char <ns>::<name>[]` (NUL-terminated) and
# `extern const std::size_t <ns>::<name>_size` (without the NUL).
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
# 16 bytes per line
string(REGEX REPLACE "(('[^']*',){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by api/cmake/embed.cmake; do not edit.\n"
"#include <cstddef>\n"
"namespace ${NAMESPACE} {\n"
"extern const char ${SYMBOL}[];\n"
"extern const std::size_t ${SYMBOL}_size;\n"
"const char ${SYMBOL}[] = {\n    ${bytes}'\\0'};\n"
"const std::size_t ${SYMBOL}_size = ${size};\n"
"}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
