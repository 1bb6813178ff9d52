// tatara-lisp channels and fibers (reference §7): synchronous, single-threaded, never
// blocking. Both are foreign values (print #<foreign>, type-of :foreign) whose state lives
// in the evaluation's region: a channel is a growable ring buffer, a fiber a deferred thunk
// run to completion by go-run.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tatara/native.hpp"

namespace tatara {
namespace {

using args_t = std::span<const value>;

// ---- channels --------------------------------------------------------------------------

const foreign_kind chan_kind{"channel"};

struct channel {
    value* ring;  ///< ring buffer of ring_cap slots (region memory)
    size_t ring_cap;
    size_t head;       ///< index of the oldest item
    size_t count;      ///< queued items
    int64_t capacity;  ///< -1 = unbounded
    bool closed;
};

channel* arg_chan(args_t args, size_t i) {
    value v = args[i];
    if (v.tag != type::foreign || v.as_foreign()->kind != &chan_kind) raise_type("channel", v);
    return static_cast<channel*>(v.as_foreign()->payload);
}

void chan_push(eval_ctx& ctx, channel& c, value v) {
    if (c.count == c.ring_cap) {
        size_t ncap = c.ring_cap ? c.ring_cap * 2 : 8;
        value* nr = ctx.mem().make_array<value>(ncap);
        for (size_t i = 0; i < c.count; ++i) nr[i] = c.ring[(c.head + i) % c.ring_cap];
        c.ring = nr;
        c.ring_cap = ncap;
        c.head = 0;
    }
    c.ring[(c.head + c.count) % c.ring_cap] = v;
    ++c.count;
}

value chan_pop(channel& c) {
    value v = c.ring[c.head];
    c.head = (c.head + 1) % c.ring_cap;
    --c.count;
    return v;
}

// (chan) unbounded, (chan n) holds at most n items (0 accepts nothing).
value nat_chan(eval_ctx& ctx, args_t args) {
    int64_t capacity = -1;
    if (!args.empty()) {
        if (!args[0].is_int()) raise_type("non-negative int", args[0]);
        capacity = args[0].as_int();
        if (capacity < 0) raise_native("chan", "negative capacity");
    }
    auto* c = ctx.make<channel>();
    c->capacity = capacity;
    return ctx.make_foreign(&chan_kind, c);
}

// (>! c v): #t when queued, #f when the channel is full or closed.
value nat_put(eval_ctx& ctx, args_t args) {
    channel* c = arg_chan(args, 0);
    if (c->closed) return value::boolean(false);
    if (c->capacity >= 0 && c->count >= static_cast<uint64_t>(c->capacity)) return value::boolean(false);
    chan_push(ctx, *c, args[1]);
    return value::boolean(true);
}

// (<! c): the oldest item, else :empty, or :closed once closed and drained.
value nat_take(eval_ctx& ctx, args_t args) {
    channel* c = arg_chan(args, 0);
    if (c->count) return chan_pop(*c);
    return ctx.make_keyword(c->closed ? "closed" : "empty");
}

value nat_close(eval_ctx&, args_t args) {
    arg_chan(args, 0)->closed = true;
    return value::nil();
}

// (drain! c): closes c and returns every queued item (an empty list when none).
value nat_drain(eval_ctx& ctx, args_t args) {
    channel* c = arg_chan(args, 0);
    c->closed = true;
    value out;
    value* items = ctx.new_list(c->count, out);
    for (size_t i = 0; c->count; ++i) items[i] = chan_pop(*c);
    return out;
}

value nat_chan_p(eval_ctx&, args_t args) {
    value v = args[0];
    return value::boolean(v.tag == type::foreign && v.as_foreign()->kind == &chan_kind);
}

value nat_chan_closed_p(eval_ctx&, args_t args) { return value::boolean(arg_chan(args, 0)->closed); }

value nat_chan_len(eval_ctx&, args_t args) { return value::integer(static_cast<int64_t>(arg_chan(args, 0)->count)); }

value nat_chan_capacity(eval_ctx& ctx, args_t args) {
    channel* c = arg_chan(args, 0);
    if (c->capacity < 0) return ctx.make_keyword("unbounded");
    return value::integer(c->capacity);
}

// ---- fibers ------------------------------------------------------------------------------

const foreign_kind fiber_kind{"fiber"};

enum class fiber_status : uint8_t { pending, running, done, errored };

struct fiber {
    value thunk;
    value result;  ///< when done
    value error;   ///< when errored: the thrown value or a :fiber-error object
    fiber_status status;
};

fiber* arg_fiber(args_t args, size_t i) {
    value v = args[i];
    if (v.tag != type::foreign || v.as_foreign()->kind != &fiber_kind) raise_type("fiber", v);
    return static_cast<fiber*>(v.as_foreign()->payload);
}

// (go thunk): a :pending fiber; the thunk does not run yet. Any foreign value is accepted
// as the thunk (it fails when run), as in the reference.
value nat_go(eval_ctx& ctx, args_t args) {
    value t = args[0];
    if (!t.is_procedure() && t.tag != type::foreign) raise_type("procedure", t);
    auto* f = ctx.make<fiber>();
    f->thunk = t;
    f->status = fiber_status::pending;
    return ctx.make_foreign(&fiber_kind, f);
}

// (go-run f): runs the thunk on the first call and caches the outcome. Never raises for a
// failing thunk: a thrown value is returned as is, any other error becomes
// #<error :fiber-error "TEXT at S..E">. Limit errors (fuel, memory, time) propagate.
value nat_go_run(eval_ctx& ctx, args_t args) {
    fiber* f = arg_fiber(args, 0);
    switch (f->status) {
    case fiber_status::done: return f->result;
    case fiber_status::errored: return f->error;
    case fiber_status::running: raise_native("go-run", "fiber already running (re-entrant call detected)");
    case fiber_status::pending: break;
    }
    f->status = fiber_status::running;
    try {
        f->result = ctx.call(f->thunk, {});
        f->status = fiber_status::done;
        return f->result;
    } catch (const lisp_error& e) {
        f->error = e.kind() == error_kind::user ? e.thrown() : ctx.make_error("fiber-error", e.describe());
        f->status = fiber_status::errored;
        return f->error;
    }
}

value nat_go_status(eval_ctx& ctx, args_t args) {
    switch (arg_fiber(args, 0)->status) {
    case fiber_status::pending: return ctx.make_keyword("pending");
    case fiber_status::running: return ctx.make_keyword("running");
    case fiber_status::done: return ctx.make_keyword("done");
    case fiber_status::errored: break;
    }
    return ctx.make_keyword("errored");
}

value nat_go_result(eval_ctx&, args_t args) {
    fiber* f = arg_fiber(args, 0);
    return f->status == fiber_status::done ? f->result : value::nil();
}

value nat_go_error(eval_ctx&, args_t args) {
    fiber* f = arg_fiber(args, 0);
    return f->status == fiber_status::errored ? f->error : value::nil();
}

value nat_go_p(eval_ctx&, args_t args) {
    value v = args[0];
    return value::boolean(v.tag == type::foreign && v.as_foreign()->kind == &fiber_kind);
}

}  // namespace

void install_chan_natives(native_registry& r) {
    r.add("chan", 0, 1, nat_chan);
    r.add(">!", 2, 2, nat_put);
    r.add("<!", 1, 1, nat_take);
    r.add("close!", 1, 1, nat_close);
    r.add("drain!", 1, 1, nat_drain);
    r.add("chan?", 1, 1, nat_chan_p);
    r.add("chan-closed?", 1, 1, nat_chan_closed_p);
    r.add("chan-len", 1, 1, nat_chan_len);
    r.add("chan-capacity", 1, 1, nat_chan_capacity);
    r.add("go", 1, 1, nat_go);
    r.add("go-run", 1, 1, nat_go_run);
    r.add("go-status", 1, 1, nat_go_status);
    r.add("go-result", 1, 1, nat_go_result);
    r.add("go-error", 1, 1, nat_go_error);
    r.add("go?", 1, 1, nat_go_p);
}

}  // namespace tatara
