// vigy_lisp_memory_bench: what compiled lisp programs cost and whether their memory comes
// back, measured through the `lisp` plugin's C ABI exactly as a host uses it.
// Usage: vigy_lisp_memory_bench [PLUGIN.so] [--programs N] [--instances N]
//   1. N distinct ~1 MiB programs are created, ticked once and destroyed one after the
//      other: RSS before, at the peak and after.
//   2. N instances of one program: the compiled program's size and the bytes each
//      further instance adds (malloc'd bytes, glibc mallinfo2).
// Prints a final machine-readable line:
//   RESULT programs=N rss_before_kib=B rss_peak_kib=P rss_after_kib=A instances=M
//          compiled_bytes=C bytes_per_instance=I
#include "vigy/sdk.hpp"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

size_t rss_kib() {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

size_t heap_bytes() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;  // arena chunks + mmapped chunks
}

std::string program_of(size_t bytes, const std::string& tag) {
    std::string src = "(define tag \"" + tag + "\")\n";
    for (int i = 0; src.size() < bytes; ++i) {
        std::string n = std::to_string(i);
        src += "(define (f" + n + " x y) (if (> x " + n + ") (+ x y 1) (list \"s\" 'sym :kw (car y))))\n";
    }
    return src + "(list tag (f1 0 (list 1)))";
}

struct tick {
    vigy_tick base{sizeof(vigy_tick), 0, nullptr};
    std::string output;
};

const vigy_tick_api kTickApi = [] {
    vigy_tick_api api{};
    api.struct_size = sizeof api;
    api.info = [](vigy_tick*, vigy_tick_info* out) {
        out->tick_start_ms = 0;
        out->previous_tick_ms = -1;
        out->tick_count = 1;
    };
    api.set_output = [](vigy_tick* t, vigy_str s) { reinterpret_cast<tick*>(t)->output.assign(vigy::sdk::view(s)); };
    return api;
}();

const vigy_host_api kHost = [] {
    vigy_host_api h{};
    h.struct_size = sizeof h;
    h.abi_version = VIGY_ABI_VERSION;
    h.log = [](void*, int32_t, vigy_str m) { std::fprintf(stderr, "plugin: %.*s\n", int(m.len), m.ptr); };
    return h;
}();

const vigy_reconciler_factory* load(const char* path) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        std::fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        std::exit(1);
    }
    auto entry = reinterpret_cast<vigy_plugin_entry_fn>(dlsym(h, VIGY_PLUGIN_ENTRY_SYMBOL));
    const vigy_plugin_descriptor* d = entry ? entry(VIGY_ABI_VERSION) : nullptr;
    vigy::sdk::error_buffer eb;
    if (!d || d->init(&kHost, eb.get()) != VIGY_OK) {
        std::fprintf(stderr, "plugin refused: %s\n", eb.message().c_str());
        std::exit(1);
    }
    return static_cast<const vigy_reconciler_factory*>(d->get_extension(VIGY_RECONCILER_FACTORY_ID));
}

vigy_reconciler* create(const vigy_reconciler_factory* f, const std::string& program) {
    vigy_value cfg = vigy_str_value(VIGY_STRING, program.data(), program.size());
    vigy_limits lim{sizeof lim, 0, 0, 0, 0, 0};
    vigy_reconciler_spec spec{sizeof spec, 0,    vigy::sdk::str("lisp"),        vigy::sdk::str(""),
                              &cfg,        &lim, vigy::sdk::str("bench.tatara")};
    vigy_reconciler* r = nullptr;
    vigy::sdk::error_buffer eb;
    if (f->create(&spec, &r, eb.get()) != VIGY_OK) {
        std::fprintf(stderr, "create failed: %s\n", eb.message().c_str());
        std::exit(1);
    }
    return r;
}

void tick_once(const vigy_reconciler_factory* f, vigy_reconciler* r) {
    tick t;
    t.base.api = &kTickApi;
    vigy::sdk::error_buffer eb;
    if (f->tick(r, &t.base, eb.get()) != VIGY_OK) {
        std::fprintf(stderr, "tick failed: %s\n", eb.message().c_str());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const char* plugin = VIGY_LISP_PLUGIN;
    int programs = 20, instances = 10000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--programs") && i + 1 < argc)
            programs = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
        else if (!std::strcmp(argv[i], "--instances") && i + 1 < argc)
            instances = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
        else
            plugin = argv[i];
    }
    const vigy_reconciler_factory* f = load(plugin);
    {  // the stdlib and the evaluator of this thread exist once per process
        vigy_reconciler* warm = create(f, "(list 1 2)");
        tick_once(f, warm);
        f->destroy(warm);
    }

    const size_t before = rss_kib();
    size_t peak = before;
    for (int i = 0; i < programs; ++i) {
        vigy_reconciler* r = create(f, program_of((1u << 20) - 256, "p" + std::to_string(i)));
        tick_once(f, r);
        peak = std::max(peak, rss_kib());
        f->destroy(r);
    }
    const size_t after = rss_kib();
    std::printf(
        "%d distinct 1 MiB programs created, ticked, destroyed: RSS %zu KiB before, %zu KiB peak, "
        "%zu KiB after\n",
        programs, before, peak, after);

    const std::string shared = program_of(8 * 1024, "shared");
    const size_t h0 = heap_bytes();
    std::vector<vigy_reconciler*> all;
    all.reserve(static_cast<size_t>(instances));
    all.push_back(create(f, shared));
    const size_t h1 = heap_bytes();
    for (int i = 1; i < instances; ++i) all.push_back(create(f, shared));
    const size_t h2 = heap_bytes();
    const size_t per = instances > 1 ? (h2 - h1) / static_cast<size_t>(instances - 1) : 0;
    std::printf(
        "%d instances of one 8 KiB program: compiled program %zu bytes, %zu bytes per further "
        "instance, RSS %zu KiB\n",
        instances, h1 - h0, per, rss_kib());
    for (vigy_reconciler* r : all) f->destroy(r);
    std::printf(
        "RESULT programs=%d rss_before_kib=%zu rss_peak_kib=%zu rss_after_kib=%zu instances=%d "
        "compiled_bytes=%zu bytes_per_instance=%zu\n",
        programs, before, peak, after, instances, h1 - h0, per);
}
