/// cli/json_out.hpp — the CLI prints resources in the shared JSON shape of
/// vigy/api/resources.hpp (the REST API and MCP print the same objects); this brings
/// those names into vigy::cli.
#ifndef VIGY_CLI_JSON_OUT_HPP
#define VIGY_CLI_JSON_OUT_HPP

#include "vigy/api/resources.hpp"

namespace vigy::cli {

using api::json_writer;
using api::pretty_json;
using api::print_json;
using api::run_json;
using api::text;
using api::vigy_json;
using api::write_condition;
using api::write_event;
using api::write_raw_json;
using api::write_run;
using api::write_string;
using api::write_vigy;
using api::write_vigy_members;

}  // namespace vigy::cli

#endif  // VIGY_CLI_JSON_OUT_HPP
