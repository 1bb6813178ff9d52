// api/src/mcp_internal.hpp — what the MCP dispatcher (mcp.cpp) and the tools
// (mcp_tools.cpp) share (not installed).
#ifndef VIGY_API_MCP_INTERNAL_HPP
#define VIGY_API_MCP_INTERNAL_HPP

#include "vigy/api/mcp.hpp"

#include <rapidjson/document.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace vigy::api::mcp::detail {

/// A tool call that failed in a way the agent can fix: becomes a result with
/// isError true and what() as its text.
struct tool_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A tools/call whose request itself is wrong (unknown tool): -32602 with what().
struct bad_params : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The catalog entry named `name`, or nullptr.
const tool* find_tool(std::string_view name);

/// Runs tool `t` with `args` (an object) and returns its structuredContent as compact
/// JSON text (an object). Throws tool_error or vigy::status_error for a failure the
/// agent can act on (the dispatcher turns both into isError results).
std::string call_tool(host::runtime& rt, const options& o, const tool& t, const rapidjson::Value& args);

}  // namespace vigy::api::mcp::detail

#endif  // VIGY_API_MCP_INTERNAL_HPP
