/// vigy/api/mcp.hpp — the Model Context Protocol server of vigy: one transport-free
/// dispatcher (a JSON-RPC 2.0 message in, the response out) over a runtime, used by
/// two transports: `vigy mcp` (stdio, newline-delimited messages) and `POST /mcp` on
/// `vigy serve` (Streamable HTTP, JSON responses). docs/mcp.md describes the tools.
///
///     auto rt = vigy::Runtime::open(db);
///     vigy::api::mcp::dispatcher mcp(*rt, {.read_only = true});
///     std::string line;
///     while (std::getline(std::cin, line))
///         if (auto r = mcp.handle(line); !r.json.empty()) std::cout << r.json << '\n';
///
/// Protocol: initialize negotiates the version (protocol_versions: the client's when
/// supported, else the newest), notifications/initialized, ping, tools/list,
/// tools/call; the one capability is `tools`. Batches (a JSON array, 2025-03-26) are
/// answered with an array. Errors: not JSON -32700, not a JSON-RPC request -32600,
/// unknown method -32601, bad params (a missing tool name, arguments that are not an
/// object, an unknown or — under read_only — a mutating tool) -32602, an internal
/// failure -32603. A tool that fails (bad argument values, an unknown vigy, a program
/// that does not build, any vigy::status_error) is a result with `isError: true` and
/// a text an agent can act on ("vigy \"foo\" not found; known: a, b").
///
/// Tools (catalog()): vigy_register, vigy_list, vigy_inspect, vigy_tick, vigy_enable,
/// vigy_disable, vigy_delete, vigy_eval, vigy_check, vigy_runs, vigy_plugins; each
/// with an inputSchema, an outputSchema and annotations (readOnlyHint,
/// destructiveHint, idempotentHint). A successful call returns `structuredContent`
/// (the object of the outputSchema, in the one JSON codec of resources.hpp) and the
/// same object as a text content item. With options::read_only only the tools whose
/// readOnlyHint is true are listed and callable.
///
/// Ticks and evaluations run through the runtime (runtime::tick_now,
/// runtime::evaluate) under the same per-tick limits as every other tick; what a
/// program prints is captured in its run's `output`, never written anywhere.
///
/// Threading: a dispatcher is thread-safe (the HTTP server calls handle() from its
/// worker threads); the runtime must outlive it. handle() blocks for as long as the
/// tool runs (a forced tick waits up to options::tick_wait_ms for a scheduler).
#ifndef VIGY_API_MCP_HPP
#define VIGY_API_MCP_HPP

#include "vigy/api/router.hpp"
#include "vigy/host/runtime.hpp"

#include <rapidjson/fwd.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::api::mcp {

/// The protocol versions served, newest first.
inline constexpr std::array<std::string_view, 3> protocol_versions = {"2025-11-25", "2025-06-18", "2025-03-26"};

/// The version initialize answers for a client asking `requested`: `requested` when
/// it is in protocol_versions, else the newest. Pure.
std::string_view negotiate(std::string_view requested) noexcept;

/// How a dispatcher serves.
struct options {
    /// Only the read-only tools (vigy_list, vigy_inspect, vigy_eval, vigy_check,
    /// vigy_runs, vigy_plugins); calling another is -32602.
    bool read_only = false;
    /// serverInfo of the initialize result.
    std::string server_name = "vigy";
    std::string server_version = "0.1.0";
    /// vigy_tick: how long to wait for a scheduler to take the tick (ms) when the
    /// call does not say (its `wait_ms`).
    int64_t tick_wait_ms = 5000;
};

/// One tool of the catalog.
struct tool {
    std::string name;           ///< "vigy_register"
    std::string title;          ///< "Register a vigy"
    std::string description;    ///< what it does, for the model
    std::string input_schema;   ///< JSON Schema (an object schema) as JSON text
    std::string output_schema;  ///< JSON Schema of structuredContent as JSON text
    bool read_only = false;     ///< annotations.readOnlyHint
    bool destructive = false;   ///< annotations.destructiveHint
    bool idempotent = false;    ///< annotations.idempotentHint
};

/// Every tool, in the order tools/list shows them. Static; any thread.
const std::vector<tool>& catalog();

/// What handle() produced.
struct reply {
    /// The response (an object, or an array for a batch) as one line of compact
    /// JSON (no newline inside); "" when nothing is due (notifications, responses).
    std::string json;
    /// The message was not JSON or not a JSON-RPC message (-32700/-32600 with id
    /// null): Streamable HTTP answers it with 400.
    bool bad_message = false;
};

/// The transport-free MCP server over one runtime.
class dispatcher {
public:
    explicit dispatcher(host::runtime& rt, options o = {});
    dispatcher(const dispatcher&) = delete;
    dispatcher& operator=(const dispatcher&) = delete;

    /// Handles one message (request, notification, response or batch) as JSON text.
    /// Never throws (a failure becomes a JSON-RPC error or an isError result).
    reply handle(std::string_view message);

    /// The version the last initialize negotiated ("" before one).
    std::string protocol_version() const;
    /// True once notifications/initialized arrived.
    bool initialized() const;
    const options& settings() const noexcept { return o_; }

private:
    std::string handle_one(const rapidjson::Value& message);
    host::runtime& rt_;
    options o_;
    mutable std::mutex mu_;
    std::string version_;
    bool initialized_ = false;
};

/// Mounts Streamable HTTP on `r` at POST `path` over `rt` (GET and DELETE on it are
/// 405: no server-initiated stream, no sessions). The server's token, Host and
/// Origin rules apply as to every route. A body of notifications/responses only is
/// 202 with no body; a request is 200 application/json; a body that is not JSON-RPC
/// 400 with the JSON-RPC error; an MCP-Protocol-Version header naming a version not
/// served 400; an Accept header that takes neither application/json nor */* 406; a
/// Content-Type that is not JSON 415 (problem+json). The returned dispatcher serves
/// the route: keep it alive while the server serves. Throws std::invalid_argument
/// when the route is taken.
std::shared_ptr<dispatcher> mount(router& r, host::runtime& rt, options o = {}, std::string path = "/mcp");

}  // namespace vigy::api::mcp

#endif  // VIGY_API_MCP_HPP
