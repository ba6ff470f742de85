#pragma once
// Quoting for POSIX shells (sh, bash), for the scripts and remote command lines skyd writes.

#include <string>
#include <string_view>

namespace skyd {

// '…' with every ' written as '\'': the shell reads `text` back as one word, expanding nothing.
std::string single_quoted(std::string_view text);

}  // namespace skyd
