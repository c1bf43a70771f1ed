// Email addresses as the session core accepts them.
#pragma once

#include <string>
#include <string_view>

namespace sessiond::session {

// Lower-cases ASCII letters; emails are compared case-insensitively (the whole address, as
// Better Auth does, not just the domain).
[[nodiscard]] std::string NormalizeEmail(std::string_view email);

// A pragmatic syntax check in the spirit of the WHATWG "valid email address" production:
// one '@', a non-empty local part of allowed characters (at most 64), a domain of dot-separated
// LDH labels with at least one dot, no whitespace or control characters, at most 254 in all.
[[nodiscard]] bool IsValidEmail(std::string_view email);

}  // namespace sessiond::session
