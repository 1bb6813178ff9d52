// store/src/writer.hpp — starting the writer thread (private to the store).
#pragma once

#include "vigy/store/store.hpp"

#include <memory>
#include <string>

namespace vigy::store::detail {

/// Starts the writer thread on its own connection to `path`.
std::unique_ptr<writer> start_writer(const std::string& path, const open_options& options);

}  // namespace vigy::store::detail
