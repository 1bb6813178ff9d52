// tatara-lisp natives: gensym (§5.9) and structured errors (§5.10).
#include <string>

#include "internal.hpp"

namespace tatara {

namespace {

using args_t = std::span<const value>;

value nat_gensym(eval_ctx& ctx, args_t a) {
    std::string prefix = "g";
    if (!a.empty()) {
        if (a[0].is_string() || a[0].is_symbol())
            prefix = std::string(a[0].text());
        else
            raise_type("string or symbol", a[0]);
    }
    return ctx.make_symbol(prefix + "__" + std::to_string(ctx.next_gensym()) + "__auto");
}

value check_plist(value v) {
    if (!v.is_listish()) raise_type("list", v);
    if (v.items().size() % 2) raise_native("plist", "plist must have even number of elements (k v k v ...)");
    return v;
}

value nat_error(eval_ctx& ctx, args_t a) {
    value tag = a[0];
    if (!(tag.is_keyword() || tag.is_symbol() || tag.is_string())) raise_type("keyword", tag);
    std::string_view msg = arg_string(a, 1);
    value data = a.size() == 3 ? check_plist(a[2]) : value::nil();
    return ctx.make_error(tag.text(), msg, data);
}

value nat_ex_info(eval_ctx& ctx, args_t a) {
    std::string_view msg = arg_string(a, 0);
    value data = a.size() == 2 ? check_plist(a[1]) : value::nil();
    return ctx.make_error("ex-info", msg, data);
}

value nat_throw(eval_ctx&, args_t a) { raise_user(a[0]); }

value nat_error_p(eval_ctx&, args_t a) { return value::boolean(a[0].tag == type::error); }

const error_obj* need_error(value v) {
    if (v.tag != type::error) raise_type("error", v);
    return v.as_error();
}

value nat_error_tag(eval_ctx&, args_t a) { return need_error(a[0])->tag; }
value nat_error_message(eval_ctx&, args_t a) { return need_error(a[0])->message; }

value nat_error_data(eval_ctx& ctx, args_t a) { return ctx.make_list(need_error(a[0])->data.items()); }

value nat_error_data_get(eval_ctx&, args_t a) {
    auto data = need_error(a[0])->data.items();
    for (size_t i = 0; i + 1 < data.size(); i += 2)
        if (equal(data[i], a[1])) return data[i + 1];
    return value::nil();
}

}  // namespace

void install_misc_natives(native_registry& r) {
    r.add("gensym", 0, 1, nat_gensym);
    r.add("error", 2, 3, nat_error);
    r.add("ex-info", 1, 2, nat_ex_info);
    r.add("throw", 1, 1, nat_throw);
    r.add("error?", 1, 1, nat_error_p);
    r.add("error-tag", 1, 1, nat_error_tag);
    r.add("error-message", 1, 1, nat_error_message);
    r.add("error-data", 1, 1, nat_error_data);
    r.add("error-data-get", 2, 2, nat_error_data_get);
}

}  // namespace tatara
