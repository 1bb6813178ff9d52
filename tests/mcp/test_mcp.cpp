// tests/mcp/test_mcp.cpp — the transport-free MCP dispatcher (vigy/api/mcp.hpp) over a
// real runtime with the built plugins: lifecycle and version negotiation, JSON-RPC
// errors, the catalog's schemas (every structuredContent is checked against its tool's
// outputSchema with RapidJSON's validator), the tools, isError results, --read-only.
#include "vigy/api/mcp.hpp"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>

namespace fs = std::filesystem;
using namespace vigy;
namespace mcp = vigy::api::mcp;

namespace {

struct temp_db {
    fs::path dir;
    fs::path path;
    temp_db() {
        dir = fs::temp_directory_path() / ("vigy-mcp-test-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir);
        path = dir / "vigy.db";
    }
    ~temp_db() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

rapidjson::Document parse(const std::string& s) {
    rapidjson::Document d;
    d.Parse(s.c_str(), s.size());
    INFO(s);
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string json_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return b.GetString();
}

/// A JSON string literal of `s`.
std::string quoted(const std::string& s) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    return b.GetString();
}

struct session {
    temp_db db;
    std::unique_ptr<host::runtime> rt;
    std::unique_ptr<mcp::dispatcher> d;
    int next_id = 1;
    explicit session(bool read_only = false) {
        rt = host::runtime::open(db.path);
        const auto kinds = rt->kinds();
        REQUIRE(std::find(kinds.begin(), kinds.end(), "lisp") != kinds.end());
        mcp::options o;
        o.read_only = read_only;
        d = std::make_unique<mcp::dispatcher>(*rt, o);
    }
    /// A request; returns the whole response document.
    rapidjson::Document request(const std::string& method, const std::string& params = "{}") {
        const auto r = d->handle(R"({"jsonrpc":"2.0","id":)" + std::to_string(next_id++) + R"(,"method":")" + method +
                                 R"(","params":)" + params + "}");
        REQUIRE_FALSE(r.json.empty());
        CHECK(r.json.find('\n') == std::string::npos);
        return parse(r.json);
    }
    /// tools/call; returns the result object (REQUIREs there is one).
    rapidjson::Document call(const std::string& tool, const std::string& args) {
        auto res = request("tools/call", R"({"name":")" + tool + R"(","arguments":)" + args + "}");
        INFO(json_text(res));
        REQUIRE(res.HasMember("result"));
        rapidjson::Document out;
        out.CopyFrom(res["result"], out.GetAllocator());
        return out;
    }
    /// A successful call's structuredContent, validated against the tool's outputSchema.
    rapidjson::Document ok(const std::string& tool, const std::string& args) {
        auto r = call(tool, args);
        INFO(tool << " " << args << " -> " << json_text(r));
        REQUIRE(r["isError"].IsFalse());
        REQUIRE(r.HasMember("structuredContent"));
        const auto& sc = r["structuredContent"];
        CHECK(str(r["content"][0]["text"]) == json_text(sc));
        const mcp::tool* t = nullptr;
        for (const auto& c : mcp::catalog())
            if (c.name == tool) t = &c;
        REQUIRE(t);
        auto schema_doc = parse(t->output_schema);
        rapidjson::SchemaDocument schema(schema_doc);
        rapidjson::SchemaValidator v(schema);
        if (!sc.Accept(v)) {
            rapidjson::StringBuffer where;
            v.GetInvalidSchemaPointer().StringifyUriFragment(where);
            FAIL("structuredContent of " << tool << " violates its outputSchema at " << where.GetString() << " ("
                                         << v.GetInvalidSchemaKeyword() << ")");
        }
        rapidjson::Document out;
        out.CopyFrom(sc, out.GetAllocator());
        return out;
    }
    /// A failed call's text (isError true).
    std::string fails(const std::string& tool, const std::string& args) {
        auto r = call(tool, args);
        INFO(json_text(r));
        REQUIRE(r["isError"].IsTrue());
        CHECK_FALSE(r.HasMember("structuredContent"));
        return str(r["content"][0]["text"]);
    }
};

const std::string counter = quoted("(vigy-set \"n\" (+ 1 (or (vigy-get \"n\") 0)))\n(display \"hi\")\n(vigy-noop)\n");

}  // namespace

TEST_CASE("negotiate answers a served version as asked and the newest otherwise", "[mcp]") {
    CHECK(mcp::negotiate("2025-11-25") == "2025-11-25");
    CHECK(mcp::negotiate("2025-06-18") == "2025-06-18");
    CHECK(mcp::negotiate("2025-03-26") == "2025-03-26");
    CHECK(mcp::negotiate("2024-11-05") == "2025-11-25");
    CHECK(mcp::negotiate("") == "2025-11-25");
}

TEST_CASE("the catalog: eleven tools, each with schemas that parse and annotations", "[mcp]") {
    const auto& c = mcp::catalog();
    std::set<std::string> names;
    for (const auto& t : c) {
        INFO(t.name);
        names.insert(t.name);
        CHECK_FALSE(t.description.empty());
        for (const auto* s : {&t.input_schema, &t.output_schema}) {
            auto d = parse(*s);
            CHECK(str(d["type"]) == "object");
            rapidjson::SchemaDocument compiled(d);  // RapidJSON accepts it as a schema
            (void)compiled;
        }
        if (t.read_only) CHECK_FALSE(t.destructive);
    }
    CHECK(names == std::set<std::string>{"vigy_register", "vigy_list", "vigy_inspect", "vigy_tick", "vigy_enable",
                                         "vigy_disable", "vigy_delete", "vigy_eval", "vigy_check", "vigy_runs",
                                         "vigy_plugins"});
}

TEST_CASE("lifecycle: initialize negotiates, initialized is a notification, ping answers {}", "[mcp]") {
    session s;
    CHECK(s.d->protocol_version().empty());
    auto init = s.request(
        "initialize", R"({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}})");
    CHECK(str(init["result"]["protocolVersion"]) == "2025-06-18");
    CHECK(init["result"]["capabilities"].HasMember("tools"));
    CHECK(str(init["result"]["serverInfo"]["name"]) == "vigy");
    CHECK(s.d->protocol_version() == "2025-06-18");
    CHECK_FALSE(s.d->initialized());
    const auto n = s.d->handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    CHECK(n.json.empty());
    CHECK(s.d->initialized());
    auto old = s.request("initialize", R"({"protocolVersion":"2024-11-05"})");
    CHECK(str(old["result"]["protocolVersion"]) == "2025-11-25");
    auto ping = s.request("ping");
    CHECK(ping["result"].IsObject());
    CHECK(ping["result"].ObjectEmpty());
    CHECK(ping["id"].GetInt() == 3);
}

TEST_CASE("JSON-RPC errors: parse, invalid request, unknown method, bad params", "[mcp]") {
    session s;
    auto r = s.d->handle("{\"jsonrpc\":");
    CHECK(r.bad_message);
    auto d = parse(r.json);
    CHECK(d["error"]["code"].GetInt() == -32700);
    CHECK(d["id"].IsNull());
    r = s.d->handle(R"({"id":1,"method":"ping"})");
    CHECK(r.bad_message);
    CHECK(parse(r.json)["error"]["code"].GetInt() == -32600);
    r = s.d->handle("[]");
    CHECK(parse(r.json)["error"]["code"].GetInt() == -32600);
    d = s.request("prompts/list");
    CHECK(d["error"]["code"].GetInt() == -32601);
    CHECK(str(d["error"]["message"]).find("prompts/list") != std::string::npos);
    d = s.request("initialize", "{}");
    CHECK(d["error"]["code"].GetInt() == -32602);
    d = s.request("tools/call", R"({"name":"vigy_nope"})");
    CHECK(d["error"]["code"].GetInt() == -32602);
    CHECK(str(d["error"]["message"]).find("unknown tool \"vigy_nope\" (known: vigy_register") != std::string::npos);
    d = s.request("tools/call", R"({"name":"vigy_list","arguments":[1]})");
    CHECK(d["error"]["code"].GetInt() == -32602);
    d = s.request("tools/list", R"({"cursor":"x"})");
    CHECK(d["error"]["code"].GetInt() == -32602);
    // a notification of an unknown method and a response are answered by nothing
    CHECK(s.d->handle(R"({"jsonrpc":"2.0","method":"notifications/whatever"})").json.empty());
    CHECK(s.d->handle(R"({"jsonrpc":"2.0","id":5,"result":{}})").json.empty());
    // a batch: the answers in order
    r = s.d->handle(
        R"([{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"b","method":"x"}])");
    d = parse(r.json);
    REQUIRE(d.IsArray());
    REQUIRE(d.Size() == 2);
    CHECK(str(d[0]["id"]) == "a");
    CHECK(d[1]["error"]["code"].GetInt() == -32601);
}

TEST_CASE("tools: register, tick, inspect, runs, enable/disable, delete, eval, check, plugins", "[mcp][needs-lisp]") {
    session s;
    auto list = s.request("tools/list");
    CHECK(list["result"]["tools"].Size() == 11);

    auto reg = s.ok("vigy_register",
                    R"({"name":"counter","program":)" + counter + R"(,"tick_interval_ms":60000,"labels":{"app":"x"}})");
    CHECK(str(reg["outcome"]) == "created");
    CHECK(reg["vigy"]["enabled"].IsTrue());
    CHECK(str(s.ok("vigy_register", R"({"name":"counter","program":)" + counter +
                                        R"(,"tick_interval_ms":60000,"labels":{"app":"x"}})")["outcome"]) ==
          "unchanged");
    auto l = s.ok("vigy_list", R"({"label_selector":"app=x"})");
    REQUIRE(l["items"].Size() == 1);
    CHECK(s.ok("vigy_list", R"({"label_selector":"app=y"})")["items"].Size() == 0);

    auto run = s.ok("vigy_tick", R"({"id":"counter"})");
    CHECK(str(run["result"]) == "ok");
    CHECK(str(run["output"]).find("hi") != std::string::npos);
    s.ok("vigy_tick", R"({"id":"counter"})");
    auto insp = s.ok("vigy_inspect", R"({"id":"counter"})");
    CHECK(insp["recent_runs"].Size() == 2);
    auto runs = s.ok("vigy_runs", R"({"id":"counter","after_seq":)" + std::to_string(run["seq"].GetInt64()) + "}");
    REQUIRE(runs["items"].Size() == 1);
    CHECK(runs["items"][0]["kv_writes"]["n"].GetInt() == 2);
    CHECK(runs["more"].IsFalse());

    CHECK(s.ok("vigy_disable", R"({"id":"counter"})")["enabled"].IsFalse());
    CHECK(s.ok("vigy_enable", R"({"id":"counter"})")["enabled"].IsTrue());

    auto ev = s.ok("vigy_eval", R"({"program":)" + counter + R"(,"ticks":3,"kv":{"n":10}})");
    CHECK(ev["ticks"].Size() == 3);
    CHECK(ev["kv"]["n"].GetInt() == 13);
    CHECK(s.ok("vigy_check", R"({"program":)" + counter + "}")["valid"].IsTrue());
    auto bad = s.ok("vigy_check", R"({"program":"(vigy-noop)\n\n   (foo"})");
    CHECK(bad["valid"].IsFalse());
    CHECK(bad["line"].GetInt() == 3);
    CHECK(bad["column"].GetInt() >= 4);

    auto plugins = s.ok("vigy_plugins", "{}");
    bool lisp = false;
    for (const auto& p : plugins["items"].GetArray())
        for (const auto& k : p["kinds"].GetArray()) lisp = lisp || str(k["kind"]) == "lisp";
    CHECK(lisp);

    auto del = s.ok("vigy_delete", R"({"id":"counter","keep_history":false})");
    CHECK(del["deleted"].IsTrue());
    CHECK_FALSE(s.rt->find("counter"));
}

TEST_CASE("tool failures are isError results an agent can act on", "[mcp][needs-lisp]") {
    session s;
    s.ok("vigy_register", R"J({"name":"alpha","program":"(vigy-noop)"})J");
    s.ok("vigy_register", R"J({"name":"beta","program":"(vigy-noop)"})J");
    CHECK(s.fails("vigy_inspect", R"({"id":"foo"})") == "vigy \"foo\" not found; known: alpha, beta");
    CHECK(s.fails("vigy_tick", R"({"id":"foo"})").find("known: alpha, beta") != std::string::npos);
    CHECK(s.fails("vigy_delete", R"({"id":"foo"})").find("not found") != std::string::npos);
    const auto inv =
        s.fails("vigy_register", R"J({"name":"x","program":"(vigy-noop)","tick_interval_ms":5,"labels":{"a":1}})J");
    CHECK(inv.find("invalid arguments of vigy_register: ") == 0);
    CHECK(inv.find("/tick_interval_ms: must be an integer >= 100") != std::string::npos);
    CHECK(inv.find("/labels/a: must be a string") != std::string::npos);
    CHECK(s.fails("vigy_register", R"J({"name":"x","program":"(vigy-noop)","schedule":{}})J")
              .find("/schedule: unknown argument") != std::string::npos);
    CHECK(s.fails("vigy_list", R"({"limit":"ten"})") ==
          "invalid arguments of vigy_list: /limit: must be an integer from 1 to 500");
    CHECK(s.fails("vigy_list", R"({"label_selector":"a in (b"})").find("invalid-argument: ") == 0);
    const auto broken = s.fails("vigy_register", R"({"name":"broken","program":"(vigy-noop"})");
    CHECK(broken.find("does not build") != std::string::npos);
    CHECK(broken.find(":1:") != std::string::npos);
    CHECK_FALSE(s.rt->find("broken"));
    CHECK(s.fails("vigy_eval", R"({"program":"(vigy-noop","ticks":2})").find("the program does not build") == 0);
    CHECK(s.fails("vigy_eval", R"J({"program":"(vigy-noop)","ticks":0})J").find("/ticks") != std::string::npos);
    CHECK(s.fails("vigy_check", R"J({"program":"(vigy-noop)","ticks":2})J").find("/ticks: unknown argument") !=
          std::string::npos);
    // a tick that fails is a result, not an error: the run says failed
    s.ok("vigy_register", R"J({"name":"failing","program":"(frobnicate 1)"})J");
    auto run = s.ok("vigy_tick", R"({"id":"failing"})");
    CHECK(str(run["result"]) == "failed");
    // the per-tick limits apply to evaluations through MCP
    auto spin =
        s.ok("vigy_eval", R"J({"program":"(define (spin n) (spin (+ n 1)))\n(spin 0)","limits":{"fuel":100000}})J");
    CHECK(str(spin["ticks"][0]["result"]) == "failed");
    CHECK(str(spin["ticks"][0]["error"]).find("fuel exhausted") != std::string::npos);
}

TEST_CASE("read_only lists and allows only the read-only tools", "[mcp][needs-lisp]") {
    session s(true);
    vigy::host::vigy_spec spec;
    spec.name = "kept";
    spec.config_json = R"J({"program":"(vigy-noop)"})J";
    s.rt->register_or_update(spec);
    auto list = s.request("tools/list");
    std::set<std::string> names;
    for (const auto& t : list["result"]["tools"].GetArray()) {
        names.insert(str(t["name"]));
        CHECK(t["annotations"]["readOnlyHint"].IsTrue());
    }
    CHECK(names ==
          std::set<std::string>{"vigy_list", "vigy_inspect", "vigy_eval", "vigy_check", "vigy_runs", "vigy_plugins"});
    for (const std::string t : {"vigy_register", "vigy_tick", "vigy_enable", "vigy_disable", "vigy_delete"}) {
        INFO(t);
        auto d = s.request("tools/call", R"({"name":")" + t +
                                             R"J(","arguments":{"id":"kept","name":"kept","program":"(vigy-noop)"}})J");
        CHECK(d["error"]["code"].GetInt() == -32602);
        CHECK(str(d["error"]["message"]).find("read-only") != std::string::npos);
    }
    CHECK(s.rt->get("kept").enabled);
    CHECK(s.rt->recent_runs("kept").empty());
    CHECK(s.ok("vigy_inspect", R"({"id":"kept"})")["recent_runs"].Size() == 0);
}
