// test_tick_context.cpp — the host tick context behind vigy_tick_api.
#include "vigy/host/tick_context.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <limits>

using namespace vigy::host;

namespace {
struct err_sink {
    std::string message;
    vigy_error err{sizeof(vigy_error), 0, this,
                   [](void* c, const char* m, size_t n) { static_cast<err_sink*>(c)->message.assign(m, n); }};
};
vigy_str s(std::string_view v) { return vigy_str{v.data(), v.size()}; }
constexpr vigy_str absent{nullptr, 0};
}  // namespace

TEST_CASE("tick bookkeeping derives tick_count and previous_tick_ms from __sys keys and writes them dirty",
          "[ext][tick]") {
    tick_context first = tick_context::begin({}, 5000);
    CHECK(first.tick_count() == 1);
    CHECK(first.previous_tick_ms() == -1);
    kv_changes ch = first.changes();
    CHECK(ch.upserts.at("__sys::tick_count").as_int() == 1);
    CHECK(ch.upserts.at("__sys::prev_tick_ms").as_int() == 5000);

    kv_map kv = ch.upserts;
    tick_context second = tick_context::begin(kv, 6000, "name", "id");
    CHECK(second.tick_count() == 2);
    CHECK(second.previous_tick_ms() == 5000);
    vigy_tick_info info{};
    info.struct_size = sizeof info;
    second.tick()->api->info(second.tick(), &info);
    CHECK(info.tick_start_ms == 6000);
    CHECK(info.previous_tick_ms == 5000);
    CHECK(info.tick_count == 2);
    CHECK(std::string(info.vigy_name.ptr, info.vigy_name.len) == "name");

    kv_map corrupt{{"__sys::tick_count", value::string("x")}};
    CHECK(tick_clock_from_kv(corrupt).tick_count == 1);
}

TEST_CASE("tick info fills only the caller's struct_size", "[ext][tick]") {
    tick_context t = tick_context::begin({}, 7000);
    struct {
        vigy_tick_info head;
        int64_t canary;
    } small{};
    small.head.struct_size = offsetof(vigy_tick_info, previous_tick_ms);  // an older, shorter struct
    small.head.previous_tick_ms = 99;
    small.canary = 123;
    t.tick()->api->info(t.tick(), &small.head);
    CHECK(small.head.tick_start_ms == 7000);
    CHECK(small.head.previous_tick_ms == 99);  // untouched
    CHECK(small.canary == 123);
}

TEST_CASE("tick info reports no trigger for a scheduled tick and the trigger map of a triggered one",
          "[ext][tick][abi]") {
    tick_context t = tick_context::begin({}, 7000);
    vigy_tick_info info{};
    info.struct_size = sizeof info;
    info.trigger = reinterpret_cast<const vigy_value*>(&info);  // must be overwritten with NULL
    t.tick()->api->info(t.tick(), &info);
    CHECK(info.trigger == nullptr);
    CHECK_FALSE(t.trigger().has_value());

    value trigger = value::map();
    trigger.set("kind", value::string("kv"));
    trigger.set("source", value::string("orders"));
    trigger.set("payload", value::integer(3));
    t.set_trigger(trigger);
    REQUIRE(t.trigger().has_value());
    t.tick()->api->info(t.tick(), &info);
    REQUIRE(info.trigger != nullptr);
    CHECK(value::from_vigy(*info.trigger) == trigger);
    CHECK(value::from_vigy(*info.trigger).to_json() == R"({"kind":"kv","source":"orders","payload":3})");

    t.set_trigger(std::nullopt);
    t.tick()->api->info(t.tick(), &info);
    CHECK(info.trigger == nullptr);
}

TEST_CASE("an abi 1.0 caller's tick info is filled up to its size and never past it", "[ext][tick][abi]") {
    tick_context t = tick_context::begin({}, 7000, "name", "id");
    value trigger = value::map();
    trigger.set("kind", value::string("event"));
    t.set_trigger(trigger);
    struct {
        unsigned char bytes[VIGY_TICK_INFO_SIZE_1_0];
        unsigned char guard[16];
    } old{};
    std::memset(old.guard, 0xA5, sizeof old.guard);
    uint32_t size = VIGY_TICK_INFO_SIZE_1_0;
    std::memcpy(old.bytes, &size, sizeof size);
    t.tick()->api->info(t.tick(), reinterpret_cast<vigy_tick_info*>(old.bytes));
    for (unsigned char g : old.guard) CHECK(g == 0xA5);
    int64_t tick_count = 0;
    std::memcpy(&tick_count, old.bytes + offsetof(vigy_tick_info, tick_count), sizeof tick_count);
    CHECK(tick_count == 1);
}

TEST_CASE("emit_action validates kind and result and records in order", "[ext][tick]") {
    tick_context t = tick_context::begin({}, 1);
    const vigy_tick_api* api = t.tick()->api;
    err_sink e;
    vigy_action a{};
    a.struct_size = sizeof a;
    a.kind = s("pull");
    vigy_value payload = vigy_int(5);
    a.payload = &payload;
    REQUIRE(api->emit_action(t.tick(), &a, &e.err) == VIGY_OK);
    a.kind = s("frobnicate");
    CHECK(api->emit_action(t.tick(), &a, &e.err) == VIGY_INVALID_ARGUMENT);
    CHECK(e.message ==
          "unknown action kind \"frobnicate\" (valid kinds: noop, defer, pull, push, create, update, delete, apply, "
          "restart, custom)");
    a.kind = s("noop");
    a.payload = nullptr;
    a.result = s("great");
    CHECK(api->emit_action(t.tick(), &a, &e.err) == VIGY_INVALID_ARGUMENT);
    CHECK(e.message == "unknown action result \"great\" (valid results: ok, failed, skipped)");
    a.result = s("ok");
    a.message = s("m");
    REQUIRE(api->emit_action(t.tick(), &a, nullptr) == VIGY_OK);
    CHECK(t.actions_json() == R"([{"kind":"pull","payload":5},{"kind":"noop","result":"ok","message":"m"}])");
}

TEST_CASE("conditions: latest per name wins last_transition moves only on a status change", "[ext][tick]") {
    std::vector<condition_record> prev{{"Ready", "True", "Old", std::nullopt, 1000},
                                       {"Healthy", "True", std::nullopt, std::nullopt, 2000},
                                       {"Other", "False", std::nullopt, std::nullopt, 3000}};
    tick_params p;
    p.tick_start_ms = 9000;
    p.previous_conditions = prev;
    tick_context t(std::move(p));
    const vigy_tick_api* api = t.tick()->api;
    err_sink e;
    REQUIRE(api->set_condition(t.tick(), s("Ready"), VIGY_CONDITION_FALSE, absent, absent, &e.err) == VIGY_OK);
    REQUIRE(api->set_condition(t.tick(), s("Ready"), VIGY_CONDITION_TRUE, s("InSync"), s("msg"), &e.err) == VIGY_OK);
    REQUIRE(api->set_condition(t.tick(), s("Healthy"), VIGY_CONDITION_FALSE, s("Backoff"), absent, &e.err) == VIGY_OK);
    CHECK(api->set_condition(t.tick(), s("X"), 7, absent, absent, &e.err) == VIGY_INVALID_ARGUMENT);
    CHECK(e.message.find("unknown condition status 7") == 0);
    REQUIRE(t.conditions().size() == 2);
    CHECK(t.conditions()[0].type == "Ready");
    CHECK(t.conditions()[0].status == "True");
    CHECK(t.conditions()[0].reason == "InSync");
    CHECK(t.conditions()[0].last_transition_ms == 1000);  // same status as before: kept
    CHECK(t.conditions()[1].last_transition_ms == 9000);  // changed: this tick
    std::vector<condition_record> merged = t.merged_conditions();
    REQUIRE(merged.size() == 3);
    CHECK(merged[0].type == "Other");
    // JSON round trip (RFC 3339)
    std::vector<condition_record> back = conditions_from_json(t.conditions_json());
    REQUIRE(back.size() == 2);
    CHECK(back[0].last_transition_ms == 1000);
    CHECK(back[0].message == "msg");
    CHECK_FALSE(back[1].message.has_value());
    CHECK(t.conditions_json().find("\"last_transition\":\"1970-01-01T00:00:01.000Z\"") != std::string::npos);
    CHECK_THROWS_AS(conditions_from_json("{}"), json_error);
    CHECK_THROWS_AS(conditions_from_json(R"([{"name":"a","status":"true","last_transition":"yesterday"}])"),
                    json_error);
}

TEST_CASE("kv: set/del tracking a key set then deleted ends deleted values keep their type", "[ext][tick]") {
    kv_map kv{{"keep", value::integer(1)}, {"gone", value::string("x")}};
    tick_params p;
    p.kv = kv;
    tick_context t(std::move(p));
    const vigy_tick_api* api = t.tick()->api;
    err_sink e;
    arena ar;
    vigy_value out;
    REQUIRE(api->kv_get(t.tick(), s("keep"), ar.get(), &out, &e.err) == VIGY_OK);
    CHECK(out.type == VIGY_INT);
    CHECK(api->kv_get(t.tick(), s("nope"), ar.get(), &out, &e.err) == VIGY_NOT_FOUND);
    value m = value::map();
    m.set("list", value::list({value::integer(1), value::real(2.0)}));
    arena ar2;
    vigy_value mv = m.to_vigy(ar2.c());
    REQUIRE(api->kv_set(t.tick(), s("map"), &mv, &e.err) == VIGY_OK);
    REQUIRE(api->kv_set(t.tick(), s("tmp"), &mv, &e.err) == VIGY_OK);
    REQUIRE(api->kv_del(t.tick(), s("tmp"), &e.err) == VIGY_OK);
    REQUIRE(api->kv_del(t.tick(), s("gone"), &e.err) == VIGY_OK);
    REQUIRE(api->kv_del(t.tick(), s("never"), &e.err) == VIGY_OK);
    CHECK(api->kv_has(t.tick(), s("map")) == 1);
    CHECK(api->kv_has(t.tick(), s("gone")) == 0);
    kv_changes ch = t.changes();
    REQUIRE(ch.upserts.size() == 1);
    CHECK(ch.upserts.at("map") == m);
    CHECK(ch.deleted == std::set<std::string, std::less<>>{"gone", "tmp"});
    CHECK(t.kv_changes_json() == R"({"set":{"map":{"list":[1,2.0]}},"deleted":["gone","tmp"]})");
    // a deleted key set again is an upsert, not a deletion
    REQUIRE(api->kv_set(t.tick(), s("gone"), &mv, &e.err) == VIGY_OK);
    CHECK(t.changes().deleted.count("gone") == 0);
    // arena refusing: RESOURCE_EXHAUSTED
    arena tiny(16);
    CHECK(api->kv_get(t.tick(), s("map"), tiny.get(), &out, &e.err) == VIGY_RESOURCE_EXHAUSTED);
}

TEST_CASE("log trace metrics events desired observed and output buffers and bad levels/types rejected", "[ext][tick]") {
    tick_context t = tick_context::begin({}, 1);
    const vigy_tick_api* api = t.tick()->api;
    err_sink e;
    vigy_value one = vigy_int(1), two = vigy_int(2);
    REQUIRE(api->log(t.tick(), VIGY_LOG_WARN, s("careful"), &e.err) == VIGY_OK);
    CHECK(api->log(t.tick(), 9, s("x"), &e.err) == VIGY_INVALID_ARGUMENT);
    REQUIRE(api->trace(t.tick(), s("k"), &one, &e.err) == VIGY_OK);
    REQUIRE(api->trace(t.tick(), s("k"), &two, &e.err) == VIGY_OK);
    REQUIRE(api->metric(t.tick(), s("m"), 1.5, &e.err) == VIGY_OK);
    REQUIRE(api->metric(t.tick(), s("inf"), std::numeric_limits<double>::infinity(), &e.err) == VIGY_OK);
    REQUIRE(api->event(t.tick(), VIGY_EVENT_WARNING, s("Boom"), s("it broke"), &e.err) == VIGY_OK);
    CHECK(api->event(t.tick(), 5, s("Boom"), s("x"), &e.err) == VIGY_INVALID_ARGUMENT);
    REQUIRE(api->set_desired(t.tick(), s("count"), &one, &e.err) == VIGY_OK);
    REQUIRE(api->set_observed(t.tick(), s("count"), &two, &e.err) == VIGY_OK);
    api->set_output(t.tick(), s("42"));
    CHECK(t.log_json() == R"([{"level":"warn","message":"careful"}])");
    CHECK(t.trace_json() == R"({"k":2})");
    CHECK(t.metrics_json() == R"({"m":1.5,"inf":null})");
    CHECK(t.events_json() == R"([{"type":"Warning","reason":"Boom","message":"it broke"}])");
    CHECK(t.desired_json() == R"({"count":1})");
    CHECK(t.observed_json() == R"({"count":2})");
    CHECK(t.output() == "42");
    std::string all = t.to_json();
    CHECK(all.find(
              R"("tick":{"start":"1970-01-01T00:00:00.001Z","start_ms":1,"previous_tick_ms":null,"tick_count":1})") !=
          std::string::npos);
    CHECK(all.find(R"("output":"42")") != std::string::npos);
    CHECK(value::from_json(all).is_map());
    CHECK(api->cancelled(t.tick()) == 0);
    t.cancel();
    CHECK(api->cancelled(t.tick()) == 1);
}

TEST_CASE("rfc 3339 timestamps format and parse", "[ext][tick]") {
    CHECK(format_rfc3339_ms(1700000000123) == "2023-11-14T22:13:20.123Z");
    CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(parse_rfc3339_ms("2023-11-14T22:13:20.123Z") == 1700000000123);
    CHECK(parse_rfc3339_ms("2023-11-14T22:13:20Z") == 1700000000000);
    CHECK(parse_rfc3339_ms("2023-11-14T23:13:20.5+01:00") == 1700000000500);
    CHECK_FALSE(parse_rfc3339_ms("2023-11-14 nope").has_value());
    CHECK_FALSE(parse_rfc3339_ms("2023-11-14T22:13:20.123").has_value());
}
