// uap-core's rules as data: generated at build time by gen_uap.py from regexes.yaml (Debian
// package uap-core) into <build>/server/src/useragent/uap_rules.cc. Internal to this folder.
// An empty replacement means "none given": uap-core's reference parsers treat '' and an absent
// key alike. `literal` is a string every match contains ("" if none is known): a rule whose
// literal is not in the input cannot match, so its regex is not run.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace sessiond::useragent::internal {

struct UaRule {
  std::string_view regex;
  std::string_view literal;
  std::string_view family;  // family_replacement: "$1" is replaced by group 1.
  std::string_view major;   // v1_replacement: a literal, used as is.
  std::string_view minor;   // v2_replacement: a literal.
  std::string_view patch;   // v3_replacement: a literal.
};

struct OsRule {
  std::string_view regex;
  std::string_view literal;
  std::string_view family;  // os_replacement: a $1..$9 template.
  std::string_view major;   // os_v1_replacement: a template.
  std::string_view minor;   // os_v2_replacement: a template.
  std::string_view patch;   // os_v3_replacement: a template.
};

struct DeviceRule {
  std::string_view regex;
  std::string_view literal;  // Compared case-insensitively (ASCII) when icase.
  bool icase = false;        // regex_flag: 'i'.
  std::string_view family;   // device_replacement: a template.
  std::string_view brand;    // brand_replacement: a template.
  std::string_view model;    // model_replacement: a template.
};

// In regexes.yaml's order: the first rule that matches wins.
[[nodiscard]] std::span<const UaRule> UaRules();
[[nodiscard]] std::span<const OsRule> OsRules();
[[nodiscard]] std::span<const DeviceRule> DeviceRules();

// How many rules Boost.Regex could not compile (they never match); 0 for a healthy build.
// Defined in useragent.cc; compiles every rule not compiled yet.
[[nodiscard]] std::size_t RuleCompileErrors();

}  // namespace sessiond::useragent::internal
