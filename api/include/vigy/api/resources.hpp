/// vigy/api/resources.hpp — the one JSON shape of vigy's resources (vigies, runs,
/// conditions, events), written through RapidJSON's writer and shared by every face:
/// `vigy ... -o json`, the REST API and the MCP tools print the same objects.
/// Times are RFC 3339 UTC with milliseconds (formatted here, at the edge); durations ms.
///
/// Threading: plain functions over values.
#ifndef VIGY_API_RESOURCES_HPP
#define VIGY_API_RESOURCES_HPP

#include "vigy/host/registry.hpp"
#include "vigy/host/runtime.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace vigy::api {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Writes already-serialised JSON text (produced by vigy) as a value; `fallback` when empty.
void write_raw_json(json_writer& w, std::string_view text, std::string_view fallback = "null");
/// A string value.
/// Strings that are not valid UTF-8 (a database from before validation) have each bad
/// byte replaced by U+FFFD, so the document stays valid JSON.
void write_string(json_writer& w, std::string_view s);
/// {"id","name","kind","revision","resource_version","tick_interval_ms",
///  "schedule":{"kind":"every","every_ms"},"enabled",
///  "labels","limits":{"fuel","wall_ms","memory_bytes","max_depth"},"allow",
///  "grants"?,"created_at","updated_at","config"} — "grants" (the effective ones) when given.
void write_vigy(json_writer& w, const host::vigy_info& v, const std::vector<std::string>* grants = nullptr);
/// The members of write_vigy's object, for an object that adds its own.
void write_vigy_members(json_writer& w, const host::vigy_info& v, const std::vector<std::string>* grants = nullptr);
/// {"id","seq","vigy_id","vigy_name","revision","trigger","started_at","ended_at",
///  "duration_ms","lateness_ms","result","status"?,"error"?,"tick_count"?,"output",
///  "actions","desired","observed","conditions","log","trace","metrics","events",
///  "kv_writes","kv_deletes"} — status/error only for failed runs, tick_count when known.
void write_run(json_writer& w, const host::run& r);
/// The cluster of a PostgreSQL database in cluster mode (GET /v1/cluster, `vigy cluster
/// status -o json`): {"shard_count","database_time","hosts":[{"owner","host","pid","live",
/// "joined","last_heartbeat","expires","shards":[N...],"max_epoch","vigies"}],
/// "shards":[{"shard","owner"|null,"host","pid","epoch","live","renewed","expires",
/// "takeovers"}],"vigies_unowned"}; times RFC 3339 UTC by the database's clock.
void write_cluster(json_writer& w, const host::cluster_info& c);
/// {"type","status","reason","message","last_transition","updated_at"}
void write_condition(json_writer& w, const host::condition& c);
/// {"type","reason","message","count","first_seen","last_seen"}
void write_event(json_writer& w, const host::event& e);
/// [{"file","reason"}] — the plugin files the registry refused (GET /v1/plugins and
/// serve's startup event).
void write_skipped_plugins(json_writer& w, const host::registry& reg);
/// One tick of an evaluation, as `vigy eval -o json` and POST /v1/eval show it:
/// {"index","result","status"?,"error"?,"tick":{"start","start_ms","previous_tick_ms",
///  "tick_count"},"output","log","trace","metrics"} plus, for an ok tick, "actions",
/// "desired","observed","conditions","events","kv_changes":{"set","deleted"}.
void write_evaluated_tick(json_writer& w, const host::evaluated_tick& t, int64_t index);
/// {"ticks":[write_evaluated_tick...],"kv":{...},"conditions":[...]} (index from 1).
void write_evaluation(json_writer& w, const host::evaluation& ev);
/// write_vigy / write_run as a compact JSON document.
std::string vigy_json(const host::vigy_info& v, const std::vector<std::string>* grants = nullptr);
std::string run_json(const host::run& r);
/// The compact text of a writer's buffer.
inline std::string text(const rapidjson::StringBuffer& buf) { return {buf.GetString(), buf.GetSize()}; }

/// Re-indents compact JSON text with 2 spaces; returns the input when it does not parse.
std::string pretty_json(std::string_view compact);
/// Prints a compact JSON document to `out`: pretty (2-space) unless `one_line`.
void print_json(std::ostream& out, const std::string& compact, bool one_line = false);

}  // namespace vigy::api

#endif  // VIGY_API_RESOURCES_HPP
