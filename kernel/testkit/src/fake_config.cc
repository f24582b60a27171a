// make_plugin_options: "key=value" strings -> the variables_map a plugin's configure() gets.
#include "mq/testkit/fake_config.h"

#include <exception>
#include <sstream>

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>

namespace po = boost::program_options;

namespace mq::testkit {

Result<po::variables_map> make_plugin_options(DeclareOptionsFn declare, const std::vector<std::string>& settings) {
  if (declare == nullptr) return Status::invalid("make_plugin_options: no declare_options function given");
  po::options_description options;
  declare(options);
  std::ostringstream text;
  for (const auto& s : settings) {
    if (s.find('=') == std::string::npos)
      return Status::invalid("setting '" + s + "' is not 'key=value' (e.g. 'audit.file=/tmp/a.log')");
    text << s << '\n';
  }
  std::istringstream in(text.str());
  po::variables_map vm;
  try {
    po::store(po::parse_config_file(in, options, /*allow_unregistered=*/false), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::invalid(std::string("configuration: ") + e.what());
  } catch (const std::exception& e) {
    return Status::invalid(std::string("configuration: ") + e.what());
  }
  return vm;
}

Result<po::variables_map> make_plugin_options(const PluginDescriptor& descriptor,
                                              const std::vector<std::string>& settings) {
  return make_plugin_options(descriptor.declare_options, settings);
}

}  // namespace mq::testkit
