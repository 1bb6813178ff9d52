// tests/api/test_sse.cpp — SSE framing, resume cursors and the bounded stream queue.
#include "vigy/api/problem.hpp"
#include "vigy/api/sse.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace vigy::api;
using namespace std::chrono_literals;

TEST_CASE("events are framed with id event and one data line per line", "[api][sse]") {
    CHECK(format_sse({"7", "run", "{\"seq\":7}"}) == "id: 7\nevent: run\ndata: {\"seq\":7}\n\n");
    CHECK(format_sse({"", "", "a\nb\r\nc\rd"}) == "data: a\ndata: b\ndata: c\ndata: d\n\n");
    CHECK(format_sse({"", "", "trailing\n"}) == "data: trailing\n\n");
    CHECK(format_sse({"", "", ""}) == "data: \n\n");
    CHECK(format_sse({"", "", "\n"}) == "data: \n\n");
    CHECK(format_sse({"", "", "a\n\nb"}) == "data: a\ndata: \ndata: b\n\n");
    CHECK(format_sse_comment("keep-alive") == ": keep-alive\n\n");
    CHECK(format_sse_comment("a\nb") == ": a\n: b\n\n");
}

TEST_CASE("an id or event name that would split the field is refused", "[api][sse]") {
    CHECK_THROWS_WITH(format_sse({"1\n2", "", "x"}), "SSE id must not contain CR, LF or NUL");
    CHECK_THROWS_WITH(format_sse({"1", "ru\rn", "x"}), "SSE event name must not contain CR, LF or NUL");
    CHECK_THROWS_WITH(format_sse({std::string("1\0", 2), "", "x"}), "SSE id must not contain CR, LF or NUL");
}

TEST_CASE("resume cursors parse as non-negative integers or answer 400", "[api][sse]") {
    CHECK(parse_cursor("0", "Last-Event-ID") == 0);
    CHECK(parse_cursor("9223372036854775807", "after_seq") == INT64_MAX);
    for (const char* bad : {"", "-1", "abc", "12x", " 1", "9223372036854775808", "1.5"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_cursor(bad, "after_seq"), http_error);
    }
    try {
        (void)parse_cursor("abc", "Last-Event-ID");
    } catch (const http_error& e) {
        CHECK(e.get().status == 400);
        CHECK(std::string(e.what()) == "invalid Last-Event-ID \"abc\": expected a non-negative integer");
    }
    request r;
    CHECK_FALSE(last_event_id(r));
    r.headers.add("last-event-id", "  ");
    CHECK_FALSE(last_event_id(r));
    r.headers.set("Last-Event-ID", " 42 ");
    CHECK(last_event_id(r).value() == "42");
}

TEST_CASE("an overflowing queue drops the stream instead of blocking or growing", "[api][sse]") {
    event_stream::options o;
    o.max_queued_events = 3;
    auto s = event_stream::create(o);
    CHECK(s->send({"1", "", "a"}));
    CHECK(s->send({"2", "", "b"}));
    CHECK(s->send({"3", "", "c"}));
    CHECK(s->queued_events() == 3);
    CHECK_FALSE(s->send({"4", "", "d"}));  // the 4th overflows: dropped as slow
    CHECK(s->closed());
    CHECK(s->reason() == close_reason::slow_consumer);
    CHECK(s->queued_events() == 0);
    CHECK(s->queued_bytes() == 0);
    CHECK_FALSE(s->send({"5", "", "e"}));
}

TEST_CASE("the byte bound drops a stream too", "[api][sse]") {
    event_stream::options o;
    o.max_queued_bytes = 100;
    auto s = event_stream::create(o);
    CHECK(s->send({"", "", std::string(50, 'x')}));
    CHECK(s->queued_bytes() == format_sse({"", "", std::string(50, 'x')}).size());
    CHECK_FALSE(s->send({"", "", std::string(50, 'y')}));
    CHECK(s->reason() == close_reason::slow_consumer);
}

TEST_CASE("close ends a stream for good and sends fail after it", "[api][sse]") {
    auto s = event_stream::create();
    CHECK_FALSE(s->closed());
    s->close();
    s->close();
    CHECK(s->closed());
    CHECK(s->reason() == close_reason::producer);
    CHECK_FALSE(s->send({"1", "", "x"}));
    CHECK_FALSE(s->comment("x"));
    CHECK_FALSE(s->wait_for_space(10ms));
    CHECK(std::string(close_reason_name(close_reason::slow_consumer)) == "slow-consumer");
}

TEST_CASE("wait_for_space returns at once below half the bounds and wakes on close", "[api][sse]") {
    event_stream::options o;
    o.max_queued_events = 4;
    auto s = event_stream::create(o);
    CHECK(s->wait_for_space(1ms));
    for (int i = 0; i < 3; ++i) CHECK(s->send({"", "", "x"}));
    std::thread closer([&] { s->close(); });
    CHECK_FALSE(s->wait_for_space(10s));  // returns when closed, long before 10 s
    closer.join();
}
