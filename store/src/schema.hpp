// store/src/schema.hpp — the schema and its versioned migrations.
#pragma once

#include "sqlite.hpp"

namespace vigy::store::schema {

/// Applies the migrations up to schema_version_supported in one write transaction
/// (no-op when current); refuses a newer database (FAILED_PRECONDITION), and refuses to
/// upgrade a database an older `vigy serve` is still serving (FAILED_PRECONDITION
/// naming its pid). Migration 3 rewrites schema 1/2 data into the compact schema 3.
void migrate(sqlite::connection& c);

/// The schema version recorded in the database (0 for an empty file).
[[nodiscard]] int current_version(sqlite::connection& c);

}  // namespace vigy::store::schema
