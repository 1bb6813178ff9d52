// libFuzzer target: the tatara-lisp reader on arbitrary bytes.
//
// Properties: reading never crashes or hangs; input that is not valid UTF-8 is always
// refused; every form read prints (print_syntax) as valid UTF-8; a reader error's offset
// lies inside the input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "internal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tatara;
    source_text src{"<fuzz>", std::string(reinterpret_cast<const char*>(data), size)};
    heap region(true);
    region.set_limit(64u << 20);
    syntax_pool pool(region);
    std::vector<const syntax*> forms;
    read_failure err;
    bool ok;
    try {
        ok = read_all(src, pool, forms, err, true);
    } catch (const limit_error&) {
        return 0;  // the region's limit: a clean refusal
    }
    const bool valid_utf8 = invalid_utf8_offset(src.text) == std::string_view::npos;
    if (ok && !valid_utf8) std::abort();  // invalid UTF-8 must never be read
    if (!ok) {
        if (err.offset > size) std::abort();
        return 0;
    }
    std::string printed;
    for (const syntax* f : forms) {
        printed.clear();
        try {
            print_syntax(printed, f);
        } catch (const lisp_error&) {
            continue;  // :stack-overflow on absurdly deep quote nesting is a clean refusal
        }
        if (invalid_utf8_offset(printed) != std::string_view::npos) std::abort();
    }
    return 0;
}
