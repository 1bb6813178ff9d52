// Reader and printer: atoms, quote shorthands, strings, spans and reader errors.
#include <catch2/catch.hpp>

#include <pthread.h>

#include "core_test_util.hpp"

using lisp_test::err;
using lisp_test::ev;
using lisp_test::run;

TEST_CASE("atoms classify as booleans keywords integers floats then symbols", "[lisp][reader]") {
    CHECK(ev("(list #t #f :k : :1)") == "(#t #f :k : :1)");
    CHECK(ev("(list 42 -17 +5)") == "(42 -17 5)");
    CHECK(ev("(list 1. .5 +.5 1e3 1E-7)") == "(1 0.5 0.5 1000 0.0000001)");
    CHECK(ev("(list (quote inf) (quote -Infinity) (type-of (quote NaN)))") == "(inf -inf :float)");
    CHECK(ev("(list 'a.b '#foo '[1 '1e '0x10 '- '+ '.)") == "(a.b #foo [1 1e 0x10 - + .)");
    CHECK(ev("9223372036854775807") == "9223372036854775807");
    CHECK(ev("-9223372036854775808") == "-9223372036854775808");
    CHECK(ev("9223372036854775808") == "9223372036854776000");
    CHECK(ev("1e400") == "inf");
    CHECK(ev("(list (symbol? '#true) (symbol? 'nil))") == "(#t #t)");
}

TEST_CASE("quote shorthands read as distinct nodes and print as lists", "[lisp][reader]") {
    CHECK(ev("''a") == "(quote a)");
    CHECK(ev("'`(a ,b ,@c)") == "(quasiquote (a (unquote b) (unquote-splice c)))");
    CHECK(ev("(car ''a)") == "quote");
    CHECK(ev("'(a . b)") == "(a . b)");
    CHECK(ev("(length '(a . b))") == "3");
}

TEST_CASE("strings keep escapes and raw newlines unknown escapes yield the char", "[lisp][reader]") {
    CHECK(ev(R"("a\tb\"c")") == R"("a\tb\"c")");
    CHECK(ev(R"((string-length "\x41"))") == "3");
    CHECK(ev(R"((string-length "\0"))") == "1");
    CHECK(ev("(string-length \"a\nb\")") == "3");
    CHECK(ev(R"("a;b")") == R"("a;b")");
}

TEST_CASE("comments run to end of line and split atoms", "[lisp][reader]") {
    CHECK(ev("; comment\n(+ 1 2) ; trailing") == "3");
    CHECK(ev("(list 'a;b\n 'c)") == "(a c)");
}

TEST_CASE("printing follows the reference's Display rules", "[lisp][printer]") {
    CHECK(ev("(list 3.0 (+ 0.1 0.2) 1e21 1.5e-7 (- 0.0))") ==
          "(3 0.30000000000000004 1000000000000000000000 0.00000015 -0)");
    CHECK(ev("(list (sqrt -1) (* 1.0 1e400) (- 0 1e400))") == "(NaN inf -inf)");
    CHECK(ev("1e100").size() == 101);
    CHECK(ev(R"((list "x" "é" "\\" (string->symbol "a b")))") == R"(("x" "é" "\\" a b))");
    CHECK(ev("(list (lambda () 1) (lambda (a b) 1) (lambda (a &rest r) 1))") ==
          "(#<closure> #<closure (a b)> #<closure (a . r)>)");
    CHECK(ev("car") == "#<native car>");
    CHECK(ev("(list (delay 1) (let ((p (delay (+ 1 2)))) (force p) p))") == "(#<promise pending> #<promise 3>)");
    CHECK(ev("(list (error :boom \"bad\") (error :x \"m\" (list :a 1 :b 2)))") ==
          R"((#<error :boom "bad"> #<error :x "m" {:a 1 :b 2}>))");
}

TEST_CASE("control characters print as Rust-style unicode escapes", "[lisp][printer]") {
    tatara::evaluator e;
    auto c = tatara::compile("1", "p");
    REQUIRE(c.prog);
    e.run(*c.prog);
    auto& ctx = e.ctx();
    CHECK(tatara::to_display_string(ctx.make_string("\x1b")) == "\"\\u{1b}\"");
    CHECK(tatara::to_display_string(ctx.make_string("\x7f")) == "\"\\u{7f}\"");
    CHECK(tatara::to_display_string(ctx.make_string("\xc2\xa0")) == "\"\\u{a0}\"");
    CHECK(tatara::to_display_string(ctx.make_string("e\xcc\x81")) == "\"e\\u{301}\"");
    CHECK(tatara::to_display_string(ctx.make_string(std::string("\0'", 2))) == "\"\\0'\"");
}

TEST_CASE("reader errors fail compilation with line and column", "[lisp][reader]") {
    auto c = tatara::compile("(+ 1 2)\n  (foo", "p.tatara");
    REQUIRE_FALSE(c.prog);
    CHECK(c.error->kind == "reader");
    CHECK(c.error->message == "reader error: unmatched opening paren");
    CHECK(c.error->line == 2);
    CHECK(c.error->column == 3);
    CHECK(c.error->formatted().rfind("p.tatara:2:3: reader error: unmatched opening paren", 0) == 0);

    CHECK(tatara::compile("(a))", "p").error->message == "reader error: unmatched closing paren at position 0");
    CHECK(tatara::compile("x \"abc", "p").error->message == "reader error: unterminated string literal at position 2");
    CHECK(tatara::compile("(a) '", "p").error->message == "reader error: unexpected end of input");
}

TEST_CASE("a reader error anywhere means no form runs", "[lisp][reader]") {
    auto o = run("(display 1) (");
    CHECK_FALSE(o.ok);
    CHECK(o.kind == "reader");
    CHECK(o.text.empty());
}

TEST_CASE("deeply nested input is rejected or handled without crashing", "[lisp][reader]") {
    std::string deep(200000, '(');
    CHECK(err(deep) == "reader");
    std::string nested = std::string(3000, '(') + std::string(3000, ')');
    auto o = run("'" + nested);
    CHECK(o.ok);
    // the same on a thread with a small stack: compile and run fail cleanly instead
    std::string src =
        "'" + std::string(9000, '(') + std::string(9000, ')') + " `" + std::string(9000, '(') + std::string(9000, ')');
    struct job {
        std::string src, kind = "unset";
    } j{src};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512u << 10);
    pthread_t th;
    auto body = [](void* p) -> void* {
        auto* jb = static_cast<job*>(p);
        auto r = run(jb->src);
        jb->kind = r.ok ? "ok" : r.kind;
        return nullptr;
    };
    REQUIRE(pthread_create(&th, &attr, body, &j) == 0);
    pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
    CHECK((j.kind == "ok" || j.kind == "stack-overflow"));
}

TEST_CASE("read-string and read-all turn text into data", "[lisp][reader]") {
    CHECK(ev("(read-string \"(a 1 \\\"s\\\")\")") == "(a 1 \"s\")");
    CHECK(ev("(read-all \"1 2 (3)\")") == "(1 2 (3))");
    CHECK(ev("(read-all \"\")") == "()");
    CHECK(err("(read-string \"\")") == "native-fn");
    CHECK(err("(read-string \"(a\")") == "reader");
    CHECK(ev("(try (read-string \"(a\") (catch (e) (list (error-tag e) (error-message e))))") ==
          "(:reader \"reader: unmatched opening paren\")");
}

TEST_CASE("source that is not valid UTF-8 is a reader error at its line and column", "[lisp][reader][utf8]") {
    auto at = [](const std::string& src) {
        lisp_test::outcome o = run(src);
        return o.ok ? std::string("ok") : o.formatted;
    };
    CHECK(at("\"caf\xC3\xA9 \xF0\x9F\x99\x82\"") == "ok");  // 2- and 4-byte sequences
    CHECK(at("(list 1\n  \"a\xFF"
             "b\")") == "prog.tatara:2:5: reader error: invalid UTF-8 (byte 0xff at offset 12)");
    CHECK(at("'\xC0\xAF") == "prog.tatara:1:2: reader error: invalid UTF-8 (byte 0xc0 at offset 1)");  // overlong '/'
    CHECK(at("'\xE0\x80\xAF") == "prog.tatara:1:2: reader error: invalid UTF-8 (byte 0xe0 at offset 1)");  // overlong
    CHECK(at("'\xED\xA0\x80") == "prog.tatara:1:2: reader error: invalid UTF-8 (byte 0xed at offset 1)");  // surrogate
    CHECK(at("'\xF4\x90\x80\x80") ==
          "prog.tatara:1:2: reader error: invalid UTF-8 (byte 0xf4 at offset 1)");  // > U+10FFFF
    CHECK(at("; \xC3\xA9\xC3") ==
          "prog.tatara:1:4: reader error: invalid UTF-8 (byte 0xc3 at offset 4)");  // truncated, in a comment
    CHECK(at("'\x80") == "prog.tatara:1:2: reader error: invalid UTF-8 (byte 0x80 at offset 1)");  // lone continuation
    CHECK(err("(read-string \"x\")").empty());
}

TEST_CASE("invalid_utf8_offset follows RFC 3629", "[lisp][reader][utf8]") {
    using tatara::invalid_utf8_offset;
    constexpr size_t ok = std::string_view::npos;
    CHECK(invalid_utf8_offset("") == ok);
    CHECK(invalid_utf8_offset("plain ascii") == ok);
    CHECK(invalid_utf8_offset("\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xEF\xBF\xBF \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF") == ok);
    CHECK(invalid_utf8_offset(std::string_view("a\0b", 3)) == ok);
    CHECK(invalid_utf8_offset("ab\xC1\xBF") == 2);
    CHECK(invalid_utf8_offset("\xF5\x80\x80\x80") == 0);
    CHECK(invalid_utf8_offset("\xE2\x82") == 0);
    CHECK(invalid_utf8_offset("\xE2\x82\x41") == 0);
    CHECK(invalid_utf8_offset("x\xFE") == 1);
}

TEST_CASE("a diagnostic quoting a long form is cut on a character boundary", "[lisp][utf8]") {
    std::string src = "(+ 1 \"";
    for (int i = 0; i < 100; ++i) src += "\xC3\xA9";  // byte 157 of the form falls inside an é
    src += "\")";
    lisp_test::outcome o = run(src);
    REQUIRE_FALSE(o.ok);
    CHECK(tatara::invalid_utf8_offset(o.formatted) == std::string_view::npos);
    CHECK(o.formatted.size() > 160);
    CHECK(o.formatted.ends_with("\xC3\xA9...)"));
}
