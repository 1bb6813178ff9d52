/* vigy/vigy.h — the whole vigy C ABI: include this one header. */
#ifndef VIGY_VIGY_H
#define VIGY_VIGY_H
#include "vigy/extension.h"
#include "vigy/plugin.h"
#include "vigy/reconciler.h"
#include "vigy/status.h"
#include "vigy/tick.h"
#include "vigy/value.h"
#endif
