// mqadmin command-line parsing, separate from the commands so it is unit-tested:
// `mqadmin <command> [-x value]...` with RocketMQ's command names and one-letter flags.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mq::admin {

struct CommandSpec {
  std::string name;
  std::string summary;
  std::string value_flags;    // flags taking a value, e.g. "tnrwbc"
  std::string required;       // flags that must be present
  std::string numeric;        // flags whose value must be an integer
  std::vector<std::string> flag_help;  // "-t <topic>  topic name", ...
};

// Every command mqadmin knows, in help order.
const std::vector<CommandSpec>& command_specs();
const CommandSpec* find_command(const std::string& name);

struct AdminArgs {
  std::string command;
  std::map<char, std::string> flags;
  std::vector<std::string> positional;  // only `help <command>` takes one
  bool json = false;                    // --json: one JSON document on stdout instead of tables

  bool has(char flag) const { return flags.count(flag) != 0; }
  std::string get(char flag, const std::string& fallback = {}) const;
  // Integer value of a flag checked numeric by the parser; fallback when absent.
  int64_t get_int(char flag, int64_t fallback) const;
};

struct ParseResult {
  bool ok = false;
  std::string error;  // what is wrong, naming the flag or command
  AdminArgs args;
};

// args excludes the program name. "-n" may be omitted (NAMESRV_ADDR is used by the commands).
ParseResult parse_admin_args(const std::vector<std::string>& args);

// The general usage text, or one command's usage.
std::string usage_text();
std::string command_usage(const CommandSpec& spec);

}  // namespace mq::admin
