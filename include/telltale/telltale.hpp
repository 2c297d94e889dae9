// The C++ API of telltale in one include: keys, the keyed PRF, scheme parameters, the hook and the detector.
#pragma once

#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/prf.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"
