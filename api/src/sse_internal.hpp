// api/src/sse_internal.hpp — the server's side of an event_stream (not installed).
#ifndef VIGY_API_SRC_SSE_INTERNAL_HPP
#define VIGY_API_SRC_SSE_INTERNAL_HPP

#include "vigy/api/sse.hpp"

#include <functional>
#include <optional>
#include <string>

namespace vigy::api::detail {

struct event_stream_access {
    /// Connects a stream to a connection: `wake` is called (from any thread)
    /// when there is something to write or the stream closed. False when the
    /// stream was already attached elsewhere.
    static bool attach(event_stream& s, std::function<void()> wake);

    /// What the connection should write next.
    struct batch {
        std::string data;       ///< frames to write (may be empty)
        bool finished = false;  ///< closed and nothing left: end the response
        close_reason reason = close_reason::producer;
    };
    /// Takes queued frames (at least one if any, then up to max_bytes in total).
    static batch take(event_stream& s, std::size_t max_bytes);

    /// The reason when the stream was closed by anything but its producer (dropped
    /// as slow, ended by the server): the connection must stop writing at once.
    static std::optional<close_reason> dropped(const event_stream& s);

    /// Ends the stream from the server's side (client gone, slow, stopping):
    /// drops what is queued. The first reason sticks.
    static void end(event_stream& s, close_reason r);

    /// Calls the on_close callback once (on the calling server thread).
    static void fire_on_close(event_stream& s);
};

}  // namespace vigy::api::detail

#endif  // VIGY_API_SRC_SSE_INTERNAL_HPP
