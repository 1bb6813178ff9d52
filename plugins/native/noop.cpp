// The `noop` reconciler kind: a tick that does nothing (the tick context is
// left exactly as it was given).
#include "native.hpp"

namespace vigy::native {
namespace {

class noop final : public instance {
public:
    void tick(sdk::tick_ref) override {}
};

}  // namespace

std::unique_ptr<instance> make_noop(const vigy_reconciler_spec&) { return std::make_unique<noop>(); }

}  // namespace vigy::native
