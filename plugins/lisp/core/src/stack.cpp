// tatara-lisp stack extension: when an evaluation's recursion reaches the end of the
// calling thread's native stack, the call continues on a private stack (ucontext switch)
// sized for the depth limit; shallow evaluations never switch. ASan and TSan are told
// about the switches (fiber annotations). Exceptions are carried back across the switch.
#include <sys/mman.h>
#include <ucontext.h>

#include <exception>

#include "internal.hpp"
#include "nodes.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define TATARA_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define TATARA_TSAN 1
#endif

namespace tatara {

namespace {
constexpr size_t k_guard_bytes = 4096;
constexpr size_t k_floor_margin = 256u << 10;
}  // namespace

struct stack_extension {
    char* base = nullptr;
    size_t size = 0;
    bool in_use = false;
    ucontext_t caller{}, callee{};
    const void* caller_bottom = nullptr;
    size_t caller_size = 0;
    eval_state* st = nullptr;
    const closure_obj* c = nullptr;
    const value* argv = nullptr;
    size_t n = 0;
    value result{};
    std::exception_ptr error;
#if defined(TATARA_TSAN)
    void* tsan_caller = nullptr;  ///< TSan's context of the thread that switched here
    void* tsan_fiber = nullptr;   ///< TSan's context of the private stack, per use
#endif

    ~stack_extension() {
        if (base) munmap(base, size);
    }

    bool ensure(size_t bytes) {
        if (base && size >= bytes) return true;
        if (base) munmap(base, size);
        base = nullptr;
        void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) return false;
        base = static_cast<char*>(m);
        size = bytes;
        mprotect(base, k_guard_bytes, PROT_NONE);
        return true;
    }

    static void entry(unsigned lo, unsigned hi) {
        // makecontext passes int arguments: the pointer arrives as two halves
        // NOLINTNEXTLINE(performance-no-int-to-ptr)
        auto* x = reinterpret_cast<stack_extension*>((static_cast<uintptr_t>(hi) << 32) | lo);
#if defined(TATARA_ASAN)
        __sanitizer_finish_switch_fiber(nullptr, &x->caller_bottom, &x->caller_size);
#endif
        char* old = exchange_native_stack_floor(x->base + k_floor_margin);
        try {
            x->result = apply_closure(*x->st, x->c, x->argv, x->n);
        } catch (...) {
            x->error = std::current_exception();
        }
        exchange_native_stack_floor(old);
#if defined(TATARA_ASAN)
        __sanitizer_start_switch_fiber(nullptr, x->caller_bottom, x->caller_size);
#endif
#if defined(TATARA_TSAN)
        __tsan_switch_to_fiber(x->tsan_caller, 0);
#endif
        swapcontext(&x->callee, &x->caller);
    }
};

stack_extension* new_stack_extension() { return new stack_extension(); }
void delete_stack_extension(stack_extension* x) { delete x; }

value apply_on_extension(eval_state& st, const closure_obj* c, const value* argv, size_t n) {
    stack_extension& x = *st.ext;
    if (x.in_use || !x.ensure(st.ext_bytes)) raise_stack_overflow("native stack exhausted");
    x.in_use = true;
    x.st = &st;
    x.c = c;
    x.argv = argv;
    x.n = n;
    x.error = nullptr;
    char* saved_floor = st.stack_floor;
    st.stack_floor = x.base + k_floor_margin;
    getcontext(&x.callee);
    x.callee.uc_stack.ss_sp = x.base;
    x.callee.uc_stack.ss_size = x.size;
    x.callee.uc_link = nullptr;
    auto addr = reinterpret_cast<uintptr_t>(&x);
    makecontext(&x.callee, reinterpret_cast<void (*)()>(&stack_extension::entry), 2,
                static_cast<unsigned>(addr & 0xffffffffu), static_cast<unsigned>(addr >> 32));
#if defined(TATARA_ASAN)
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, x.base, x.size);
#endif
#if defined(TATARA_TSAN)
    x.tsan_caller = __tsan_get_current_fiber();
    x.tsan_fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(x.tsan_fiber, 0);
#endif
    swapcontext(&x.caller, &x.callee);
#if defined(TATARA_ASAN)
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
#if defined(TATARA_TSAN)
    __tsan_destroy_fiber(x.tsan_fiber);
    x.tsan_fiber = nullptr;
#endif
    st.stack_floor = saved_floor;
    x.in_use = false;
    if (x.error) {
        std::exception_ptr e = x.error;
        x.error = nullptr;
        std::rethrow_exception(e);
    }
    return x.result;
}

}  // namespace tatara
