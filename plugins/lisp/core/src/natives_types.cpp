// tatara-lisp runtime type checks (reference §5.13): type-of, is? and the.
//
// A type spec is a keyword (:int :float :number :bool :string :symbol :keyword :nil :list
// :map :error :promise :procedure :foreign :any; any other keyword matches nothing) or a
// list (:list-of T), (:map-of K V), (:fn ...), (:union T...). As in the reference, a spec is
// checked while matching, so only the parts a value reaches must be well formed; a
// malformed part raises native-fn `type-check`.
#include <string>

#include "tatara/native.hpp"
#include "tatara/printer.hpp"

namespace tatara {
namespace {

using args_t = std::span<const value>;

[[noreturn]] void malformed(std::string reason) { raise_native("type-check", reason); }

bool matches_keyword(value v, std::string_view k) {
    switch (v.tag) {
    case type::nil: return k == "nil" || k == "list" || k == "any";
    case type::boolean: return k == "bool" || k == "any";
    case type::integer: return k == "int" || k == "number" || k == "any";
    case type::real: return k == "float" || k == "number" || k == "any";
    case type::string: return k == "string" || k == "any";
    case type::symbol: return k == "symbol" || k == "any";
    case type::keyword: return k == "keyword" || k == "any";
    case type::list: return k == "list" || k == "any";
    case type::map: return k == "map" || k == "any";
    case type::closure:
    case type::native: return k == "procedure" || k == "any";
    case type::promise: return k == "promise" || k == "any";
    case type::error: return k == "error" || k == "any";
    case type::foreign: return k == "foreign" || k == "any";
    default: return k == "any";
    }
}

bool matches(eval_ctx& ctx, value v, value spec) {
    ctx.check_stack();
    if (spec.is_keyword()) return matches_keyword(v, spec.text());
    if (!spec.is_list() || spec.items().empty())
        malformed("type spec must be a keyword or list, got " + to_display_string(spec));
    auto xs = spec.items();
    if (!xs[0].is_keyword()) malformed("type spec list must start with a keyword");
    std::string_view head = xs[0].text();
    if (head == "list-of") {
        if (xs.size() != 2) malformed("(:list-of T) takes exactly one type argument");
        if (!v.is_listish()) return false;
        for (value x : v.items())
            if (!matches(ctx, x, xs[1])) return false;
        return true;
    }
    if (head == "map-of") {
        if (xs.size() != 3) malformed("(:map-of K V) takes exactly two type arguments");
        if (!v.is_map()) return false;
        const map_obj* m = v.as_map();
        for (uint32_t i = 0; i < m->size; ++i)
            if (!matches(ctx, m->entries[2 * i], xs[1]) || !matches(ctx, m->entries[2 * i + 1], xs[2])) return false;
        return true;
    }
    if (head == "fn") return v.is_procedure();
    if (head == "union") {
        for (size_t i = 1; i < xs.size(); ++i)
            if (matches(ctx, v, xs[i])) return true;
        return false;
    }
    malformed("unknown parametric type: " + std::string(head));
}

value nat_type_of(eval_ctx& ctx, args_t args) { return ctx.make_keyword(type_of_name(args[0].tag)); }

// (is? v SPEC) -> bool.
value nat_is(eval_ctx& ctx, args_t args) { return value::boolean(matches(ctx, args[0], args[1])); }

// (the SPEC v) -> v, or throws #<error :type-mismatch "expected SPEC, got :KIND"
// {:expected SPEC :got :KIND}>.
value nat_the(eval_ctx& ctx, args_t args) {
    value spec = args[0];
    value v = args[1];
    if (matches(ctx, v, spec)) return v;
    std::string_view kind = type_of_name(v.tag);
    std::string msg = "expected " + to_display_string(spec) + ", got :" + std::string(kind);
    value data[4] = {ctx.make_keyword("expected"), spec, ctx.make_keyword("got"), ctx.make_keyword(kind)};
    raise_user(ctx.make_error("type-mismatch", msg, ctx.make_list(data)));
}

}  // namespace

void install_types_natives(native_registry& r) {
    r.add("type-of", 1, 1, nat_type_of);
    r.add("is?", 2, 2, nat_is);
    r.add("the", 2, 2, nat_the);
}

}  // namespace tatara
