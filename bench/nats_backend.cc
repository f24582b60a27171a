// mqbench_nats: the mqbench load generator against NATS JetStream (libnats): one stream
// "BENCH" on file storage with a subject per queue (bench.<q>). Async sends use
// js_PublishAsync (MaxPending = --window); NATS has no batch call, so a batch of N is N
// async publishes, each acknowledged separately (MaxPending = window x batch). Consume: a pull consumer, Fetch(256), no acks.
#include <nats/nats.h>

#include <string>

#include "driver.h"

namespace mq::bench {
namespace {

std::string status_text(natsStatus s, const char* what) {
  return std::string(what) + ": " + natsStatus_GetText(s) + " (" + nats_GetLastError(nullptr) + ")";
}

class NatsSender final : public Sender {
 public:
  NatsSender(natsConnection* nc, int max_pending) : nc_(nc), window_(max_pending) {}
  ~NatsSender() override {
    if (js_) jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }

  bool init(std::string* error) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = window_;
    jo.PublishAsync.AckHandler = &NatsSender::on_ack;
    jo.PublishAsync.AckHandlerClosure = this;
    natsStatus s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK) *error = status_text(s, "JetStream context");
    return s == NATS_OK;
  }

  bool send_sync(int queue, const std::vector<std::string>& bodies, std::string* error) override {
    std::string subject = "bench." + std::to_string(queue);
    for (const auto& b : bodies) {
      jsPubAck* pa = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_Publish(&pa, js_, subject.c_str(), b.data(), static_cast<int>(b.size()), nullptr, &jerr);
      if (pa) jsPubAck_Destroy(pa);
      if (s != NATS_OK) {
        *error = status_text(s, "js_Publish");
        return false;
      }
    }
    return true;
  }

  void send_async(int queue, const std::vector<std::string>& bodies, int64_t tag_ns, const SendDone& done) override {
    done_ = &done;
    std::string subject = "bench." + std::to_string(queue);
    for (const auto& b : bodies) {
      natsStatus s = js_PublishAsync(js_, subject.c_str(), b.data(), static_cast<int>(b.size()), nullptr);
      if (s != NATS_OK) done(false, tag_ns, 1);
    }
  }

  void drain() override {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    js_PublishAsyncComplete(js_, &po);
  }

 private:
  // Runs on a libnats thread, once per published message; the born time is in the body.
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<NatsSender*>(closure);
    std::string_view body(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    if (self->done_) (*self->done_)(pa != nullptr && pae == nullptr, get_born(body), 1);
    natsMsg_Destroy(msg);
  }

  natsConnection* nc_;
  jsCtx* js_ = nullptr;
  int window_;
  const SendDone* done_ = nullptr;
};

class NatsReceiver final : public Receiver {
 public:
  NatsReceiver(natsConnection* nc, jsCtx* js, natsSubscription* sub) : nc_(nc), js_(js), sub_(sub) {}
  ~NatsReceiver() override {
    natsSubscription_Destroy(sub_);
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }

  void run(const ReceiveSink& sink, const std::atomic<bool>& stop) override {
    while (!stop.load(std::memory_order_relaxed)) {
      natsMsgList list{};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = natsSubscription_Fetch(&list, sub_, 256, 200, &jerr);
      if (s == NATS_OK) {
        for (int i = 0; i < list.Count; ++i) {
          sink.message(std::string_view(natsMsg_GetData(list.Msgs[i]),
                                        static_cast<size_t>(natsMsg_GetDataLength(list.Msgs[i]))));
        }
      } else if (s != NATS_TIMEOUT) {
        sink.error(status_text(s, "Fetch"));
      }
      natsMsgList_Destroy(&list);
    }
  }

 private:
  natsConnection* nc_;
  jsCtx* js_;
  natsSubscription* sub_;
};

class NatsBackend final : public Backend {
 public:
  explicit NatsBackend(BenchOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "nats-jetstream"; }

  bool prepare(const BenchOptions&, std::string* error) override {
    if (o_.server.empty()) o_.server = "nats://127.0.0.1:4222";
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    if (!connect(&nc, &js, error)) return false;
    bool ok = true;
    if (o_.queues > 0) {
      js_DeleteStream(js, "BENCH", nullptr, nullptr);  // absent on a fresh server
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = "BENCH";
      const char* subjects[] = {"bench.*"};
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Storage = js_FileStorage;
      jsStreamInfo* si = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
      if (si) jsStreamInfo_Destroy(si);
      if (s != NATS_OK) {
        *error = status_text(s, "js_AddStream BENCH");
        ok = false;
      }
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return ok;
  }

  std::unique_ptr<Sender> make_sender(int, std::string* error) override {
    natsConnection* nc = nullptr;
    natsStatus s = natsConnection_ConnectTo(&nc, o_.server.c_str());
    if (s != NATS_OK) {
      *error = status_text(s, ("connect " + o_.server).c_str());
      return nullptr;
    }
    // NATS counts pending messages, not calls: allow window calls of batch messages each.
    auto sender = std::make_unique<NatsSender>(nc, o_.window * o_.batch);
    if (!sender->init(error)) return nullptr;
    return sender;
  }

  std::unique_ptr<Receiver> make_receiver(bool from_first, std::string* error) override {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    if (!connect(&nc, &js, error)) return nullptr;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.AckPolicy = js_AckNone;
    so.Config.DeliverPolicy = from_first ? js_DeliverAll : js_DeliverNew;
    so.Config.MaxRequestBatch = 0;
    natsSubscription* sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    std::string durable = "mqbench" + std::to_string(now_ns());
    natsStatus s = js_PullSubscribe(&sub, js, "bench.*", durable.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
      *error = status_text(s, "js_PullSubscribe");
      jsCtx_Destroy(js);
      natsConnection_Destroy(nc);
      return nullptr;
    }
    return std::make_unique<NatsReceiver>(nc, js, sub);
  }

 private:
  bool connect(natsConnection** nc, jsCtx** js, std::string* error) {
    natsStatus s = natsConnection_ConnectTo(nc, o_.server.c_str());
    if (s != NATS_OK) {
      *error = status_text(s, ("connect " + o_.server).c_str());
      return false;
    }
    s = natsConnection_JetStream(js, *nc, nullptr);
    if (s != NATS_OK) {
      *error = status_text(s, "JetStream context");
      natsConnection_Destroy(*nc);
      return false;
    }
    return true;
  }

  BenchOptions o_;
};

}  // namespace
}  // namespace mq::bench

int main(int argc, char** argv) {
  return mq::bench::bench_main(argc, argv, [](const mq::bench::BenchOptions& o, std::string*) {
    return std::make_unique<mq::bench::NatsBackend>(o);
  });
}
