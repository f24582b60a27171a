// Encoding and decoding of ha-sync frames (see wire.h).
#include "wire.h"

#include "hmac_sha256.h"

namespace mq::ha {
namespace {

class Writer {
 public:
  explicit Writer(FrameType type) { out_.assign(kHeaderBytes, '\0'), out_[4] = static_cast<char>(type); }
  Writer& u16(uint16_t v) { return raw(v, 2); }
  Writer& u32(uint32_t v) { return raw(v, 4); }
  Writer& i64(int64_t v) { return raw(static_cast<uint64_t>(v), 8); }
  Writer& str(std::string_view s) {
    u16(static_cast<uint16_t>(std::min<size_t>(s.size(), 0xFFFF)));
    out_.append(s.substr(0, 0xFFFF));
    return *this;
  }
  Writer& blob(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  std::string finish() {
    uint32_t len = static_cast<uint32_t>(out_.size() - 4);
    for (int i = 0; i < 4; ++i) out_[i] = static_cast<char>(len >> (24 - 8 * i));
    return std::move(out_);
  }

 private:
  Writer& raw(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u16(uint16_t* v) { return raw(v, 2); }
  bool u32(uint32_t* v) { return raw(v, 4); }
  bool i64(int64_t* v) {
    uint64_t u = 0;
    if (!raw(&u, 8)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool str(std::string* s) {
    uint16_t n = 0;
    return u16(&n) && bytes(n, s);
  }
  bool blob(std::string* s) {
    uint32_t n = 0;
    return u32(&n) && bytes(n, s);
  }
  bool bytes(size_t n, std::string* s) {
    if (in_.size() - pos_ < n) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  std::string_view rest() const { return in_.substr(pos_); }
  bool done() const { return pos_ == in_.size(); }

 private:
  template <typename T>
  bool raw(T* v, int n) {
    if (in_.size() - pos_ < static_cast<size_t>(n)) return false;
    uint64_t acc = 0;
    for (int i = 0; i < n; ++i) acc = (acc << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += static_cast<size_t>(n);
    *v = static_cast<T>(acc);
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

Status malformed(const char* what) {
  return Status::invalid(std::string("malformed ") + what + " frame");
}

}  // namespace

Result<FrameHeader> parse_header(const char* p, uint32_t max_frame) {
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<uint8_t>(p[i]);
  auto type = static_cast<uint8_t>(p[4]);
  if (len < 1 || len - 1 > max_frame)
    return Status::invalid("frame length " + std::to_string(len) + " is outside 1.." + std::to_string(max_frame + 1));
  if (type < 1 || type > kMaxFrameType) return Status::invalid("unknown frame type " + std::to_string(type));
  return FrameHeader{static_cast<FrameType>(type), len - 1};
}

std::string encode_hello(const Hello& h) {
  return Writer(FrameType::kHello)
      .u32(kMagic)
      .u16(kVersion)
      .str(h.cluster)
      .str(h.broker_name)
      .i64(h.broker_id)
      .i64(h.max_offset)
      .i64(h.last_epoch)
      .i64(h.last_epoch_start)
      .str(h.nonce)
      .finish();
}

std::string encode_welcome(const Welcome& w) {
  Writer out(FrameType::kWelcome);
  out.i64(w.master_min).i64(w.master_max).u32(static_cast<uint32_t>(w.epochs.size()));
  for (const auto& e : w.epochs) out.i64(e.epoch).i64(e.start);
  return out.finish();
}

std::string encode_refuse(std::string_view reason) {
  return Writer(FrameType::kRefuse).str(reason).finish();
}

std::string encode_offset_frame(FrameType type, int64_t offset) {
  return Writer(type).i64(offset).finish();
}

std::string encode_data_header(int64_t from, int64_t master_max, size_t n) {
  std::string h = Writer(FrameType::kData).i64(from).i64(master_max).finish();
  uint32_t len = static_cast<uint32_t>(h.size() - 4 + n);
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(len >> (24 - 8 * i));
  return h;
}

std::string encode_metadata(const Metadata& m) {
  Writer out(FrameType::kMetadata);
  out.i64(m.master_end);
  out.blob(m.json);
  out.u16(m.has_delay_offsets ? 1 : 0);
  out.blob(m.delay_offsets);
  return out.finish();
}

Result<Hello> decode_hello(std::string_view payload) {
  Reader in(payload);
  uint32_t magic = 0;
  uint16_t version = 0;
  Hello h;
  if (!in.u32(&magic) || magic != kMagic) return Status::invalid("not an ha-sync peer (bad magic)");
  if (!in.u16(&version)) return malformed("hello");
  if (version != kVersion)
    return Status::error(Code::kVersionNotSupported, "protocol version " + std::to_string(version) +
                                                         " is not supported (this master speaks " +
                                                         std::to_string(kVersion) + ")");
  if (!in.str(&h.cluster) || !in.str(&h.broker_name) || !in.i64(&h.broker_id) || !in.i64(&h.max_offset) ||
      !in.i64(&h.last_epoch) || !in.i64(&h.last_epoch_start) || !in.str(&h.nonce) || !in.done())
    return malformed("hello");
  if (h.nonce.size() != kNonceBytes) return malformed("hello (nonce)");
  return h;
}

Result<Welcome> decode_welcome(std::string_view payload) {
  Reader in(payload);
  Welcome w;
  uint32_t n = 0;
  if (!in.i64(&w.master_min) || !in.i64(&w.master_max) || !in.u32(&n) || n > kMaxEpochs) return malformed("welcome");
  for (uint32_t i = 0; i < n; ++i) {
    EpochEntry e;
    if (!in.i64(&e.epoch) || !in.i64(&e.start)) return malformed("welcome");
    w.epochs.push_back(e);
  }
  if (!in.done()) return malformed("welcome");
  if (Status st = check_epochs(w.epochs); !st) return Status::invalid("master's epochs: " + st.message());
  return w;
}

Result<std::string> decode_refuse(std::string_view payload) {
  Reader in(payload);
  std::string reason;
  if (!in.str(&reason)) return malformed("refuse");
  return reason;
}

Result<int64_t> decode_offset(std::string_view payload) {
  Reader in(payload);
  int64_t v = 0;
  if (!in.i64(&v) || !in.done() || v < 0) return malformed("offset");
  return v;
}

Result<Data> decode_data(std::string_view payload) {
  Reader in(payload);
  Data d;
  if (!in.i64(&d.from) || !in.i64(&d.master_max) || d.from < 0) return malformed("data");
  d.bytes.assign(in.rest());
  return d;
}

Result<Metadata> decode_metadata(std::string_view payload) {
  Reader in(payload);
  Metadata m;
  uint16_t has = 0;
  if (!in.i64(&m.master_end) || m.master_end < 0 || !in.blob(&m.json) || !in.u16(&has) || !in.blob(&m.delay_offsets) ||
      !in.done())
    return malformed("metadata");
  m.has_delay_offsets = has != 0;
  return m;
}

std::string encode_challenge(const Challenge& c) {
  return Writer(FrameType::kChallenge).str(c.nonce).str(c.proof).finish();
}

std::string encode_auth(std::string_view proof) {
  return Writer(FrameType::kAuth).str(proof).finish();
}

Result<Challenge> decode_challenge(std::string_view payload) {
  Reader in(payload);
  Challenge c;
  if (!in.str(&c.nonce) || !in.str(&c.proof) || !in.done() || c.nonce.size() != kNonceBytes || c.proof.size() != 32)
    return malformed("challenge");
  return c;
}

Result<std::string> decode_auth(std::string_view payload) {
  Reader in(payload);
  std::string proof;
  if (!in.str(&proof) || !in.done() || proof.size() != 32) return malformed("auth");
  return proof;
}

namespace {
std::string proof(std::string_view label, std::string_view secret, std::string_view slave_nonce,
                  std::string_view master_nonce) {
  std::string msg(label);
  msg.append(slave_nonce).append(master_nonce);
  return digest_bytes(hmac_sha256(secret, msg));
}
}  // namespace

std::string master_proof(std::string_view secret, std::string_view slave_nonce, std::string_view master_nonce) {
  return proof("mqha-v2-master", secret, slave_nonce, master_nonce);
}

std::string slave_proof(std::string_view secret, std::string_view slave_nonce, std::string_view master_nonce) {
  return proof("mqha-v2-slave", secret, slave_nonce, master_nonce);
}

bool secrets_equal(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace mq::ha
