// `warren debug relay`: a relay client for people and for the end-to-end tests. It connects to
// one relay as the node whose key `warren debug netmap` keeps in --state-dir (node.key; a new
// key is generated if there is none, which the relay will refuse as unknown) and either
//
//   --echo      sends every packet back to its sender, until --timeout, SIGINT or SIGTERM;
//               prints {"type":"connected","relay":URL,"relay_key":K,"node_key":K,
//               "rate_bytes_per_s":N,"burst_bytes":N} each time it connects, and
//               {"type":"summary","echoed":N} at the end;
//   --send-to KEY --count N [--size B] [--interval-ms M]
//               sends N numbered packets to that node key, waits for them to come back (from
//               an --echo client) and prints one line
//               {"type":"summary","node_key":K,"to":K,"sent":N,"received":N,"lost":N,
//                "dropped_locally":N,"rtt_ms":{"min":X,"avg":X,"max":X} | null}.
//
// Errors (refused with the relay's reason, a relay key other than --relay-key, no connection)
// are one line on stderr. Exit: 0 for --echo stopped by --timeout or a signal after
// connecting, and for --send-to when every packet came back; 1 on a refusal, a key mismatch,
// no connection or lost packets; 2 on bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace warren::cli {

// Registers `relay` under the `debug` command group.
void add_debug_relay_command(CLI::App& debug, int& exit_code);

}  // namespace warren::cli
