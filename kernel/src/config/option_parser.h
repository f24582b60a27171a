// OptionParser: the two-pass Boost.Program_options parse shared by mqbroker and mqnamesrv
// (command line over a key=value file with one [section] per plugin), with one-line errors.
#pragma once

#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"

namespace mq::kernel {

// Usage: parse_globals() (pass 1, tolerant) -> load the plugins it names -> parse_all()
// (pass 2, strict). The command line is stored before the file, so it wins.
// Not thread-safe; used on the main thread during start-up only.
class OptionParser {
 public:
  // `tool` names the executable in messages ("mqbroker"); `args` excludes argv[0].
  OptionParser(std::string tool, std::vector<std::string> args);

  // Pass 1: `-c/--config FILE`, `-h/--help` and `globals`; keys nobody declared yet
  // (plugin sections) are tolerated. Fails on a bad value of a global key.
  Result<boost::program_options::variables_map> parse_globals(
      const boost::program_options::options_description& globals);

  // Pass 2: `all` holds the globals plus every loaded plugin's options; `plugin_names`
  // are the plugins listed in plugins=. Refuses unknown keys, sections for plugins not
  // loaded, and values that do not convert to the declared type.
  Result<boost::program_options::variables_map> parse_all(const boost::program_options::options_description& all,
                                                          const std::vector<std::string>& plugin_names);

  // Valid after parse_globals().
  const std::string& config_file() const { return config_file_; }
  bool help_requested() const { return help_; }

 private:
  Result<boost::program_options::variables_map> parse(const boost::program_options::options_description& desc,
                                                      const std::vector<std::string>* plugin_names);

  std::string tool_;
  std::vector<std::string> args_;
  std::string config_file_;
  bool help_ = false;
};

// "an integer", "true or false", ... for the type an option was declared with.
std::string describe_expected_value(const boost::program_options::option_description& option);

// Splits "a,b c" on commas and whitespace, dropping empty items.
std::vector<std::string> split_list(const std::string& text, const std::string& separators = ", \t");

}  // namespace mq::kernel
