// tatara-lisp natives: arithmetic (§5.1, overflow raises :integer-overflow), comparison
// (§5.2), bits (§5.8) and the wrapping-add/-sub/-mul deviation.
#include <cmath>
#include <limits>

#include "internal.hpp"

namespace tatara {

namespace {

using args_t = std::span<const value>;

inline void need_number(value v) {
    if (!v.is_number()) raise_type("number", v);
}

inline bool is_zero(value v) { return v.is_int() ? v.as_int() == 0 : v.as_real() == 0.0; }

value nat_add(eval_ctx&, args_t a) {
    if (a.size() == 2 && a[0].is_int() && a[1].is_int()) {
        int64_t r;
        if (__builtin_add_overflow(a[0].as_int(), a[1].as_int(), &r)) raise_overflow("+");
        return value::integer(r);
    }
    int64_t acc = 0;
    size_t i = 0;
    for (; i < a.size(); ++i) {
        if (!a[i].is_int()) break;
        if (__builtin_add_overflow(acc, a[i].as_int(), &acc)) raise_overflow("+");
    }
    if (i == a.size()) return value::integer(acc);
    double d = static_cast<double>(acc);
    for (; i < a.size(); ++i) {
        need_number(a[i]);
        d += a[i].to_double();
    }
    return value::real(d);
}

value nat_sub(eval_ctx&, args_t a) {
    if (a.size() == 2 && a[0].is_int() && a[1].is_int()) {
        int64_t r;
        if (__builtin_sub_overflow(a[0].as_int(), a[1].as_int(), &r)) raise_overflow("-");
        return value::integer(r);
    }
    need_number(a[0]);
    if (a.size() == 1) {
        if (a[0].is_real()) return value::real(-a[0].as_real());
        if (a[0].as_int() == std::numeric_limits<int64_t>::min()) raise_overflow("-");
        return value::integer(-a[0].as_int());
    }
    size_t i = 1;
    if (a[0].is_int()) {
        int64_t acc = a[0].as_int();
        for (; i < a.size(); ++i) {
            if (!a[i].is_int()) break;
            if (__builtin_sub_overflow(acc, a[i].as_int(), &acc)) raise_overflow("-");
        }
        if (i == a.size()) return value::integer(acc);
        double d = static_cast<double>(acc);
        for (; i < a.size(); ++i) {
            need_number(a[i]);
            d -= a[i].to_double();
        }
        return value::real(d);
    }
    double d = a[0].as_real();
    for (; i < a.size(); ++i) {
        need_number(a[i]);
        d -= a[i].to_double();
    }
    return value::real(d);
}

value nat_mul(eval_ctx&, args_t a) {
    int64_t acc = 1;
    size_t i = 0;
    for (; i < a.size(); ++i) {
        if (!a[i].is_int()) break;
        if (__builtin_mul_overflow(acc, a[i].as_int(), &acc)) raise_overflow("*");
    }
    if (i == a.size()) return value::integer(acc);
    double d = static_cast<double>(acc);
    for (; i < a.size(); ++i) {
        need_number(a[i]);
        d *= a[i].to_double();
    }
    return value::real(d);
}

value nat_div(eval_ctx&, args_t a) {
    for (value v : a) need_number(v);
    if (a.size() == 1) {
        if (is_zero(a[0])) raise_division_by_zero();
        return value::real(1.0 / a[0].to_double());
    }
    value acc = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
        value d = a[i];
        if (is_zero(d)) raise_division_by_zero();
        if (acc.is_int() && d.is_int()) {
            int64_t x = acc.as_int(), y = d.as_int();
            if (x == std::numeric_limits<int64_t>::min() && y == -1) raise_overflow("/");
            if (x % y == 0) {
                acc = value::integer(x / y);
                continue;
            }
        }
        acc = value::real(acc.to_double() / d.to_double());
    }
    return acc;
}

value nat_modulo(eval_ctx&, args_t a) {
    int64_t x = arg_int(a, 0), y = arg_int(a, 1);
    if (y == 0) raise_division_by_zero();
    if (y == -1) return value::integer(0);
    int64_t r = x % y;
    if (r < 0) r += y < 0 ? -y : y;
    return value::integer(r);
}

value nat_abs(eval_ctx&, args_t a) {
    need_number(a[0]);
    if (a[0].is_real()) return value::real(std::fabs(a[0].as_real()));
    int64_t x = a[0].as_int();
    if (x == std::numeric_limits<int64_t>::min()) raise_overflow("abs");
    return value::integer(x < 0 ? -x : x);
}

template <bool Max>
value nat_minmax(eval_ctx&, args_t a) {
    bool any_real = false;
    for (value v : a) {
        need_number(v);
        any_real |= v.is_real();
    }
    value best = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
        bool better = (best.is_int() && a[i].is_int())
                          ? (Max ? a[i].as_int() > best.as_int() : a[i].as_int() < best.as_int())
                          : (Max ? a[i].to_double() > best.to_double() : a[i].to_double() < best.to_double());
        if (better) best = a[i];
    }
    if (any_real && best.is_int()) return value::real(best.to_double());
    return best;
}

value nat_expt(eval_ctx&, args_t a) {
    need_number(a[0]);
    need_number(a[1]);
    if (a[0].is_int() && a[1].is_int() && a[1].as_int() >= 0 && a[1].as_int() <= 63) {
        int64_t base = a[0].as_int(), r = 1;
        for (int64_t e = a[1].as_int(); e > 0; --e)
            if (__builtin_mul_overflow(r, base, &r)) raise_overflow("expt");
        return value::integer(r);
    }
    return value::real(std::pow(a[0].to_double(), a[1].to_double()));
}

template <double (*F)(double)>
value nat_float1(eval_ctx&, args_t a) {
    need_number(a[0]);
    return value::real(F(a[0].to_double()));
}

double d_sqrt(double x) { return std::sqrt(x); }
double d_exp(double x) { return std::exp(x); }
double d_sin(double x) { return std::sin(x); }
double d_cos(double x) { return std::cos(x); }
double d_tan(double x) { return std::tan(x); }

value nat_log(eval_ctx&, args_t a) {
    need_number(a[0]);
    if (a.size() == 2) {
        need_number(a[1]);
        return value::real(std::log(a[0].to_double()) / std::log(a[1].to_double()));
    }
    return value::real(std::log(a[0].to_double()));
}

int64_t saturate(double d) {
    if (std::isnan(d)) return 0;
    if (d >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
    if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(d);
}

template <double (*F)(double)>
value nat_round_like(eval_ctx&, args_t a) {
    need_number(a[0]);
    if (a[0].is_int()) return a[0];
    return value::integer(saturate(F(a[0].as_real())));
}

double d_floor(double x) { return std::floor(x); }
double d_ceil(double x) { return std::ceil(x); }
double d_round(double x) { return std::round(x); }
double d_trunc(double x) { return std::trunc(x); }

uint64_t uabs(int64_t x) { return x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x); }

uint64_t ugcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

value from_u64(uint64_t x, const char* op) {
    if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) raise_overflow(op);
    return value::integer(static_cast<int64_t>(x));
}

value nat_gcd(eval_ctx&, args_t a) {
    uint64_t g = 0;
    for (size_t i = 0; i < a.size(); ++i) g = ugcd(g, uabs(arg_int(a, i)));
    return from_u64(g, "gcd");
}

value nat_lcm(eval_ctx&, args_t a) {
    uint64_t l = 1;
    for (size_t i = 0; i < a.size(); ++i) {
        uint64_t x = uabs(arg_int(a, i));
        if (x == 0) {
            l = 0;
            continue;
        }
        if (l == 0) continue;
        uint64_t g = ugcd(l, x);
        if (__builtin_mul_overflow(l / g, x, &l)) raise_overflow("lcm");
    }
    return from_u64(l, "lcm");
}

template <class T>
value wrapping(args_t a, int64_t init, T op, bool unary_negates) {
    if (a.empty()) return value::integer(init);
    uint64_t acc = static_cast<uint64_t>(arg_int(a, 0));
    if (a.size() == 1) return value::integer(unary_negates ? static_cast<int64_t>(0 - acc) : static_cast<int64_t>(acc));
    for (size_t i = 1; i < a.size(); ++i) acc = op(acc, static_cast<uint64_t>(arg_int(a, i)));
    return value::integer(static_cast<int64_t>(acc));
}

value nat_wrapping_add(eval_ctx&, args_t a) {
    return wrapping(
        a, 0, [](uint64_t x, uint64_t y) { return x + y; }, false);
}
value nat_wrapping_sub(eval_ctx&, args_t a) {
    return wrapping(
        a, 0, [](uint64_t x, uint64_t y) { return x - y; }, true);
}
value nat_wrapping_mul(eval_ctx&, args_t a) {
    return wrapping(
        a, 1, [](uint64_t x, uint64_t y) { return x * y; }, false);
}

// ---- comparison ----

enum class cmp_op { eq, lt, gt, le, ge };

template <cmp_op Op>
value nat_compare_chain(eval_ctx&, args_t a) {
    if (a.size() == 2 && a[0].is_int() && a[1].is_int()) {
        int64_t p = a[0].as_int(), q = a[1].as_int();
        return value::boolean(Op == cmp_op::eq   ? p == q
                              : Op == cmp_op::lt ? p < q
                              : Op == cmp_op::gt ? p > q
                              : Op == cmp_op::le ? p <= q
                                                 : p >= q);
    }
    for (value v : a) need_number(v);
    for (size_t i = 0; i + 1 < a.size(); ++i) {
        value x = a[i], y = a[i + 1];
        bool ok;
        if (x.is_int() && y.is_int()) {
            int64_t p = x.as_int(), q = y.as_int();
            ok = Op == cmp_op::eq   ? p == q
                 : Op == cmp_op::lt ? p < q
                 : Op == cmp_op::gt ? p > q
                 : Op == cmp_op::le ? p <= q
                                    : p >= q;
        } else {
            double p = x.to_double(), q = y.to_double();
            ok = Op == cmp_op::eq   ? p == q
                 : Op == cmp_op::lt ? p < q
                 : Op == cmp_op::gt ? p > q
                 : Op == cmp_op::le ? p <= q
                                    : p >= q;
        }
        if (!ok) return value::boolean(false);
    }
    return value::boolean(true);
}

value nat_not_eq(eval_ctx&, args_t a) { return value::boolean(!equal(a[0], a[1])); }

value nat_compare(eval_ctx&, args_t a) {
    value x = a[0], y = a[1];
    auto sign = [](auto p, auto q) { return value::integer(p < q ? -1 : p > q ? 1 : 0); };
    if (x.is_number() && y.is_number()) {
        if (x.is_int() && y.is_int()) return sign(x.as_int(), y.as_int());
        return sign(x.to_double(), y.to_double());
    }
    if (x.tag == y.tag && (x.is_string() || x.is_symbol() || x.is_keyword())) {
        int c = x.text().compare(y.text());
        return value::integer(c < 0 ? -1 : c > 0 ? 1 : 0);
    }
    std::string m = "type mismatch: expected comparable values of the same kind, got " +
                    std::string(type_error_name(x.tag)) + " vs " + std::string(type_error_name(y.tag));
    throw lisp_error(error_kind::type_mismatch, m, m);
}

// ---- bits ----

template <int Which>
value nat_bitfold(eval_ctx&, args_t a) {
    int64_t acc = Which == 0 ? -1 : 0;
    for (size_t i = 0; i < a.size(); ++i) {
        int64_t x = arg_int(a, i);
        acc = Which == 0 ? (acc & x) : Which == 1 ? (acc | x) : (acc ^ x);
    }
    return value::integer(acc);
}

value nat_bit_not(eval_ctx&, args_t a) { return value::integer(~arg_int(a, 0)); }

value nat_shl(eval_ctx&, args_t a) {
    uint64_t x = static_cast<uint64_t>(arg_int(a, 0));
    unsigned s = static_cast<unsigned>(static_cast<uint64_t>(arg_int(a, 1)) & 63);
    return value::integer(static_cast<int64_t>(x << s));
}

value nat_shr(eval_ctx&, args_t a) {
    int64_t x = arg_int(a, 0);
    unsigned s = static_cast<unsigned>(static_cast<uint64_t>(arg_int(a, 1)) & 63);
    return value::integer(x >> s);
}

}  // namespace

void install_arith_natives(native_registry& r) {
    r.add("+", 0, -1, nat_add);
    r.add("-", 1, -1, nat_sub);
    r.add("*", 0, -1, nat_mul);
    r.add("/", 1, -1, nat_div);
    r.add("modulo", 2, 2, nat_modulo);
    r.add("abs", 1, 1, nat_abs);
    r.add("min", 1, -1, nat_minmax<false>);
    r.add("max", 1, -1, nat_minmax<true>);
    r.add("expt", 2, 2, nat_expt);
    r.add("sqrt", 1, 1, nat_float1<d_sqrt>);
    r.add("exp", 1, 1, nat_float1<d_exp>);
    r.add("sin", 1, 1, nat_float1<d_sin>);
    r.add("cos", 1, 1, nat_float1<d_cos>);
    r.add("tan", 1, 1, nat_float1<d_tan>);
    r.add("log", 1, 2, nat_log);
    r.add("floor", 1, 1, nat_round_like<d_floor>);
    r.add("ceiling", 1, 1, nat_round_like<d_ceil>);
    r.add("round", 1, 1, nat_round_like<d_round>);
    r.add("truncate", 1, 1, nat_round_like<d_trunc>);
    r.add("gcd", 0, -1, nat_gcd);
    r.add("lcm", 0, -1, nat_lcm);
    r.add("wrapping-add", 0, -1, nat_wrapping_add);
    r.add("wrapping-sub", 1, -1, nat_wrapping_sub);
    r.add("wrapping-mul", 0, -1, nat_wrapping_mul);

    r.add("=", 2, -1, nat_compare_chain<cmp_op::eq>);
    r.add("<", 2, -1, nat_compare_chain<cmp_op::lt>);
    r.add(">", 2, -1, nat_compare_chain<cmp_op::gt>);
    r.add("<=", 2, -1, nat_compare_chain<cmp_op::le>);
    r.add(">=", 2, -1, nat_compare_chain<cmp_op::ge>);
    r.add("not=", 2, 2, nat_not_eq);
    r.add("compare", 2, 2, nat_compare);

    r.add("bit-and", 0, -1, nat_bitfold<0>);
    r.add("bit-or", 0, -1, nat_bitfold<1>);
    r.add("bit-xor", 0, -1, nat_bitfold<2>);
    r.add("bit-not", 1, 1, nat_bit_not);
    r.add("bit-shift-left", 2, 2, nat_shl);
    r.add("bit-shift-right", 2, 2, nat_shr);
}

}  // namespace tatara
