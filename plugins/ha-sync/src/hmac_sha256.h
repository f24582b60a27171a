// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), self-contained, for the ha-sync
// challenge/response handshake (README.md "Protocol"). Not a general crypto library:
// whole-message functions only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mq::ha {

using Digest = std::array<uint8_t, 32>;

Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view message);

// The digest as 32 raw bytes (for the wire) and as lowercase hex (for tests and logs).
std::string digest_bytes(const Digest& d);
std::string to_hex(std::string_view bytes);

// `n` random bytes from the operating system (getrandom(2); std::random_device fallback).
std::string random_bytes(size_t n);

}  // namespace mq::ha
