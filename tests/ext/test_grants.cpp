// test_grants.cpp — capabilities per vigy at the registry and tick-context
// level: intrinsics of the six standard extensions run for every tick, those
// of any other plugin only for a tick whose vigy is granted the plugin's id;
// a refused call is PERMISSION_DENIED naming the capability, and the plugin's
// code never runs. Also the capability_set value and an ABI 1.0 plugin
// reading tick info through the grant check.
#include "ext_harness.hpp"
#include "private_tmux.hpp"

#include "vigy/host/capabilities.hpp"
#include "vigy/host/reconciler.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace vigy::host;
using namespace vigy::test;

namespace {

harness& h() {
    static harness instance({builtin_plugin("vigy_ext_kv.so"), builtin_plugin("vigy_ext_scheduling.so"),
                             fixture_plugin("vigy_test_custom_extension.so"),
                             fixture_plugin("vigy_test_abi_1_0_reader.so"), app_plugin("mado_tear.so")});
    return instance;
}

std::string status_and_error(const call_result& r) { return std::string(vigy_status_name(r.status)) + ": " + r.error; }

}  // namespace

// ---- the value ----------------------------------------------------------------------------

TEST_CASE("a capability set always holds the six standard extensions and adds its extra grants", "[ext][grants]") {
    capability_set defaults;
    for (std::string_view id : default_capabilities) CHECK(defaults.allows(id));
    CHECK(default_capabilities.size() == 6);
    CHECK_FALSE(defaults.allows("io.pleme.mado"));
    CHECK(defaults.extra().empty());

    capability_set mado({"io.pleme.mado", "vigy.kv", "com.example.custom", "io.pleme.mado"});
    CHECK(mado.allows("io.pleme.mado"));
    CHECK(mado.allows("com.example.custom"));
    CHECK(mado.allows("vigy.diagnostics"));
    CHECK_FALSE(mado.allows("io.pleme"));
    CHECK(mado.extra() == std::vector<std::string>{"com.example.custom", "io.pleme.mado"});  // sorted, no defaults
    CHECK(mado == capability_set({"com.example.custom", "io.pleme.mado"}));
    CHECK(mado != defaults);
}

TEST_CASE("a capability set refuses an id that cannot be a plugin id", "[ext][grants]") {
    auto error_of = [](std::vector<std::string> ids) {
        try {
            capability_set s(std::move(ids));
        } catch (const vigy::sdk::status_error& e) {
            return std::string(vigy_status_name(e.code())) + ": " + e.what();
        }
        return std::string("no error");
    };
    CHECK(error_of({"io.pleme.mado", ""}) == "invalid-argument: invalid capability id \"\": must not be empty");
    CHECK(error_of({"io pleme"}) ==
          "invalid-argument: invalid capability id \"io pleme\": only letters, digits, '.', '_' and '-' are allowed");
    CHECK(error_of({".io"}) ==
          "invalid-argument: invalid capability id \".io\": must not start or end with '.' or '-'");
    CHECK(error_of({std::string(254, 'a')}) ==
          "invalid-argument: invalid capability id \"" + std::string(254, 'a') + "\": longer than 253 bytes");
    CHECK(error_of({"com.example.custom", "io.pleme.mado-2"}) == "no error");
}

TEST_CASE("the refusal message names the intrinsic and the capability to grant", "[ext][grants]") {
    CHECK(
        not_granted_message("mado-tear-create", "io.pleme.mado") ==
        "mado-tear-create: capability io.pleme.mado is not granted to this vigy (grant it with --allow io.pleme.mado)");
}

// ---- enforcement ---------------------------------------------------------------------------

TEST_CASE("standard intrinsics run for a tick with no grant set", "[ext][grants]") {
    tick_context t = make_tick();
    REQUIRE(t.grants() == nullptr);
    call_result r = h().call(t, "vigy-incr", {value::string("n")});
    INFO(r.error);
    REQUIRE(r.ok());
    CHECK(r.result.as_int() == 1);
    CHECK(h().call(t, "vigy-tick-count").result.as_int() == 1);
}

TEST_CASE("a third-party intrinsic is refused without the grant and runs with it", "[ext][grants]") {
    tick_context refused = make_tick();
    call_result r = h().call(refused, "test-greet", {value::string("vigy")});
    CHECK(status_and_error(r) ==
          "permission-denied: test-greet: capability com.example.custom is not granted to "
          "this vigy (grant it with --allow com.example.custom)");
    CHECK_FALSE(refused.kv_has("greeted"));  // the plugin's function never ran

    capability_set other({"io.pleme.mado"});  // a grant, but not this one
    refused.set_grants(&other);
    CHECK(h().call(refused, "test-double", {value::integer(21)}).status == VIGY_PERMISSION_DENIED);

    capability_set custom({"com.example.custom"});
    tick_context granted = make_tick();
    granted.set_grants(&custom);
    r = h().call(granted, "test-greet", {value::string("vigy")});
    INFO(r.error);
    REQUIRE(r.ok());
    CHECK(r.result.text() == "hello, vigy");
    CHECK(granted.kv_get("greeted")->text() == "hello, vigy");
    // the plugin sees its own data: its argument errors still name it
    r = h().call(granted, "test-double", {value::string("x")});
    CHECK(status_and_error(r) == "invalid-argument: test-double: argument 1 (n) must be an int, got string");
}

TEST_CASE("grants are per tick: a granted vigy's tick does not open the call for the next one", "[ext][grants]") {
    capability_set custom({"com.example.custom"});
    tick_context a = make_tick();
    a.set_grants(&custom);
    REQUIRE(h().call(a, "test-double", {value::integer(2)}).ok());
    tick_context b = make_tick();
    CHECK(h().call(b, "test-double", {value::integer(2)}).status == VIGY_PERMISSION_DENIED);
    a.set_grants(nullptr);  // and a tick whose grants are withdrawn is refused again
    CHECK(h().call(a, "test-double", {value::integer(2)}).status == VIGY_PERMISSION_DENIED);
}

TEST_CASE("a call from a tick handle that is not the host's is refused", "[ext][grants]") {
    const vigy_intrinsic& in = h().intrinsic("test-double");
    std::string message;
    vigy_error err{sizeof err, 0, &message,
                   [](void* ctx, const char* m, size_t n) { static_cast<std::string*>(ctx)->assign(m, n); }};
    vigy_value arg = vigy_int(4);
    vigy_call call{sizeof call, 1, &arg, nullptr, nullptr, &err, in.data};
    vigy_value out = vigy_nil();
    CHECK(in.fn(&call, &out) == VIGY_PERMISSION_DENIED);  // no tick at all
    CHECK(message.find("capability com.example.custom is not granted") != std::string::npos);
    vigy_tick_api other_api{};
    vigy_tick other{sizeof(vigy_tick), 0, &other_api};
    call.tick = &other;
    CHECK(in.fn(&call, &out) == VIGY_PERMISSION_DENIED);  // another vtable: no grants known
}

TEST_CASE("the registrar sees the host's check for guarded intrinsics and the plugin's own for standard ones",
          "[ext][grants]") {
    const registry& reg = h().registry();
    REQUIRE(reg.capability_of("test-double") != nullptr);
    CHECK(*reg.capability_of("test-double") == "com.example.custom");
    CHECK(*reg.capability_of("mado-tear-create") == "io.pleme.mado");
    CHECK(*reg.capability_of("vigy-incr") == "vigy.kv");
    CHECK(reg.capability_of("no-such-intrinsic") == nullptr);
    // one trampoline serves every guarded intrinsic; each standard one is its plugin's own function
    CHECK(h().intrinsic("test-double").fn == h().intrinsic("mado-tear-create").fn);
    CHECK(h().intrinsic("vigy-incr").fn != h().intrinsic("test-double").fn);
    CHECK(h().intrinsic("vigy-incr").fn != h().intrinsic("vigy-tick-count").fn);
    CHECK(std::string(h().intrinsic("mado-tear-create").doc).find("mado-tear-create") != std::string::npos);
}

TEST_CASE("mado-tear-create cannot run a shell command from a vigy without io.pleme.mado", "[ext][grants][mado]") {
    private_tmux s;
    const std::filesystem::path pwned = s.dir / "pwned";
    const std::string command = "sh -c 'touch " + pwned.string() + "; tmux -S " + s.socket + " wait-for -S ran'";

    tick_context refused = make_tick();
    call_result r = h().call(refused, "mado-tear-create", {value::string("x"), value::string(command)});
    CHECK(status_and_error(r) ==
          "permission-denied: mado-tear-create: capability io.pleme.mado is not granted to "
          "this vigy (grant it with --allow io.pleme.mado)");
    CHECK_FALSE(std::filesystem::exists(pwned));
    CHECK(s.tmux("has-session -t =x") != 0);  // no session either

    // The same call from a granted vigy runs the command: the refusal above was the grant check.
    // (Another session keeps the server alive once x's command exits, so the signal is kept.)
    REQUIRE(s.tmux("new-session -d -s keep") == 0);
    capability_set mado({"io.pleme.mado"});
    tick_context granted = make_tick();
    granted.set_grants(&mado);
    r = h().call(granted, "mado-tear-create", {value::string("x"), value::string(command)});
    INFO(r.error);
    REQUIRE(r.ok());
    REQUIRE(s.tmux("wait-for ran") == 0);  // the command ran and signalled
    CHECK(std::filesystem::exists(pwned));
}

TEST_CASE("an abi 1.0 plugin loads and reads tick info through its 1.0 struct", "[ext][grants][abi]") {
    const loaded_plugin* p = h().registry().find_plugin("test.abi10");
    REQUIRE(p != nullptr);
    CHECK(p->abi_version == (1u << 16));
    capability_set grants({"test.abi10"});
    kv_map kv;
    kv["__sys::tick_count"] = value::integer(4);
    tick_context t = make_tick(kv);
    t.set_grants(&grants);
    value trigger = value::map();
    trigger.set("kind", value::string("kv"));
    trigger.set("source", value::string("k"));
    trigger.set("payload", value::nil());
    t.set_trigger(trigger);  // a 1.1 field the 1.0 struct has no room for
    call_result r = h().call(t, "abi10-tick-info");
    INFO(r.error);
    REQUIRE(r.ok());
    CHECK(r.result.as_int() == 5);
}
