// tatara-lisp natives: strings, symbols, keywords (§5.5), I/O (§5.6), reader (§5.7).
#include <string>

#include "internal.hpp"

namespace tatara {

namespace {

using args_t = std::span<const value>;

value nat_string_length(eval_ctx&, args_t a) {
    std::string_view s = arg_string(a, 0);
    int64_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return value::integer(n);
}

value nat_string_append(eval_ctx& ctx, args_t a) {
    size_t total = 0;
    for (size_t i = 0; i < a.size(); ++i) total += arg_string(a, i).size();
    size_t limit = ctx.mem().limit();
    if (limit && total > limit)
        throw limit_error(limit_kind::memory, "memory limit exceeded: more than " + std::to_string(limit) + " bytes");
    std::string s;
    s.reserve(total);
    for (value v : a) s += v.text();
    return ctx.make_string(s);
}

value nat_string(eval_ctx& ctx, args_t a) {
    if (a[0].is_string()) return a[0];
    return ctx.make_string(to_display_string(a[0]));
}

value nat_symbol_to_string(eval_ctx& ctx, args_t a) {
    if (!a[0].is_symbol()) raise_type("symbol", a[0]);
    return ctx.make_string(a[0].text());
}

value nat_keyword_to_string(eval_ctx& ctx, args_t a) {
    if (!a[0].is_keyword()) raise_type("keyword", a[0]);
    return ctx.make_string(a[0].text());
}

value nat_string_to_symbol(eval_ctx& ctx, args_t a) { return ctx.make_symbol(arg_string(a, 0)); }
value nat_string_to_keyword(eval_ctx& ctx, args_t a) { return ctx.make_keyword(arg_string(a, 0)); }

value nat_display(eval_ctx& ctx, args_t a) {
    ctx.write(to_display_string(a[0]));
    return value::nil();
}

value nat_newline(eval_ctx& ctx, args_t) {
    ctx.write("\n");
    return value::nil();
}

value nat_print(eval_ctx& ctx, args_t a) {
    std::string s = to_display_string(a[0]);
    s += '\n';
    ctx.write(s);
    return value::nil();
}

value nat_println(eval_ctx& ctx, args_t a) {
    std::string s;
    for (size_t i = 0; i < a.size(); ++i) {
        if (i) s += ' ';
        print_value(s, a[i]);
    }
    s += '\n';
    ctx.write(s);
    return value::nil();
}

value nat_pr_str(eval_ctx& ctx, args_t a) { return ctx.make_string(to_display_string(a[0])); }

/// Read text into data values (evaluation-owned syntax is not needed afterwards).
std::vector<value> read_values(eval_ctx& ctx, std::string_view text) {
    source_text src{"<read-string>", std::string(text)};
    syntax_pool pool(ctx.mem());
    std::vector<const syntax*> forms;
    read_failure err;
    if (!read_all(src, pool, forms, err, false)) raise_reader(err.message);
    std::vector<value> out;
    out.reserve(forms.size());
    for (const syntax* f : forms) out.push_back(syntax_to_value(ctx, f));
    return out;
}

value nat_read_string(eval_ctx& ctx, args_t a) {
    std::vector<value> xs = read_values(ctx, arg_string(a, 0));
    if (xs.empty()) raise_native("read-string", "empty source");
    return xs[0];
}

value nat_read_all(eval_ctx& ctx, args_t a) {
    std::vector<value> xs = read_values(ctx, arg_string(a, 0));
    return ctx.make_list(xs);
}

}  // namespace

void install_string_natives(native_registry& r) {
    r.add("string-length", 1, 1, nat_string_length);
    r.add("string-append", 0, -1, nat_string_append);
    r.add("string", 1, 1, nat_string);
    r.add("symbol->string", 1, 1, nat_symbol_to_string);
    r.add("keyword->string", 1, 1, nat_keyword_to_string);
    r.add("string->symbol", 1, 1, nat_string_to_symbol);
    r.add("string->keyword", 1, 1, nat_string_to_keyword);
    r.add("display", 1, 1, nat_display);
    r.add("newline", 0, 0, nat_newline);
    r.add("print", 1, 1, nat_print);
    r.add("println", 0, -1, nat_println);
    r.add("pr-str", 1, 1, nat_pr_str);
    r.add("read-string", 1, 1, nat_read_string);
    r.add("read-all", 1, 1, nat_read_all);
}

}  // namespace tatara
