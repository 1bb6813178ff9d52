/// vigy/api/sse.hpp — Server-Sent Events streams with Kubernetes watch semantics.
///
/// A handler creates an `event_stream`, wires a producer to it (e.g. the
/// runtime's run subscription) and returns `response::events(stream)`. The
/// server answers `200 text/event-stream` (Cache-Control: no-cache,
/// X-Accel-Buffering: no, chunked), writes `retry: <ms>` first, then every
/// event sent, a `: keep-alive` comment whenever nothing was written for
/// keepalive_ms, and the bookmark hook's event every bookmark_ms.
///
/// Bounded, never blocking: send() only appends to a per-stream queue
/// (max_queued_events / max_queued_bytes). A client that reads slower than the
/// producer writes fills it; the stream is then dropped (reason slow_consumer:
/// the connection is closed, the queue freed) and send() returns false, so a
/// producer is never stalled and memory never grows without bound. A dropped
/// EventSource reconnects with Last-Event-ID and the handler resumes from there
/// with no gap (the store is the source of truth, as in a Kubernetes watch).
///
/// Resume: `last_event_id(request)` is the client's Last-Event-ID header
/// (browsers resend it on reconnect); `parse_cursor` turns it (or an
/// after_seq / resource_version query parameter) into an int64 with a 400 for
/// garbage. A cursor older than what retention kept is answered by the handler
/// with 410 Gone: http_error(VIGY_FAILED_PRECONDITION, ..., status_hint::cursor_expired);
/// the client re-lists, then watches from the list's resource_version.
///
/// Threading: send(), close(), closed() and wait_for_space() are thread-safe
/// and may be called from any thread, including a runtime callback. The
/// on_close callback, the bookmark hook and the producer body are called by
/// the server (see each), never from inside send() or close().
#ifndef VIGY_API_SSE_HPP
#define VIGY_API_SSE_HPP

#include "vigy/api/http.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace vigy::api {

/// One SSE message. Empty fields are omitted on the wire.
struct sse_event {
    std::string id;     ///< `id:` (the resume cursor: a run's seq, a resource_version); no CR/LF
    std::string event;  ///< `event:` name ("run", "ADDED", "bookmark"); no CR/LF; "" = "message"
    std::string data;   ///< `data:` payload; each line becomes its own data: line
};

/// The wire form of an event: "id: 7\nevent: run\ndata: {...}\n\n". Throws
/// std::invalid_argument when `id` or `event` contains CR, LF or NUL (they
/// would split the field), or `id` contains NUL. CR LF / CR in data are
/// normalised to data: lines. An event with no field at all gives "data: \n\n".
std::string format_sse(const sse_event& e);
/// A comment line block (": text\n\n"); CR/LF in `text` end the comment early,
/// so each line becomes its own comment.
std::string format_sse_comment(std::string_view text);

/// The request's Last-Event-ID header, trimmed; nullopt when absent or empty.
std::optional<std::string> last_event_id(const request& r);

/// Parses a resume cursor: a decimal int64 >= 0. Throws http_error 400
/// invalid-argument naming `what` ("invalid Last-Event-ID \"abc\": expected a
/// non-negative integer").
int64_t parse_cursor(std::string_view text, std::string_view what);

/// Why a stream ended.
enum class close_reason {
    producer,        ///< close() was called: the server ends the response cleanly
    client,          ///< the client disconnected (or a write failed)
    slow_consumer,   ///< the queue overflowed or a write timed out: dropped
    max_duration,    ///< the stream reached options::max_duration_ms
    server_stopped,  ///< the server is stopping
    rejected,        ///< never started: the server's stream cap was reached (429)
};
/// "producer" | "client" | "slow-consumer" | "max-duration" | "server-stopped" | "rejected".
const char* close_reason_name(close_reason r) noexcept;

class event_stream;
namespace detail {
struct event_stream_access;
}

/// A live SSE response body.
class event_stream : public std::enable_shared_from_this<event_stream> {
public:
    struct options {
        /// Queue bounds: when either is exceeded the stream is dropped (slow_consumer).
        std::size_t max_queued_events = 8192;
        std::size_t max_queued_bytes = 8u << 20;  ///< 8 MiB of formatted events
        /// `retry:` sent first: how long (ms) an EventSource waits before reconnecting; 0 = not sent.
        int64_t retry_ms = 2000;
        /// A `: keep-alive` comment after this many ms without a write (proxies,
        /// dead-peer detection); 0 = never.
        int64_t keepalive_ms = 15000;
        /// Every bookmark_ms the server calls `bookmark` on its event loop and
        /// sends the event it returns (Kubernetes watch bookmarks: the current
        /// resource_version, so a client can resume without replaying). Must be
        /// cheap and never block. 0 or no hook = no bookmarks.
        int64_t bookmark_ms = 0;
        std::function<std::optional<sse_event>()> bookmark;
        /// End the stream cleanly after this many ms (the client reconnects with
        /// Last-Event-ID; spreads long-lived watches over restarts). 0 = never.
        int64_t max_duration_ms = 0;
        /// Run once on a worker thread when the server has attached the stream
        /// (the response head is written): a producer body that may block —
        /// e.g. backfill from the store with wait_for_space() between pages,
        /// then hand over to a live subscription. Optional.
        std::function<void(const std::shared_ptr<event_stream>&)> producer;
    };

    /// A stream with the given options (not yet attached to any connection).
    static std::shared_ptr<event_stream> create(options o);
    static std::shared_ptr<event_stream> create();

    event_stream(const event_stream&) = delete;
    event_stream& operator=(const event_stream&) = delete;
    ~event_stream();

    /// Queues an event (formatted now, on the caller's thread). Never blocks.
    /// Returns false when the stream is closed, or when this event overflowed
    /// the queue (the stream is then dropped as slow_consumer). Throws
    /// std::invalid_argument like format_sse for an event that cannot be framed.
    bool send(const sse_event& e);
    /// Queues a comment (": text"). Same rules as send().
    bool comment(std::string_view text);

    /// Ends the stream: what is queued is still written, then the response ends
    /// (reason producer). Idempotent; never blocks.
    void close();

    /// True once the stream has ended or been dropped (producers should stop).
    bool closed() const;
    /// Why it ended (meaningful once closed()).
    close_reason reason() const;

    /// Blocks until the queue holds at most half of both bounds, the stream
    /// closes, or `timeout` passes. Returns true when there is space (false:
    /// closed or timed out). For producer bodies pacing a backfill; never call
    /// it from the event loop or a runtime callback.
    bool wait_for_space(std::chrono::milliseconds timeout);

    /// Bytes and events currently queued (not yet written to the socket).
    std::size_t queued_bytes() const;
    std::size_t queued_events() const;

    /// Called once when the stream ends, for any reason, with that reason — on
    /// a server thread (never inside send()/close()), so it may release a
    /// runtime subscription. Set it before returning the stream from the
    /// handler. A stream never handed to a server never calls it.
    void on_close(std::function<void(close_reason)> callback);

    const options& settings() const noexcept { return options_; }

private:
    friend struct detail::event_stream_access;
    explicit event_stream(options o);

    bool push(std::string frame);

    options options_;
    mutable std::mutex mu_;
    std::condition_variable space_cv_;
    std::deque<std::string> queue_;
    std::size_t bytes_ = 0;
    bool closed_ = false;
    close_reason reason_ = close_reason::producer;
    bool notify_pending_ = false;
    bool attached_ = false;
    std::function<void()> wake_;
    std::function<void(close_reason)> on_close_;
    bool on_close_called_ = false;
};

}  // namespace vigy::api

#endif  // VIGY_API_SSE_HPP
