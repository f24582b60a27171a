// The ha-sync replication protocol: frames over one TCP connection per slave
// (README.md "Protocol"). Every integer is big-endian.
//   frame   = [u32 length of type + payload][u8 type][payload]
//   string  = [u16 length][bytes]     blob = [u32 length][bytes]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "epoch_file.h"
#include "mq/status.h"

namespace mq::ha {

inline constexpr uint32_t kMagic = 0x4D514841;  // "MQHA"
// 2: challenge/response handshake (no secret on the wire), METADATA tagged with the
// master's log end. A version-1 peer is refused with the version named.
inline constexpr uint16_t kVersion = 2;
inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kHeaderBytes = 5;
// Frames a master accepts from a slave are small; a slave accepts data and metadata.
inline constexpr uint32_t kMaxSlaveFrame = 64 * 1024;
inline constexpr uint32_t kMaxMasterFrame = 128u << 20;
inline constexpr size_t kMaxEpochs = 100000;

enum class FrameType : uint8_t {
  kHello = 1,      // slave -> master: who I am, where my log ends
  kWelcome = 2,    // master -> slave: accepted; the master's epochs and log range
  kRefuse = 3,     // master -> slave: refused, with the reason; the master closes
  kStart = 4,      // slave -> master: stream from this offset (after any truncation)
  kData = 5,       // master -> slave: commit-log bytes at an offset (empty: heartbeat)
  kAck = 6,        // slave -> master: my log now ends here
  kMetadata = 7,   // master -> slave: topics, groups, offsets (JSON) and delayOffset.json
  kChallenge = 8,  // master -> slave: the master's nonce and its proof of the secret
  kAuth = 9,       // slave -> master: the slave's proof of the secret
};
inline constexpr uint8_t kMaxFrameType = 9;

struct Hello {
  std::string cluster;
  std::string broker_name;
  int64_t broker_id = 0;
  int64_t max_offset = 0;
  int64_t last_epoch = 0;  // 0: none
  int64_t last_epoch_start = 0;
  std::string nonce;  // kNonceBytes random bytes (the slave's challenge to the master)
};

struct Challenge {
  std::string nonce;  // kNonceBytes random bytes (the master's challenge to the slave)
  std::string proof;  // master_proof(secret, slave nonce, master nonce)
};

struct Welcome {
  int64_t master_min = 0;
  int64_t master_max = 0;
  EpochList epochs;
};

struct Data {
  int64_t from = 0;
  int64_t master_max = 0;
  std::string bytes;
};

struct Metadata {
  // The master's commit-log end read after exporting: everything the offsets and delay
  // progress name lies below it. A slave applies the frame only once its log reaches it.
  int64_t master_end = 0;
  std::string json;
  bool has_delay_offsets = false;
  std::string delay_offsets;
};

// Header of a frame: type and payload length; an error for an unknown type or a length
// above `max_frame`.
struct FrameHeader {
  FrameType type;
  uint32_t payload = 0;
};
Result<FrameHeader> parse_header(const char* five_bytes, uint32_t max_frame);

std::string encode_hello(const Hello& h);
std::string encode_welcome(const Welcome& w);
std::string encode_refuse(std::string_view reason);
std::string encode_offset_frame(FrameType type, int64_t offset);  // kStart, kAck
// Header of a DATA frame carrying `n` bytes that follow it on the wire.
std::string encode_data_header(int64_t from, int64_t master_max, size_t n);
std::string encode_metadata(const Metadata& m);
std::string encode_challenge(const Challenge& c);
std::string encode_auth(std::string_view proof);

Result<Hello> decode_hello(std::string_view payload);
Result<Welcome> decode_welcome(std::string_view payload);
Result<std::string> decode_refuse(std::string_view payload);
Result<int64_t> decode_offset(std::string_view payload);
Result<Data> decode_data(std::string_view payload);
Result<Metadata> decode_metadata(std::string_view payload);
Result<Challenge> decode_challenge(std::string_view payload);
Result<std::string> decode_auth(std::string_view payload);

// HMAC-SHA256 proofs of the shared secret over both nonces; the two directions use
// different labels so one side's proof can never be replayed as the other's.
std::string master_proof(std::string_view secret, std::string_view slave_nonce, std::string_view master_nonce);
std::string slave_proof(std::string_view secret, std::string_view slave_nonce, std::string_view master_nonce);

// Compares secrets in time independent of where they differ.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace mq::ha
