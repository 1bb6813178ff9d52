// api/src/mcp.cpp — the MCP dispatcher (JSON-RPC 2.0: lifecycle, ping, tools/list,
// tools/call, batches) and its Streamable HTTP route (POST /mcp).
#include "mcp_internal.hpp"

#include "vigy/api/json.hpp"
#include "vigy/api/resources.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <spdlog/spdlog.h>

namespace vigy::api::mcp {

namespace {

constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int method_not_found = -32601;
constexpr int invalid_params = -32602;
constexpr int internal_error = -32603;

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

/// Writes the request's id (a string or a number) or null.
void write_id(json_writer& w, const rapidjson::Value* id) {
    if (id && id->IsString()) {
        write_string(w, str(*id));
    } else if (id && id->IsInt64()) {
        w.Int64(id->GetInt64());
    } else if (id && id->IsUint64()) {
        w.Uint64(id->GetUint64());
    } else if (id && id->IsNumber()) {
        w.Double(id->GetDouble());
    } else {
        w.Null();  // absent, or neither a string nor a number
    }
}

std::string error_response(const rapidjson::Value* id, int code, const std::string& message) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("jsonrpc");
    w.String("2.0");
    w.Key("id");
    write_id(w, id);
    w.Key("error");
    w.StartObject();
    w.Key("code");
    w.Int(code);
    w.Key("message");
    write_string(w, message);
    w.EndObject();
    w.EndObject();
    return text(buf);
}

std::string result_response(const rapidjson::Value* id, const std::string& result_json) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("jsonrpc");
    w.String("2.0");
    w.Key("id");
    write_id(w, id);
    w.Key("result");
    write_raw_json(w, result_json, "{}");
    w.EndObject();
    return text(buf);
}

/// A JSON-RPC error to answer with.
struct rpc_error {
    int code;
    std::string message;
};

void write_tool(json_writer& w, const tool& t) {
    w.StartObject();
    w.Key("name");
    write_string(w, t.name);
    w.Key("title");
    write_string(w, t.title);
    w.Key("description");
    write_string(w, t.description);
    w.Key("inputSchema");
    write_raw_json(w, t.input_schema);
    w.Key("outputSchema");
    write_raw_json(w, t.output_schema);
    w.Key("annotations");
    w.StartObject();
    w.Key("title");
    write_string(w, t.title);
    w.Key("readOnlyHint");
    w.Bool(t.read_only);
    w.Key("destructiveHint");
    w.Bool(t.destructive);
    w.Key("idempotentHint");
    w.Bool(t.idempotent);
    w.Key("openWorldHint");
    w.Bool(false);
    w.EndObject();
    w.EndObject();
}

/// {"content":[{"type":"text","text":...}],"structuredContent":...,"isError":false}
std::string tool_result(const std::string& structured) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("content");
    w.StartArray();
    w.StartObject();
    w.Key("type");
    w.String("text");
    w.Key("text");
    write_string(w, structured);
    w.EndObject();
    w.EndArray();
    w.Key("structuredContent");
    write_raw_json(w, structured, "{}");
    w.Key("isError");
    w.Bool(false);
    w.EndObject();
    return text(buf);
}

std::string tool_failure(const std::string& message) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("content");
    w.StartArray();
    w.StartObject();
    w.Key("type");
    w.String("text");
    w.Key("text");
    write_string(w, message);
    w.EndObject();
    w.EndArray();
    w.Key("isError");
    w.Bool(true);
    w.EndObject();
    return text(buf);
}

std::string known_tools(const options& o) {
    std::string list;
    for (const auto& t : catalog())
        if (t.read_only || !o.read_only) list += (list.empty() ? "" : ", ") + t.name;
    return list;
}

}  // namespace

std::string_view negotiate(std::string_view requested) noexcept {
    for (auto v : protocol_versions)
        if (v == requested) return v;
    return protocol_versions.front();
}

dispatcher::dispatcher(host::runtime& rt, options o) : rt_(rt), o_(std::move(o)) {}

std::string dispatcher::protocol_version() const {
    std::lock_guard lock(mu_);
    return version_;
}

bool dispatcher::initialized() const {
    std::lock_guard lock(mu_);
    return initialized_;
}

std::string dispatcher::handle_one(const rapidjson::Value& m) {
    const rapidjson::Value* id = nullptr;
    if (m.IsObject() && m.HasMember("id")) {
        const auto& i = m["id"];
        if (i.IsString() || i.IsNumber()) id = &i;
    }
    if (!m.IsObject() || !m.HasMember("jsonrpc") || !m["jsonrpc"].IsString() || str(m["jsonrpc"]) != "2.0")
        return error_response(id, invalid_request,
                              "not a JSON-RPC 2.0 message: an object with \"jsonrpc\": \"2.0\" is required");
    if (!m.HasMember("method")) {
        // a response to a request of ours (we send none) or garbage
        if (m.HasMember("result") || m.HasMember("error")) return {};
        return error_response(id, invalid_request, "a JSON-RPC request needs a \"method\"");
    }
    if (!m["method"].IsString()) return error_response(id, invalid_request, "\"method\" must be a string");
    const std::string method = str(m["method"]);
    const bool is_request = m.HasMember("id");
    if (is_request && !id) return error_response(nullptr, invalid_request, "\"id\" must be a string or a number");
    const rapidjson::Value* params = m.HasMember("params") ? &m["params"] : nullptr;
    if (params && !params->IsObject())
        return is_request ? error_response(id, invalid_params, "\"params\" of " + method + " must be an object")
                          : std::string();

    if (!is_request) {  // notifications: nothing is answered, ever
        if (method == "notifications/initialized") {
            std::lock_guard lock(mu_);
            initialized_ = true;
        } else if (method != "notifications/cancelled" && method.rfind("notifications/", 0) != 0) {
            spdlog::debug("mcp: ignoring notification {}", method);
        }
        return {};
    }

    try {
        if (method == "initialize") {
            if (!params || !params->HasMember("protocolVersion") || !(*params)["protocolVersion"].IsString())
                return error_response(id, invalid_params,
                                      "initialize needs params.protocolVersion (a string, e.g. \"" +
                                          std::string(protocol_versions.front()) + "\")");
            const std::string_view v = negotiate(str((*params)["protocolVersion"]));
            {
                std::lock_guard lock(mu_);
                version_ = std::string(v);
            }
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("protocolVersion");
            write_string(w, v);
            w.Key("capabilities");
            w.StartObject();
            w.Key("tools");
            w.StartObject();
            w.Key("listChanged");
            w.Bool(false);
            w.EndObject();
            w.EndObject();
            w.Key("serverInfo");
            w.StartObject();
            w.Key("name");
            write_string(w, o_.server_name);
            w.Key("title");
            w.String("vigy reconciler runtime");
            w.Key("version");
            write_string(w, o_.server_version);
            w.EndObject();
            w.Key("instructions");
            w.String(
                o_.read_only
                    ? "vigy runs reconciler programs (tatara-lisp) on schedules. This server is read-only: list and "
                      "inspect vigies, read their runs, list plugins and intrinsics (vigy_plugins), and try programs "
                      "in memory with vigy_check and vigy_eval."
                    : "vigy runs reconciler programs (tatara-lisp) on schedules. Before registering a program, learn "
                      "the intrinsics with vigy_plugins, check it with vigy_check and dry-run it with vigy_eval; then "
                      "vigy_register, vigy_tick and vigy_runs to watch it work.");
            w.EndObject();
            return result_response(id, text(buf));
        }
        if (method == "ping") return result_response(id, "{}");
        if (method == "tools/list") {
            if (params && params->HasMember("cursor"))
                return error_response(id, invalid_params, "unknown cursor: tools/list returns every tool on one page");
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("tools");
            w.StartArray();
            for (const auto& t : catalog())
                if (t.read_only || !o_.read_only) write_tool(w, t);
            w.EndArray();
            w.EndObject();
            return result_response(id, text(buf));
        }
        if (method == "tools/call") {
            if (!params || !params->HasMember("name") || !(*params)["name"].IsString())
                return error_response(id, invalid_params,
                                      "tools/call needs params.name (a string: one of " + known_tools(o_) + ")");
            const std::string name = str((*params)["name"]);
            const tool* t = detail::find_tool(name);
            if (!t)
                return error_response(id, invalid_params,
                                      "unknown tool \"" + name + "\" (known: " + known_tools(o_) + ")");
            if (o_.read_only && !t->read_only)
                return error_response(id, invalid_params,
                                      "tool \"" + name + "\" changes the database and this server is read-only " +
                                          "(vigy mcp --read-only); available: " + known_tools(o_));
            static const rapidjson::Value empty(rapidjson::kObjectType);
            const rapidjson::Value* args = &empty;
            if (params->HasMember("arguments")) {
                args = &(*params)["arguments"];
                if (!args->IsObject())
                    return error_response(id, invalid_params, "params.arguments of tools/call must be an object");
            }
            try {
                return result_response(id, tool_result(detail::call_tool(rt_, o_, *t, *args)));
            } catch (const detail::tool_error& e) {
                return result_response(id, tool_failure(e.what()));
            } catch (const status_error& e) {
                return result_response(id, tool_failure(std::string(code_name(e.code())) + ": " + e.what()));
            }
        }
        return error_response(
            id, method_not_found,
            "method \"" + method + "\" not found (this server offers initialize, ping, " + "tools/list, tools/call)");
    } catch (const detail::bad_params& e) {
        return error_response(id, invalid_params, e.what());
    } catch (const std::exception& e) {
        spdlog::error("mcp: {} failed: {}", method, e.what());
        return error_response(id, internal_error, std::string("internal error: ") + e.what());
    }
}

reply dispatcher::handle(std::string_view message) {
    reply out;
    rapidjson::Document doc;
    try {
        doc = parse_json(message);
    } catch (const http_error& e) {
        out.json = error_response(nullptr, parse_error, "parse error: " + e.get().detail);
        out.bad_message = true;
        return out;
    } catch (const std::exception& e) {
        out.json = error_response(nullptr, parse_error, std::string("parse error: ") + e.what());
        out.bad_message = true;
        return out;
    }
    if (doc.IsArray()) {
        if (doc.Empty()) {
            out.json = error_response(nullptr, invalid_request, "an empty batch");
            out.bad_message = true;
            return out;
        }
        std::string joined;
        for (const auto& m : doc.GetArray()) {
            std::string r = handle_one(m);
            if (r.empty()) continue;
            joined += (joined.empty() ? "[" : ",") + r;
        }
        if (!joined.empty()) out.json = joined + "]";
        return out;
    }
    out.json = handle_one(doc);
    if (!doc.IsObject() || !doc.HasMember("jsonrpc")) out.bad_message = !out.json.empty();
    return out;
}

// ---- Streamable HTTP ------------------------------------------------------------------

std::shared_ptr<dispatcher> mount(router& r, host::runtime& rt, options o, std::string path) {
    auto d = std::make_shared<dispatcher>(rt, std::move(o));
    r.post(path, [d](request& req) {
        if (const auto v = req.header("MCP-Protocol-Version")) {
            bool known = false;
            for (auto p : protocol_versions) known = known || p == *v;
            if (!known) {
                std::string list;
                for (auto p : protocol_versions) list += (list.empty() ? "" : ", ") + std::string(p);
                return response::json(400, error_response(nullptr, invalid_request,
                                                          "unsupported MCP-Protocol-Version \"" + std::string(*v) +
                                                              "\" (supported: " + list + ")"));
            }
        }
        if (const auto accept = req.header("Accept")) {
            const std::string a(*accept);
            if (a.find("application/json") == std::string::npos && a.find("*/*") == std::string::npos &&
                a.find("application/*") == std::string::npos)
                return response::json(406, error_response(nullptr, invalid_request,
                                                          "Accept must include application/json (this server answers "
                                                          "with JSON, not event streams)"));
        }
        if (const auto ct = req.header("Content-Type")) {
            const std::string c(*ct);
            if (c.rfind("application/json", 0) != 0)
                throw http_error(VIGY_INVALID_ARGUMENT, "Content-Type " + c + " is not JSON: send application/json",
                                 status_hint::unsupported_media_type);
        }
        const reply rep = d->handle(req.body);
        if (rep.json.empty()) return response::empty(202);
        return response::json(rep.bad_message ? 400 : 200, rep.json);
    });
    return d;
}

}  // namespace vigy::api::mcp
