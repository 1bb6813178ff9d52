// store/src/writer.hpp — starting the writer thread (private to the store).
#pragma once

#include "backend.hpp"
#include "vigy/store/store.hpp"
#include "write_gate.hpp"

#include <memory>
#include <string>

namespace vigy::store::detail {

/// Starts the writer thread on its own connection to `db` (SQLite or PostgreSQL). Before
/// each batch it yields to `gate` (this process's foreground writers; shared, so either
/// side may go first).
std::unique_ptr<writer> start_writer(const database& db, const open_options& options, std::shared_ptr<write_gate> gate);

}  // namespace vigy::store::detail
