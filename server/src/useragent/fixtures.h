// uap-core's own test cases (tests/test_ua.yaml, test_os.yaml, test_device.yaml), generated at
// build time by gen_uap.py into <build>/server/src/useragent/uap_fixtures.cc for useragent_test's
// conformance suite. A null expectation in the YAML is "" here, as Parse() reports "unknown".
#pragma once

#include <span>
#include <string_view>

namespace sessiond::useragent::internal {

struct UaCase {
  std::string_view ua, family, major, minor, patch;
};
struct OsCase {
  std::string_view ua, family, major, minor, patch;
};
struct DeviceCase {
  std::string_view ua, family, brand, model;
};

[[nodiscard]] std::span<const UaCase> UaCases();
[[nodiscard]] std::span<const OsCase> OsCases();
[[nodiscard]] std::span<const DeviceCase> DeviceCases();

}  // namespace sessiond::useragent::internal
