// api/src/sse.cpp — SSE framing, cursors, and the bounded per-stream queue.
#include "vigy/api/sse.hpp"

#include "sse_internal.hpp"
#include "vigy/api/problem.hpp"

#include <charconv>
#include <stdexcept>

namespace vigy::api {

namespace {

void check_field(std::string_view value, const char* field) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        throw std::invalid_argument(std::string("SSE ") + field + " must not contain CR, LF or NUL");
}

/// Appends "<prefix><line>\n" for every line of `text` (CRLF, CR and LF end lines).
void append_lines(std::string& out, std::string_view prefix, std::string_view text) {
    std::size_t start = 0;
    while (true) {
        std::size_t end = text.find_first_of("\r\n", start);
        out += prefix;
        if (end == std::string_view::npos) {
            out += text.substr(start);
            out += '\n';
            return;
        }
        out += text.substr(start, end - start);
        out += '\n';
        if (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ++end;
        start = end + 1;
        if (start == text.size()) return;  // a trailing newline ends the last line, it does not start one
    }
}

}  // namespace

std::string format_sse(const sse_event& e) {
    check_field(e.id, "id");
    check_field(e.event, "event name");
    std::string out;
    out.reserve(e.data.size() + e.id.size() + e.event.size() + 24);
    if (!e.id.empty()) {
        out += "id: ";
        out += e.id;
        out += '\n';
    }
    if (!e.event.empty()) {
        out += "event: ";
        out += e.event;
        out += '\n';
    }
    append_lines(out, "data: ", e.data);
    out += '\n';
    return out;
}

std::string format_sse_comment(std::string_view text) {
    std::string out;
    append_lines(out, ": ", text);
    out += '\n';
    return out;
}

std::optional<std::string> last_event_id(const request& r) {
    const auto h = r.header("Last-Event-ID");
    if (!h) return std::nullopt;
    std::string_view v = *h;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

int64_t parse_cursor(std::string_view text, std::string_view what) {
    int64_t v = -1;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end || v < 0) {
        std::string shown(text.substr(0, 64));
        for (char& c : shown)
            if (static_cast<unsigned char>(c) < 0x20) c = '?';
        throw http_error(VIGY_INVALID_ARGUMENT,
                         "invalid " + std::string(what) + " \"" + shown + "\": expected a non-negative integer");
    }
    return v;
}

const char* close_reason_name(close_reason r) noexcept {
    switch (r) {
    case close_reason::producer: return "producer";
    case close_reason::client: return "client";
    case close_reason::slow_consumer: return "slow-consumer";
    case close_reason::max_duration: return "max-duration";
    case close_reason::server_stopped: return "server-stopped";
    case close_reason::rejected: return "rejected";
    }
    return "producer";
}

event_stream::event_stream(options o) : options_(std::move(o)) {
    if (options_.max_queued_events == 0) options_.max_queued_events = 1;
    if (options_.max_queued_bytes == 0) options_.max_queued_bytes = 1;
}

event_stream::~event_stream() = default;

std::shared_ptr<event_stream> event_stream::create(options o) {
    return std::shared_ptr<event_stream>(new event_stream(std::move(o)));
}

std::shared_ptr<event_stream> event_stream::create() { return create(options{}); }

bool event_stream::push(std::string frame) {
    std::function<void()> wake;
    bool accepted = false;
    {
        std::lock_guard lock(mu_);
        if (closed_) return false;
        if (queue_.size() + 1 > options_.max_queued_events || bytes_ + frame.size() > options_.max_queued_bytes) {
            closed_ = true;
            reason_ = close_reason::slow_consumer;
            queue_.clear();
            bytes_ = 0;
            wake = wake_;
            space_cv_.notify_all();
        } else {
            bytes_ += frame.size();
            queue_.push_back(std::move(frame));
            accepted = true;
            if (!notify_pending_ && wake_) {
                notify_pending_ = true;
                wake = wake_;
            }
        }
    }
    if (wake) wake();
    return accepted;
}

bool event_stream::send(const sse_event& e) { return push(format_sse(e)); }

bool event_stream::comment(std::string_view text) { return push(format_sse_comment(text)); }

void event_stream::close() {
    std::function<void()> wake;
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
        reason_ = close_reason::producer;
        wake = wake_;
        space_cv_.notify_all();
    }
    if (wake) wake();
}

bool event_stream::closed() const {
    std::lock_guard lock(mu_);
    return closed_;
}

close_reason event_stream::reason() const {
    std::lock_guard lock(mu_);
    return reason_;
}

bool event_stream::wait_for_space(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    space_cv_.wait_for(lock, timeout, [&] {
        return closed_ || (queue_.size() <= options_.max_queued_events / 2 && bytes_ <= options_.max_queued_bytes / 2);
    });
    return !closed_ && queue_.size() <= options_.max_queued_events / 2 && bytes_ <= options_.max_queued_bytes / 2;
}

std::size_t event_stream::queued_bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
}

std::size_t event_stream::queued_events() const {
    std::lock_guard lock(mu_);
    return queue_.size();
}

void event_stream::on_close(std::function<void(close_reason)> callback) {
    std::lock_guard lock(mu_);
    on_close_ = std::move(callback);
}

namespace detail {

bool event_stream_access::attach(event_stream& s, std::function<void()> wake) {
    std::lock_guard lock(s.mu_);
    if (s.attached_) return false;
    s.attached_ = true;
    s.wake_ = std::move(wake);
    s.notify_pending_ = false;
    return true;
}

event_stream_access::batch event_stream_access::take(event_stream& s, std::size_t max_bytes) {
    batch b;
    {
        std::lock_guard lock(s.mu_);
        while (!s.queue_.empty() && (b.data.empty() || b.data.size() + s.queue_.front().size() <= max_bytes)) {
            s.bytes_ -= s.queue_.front().size();
            if (b.data.empty())
                b.data = std::move(s.queue_.front());
            else
                b.data += s.queue_.front();
            s.queue_.pop_front();
        }
        if (s.queue_.empty()) s.notify_pending_ = false;
        b.finished = s.closed_ && s.queue_.empty();
        b.reason = s.reason_;
    }
    s.space_cv_.notify_all();
    return b;
}

std::optional<close_reason> event_stream_access::dropped(const event_stream& s) {
    std::lock_guard lock(s.mu_);
    if (s.closed_ && s.reason_ != close_reason::producer) return s.reason_;
    return std::nullopt;
}

void event_stream_access::end(event_stream& s, close_reason r) {
    {
        std::lock_guard lock(s.mu_);
        if (!s.closed_) {
            s.closed_ = true;
            s.reason_ = r;
        }
        s.queue_.clear();
        s.bytes_ = 0;
        s.wake_ = nullptr;
    }
    s.space_cv_.notify_all();
}

void event_stream_access::fire_on_close(event_stream& s) {
    std::function<void(close_reason)> cb;
    close_reason r;
    {
        std::lock_guard lock(s.mu_);
        if (s.on_close_called_) return;
        s.on_close_called_ = true;
        cb = std::move(s.on_close_);
        s.on_close_ = nullptr;
        r = s.reason_;
    }
    if (cb) {
        try {
            cb(r);
        } catch (...) {  // a callback's failure must not take the server's thread down
        }
    }
}

}  // namespace detail

}  // namespace vigy::api
