// The `lisp` reconciler plugin seen from a host (see lisp_plugin_harness.hpp): compile
// once/tick many, output and printed text, error text with line:column and caret, limits,
// UTF-8 at the boundary, intrinsic value conversion, a broken stdlib.
#include "lisp_plugin_harness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

using namespace lisp_plugin_test;
TEST_CASE("a lisp reconciler prints the last value as the tick output", "[lisp-plugin]") {
    instance i("(define x 40) (+ x 2)");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    REQUIRE(i.tick(t).status == VIGY_OK);
    CHECK(t.output == "42");
}

TEST_CASE("printed text comes first and the last value follows on its own line", "[lisp-plugin]") {
    instance i("(display \"a\") (print 1) (display \"b\") 42");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    REQUIRE(i.tick(t).status == VIGY_OK);
    CHECK(t.output == "\"a\"1\n\"b\"\n42");

    instance nl("(print \"x\") (+ 1 2)");
    fake_tick t2;
    REQUIRE(nl.tick(t2).status == VIGY_OK);
    CHECK(t2.output == "\"x\"\n3");
}

TEST_CASE("a failed tick keeps what the program printed before the error", "[lisp-plugin]") {
    instance i("(display \"a\") (println 1 2) (car 5) (display \"never\")");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    t.output = "stale";
    outcome o = i.tick(t);
    CHECK(o.status == VIGY_INVALID_ARGUMENT);
    CHECK(o.message.find("expected pair, got int") != std::string::npos);
    CHECK(t.output == "\"a\"1 2\n");

    // a limit error keeps the printed text too
    vigy_limits fuel{sizeof(vigy_limits), 0, 5000, 0, 0, 0};
    instance l("(display \"before\") (define (loop) (loop)) (loop)", fuel);
    fake_tick t2;
    CHECK(l.tick(t2).status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(t2.output == "\"before\"");
}

/// Redirects the process's stdout (fd 1) into a temporary file while alive.
class stdout_capture {
public:
    stdout_capture() {
        std::fflush(stdout);
        fd_ = mkstemp(path_);
        saved_ = dup(1);
        ok_ = fd_ >= 0 && saved_ >= 0 && dup2(fd_, 1) == 1;
    }
    ~stdout_capture() { restore(); }
    bool ok() const { return ok_; }
    /// Restores fd 1 and returns what was written to it meanwhile.
    std::string restore() {
        if (saved_ < 0) return text_;
        std::fflush(stdout);
        dup2(saved_, 1);
        close(saved_);
        saved_ = -1;
        char buf[4096];
        lseek(fd_, 0, SEEK_SET);
        for (ssize_t n; (n = read(fd_, buf, sizeof buf)) > 0;) text_.append(buf, static_cast<size_t>(n));
        close(fd_);
        unlink(path_);
        return text_;
    }

private:
    char path_[32] = "/tmp/vigy-lisp-stdout-XXXXXX";
    int fd_ = -1;
    int saved_ = -1;
    bool ok_ = false;
    std::string text_;
};

TEST_CASE("nothing a program prints reaches the process stdout", "[lisp-plugin]") {
    fake_tick t, t2;
    outcome good{}, bad{};
    std::string written;
    {
        stdout_capture cap;
        instance i(
            "(defmacro shout (x) (begin (display \"expanding\") x))"
            "(display \"d\") (print \"p\") (println \"l\" 1) (newline) (shout 7)"
            "(go-run (go (lambda () (display \"fiber\"))))");
        good = i.created.status == VIGY_OK ? i.tick(t) : i.created;
        instance b("(display \"x\") (car 1)");
        bad = b.tick(t2);
        REQUIRE(cap.ok());
        written = cap.restore();
    }
    CHECK(written.empty());
    REQUIRE(good.status == VIGY_OK);
    CHECK(bad.status != VIGY_OK);
    CHECK(t.output.find("\"d\"\"p\"\n\"l\" 1\n\n") != std::string::npos);
    CHECK(t.output.find("\"expanding\"") != std::string::npos);
    CHECK(t.output.find("\"fiber\"") != std::string::npos);
    CHECK(t2.output == "\"x\"");
}

TEST_CASE("invalid UTF-8 in a program is refused with its line and column", "[lisp-plugin]") {
    instance i("(define a 1)\n(display \"ok \xC3\xA9 then \xFF\")");
    CHECK(i.created.status == VIGY_INVALID_ARGUMENT);
    CHECK(i.created.message.find("prog.tatara:2:") != std::string::npos);
    CHECK(i.created.message.find("prog.tatara:2:21: reader error: invalid UTF-8 (byte 0xff at offset 34)") == 0);
    INFO(i.created.message);
}

TEST_CASE("an intrinsic returning invalid UTF-8 fails with its name and never reaches the program", "[lisp-plugin]") {
    instance i("(test-bad-text 0)");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    outcome o = i.tick(t);
    CHECK(o.status == VIGY_INVALID_ARGUMENT);
    CHECK(o.message.find("test-bad-text: returned a string that is not valid UTF-8 (byte 2)") != std::string::npos);

    // an intrinsic's error message is quoted with the invalid bytes replaced (U+FFFD)
    instance m("(try (test-bad-text 1) (catch (e) (error-message e)))");
    fake_tick t2;
    REQUIRE(m.tick(t2).status == VIGY_OK);
    CHECK(t2.output == "\"in native `test-bad-text`: broken \xEF\xBF\xBD message\"");
}

namespace {

struct recorded_log {
    int32_t level;
    std::string message;
};
std::vector<recorded_log>& host_log_lines() {
    static std::vector<recorded_log> lines;
    return lines;
}

}  // namespace

TEST_CASE("a plugin whose stdlib prelude fails to load refuses init and says why through the host log",
          "[lisp-plugin]") {
    void* h = dlopen(VIGY_LISP_BROKEN_PRELUDE_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    REQUIRE(h);
    auto entry = reinterpret_cast<vigy_plugin_entry_fn>(dlsym(h, VIGY_PLUGIN_ENTRY_SYMBOL));
    REQUIRE(entry);
    const vigy_plugin_descriptor* d = entry(VIGY_ABI_VERSION);
    REQUIRE(d);
    vigy_host_api host = kHost;
    host.log = [](void*, int32_t level, vigy_str m) {
        host_log_lines().push_back({level, std::string(vigy::sdk::view(m))});
    };
    vigy::sdk::error_buffer eb;
    CHECK(d->init(&host, eb.get()) == VIGY_INTERNAL);
    const std::string expected =
        "lisp stdlib failed to load: <stdlib>/99-broken.tlisp:3:3: type mismatch: expected pair, got int (in (car 5))";
    CHECK(eb.message() == expected);
    REQUIRE(host_log_lines().size() == 1);
    CHECK(host_log_lines()[0].level == VIGY_LOG_ERROR);
    CHECK(host_log_lines()[0].message == expected);
}

TEST_CASE("each mode prints every top-level value and printed output comes first", "[lisp-plugin]") {
    instance i("(display \"hi\") 1 (list 2 3)", {sizeof(vigy_limits)}, true);
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    REQUIRE(i.tick(t).status == VIGY_OK);
    CHECK(t.output == "\"hi\"\n()\n1\n(2 3)");
}

TEST_CASE("definitions do not leak between ticks of one compiled program", "[lisp-plugin]") {
    instance i("(define seen (try counter (catch (e) 'fresh))) (define counter 1) seen");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t1, t2;
    REQUIRE(i.tick(t1).status == VIGY_OK);
    REQUIRE(i.tick(t2).status == VIGY_OK);
    CHECK(t1.output == "fresh");
    CHECK(t2.output == "fresh");
}

TEST_CASE("intrinsics from host extensions are callable with converted values", "[lisp-plugin]") {
    instance i("(test-log \"hello\") (list (test-add 40 2) (test-wrap (list 1 \"two\" :three 4.5 nil)))");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    t.count = 7;
    REQUIRE(i.tick(t).status == VIGY_OK);
    CHECK(t.output == "(42 {:got (1 \"two\" :three 4.5 ()), :count 7})");
    REQUIRE(t.logs.size() == 1);
    CHECK(t.logs[0] == "hello");
}

TEST_CASE("an intrinsic's argument error is a catchable lisp error naming it", "[lisp-plugin]") {
    instance i("(try (test-add 1 \"x\") (catch (e) (error-message e)))");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    REQUIRE(i.tick(t).status == VIGY_OK);
    CHECK(t.output.find("test-add") != std::string::npos);
    CHECK(t.output.find("argument 2 (b) must be an int, got string") != std::string::npos);

    instance u("(test-add 1 2 3)");
    REQUIRE(u.created.status == VIGY_OK);
    outcome o = u.tick(t);
    CHECK(o.status != VIGY_OK);
    CHECK(o.message.find("prog.tatara:1:1") != std::string::npos);
}

TEST_CASE("a reader error fails create with line:column and a caret", "[lisp-plugin]") {
    instance i("(vigy-noop)\n(+ 1 \"unterminated)");
    CHECK(i.created.status == VIGY_INVALID_ARGUMENT);
    CHECK(i.created.message.find("prog.tatara:2:") != std::string::npos);
    CHECK(i.created.message.find('^') != std::string::npos);
}

TEST_CASE("an evaluation error fails the tick with the form and a caret", "[lisp-plugin]") {
    instance i("(define a 1)\n  (undefined-fn a)");
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    outcome o = i.tick(t);
    CHECK(o.status == VIGY_INVALID_ARGUMENT);
    CHECK(o.message.find("prog.tatara:2:4") != std::string::npos);  // the unbound symbol itself
    CHECK(o.message.find("undefined-fn") != std::string::npos);
    CHECK(o.message.find("\n 2 |   (undefined-fn a)\n   |    ^") != std::string::npos);
}

TEST_CASE("fuel and wall-clock limits fail the tick not the process", "[lisp-plugin]") {
    vigy_limits fuel{sizeof(vigy_limits), 0, 10000, 0, 0, 0};
    instance i("(define (loop) (loop)) (loop)", fuel);
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick t;
    outcome o = i.tick(t);
    CHECK(o.status == VIGY_RESOURCE_EXHAUSTED);
    CHECK(o.message.find("fuel") != std::string::npos);
    CHECK(o.message.find("10000") != std::string::npos);

    vigy_limits wall{sizeof(vigy_limits), 0, 0, 100, 0, 0};
    instance w("(define (loop) (loop)) (loop)", wall);
    REQUIRE(w.created.status == VIGY_OK);
    o = w.tick(t);
    CHECK(o.status == VIGY_DEADLINE_EXCEEDED);
    CHECK(o.message.find("wall") != std::string::npos);

    // the same instance still works after a failed tick
    instance ok("(+ 1 1)", fuel);
    REQUIRE(ok.tick(t).status == VIGY_OK);
    CHECK(t.output == "2");
}

TEST_CASE("a bad config is refused with a message saying what is wrong", "[lisp-plugin]") {
    vigy_value cfg = vigy_int(3);
    vigy_limits lim{sizeof lim};
    vigy_reconciler_spec spec{sizeof spec, 0,    vigy::sdk::str("lisp"), vigy::sdk::str("3"),
                              &cfg,        &lim, vigy::sdk::str("x")};
    vigy_reconciler* r = nullptr;
    vigy::sdk::error_buffer eb;
    CHECK(plugin().factory->create(&spec, &r, eb.get()) == VIGY_INVALID_ARGUMENT);
    CHECK(r == nullptr);
    CHECK(eb.message().find("got int") != std::string::npos);
}

TEST_CASE("the evaluator polls the tick's cancelled slot about every 1024 steps and stops when it is set",
          "[lisp-plugin][fair]") {
    // The poll is the host's preemption point (fair scheduling, docs/operations.md).
    vigy_limits fuel{sizeof(vigy_limits), 0, 100000, 0, 0, 0};
    instance i("(define (loop n) (loop (+ n 1))) (loop 0)", fuel);
    REQUIRE(i.created.status == VIGY_OK);
    fake_tick free_run;
    const outcome a = i.tick(free_run);
    CHECK(a.status == VIGY_RESOURCE_EXHAUSTED);  // its fuel, not a cancel
    INFO("checkpoints: " << free_run.checkpoints);
    CHECK(free_run.checkpoints >= 100000 / 1024 - 2);
    CHECK(free_run.checkpoints <= 100000 / 1024 + 2);

    fake_tick cancelled;
    cancelled.cancel_after = 3;
    const outcome b = i.tick(cancelled);
    CHECK(b.status == VIGY_CANCELLED);
    CHECK(b.message.find("cancelled") != std::string::npos);
    CHECK(cancelled.checkpoints == 4);
}
