// mqbroker global keys: declarations, defaults and conversion into BrokerConfig.
#include "config/broker_options.h"

#include <arpa/inet.h>

#include <cstdint>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/program_options/value_semantic.hpp>

#include "config/option_parser.h"

namespace po = boost::program_options;

namespace mq::kernel {

std::string default_plugin_dir() {
  boost::dll::fs::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (ec) return "plugins";
  // Build tree: build/bin/mqbroker -> build/plugins. Installed: <prefix>/bin/mqbroker ->
  // <prefix>/lib/mq/plugins (cmake/mq_install.cmake). The build-tree layout wins if present.
  const auto prefix = exe.parent_path().parent_path();
  const auto build_tree = prefix / "plugins";
  if (boost::dll::fs::is_directory(build_tree, ec)) return build_tree.string();
  return (prefix / "lib" / "mq" / "plugins").string();
}

po::options_description broker_global_options(const std::string& default_plugin_dir) {
  po::options_description g("Global options");
  g.add_options()
      ("brokerClusterName", po::value<std::string>()->default_value("DefaultCluster"), "cluster this broker belongs to")
      ("brokerName", po::value<std::string>()->default_value("broker-a"), "broker group name (master and slaves share it)")
      ("brokerId", po::value<int64_t>()->default_value(0), "0 for the master, > 0 for a slave")
      ("namesrvAddr", po::value<std::string>()->default_value(""), "name servers, 'host:port;host:port'")
      ("listenPort", po::value<int>()->default_value(10911), "broker port (0: any free port, see broker.port)")
      ("brokerIP1", po::value<std::string>()->default_value("127.0.0.1"), "IPv4 address announced to clients")
      ("plugins", po::value<std::string>(), "plugins to load, comma separated (required)")
      ("pluginDir", po::value<std::string>()->default_value(default_plugin_dir), "directory holding <plugin>.so")
      ("storePathRootDir", po::value<std::string>(), "store root (default ./data/<brokerName>)")
      ("defaultTopicQueueNums", po::value<int>()->default_value(4), "queues of an auto-created topic")
      ("autoCreateTopicEnable", po::value<bool>()->default_value(true), "create unknown topics on first send")
      ("autoCreateSubscriptionGroup", po::value<bool>()->default_value(true), "create unknown consumer groups")
      ("maxMessageSize", po::value<int64_t>()->default_value(4194304), "largest message body in bytes")
      ("longPollingEnable", po::value<bool>()->default_value(true), "hold pulls until a message arrives")
      ("shortPollingTimeMills", po::value<int64_t>()->default_value(1000), "pull hold time without long polling")
      ("registerNameServerPeriod", po::value<int64_t>()->default_value(30000), "ms between registrations")
      ("flushConsumerOffsetInterval", po::value<int64_t>()->default_value(5000), "ms between offset persists")
      ("clientChannelExpiredTime", po::value<int64_t>()->default_value(120000), "ms before a silent client expires")
      ("rebalanceLockMaxLiveTime", po::value<int64_t>()->default_value(60000),
       "ms an orderly consumer's queue lock lives without renewal")
      ("pullMaxMsgNums", po::value<int64_t>()->default_value(1024),
       "most messages one pull returns; larger maxMsgNums are served with this cap")
      ("pullMaxBytes", po::value<int64_t>()->default_value(8 << 20),
       "most message bytes one pull returns; larger maxMsgBytes are served with this cap")
      ("accessMessageInMemoryMaxRatio", po::value<int>()->default_value(40),
       "0..100: a consumer whose unread commit-log bytes exceed this % of memory is told to read from "
       "a slave (its group's whichBrokerWhenConsumeSlowly)")
      ("embeddedNamesrvEnable", po::value<bool>()->default_value(false), "run a name server in this process")
      ("namesrvListenPort", po::value<int>()->default_value(9876), "port of the embedded name server")
      ("logLevel", po::value<std::string>()->default_value("info"), "trace, debug, info, warn, error, critical, off")
      ("logFile", po::value<std::string>()->default_value(""), "also log to this file");
  return g;
}

Result<PluginSelection> plugin_selection(const po::variables_map& vm, bool required) {
  PluginSelection out;
  if (vm.count("plugins")) out.plugins = split_list(vm["plugins"].as<std::string>());
  if (required && out.plugins.empty()) {
    return Status::invalid("no plugins configured: set plugins=storage-mmap,transport-thrift in the config file");
  }
  if (vm.count("pluginDir")) out.plugin_dir = vm["pluginDir"].as<std::string>();
  return out;
}

Result<uint16_t> port_from(const po::variables_map& vm, const std::string& key) {
  int v = vm[key].as<int>();
  if (v < 0 || v > 65535) {
    return Status::invalid("invalid value '" + std::to_string(v) + "' for key '" + key + "' (expected 0..65535)");
  }
  return static_cast<uint16_t>(v);
}

Status check_log_level(const std::string& level) {
  for (const char* l : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (level == l) return Status::ok();
  }
  return Status::invalid("invalid value '" + level +
                         "' for key 'logLevel' (expected trace, debug, info, warn, error, critical or off)");
}

Result<uint32_t> parse_ipv4(const std::string& text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) {
    return Status::invalid("'" + text + "' is not an IPv4 address");
  }
  return ntohl(addr.s_addr);
}

namespace {

Status positive(const std::string& key, int64_t value) {
  if (value > 0) return Status::ok();
  return Status::invalid("invalid value '" + std::to_string(value) + "' for key '" + key + "' (expected > 0)");
}

}  // namespace

Result<BrokerConfig> broker_config_from(const po::variables_map& vm) {
  BrokerConfig c;
  BrokerSettings& s = c.settings;
  s.identity.cluster_name = vm["brokerClusterName"].as<std::string>();
  s.identity.broker_name = vm["brokerName"].as<std::string>();
  s.identity.broker_id = vm["brokerId"].as<int64_t>();
  if (s.identity.broker_name.empty()) return Status::invalid("brokerName must not be empty");
  if (s.identity.broker_id < 0) {
    return Status::invalid("invalid value '" + std::to_string(s.identity.broker_id) +
                           "' for key 'brokerId' (expected 0 for a master or > 0 for a slave)");
  }
  s.identity.store_root = vm.count("storePathRootDir") ? vm["storePathRootDir"].as<std::string>()
                                                       : "./data/" + s.identity.broker_name;

  auto port = port_from(vm, "listenPort");
  if (!port) return port.status();
  c.listen_port = *port;
  auto ns_port = port_from(vm, "namesrvListenPort");
  if (!ns_port) return ns_port.status();
  c.namesrv_listen_port = *ns_port;

  c.broker_ip = vm["brokerIP1"].as<std::string>();
  auto ip = parse_ipv4(c.broker_ip);
  if (!ip) return Status::invalid("invalid value for key 'brokerIP1': " + ip.status().message());
  s.identity.broker_address.ipv4 = *ip;
  s.identity.broker_address.port = c.listen_port;

  for (const auto& addr : split_list(vm["namesrvAddr"].as<std::string>(), "; \t")) {
    auto colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
      return Status::invalid("invalid value '" + addr + "' in key 'namesrvAddr' (expected host:port;host:port)");
    }
    s.namesrv_addrs.push_back(addr);
  }

  int queues = vm["defaultTopicQueueNums"].as<int>();
  if (Status st = positive("defaultTopicQueueNums", queues); !st) return st;
  s.default_topic_queue_nums = queues;
  s.auto_create_topic_enable = vm["autoCreateTopicEnable"].as<bool>();
  s.auto_create_subscription_group = vm["autoCreateSubscriptionGroup"].as<bool>();
  s.long_polling_enable = vm["longPollingEnable"].as<bool>();
  struct Positive {
    const char* key;
    int64_t* out;
  };
  for (const Positive& p : {Positive{"maxMessageSize", &s.max_message_size},
                            Positive{"shortPollingTimeMills", &s.short_polling_time_ms},
                            Positive{"registerNameServerPeriod", &s.register_name_server_period_ms},
                            Positive{"flushConsumerOffsetInterval", &s.flush_consumer_offset_interval_ms},
                            Positive{"clientChannelExpiredTime", &s.client_channel_expired_ms},
                            Positive{"rebalanceLockMaxLiveTime", &s.rebalance_lock_max_live_time_ms}}) {
    int64_t v = vm[p.key].as<int64_t>();
    if (Status st = positive(p.key, v); !st) return st;
    *p.out = v;
  }

  struct Capped {
    const char* key;
    int32_t* out;
  };
  for (const Capped& p : {Capped{"pullMaxMsgNums", &s.pull_max_msg_nums}, Capped{"pullMaxBytes", &s.pull_max_bytes}}) {
    int64_t v = vm[p.key].as<int64_t>();
    if (v <= 0 || v > INT32_MAX)
      return Status::invalid("invalid value '" + std::to_string(v) + "' for key '" + p.key + "' (expected 1.." +
                             std::to_string(INT32_MAX) + ")");
    *p.out = static_cast<int32_t>(v);
  }

  int ratio = vm["accessMessageInMemoryMaxRatio"].as<int>();
  if (ratio < 0 || ratio > 100)
    return Status::invalid("invalid value '" + std::to_string(ratio) +
                           "' for key 'accessMessageInMemoryMaxRatio' (expected 0..100, a percentage of memory)");
  s.access_message_in_memory_max_ratio = ratio;

  c.embedded_namesrv_enable = vm["embeddedNamesrvEnable"].as<bool>();
  c.log_level = vm["logLevel"].as<std::string>();
  if (Status st = check_log_level(c.log_level); !st) return st;
  c.log_file = vm["logFile"].as<std::string>();

  auto selection = plugin_selection(vm, true);
  if (!selection) return selection.status();
  c.plugins = std::move(selection->plugins);
  c.plugin_dir = std::move(selection->plugin_dir);
  return c;
}

}  // namespace mq::kernel
