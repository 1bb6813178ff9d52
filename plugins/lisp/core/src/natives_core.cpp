// tatara-lisp core natives: installs the core groups in reference order.
#include "internal.hpp"

namespace tatara {

void install_core_natives(native_registry& r) {
    install_arith_natives(r);
    install_list_natives(r);
    install_string_natives(r);
    install_misc_natives(r);
}

}  // namespace tatara
