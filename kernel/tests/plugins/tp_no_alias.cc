// Loader-test library that exports no plugin descriptor alias.
#include <boost/config.hpp>

extern "C" BOOST_SYMBOL_EXPORT int mq_not_a_plugin() { return 1; }
