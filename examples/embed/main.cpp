// examples/embed/main.cpp — an application embedding vigy.
//
// It opens a vigy database with vigy::Runtime, adds its OWN in-process plugin (the
// "app" intrinsics and the "app.autoscaler" kind, app_plugin.cpp) next to the plugins
// found on disk, registers one vigy that keeps the app's worker count in line with its
// queue depth, subscribes to the committed runs, and serves for a few seconds while a
// producer thread moves the queue depth around.
//
//   vigy-embed-example [--db PATH] [--seconds N] [--interval MS]
//
// Without --db it uses a temporary database (removed at exit). With the lisp plugin
// available the vigy is a tatara-lisp program calling the app's intrinsics; without it,
// the app's native kind.
#include "app_plugin.hpp"

#include "vigy/host/runtime.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include <unistd.h>

namespace {

const char* const program = R"((define depth (app-queue-depth))
(define want (max 1 (min 16 (ceiling (/ depth 10)))))
(vigy-observed "queue_depth" depth)
(vigy-desired "workers" want)
(if (= want (app-workers))
    (vigy-noop)
    (app-scale-to want))
(vigy-log "info" "autoscaler ticked")
want
)";

/// {"program": text, "source_name": name} through RapidJSON.
std::string lisp_config(const std::string& program, const std::string& source_name) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("program");
    w.String(program.c_str(), static_cast<rapidjson::SizeType>(program.size()));
    w.Key("source_name");
    w.String(source_name.c_str(), static_cast<rapidjson::SizeType>(source_name.size()));
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

int usage() {
    std::cerr << "usage: vigy-embed-example [--db PATH] [--seconds N] [--interval MS]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::filesystem::path db;
    int seconds = 5;
    int64_t interval_ms = 250;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        if (a == "--db")
            db = argv[++i];
        else if (a == "--seconds")
            seconds = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
        else if (a == "--interval")
            interval_ms = std::strtoll(argv[++i], nullptr, 10);
        else
            return usage();
    }
    std::filesystem::path temp_dir;
    if (db.empty()) {
        temp_dir = std::filesystem::temp_directory_path() / ("vigy-embed-" + std::to_string(::getpid()));
        std::filesystem::create_directories(temp_dir);
        db = temp_dir / "vigy.db";
    }

    int rc = 0;
    try {
        vigy::RuntimeOptions options;
        options.static_plugins.push_back({"embed-example", &app::plugin_entry});
        auto rt = vigy::Runtime::open(db, options);

        vigy::host::vigy_spec spec;
        spec.name = "autoscaler";
        spec.interval_ms = interval_ms;
        spec.labels = {{"app", "embed-example"}};
        spec.allow = {"com.example.app"};  // the app's own intrinsics: granted explicitly, like --allow
        const auto kinds = rt->kinds();
        if (std::find(kinds.begin(), kinds.end(), "lisp") != kinds.end()) {
            spec.kind = "lisp";
            spec.config_json = lisp_config(program, "autoscaler.tatara");
        } else {
            spec.kind = "app.autoscaler";
        }
        if (auto problem = rt->check(spec)) std::cerr << "warning: " << *problem << "\n";
        const auto v = rt->register_or_update(spec);
        std::cout << "registered " << v.name << " (" << v.kind << ", every " << v.interval_ms << " ms) in "
                  << db.string() << "\n";

        auto sub = rt->subscribe([](const vigy::host::run& r) {
            std::cout << "tick " << r.tick_count << " " << vigy::host::run_result_name(r.result) << " " << r.duration_us
                      << " us  workers=" << app::app_state().workers.load() << "  actions=" << r.actions_json;
            if (!r.error.empty()) std::cout << "  error: " << r.error;
            std::cout << std::endl;
        });

        rt->start();
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        int64_t step = 0;
        while (std::chrono::steady_clock::now() < end) {  // the "application": a queue that fills and drains
            app::app_state().queue_depth = (step % 20) < 10 ? (step % 20) * 15 : (20 - step % 20) * 15;
            ++step;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        rt->stop();
        sub.reset();
        const auto st = rt->stats();
        std::cout << "ticks ok: " << st.ticks_ok << ", failed: " << st.ticks_failed
                  << ", workers now: " << app::app_state().workers.load() << "\n";
        for (const auto& kv : rt->kv("autoscaler")) std::cout << "kv " << kv.key << " = " << kv.value_json << "\n";
    } catch (const vigy::status_error& e) {
        std::cerr << "error: " << e.what() << "\n";
        rc = 1;
    }
    if (!temp_dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(temp_dir, ec);
    }
    return rc;
}
