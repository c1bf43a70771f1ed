// sessiond: wiring only. Parses the command line, loads the configuration, hands over to app/.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "app/app.h"
#include "config/config_loader.h"

int main(int argc, char** argv) {
  CLI::App cli{"sessiond: a fast, self-hosted authentication session server"};
  cli.footer(
      "Every configuration key can also be set in the TOML file (--config), as an environment\n"
      "variable SESSIOND_<KEY_IN_UPPER_SNAKE_CASE>, or with --set key=value. Precedence:\n"
      "defaults < file < environment < flags. See docs/configuration.md.");
  cli.set_version_flag("--version", std::string("sessiond 0.1.0"));
  cli.fallthrough();

  sessiond::config::Sources sources;
  std::string config_path;
  std::vector<std::pair<std::string, std::string>> flag_values;
  auto flag = [&](const char* name, const char* key, const char* help) {
    cli.add_option_function<std::string>(
        name, [&flag_values, key](const std::string& v) { flag_values.emplace_back(key, v); },
        help);
  };
  cli.add_option("--config", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  flag("--host", "host", "Listen address (default 127.0.0.1)");
  flag("--port", "port", "Listen port (default 3000; 0 = any free port)");
  flag("--base-url", "baseUrl", "Public URL of the server (default http://HOST:PORT)");
  flag("--data-dir", "dataDir", "Folder for the SQLite file and the dev secret (default ./data)");
  flag("--database-url", "database.url", "Database URL (default: SQLite in the data folder)");
  std::vector<std::string> sets;
  cli.add_option("--set", sets, "Set any configuration key: --set session.expiresIn=3600")
      ->type_name("KEY=VALUE");

  auto* serve = cli.add_subcommand("serve", "Run the server (the default command)");
  auto* migrate = cli.add_subcommand("migrate", "Apply pending database migrations and exit");
  auto* keys = cli.add_subcommand("keys", "Manage the JWT signing keys");
  auto* rotate = keys->add_subcommand(
      "rotate",
      "Make a new signing key active (the old one stays in the JWKS until its tokens "
      "expire)");
  keys->require_subcommand(1);
  cli.require_subcommand(0, 1);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)cli.exit(e);
    return sessiond::app::kExitUsage;
  }

  if (!config_path.empty()) sources.toml_path = config_path;
  sources.overrides = std::move(flag_values);
  for (const std::string& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      (void)std::fprintf(stderr, "sessiond: --set expects KEY=VALUE, got \"%s\"\n", s.c_str());
      return sessiond::app::kExitUsage;
    }
    sources.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }

  sessiond::config::Config config;
  try {
    config = sessiond::config::Load(sources);
  } catch (const sessiond::config::ConfigError& e) {
    (void)std::fprintf(stderr, "sessiond: invalid configuration: %s\n", e.what());
    return sessiond::app::kExitUsage;
  }

  if (migrate->parsed()) return sessiond::app::Migrate(config);
  if (rotate->parsed()) return sessiond::app::RotateKeys(config);
  (void)serve;
  return sessiond::app::Serve(config);
}
