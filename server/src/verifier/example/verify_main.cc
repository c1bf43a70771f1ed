// verify_example: how a C++ backend uses sessiond's verifier (built, not installed).
//
//   verify_example --base-url http://127.0.0.1:3000 [--issuer URL] [--audience URL]
//                  [--alg EdDSA]... [--fail-open] [TOKEN...]
//
// Verifies each TOKEN (or, without any, each line of standard input — a bearer header value
// "Bearer <jwt>" works too) and prints one line per token: "OK sub=… sid=… email=…" or
// "REJECTED <REASON>". Exit status: 0 if every token verified, 1 if one did not, 2 on a usage
// error or if sessiond could not be reached within 5 s.
#include <sessiond/verifier.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

int Usage(const std::string& problem) {
  std::cerr << "verify_example: " << problem
            << "\nusage: verify_example --base-url URL [--issuer URL] [--audience URL] "
               "[--alg NAME]... [--fail-open] [TOKEN...]\n";
  return 2;
}

// What a request handler does: Authorization header in, user or refusal out.
bool Check(const sessiond::verifier::Verifier& verifier, std::string_view credential) {
  // Accept "Bearer <jwt>" as a request would carry it, or the bare token.
  const std::string_view token = sessiond::verifier::BearerToken(credential).value_or(credential);
  const auto claims = verifier.Verify(token);
  if (!claims) {
    std::cout << "REJECTED " << sessiond::verifier::VerifyErrorName(claims.error().error) << " ("
              << claims.error().detail << ")\n";
    return false;
  }
  std::cout << "OK sub=" << claims->sub << " sid=" << claims->sid << " email=" << claims->email
            << " exp=" << claims->exp << "\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  sessiond::verifier::VerifierOptions options;
  std::vector<std::string> algorithms;
  std::vector<std::string> tokens;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--base-url" && has_value) {
      options.base_url = args[++i];
    } else if (arg == "--issuer" && has_value) {
      options.issuer = args[++i];
    } else if (arg == "--audience" && has_value) {
      options.audience = args[++i];
    } else if (arg == "--alg" && has_value) {
      algorithms.push_back(args[++i]);
    } else if (arg == "--fail-open") {
      options.feed_stale_after = std::chrono::seconds(0);
    } else if (arg.starts_with("--")) {
      return Usage("unknown or incomplete option " + arg);
    } else {
      tokens.push_back(arg);
    }
  }
  if (options.base_url.empty()) return Usage("--base-url is required");
  // sessiond's defaults: issuer and audience are its base URL.
  if (options.issuer.empty()) options.issuer = options.base_url;
  if (options.audience.empty()) options.audience = options.base_url;
  if (!algorithms.empty()) options.algorithms = algorithms;
  options.log = [](sessiond::verifier::LogLevel level, std::string_view message) {
    if (level >= sessiond::verifier::LogLevel::kWarning) std::cerr << message << "\n";
  };

  auto verifier = sessiond::verifier::Verifier::Create(std::move(options));
  if (!verifier) return Usage(verifier.error());
  (*verifier)->Start();
  if (!(*verifier)->WaitUntilReady(std::chrono::seconds(5))) {
    std::cerr << "verify_example: sessiond's JWKS or revocation list not loaded within 5 s\n";
    return 2;
  }

  bool all_ok = true;
  if (tokens.empty()) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty()) all_ok = Check(**verifier, line) && all_ok;
    }
  } else {
    for (const std::string& token : tokens) all_ok = Check(**verifier, token) && all_ok;
  }
  (*verifier)->Stop();
  return all_ok ? 0 : 1;
}
