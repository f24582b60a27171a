// mqadmin argument parsing and usage text.
#include "admin_args.h"

#include <charconv>

namespace mq::admin {
namespace {

bool parse_int(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

const std::string kNamesrvHelp = "-n <host:port;...>  name servers (default: $NAMESRV_ADDR)";

}  // namespace

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs = {
      {"updateTopic", "create or update a topic on brokers", "ntrwpbc", "t", "rwp",
       {"-t <topic>         topic name", "-r <n>             read queue count (default 8)",
        "-w <n>             write queue count (default 8)", "-p <perm>          permission bits: 6 rw, 4 r, 2 w (default 6)",
        "-b <host:port>     only this broker", "-c <cluster>       every master broker of this cluster",
        "                   (neither -b nor -c: every master broker)", kNamesrvHelp}},
      {"topicList", "list all topics known to the name servers", "n", "", "", {kNamesrvHelp}},
      {"topicRoute", "show the route (queues and brokers) of a topic", "nt", "t", "",
       {"-t <topic>         topic name", kNamesrvHelp}},
      {"clusterList", "list clusters and their brokers", "n", "", "", {kNamesrvHelp}},
      {"sendMessage", "send one message", "ntpkcbilad", "tp", "ilad",
       {"-t <topic>         topic name", "-p <body>          message body", "-k <keys>          message keys",
        "-c <tags>          message tag", "-b <brokerName>    send to this broker (with -i, default queue 0)",
        "-i <queueId>       send to this queue (needs -b)",
        "-l <level>         delay level 1..18 (schedule plugin; default levels 1s 5s 10s 30s 1m ... 2h)",
        "-a <ms>            deliver at this time, ms since the epoch (schedule plugin)",
        "-d <ms>            deliver this many ms after the send (schedule plugin)", kNamesrvHelp}},
      {"consumeMessage", "pull and print messages of a topic", "ntgcbio", "t", "cio",
       {"-t <topic>         topic name", "-g <group>         consumer group: start at its committed offsets and commit",
        "-c <count>         stop after this many messages (default 128)",
        "-b <brokerName>    only queues of this broker", "-i <queueId>       only this queue id",
        "-o <offset>        start at this queue offset (instead of min / committed offset)", kNamesrvHelp}},
      {"consumerProgress", "show a group's consumed and stored offsets per queue", "ngt", "g", "",
       {"-g <group>         consumer group", "-t <topic>         only this topic", kNamesrvHelp}},
      {"deleteTopic", "delete a topic from brokers", "ntbc", "t", "",
       {"-t <topic>         topic name", "-b <host:port>     only this broker", "-c <cluster>       every master broker of this cluster",
        "                   (neither -b nor -c: every master broker)", kNamesrvHelp}},
      {"updateSubGroup", "create or update a subscription group on brokers", "ngbcsdqriwo", "g", "qriw",
       {"-g <group>         consumer group", "-b <host:port>     only this broker", "-c <cluster>       every master broker of this cluster",
        "-s <true|false>    consume enable (default true)", "-d <true|false>    consume broadcast enable (default true)",
        "-q <n>             retry queue count (default 1)", "-r <n>             retry max times (default 16)",
        "-i <id>            broker id to consume from (default 0)", "-w <id>            broker id when consuming slowly (default 1)",
        "-o <true|false>    consume message orderly (default false)", kNamesrvHelp}},
      {"queryMsgById", "show a message by its offset message id", "ni", "i", "",
       {"-i <offsetMsgId>   32 hex chars: store host ip, port and commit-log offset", kNamesrvHelp}},
      {"queryMsgByKey", "find messages by key (KEYS entry or UNIQ_KEY) on every broker of a topic", "ntkm", "tk", "m",
       {"-t <topic>         topic name", "-k <key>           message key", "-m <n>             at most n messages per broker (default 32)",
        kNamesrvHelp}},
      {"queryMsgByOffset", "show the message at a queue offset", "ntbio", "tbio", "io",
       {"-t <topic>         topic name", "-b <brokerName>    broker name", "-i <queueId>       queue id",
        "-o <offset>        queue offset", kNamesrvHelp}},
      {"resetOffsetByTime", "reset a group's offsets of a topic to a time", "ngts", "gts", "",
       {"-g <group>         consumer group", "-t <topic>         topic name",
        "-s <time>          ms since the epoch, or \"now\"", kNamesrvHelp}},
      {"brokerStatus", "show a broker's runtime information", "nb", "b", "",
       {"-b <host:port>     broker address", kNamesrvHelp}},
      {"consumerConnection", "show a group's consumer connections and subscriptions", "ng", "g", "",
       {"-g <group>         consumer group", kNamesrvHelp}},
      {"producerConnection", "show a producer group's connections", "ngt", "gt", "",
       {"-g <group>         producer group", "-t <topic>         a topic the producers send to", kNamesrvHelp}},
      {"queryDlqMessage", "list a consumer group's dead-letter messages (%DLQ%<group>)", "ngci", "g", "c",
       {"-g <group>         consumer group", "-c <count>         at most this many messages (default 128)",
        "-i <msgId>         only this message (client id, original id or offsetMsgId)", kNamesrvHelp}},
      {"resendDlqMessage", "send a group's dead-letter messages again to their original topics", "ngci", "g", "c",
       {"-g <group>         consumer group", "-c <count>         at most this many messages (default 128)",
        "-i <msgId>         only this message (client id, original id or offsetMsgId)", kNamesrvHelp}},
      {"cancelScheduledMessage", "cancel a delayed or timed message before it is delivered", "nti", "ti", "",
       {"-t <topic>         the topic it was sent to", "-i <msgId>         its message id (UNIQ_KEY)", kNamesrvHelp}},
      {"queryCheckMaxHalfMessage", "list transactional half messages checked too often (TRANS_CHECK_MAX_TIME_TOPIC)",
       "ngci", "", "c",
       {"-g <group>         only this producer group", "-c <count>         at most this many messages (default 128)",
        "-i <msgId>         only this message (client id or offsetMsgId)", kNamesrvHelp}},
      {"resumeCheckHalfMessage", "send a half message from TRANS_CHECK_MAX_TIME_TOPIC again so checks start over",
       "ni", "i", "", {"-i <msgId>         its message id (UNIQ_KEY) or offsetMsgId", kNamesrvHelp}},
      {"help", "show help for a command", "", "", "", {}},
  };
  return specs;
}

const CommandSpec* find_command(const std::string& name) {
  for (const auto& spec : command_specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string AdminArgs::get(char flag, const std::string& fallback) const {
  auto it = flags.find(flag);
  return it == flags.end() ? fallback : it->second;
}

int64_t AdminArgs::get_int(char flag, int64_t fallback) const {
  auto it = flags.find(flag);
  int64_t value = fallback;
  if (it != flags.end() && !parse_int(it->second, &value)) return fallback;
  return value;
}

ParseResult parse_admin_args(const std::vector<std::string>& args) {
  ParseResult result;
  if (args.empty()) {
    result.error = "no command given";
    return result;
  }
  const CommandSpec* spec = find_command(args[0]);
  if (spec == nullptr) {
    result.error = "unknown command '" + args[0] + "'";
    return result;
  }
  result.args.command = spec->name;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (spec->name == "help" && result.args.positional.empty()) {
        result.args.positional.push_back(arg);
        continue;
      }
      result.error = "unexpected argument '" + arg + "' for " + spec->name;
      return result;
    }
    if (arg == "--json") {
      result.args.json = true;
      continue;
    }
    char flag = arg[1];
    if (arg.size() > 2 && arg[1] == '-') {
      result.error = "unknown option '" + arg + "' for " + spec->name + " (options are one letter, e.g. -t)";
      return result;
    }
    if (spec->value_flags.find(flag) == std::string::npos) {
      result.error = "unknown option '-" + std::string(1, flag) + "' for " + spec->name;
      return result;
    }
    std::string value;
    if (arg.size() > 2) {
      value = arg.substr(2);  // -tTopic
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      result.error = "option -" + std::string(1, flag) + " of " + spec->name + " needs a value";
      return result;
    }
    if (spec->numeric.find(flag) != std::string::npos) {
      int64_t number = 0;
      if (!parse_int(value, &number)) {
        result.error = "option -" + std::string(1, flag) + " of " + spec->name + " must be an integer, got '" + value + "'";
        return result;
      }
    }
    result.args.flags[flag] = value;
  }
  for (char flag : spec->required) {
    if (!result.args.has(flag)) {
      result.error = spec->name + " needs option -" + std::string(1, flag);
      return result;
    }
  }
  if (spec->name == "sendMessage" && (result.args.has('l') + result.args.has('a') + result.args.has('d')) > 1) {
    result.error = "sendMessage: give at most one of -l <delay level>, -a <deliver time> and -d <delay ms>";
    return result;
  }
  if (spec->name == "sendMessage" && result.args.has('i') && !result.args.has('b')) {
    result.error = "sendMessage: -i <queueId> needs -b <brokerName>";
    return result;
  }
  if ((spec->name == "updateTopic" || spec->name == "deleteTopic" || spec->name == "updateSubGroup") &&
      result.args.has('b') && result.args.has('c')) {
    result.error = spec->name + ": give either -b <broker address> or -c <cluster>, not both";
    return result;
  }
  for (char flag : std::string("sdo")) {
    if (spec->name == "updateSubGroup" && result.args.has(flag) && result.args.get(flag) != "true" &&
        result.args.get(flag) != "false") {
      result.error = "updateSubGroup: option -" + std::string(1, flag) + " must be true or false, got '" +
                     result.args.get(flag) + "'";
      return result;
    }
  }
  if (spec->name == "resetOffsetByTime") {
    int64_t ts = 0;
    if (result.args.get('s') != "now" && !parse_int(result.args.get('s'), &ts)) {
      result.error = "resetOffsetByTime: option -s must be a timestamp in ms or \"now\", got '" + result.args.get('s') + "'";
      return result;
    }
  }
  result.ok = true;
  return result;
}

std::string usage_text() {
  std::string out = "usage: mqadmin <command> [options] [--json]\n\ncommands:\n";
  for (const auto& spec : command_specs()) {
    out += "  " + spec.name + std::string(spec.name.size() < 18 ? 18 - spec.name.size() : 1, ' ') + spec.summary + "\n";
  }
  out += "\n`mqadmin help <command>` shows a command's options.\n";
  return out;
}

std::string command_usage(const CommandSpec& spec) {
  std::string out = "usage: mqadmin " + spec.name;
  for (char flag : spec.value_flags) {
    bool required = spec.required.find(flag) != std::string::npos;
    out += required ? " -" + std::string(1, flag) + " <v>" : " [-" + std::string(1, flag) + " <v>]";
  }
  if (spec.name == "help") out += " [command]";
  else out += " [--json]";
  out += "\n  " + spec.summary + "\n";
  for (const auto& line : spec.flag_help) out += "  " + line + "\n";
  return out;
}

}  // namespace mq::admin
