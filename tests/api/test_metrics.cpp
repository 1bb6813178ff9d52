// tests/api/test_metrics.cpp — metric families and the Prometheus text format 0.0.4.
#include "vigy/api/metrics.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <thread>

using namespace vigy::api;

TEST_CASE("counters gauges and histograms expose HELP TYPE and labelled samples", "[api][metrics]") {
    metrics_registry reg;
    auto& req = reg.counter("vigy_http_requests_total", "HTTP requests", {"method", "route", "code"});
    req.with({"GET", "/v1/vigies/{name}", "200"}).inc();
    req.with({"GET", "/v1/vigies/{name}", "200"}).inc(2);
    req.with({"POST", "/v1/vigies", "201"}).inc();
    reg.gauge("vigy_http_connections", "Open connections").get().set(3);
    auto& h = reg.histogram("vigy_tick_duration_seconds", "Tick time", {}, {0.001, 0.01, 0.1});
    for (double v : {0.0005, 0.001, 0.05, 3.0}) h.get().observe(v);

    const std::string text = reg.expose();
    CHECK(text ==
          "# HELP vigy_http_requests_total HTTP requests\n"
          "# TYPE vigy_http_requests_total counter\n"
          "vigy_http_requests_total{method=\"GET\",route=\"/v1/vigies/{name}\",code=\"200\"} 3\n"
          "vigy_http_requests_total{method=\"POST\",route=\"/v1/vigies\",code=\"201\"} 1\n"
          "# HELP vigy_http_connections Open connections\n"
          "# TYPE vigy_http_connections gauge\n"
          "vigy_http_connections 3\n"
          "# HELP vigy_tick_duration_seconds Tick time\n"
          "# TYPE vigy_tick_duration_seconds histogram\n"
          "vigy_tick_duration_seconds_bucket{le=\"0.001\"} 2\n"
          "vigy_tick_duration_seconds_bucket{le=\"0.01\"} 2\n"
          "vigy_tick_duration_seconds_bucket{le=\"0.1\"} 3\n"
          "vigy_tick_duration_seconds_bucket{le=\"+Inf\"} 4\n"
          "vigy_tick_duration_seconds_sum 3.0515\n"
          "vigy_tick_duration_seconds_count 4\n");
}

TEST_CASE("label values and help text are escaped", "[api][metrics]") {
    metrics_registry reg;
    reg.gauge("vigy_program_metric", "Values programs emit \\ with\nnewline", {"vigy", "name"})
        .with({"a \"quoted\" \\ name\nx", "m"})
        .set(1.5);
    const std::string text = reg.expose();
    CHECK(text.find("# HELP vigy_program_metric Values programs emit \\\\ with\\nnewline\n") != std::string::npos);
    CHECK(text.find("vigy_program_metric{vigy=\"a \\\"quoted\\\" \\\\ name\\nx\",name=\"m\"} 1.5\n") !=
          std::string::npos);
}

TEST_CASE("values format as integers decimals and infinities", "[api][metrics]") {
    CHECK(format_metric_value(0) == "0");
    CHECK(format_metric_value(42) == "42");
    CHECK(format_metric_value(-3) == "-3");
    CHECK(format_metric_value(0.25) == "0.25");
    CHECK(format_metric_value(1e-9) == "1e-09");
    CHECK(format_metric_value(1e300) == "1e+300");
    CHECK(format_metric_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_metric_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_metric_value(std::nan("")) == "NaN");
}

TEST_CASE("histogram labels come before le and count equals the +Inf bucket", "[api][metrics]") {
    metrics_registry reg;
    auto& h = reg.histogram("vigy_http_request_duration_seconds", "Latency", {"route"}, {0.5});
    h.with({"/livez"}).observe(0.1);
    h.with({"/livez"}).observe(1.0);
    const std::string text = reg.expose();
    CHECK(text.find("vigy_http_request_duration_seconds_bucket{route=\"/livez\",le=\"0.5\"} 1\n") != std::string::npos);
    CHECK(text.find("vigy_http_request_duration_seconds_bucket{route=\"/livez\",le=\"+Inf\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("vigy_http_request_duration_seconds_count{route=\"/livez\"} 2\n") != std::string::npos);
    CHECK(h.with({"/livez"}).count() == 2);
}

TEST_CASE("bad names labels buckets and clashing families are refused", "[api][metrics]") {
    metrics_registry reg;
    CHECK_THROWS_WITH(reg.counter("vigy_requests", "x"), "counter vigy_requests: a counter's name ends in _total");
    CHECK_THROWS_WITH(reg.gauge("1bad", "x"), "invalid metric name \"1bad\"");
    CHECK_THROWS_WITH(reg.gauge("vigy_x", "x", {"__reserved"}), "metric vigy_x: invalid label name \"__reserved\"");
    CHECK_THROWS_WITH(reg.gauge("vigy_x", "x", {"a", "a"}), "metric vigy_x: label \"a\" repeated");
    CHECK_THROWS_WITH(reg.histogram("vigy_h", "x", {"le"}), "metric vigy_h: a histogram cannot have a label \"le\"");
    CHECK_THROWS_WITH(reg.histogram("vigy_h_count", "x"),
                      "histogram vigy_h_count: the name must not end in _bucket, _sum, _count or _total");
    CHECK_THROWS_WITH(reg.histogram("vigy_h", "x", {}, {1, 1}),
                      "histogram vigy_h: bucket bounds must be finite and strictly increasing");
    auto& g = reg.gauge("vigy_g", "x", {"a"});
    CHECK(&reg.gauge("vigy_g", "x", {"a"}) == &g);  // the same family again
    CHECK_THROWS_WITH(reg.gauge("vigy_g", "x", {"b"}), "metric vigy_g is already registered as a different family");
    CHECK_THROWS_WITH(g.with({}), "metric vigy_g has 1 labels, got 0 values");
}

TEST_CASE("collectors write whole families at scrape time after the registered ones", "[api][metrics]") {
    metrics_registry reg;
    reg.gauge("vigy_first", "first").get().set(1);
    int calls = 0;
    reg.add_collector([&](exposition_writer& w) {
        ++calls;
        w.family("vigy_vigies", "Vigies by enabled", "gauge");
        w.sample("vigy_vigies", {{"enabled", "true"}}, 2);
        w.sample("vigy_vigies", {{"enabled", "false"}}, 1);
        w.family("vigy_tick_lateness_seconds", "Lateness", "histogram");
        w.histogram("vigy_tick_lateness_seconds", {{"vigy", "a"}}, {0.1}, {3, 5}, 0.75);
    });
    const std::string text = reg.expose();
    CHECK(calls == 1);
    CHECK(text.find("vigy_first 1\n") < text.find("# TYPE vigy_vigies gauge"));
    CHECK(text.find("vigy_vigies{enabled=\"false\"} 1\n") != std::string::npos);
    CHECK(text.find("vigy_tick_lateness_seconds_bucket{vigy=\"a\",le=\"+Inf\"} 5\n") != std::string::npos);
    CHECK(text.find("vigy_tick_lateness_seconds_sum{vigy=\"a\"} 0.75\n") != std::string::npos);
    exposition_writer w;
    CHECK_THROWS_WITH(w.family("vigy_x", "h", "bogus"), "invalid metric type \"bogus\"");
    CHECK_THROWS_WITH(w.sample("vigy_x", {{"bad-label", "v"}}, 1), "invalid metric label name \"bad-label\"");
}

TEST_CASE("a labelled family without children is not exposed and an unlabelled one shows 0", "[api][metrics]") {
    metrics_registry reg;
    reg.counter("vigy_empty_total", "never used", {"reason"});
    reg.counter("vigy_zero_total", "no labels");
    const std::string text = reg.expose();
    CHECK(text.find("vigy_empty_total") == std::string::npos);
    CHECK(text.find("vigy_zero_total 0\n") != std::string::npos);
}

TEST_CASE("children update concurrently without losing increments", "[api][metrics]") {
    metrics_registry reg;
    auto& c = reg.counter("vigy_concurrent_total", "x", {"t"});
    auto& h = reg.histogram("vigy_concurrent_seconds", "x", {}, {1});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                c.with({"x"}).inc();
                h.get().observe(0.5);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(c.with({"x"}).value() == 40000);
    CHECK(h.get().count() == 40000);
    CHECK(h.get().sum() == 20000);
}
