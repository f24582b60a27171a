// Symbol visibility for the public client API: the shared library exports only what is
// marked MQ_CLIENT_API (the build hides everything else by default).
#pragma once

#if defined(MQ_CLIENT_STATIC)
#define MQ_CLIENT_API
#else
#define MQ_CLIENT_API __attribute__((visibility("default")))
#endif
