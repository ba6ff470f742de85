#pragma once
// "Did you mean" helpers shared by the catalog (unknown names) and the task spec parser (unknown
// keys).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::catalog {

// Case-insensitive edit distance between two words.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// " (did you mean `x`?)" or "" — ready to append to an error message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace skyd::catalog
