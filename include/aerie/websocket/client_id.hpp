#pragma once

#include <cstdint>

namespace aerie {

/// Opaque, unique per server run, never reused. (The low bits name the worker thread the
/// client lives on, which is how Endpoint calls from any thread find it.)
using ClientId = std::uint64_t;

}  // namespace aerie
