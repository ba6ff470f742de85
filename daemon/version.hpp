#pragma once

namespace skyd {
inline constexpr const char* kVersion = "0.1.0";
}
