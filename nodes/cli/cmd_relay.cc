// `warren relay ...`: the relay (`serve`, relay_serve.cc) and `pubkey`, which prints the key an
// operator lists in the control server's relay_map before the relay first starts.
#include <memory>
#include <string>

#include "nodes/cli/commands.h"
#include "nodes/cli/relay_serve.h"

namespace warren::cli {

void add_relay_commands(CLI::App& app, int& exit_code) {
  CLI::App* relay = app.add_subcommand(
      "relay", "Run a relay (encrypted packet forwarding between nodes, and STUN)");
  relay->require_subcommand(1);
  const std::string config_help =
      "JSON config: {\"listen\": \"ADDR:PORT\", \"stun_listen\": [\"ADDR:PORT\", ...], "
      "\"control_url\": \"http://HOST:PORT\", ...} (nodes/relay/README.md)";

  auto serve_config = std::make_shared<std::string>();
  CLI::App* serve =
      relay->add_subcommand("serve", "Run the relay and its STUN server until SIGINT or SIGTERM");
  serve->add_option("--config", *serve_config, config_help)->required();
  serve->callback([serve_config, &exit_code] { exit_code = run_relay_serve(*serve_config); });

  auto pubkey_config = std::make_shared<std::string>();
  CLI::App* pubkey = relay->add_subcommand(
      "pubkey",
      std::string("Print the relay's public key (for the control server's relay_map), creating "
                  "its private key in the state directory if missing (default: $") +
          kRelayStateDirEnv + ", else " + kDefaultRelayStateDir + ")");
  pubkey->add_option("--config", *pubkey_config, config_help)->required();
  pubkey->callback([pubkey_config, &exit_code] { exit_code = run_relay_pubkey(*pubkey_config); });
}

}  // namespace warren::cli
