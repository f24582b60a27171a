// Two-pass option parsing with one-line refusals that name the file, key and fix.
#include "config/option_parser.h"

#include <cstring>
#include <fstream>
#include <typeinfo>

#include <boost/any.hpp>
#include <boost/core/demangle.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace mq::kernel {
namespace {

std::string join_tokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, const std::string& separators) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (separators.find(c) != std::string::npos) {
      if (!item.empty()) out.push_back(std::move(item));
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(std::move(item));
  return out;
}

std::string describe_expected_value(const po::option_description& option) {
  // typed_value_base's typeinfo is compared by name, so this works for plugin-made options too.
  const auto* typed = dynamic_cast<const po::typed_value_base*>(option.semantic().get());
  if (typed == nullptr) return "a value of the declared type";
  const std::type_info& t = typed->value_type();
  if (t == typeid(int) || t == typeid(long) || t == typeid(long long) || t == typeid(short)) return "an integer";
  if (t == typeid(unsigned) || t == typeid(unsigned long) || t == typeid(unsigned long long) ||
      t == typeid(unsigned short)) {
    return "a non-negative integer";
  }
  if (t == typeid(bool)) return "true or false";
  if (t == typeid(double) || t == typeid(float)) return "a number";
  if (t == typeid(std::string)) return "a string";
  return "a value of type " + boost::core::demangle(t.name());
}

OptionParser::OptionParser(std::string tool, std::vector<std::string> args)
    : tool_(std::move(tool)), args_(std::move(args)) {}

Result<po::variables_map> OptionParser::parse_globals(const po::options_description& globals) {
  return parse(globals, nullptr);
}

Result<po::variables_map> OptionParser::parse_all(const po::options_description& all,
                                                  const std::vector<std::string>& plugin_names) {
  return parse(all, &plugin_names);
}

Result<po::variables_map> OptionParser::parse(const po::options_description& desc,
                                              const std::vector<std::string>* plugin_names) {
  const bool strict = plugin_names != nullptr;
  po::options_description command("Command");
  command.add_options()("config,c", po::value<std::string>(), "configuration file (key=value, [plugin] sections)")(
      "help,h", "print the global options and those of the plugins the configuration file loads");
  po::options_description cmd_desc;
  cmd_desc.add(command).add(desc);

  // Checks one parsed source (command line or file) before it is stored.
  auto check = [&](const po::parsed_options& parsed, const po::options_description& known,
                   const std::string& where) -> Status {
    const std::string help_hint =
        config_file_.empty() ? "run '" + tool_ + " --help'" : "run '" + tool_ + " --help -c " + config_file_ + "'";
    for (const auto& opt : parsed.options) {
      if (opt.position_key != -1 || opt.string_key.empty()) {
        return Status::invalid(where + ": unexpected argument '" + join_tokens(opt.original_tokens) +
                               "'; options look like --key=value");
      }
      if (opt.unregistered) {
        const std::string& key = opt.string_key;
        auto dot = key.find('.');
        if (dot == std::string::npos) {  // every global key is declared in pass 1 already
          return Status::invalid(where + ": unknown key '" + key + "'; " + help_hint + " to list valid keys");
        }
        if (!strict) continue;
        std::string section = key.substr(0, dot);
        if (contains(*plugin_names, section)) {
          return Status::invalid(where + ": unknown key '" + key.substr(dot + 1) + "' in section [" + section + "]; " +
                                 help_hint + " to list valid keys");
        }
        return Status::invalid(where + ": section [" + section + "] is for plugin '" + section +
                               "', which is not listed in plugins=; add it to plugins= or remove the section");
      }
      const po::option_description* option = known.find_nothrow(opt.string_key, false);
      if (option == nullptr) continue;
      boost::any scratch;  // destroyed here, while any plugin that made the semantic is loaded
      try {
        option->semantic()->parse(scratch, opt.value, true);
      } catch (const po::error&) {
        return Status::invalid(where + ": invalid value '" + join_tokens(opt.value) + "' for key '" + opt.string_key +
                               "' (expected " + describe_expected_value(*option) + ")");
      }
    }
    return Status::ok();
  };

  po::variables_map vm;
  try {
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::parsed_options cmd = po::command_line_parser(args_).options(cmd_desc).style(style).allow_unregistered().run();
    // The config file name is needed for the hint in errors, so read it first.
    for (const auto& opt : cmd.options) {
      if (opt.string_key == "config" && !opt.value.empty()) config_file_ = opt.value.front();
      if (opt.string_key == "help") help_ = true;
    }
    if (Status s = check(cmd, cmd_desc, "command line"); !s) return s;
    po::store(cmd, vm);
  } catch (const po::error& e) {
    return Status::invalid("command line: " + std::string(e.what()));
  }

  if (!config_file_.empty()) {
    std::ifstream in(config_file_);
    if (!in) {
      return Status::invalid("cannot read config file '" + config_file_ + "': " + std::strerror(errno) +
                             "; pass an existing file with -c");
    }
    try {
      po::parsed_options file = po::parse_config_file(in, desc, true);
      if (Status s = check(file, desc, config_file_); !s) return s;
      po::store(file, vm);
    } catch (const po::error& e) {
      return Status::invalid(config_file_ + ": " + e.what());
    }
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::invalid((config_file_.empty() ? std::string("command line") : config_file_) + ": " + e.what());
  }
  return vm;
}

}  // namespace mq::kernel
