# Interoperability: a client written in Python against the Thrift IDL (python3-thrift, code
# generated at build time) routes, sends, pulls, commits offsets and heartbeats through a real
# mqbroker. It is also the worked example referred to by docs/protocol.md.
#
# Run by CTest with PYTHONPATH=<build>/tests/interop/gen-py and MQ_BUILD_DIR=<build>.
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

from mq_wire import BrokerService, NameServerService
from mq_wire.constants import PROTOCOL_VERSION
from mq_wire.ttypes import (ConsumerData, ConsumerGroupChangeRequest, ConsumerOffsetRequest,
                            HeartbeatRequest, Message, PullRequest, QueueRef, SendRequest,
                            SubscriptionData, TopicConfig)

SUCCESS = 0
TOPIC_NOT_EXIST = 17
PULL_NOT_FOUND = 19
PULL_RETRY_IMMEDIATELY = 20
PULL_OFFSET_MOVED = 21
QUERY_NOT_FOUND = 22

START_TIMEOUT_S = 30


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout_s, what))


def read_port(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text else 0
    except (OSError, ValueError):
        return 0


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Connection:
    """One framed, strict binary-protocol connection to a broker or a name server."""

    def __init__(self, addr, service):
        host, port = addr.rsplit(":", 1)
        sock = TSocket.TSocket(host, int(port))
        sock.setTimeout(30000)  # ms; above the 15 s long-polling suspend
        self.transport = TTransport.TFramedTransport(sock)
        protocol = TBinaryProtocol.TBinaryProtocol(self.transport, strictRead=True, strictWrite=True)
        self.client = service.Client(protocol)
        self.transport.open()

    def close(self):
        self.transport.close()


_uniq_counter = random.randint(0, 0xFFFF)


def new_uniq_key():
    """A client message id (UNIQ_KEY): ip 4 + pid 2 + random 4 + ms in month 4 + counter 2, hex."""
    global _uniq_counter
    _uniq_counter = (_uniq_counter + 1) & 0xFFFF
    now = time.gmtime()
    month_start = time.mktime((now.tm_year, now.tm_mon, 1, 0, 0, 0, 0, 0, 0)) - time.timezone
    ms_in_month = int((time.time() - month_start) * 1000) & 0xFFFFFFFF
    raw = (socket.inet_aton("127.0.0.1") + struct.pack(">H", os.getpid() & 0xFFFF) +
           struct.pack(">I", random.getrandbits(32)) + struct.pack(">I", ms_in_month) +
           struct.pack(">H", _uniq_counter))
    return raw.hex().upper()


def decode_offset_msg_id(msg_id):
    """offsetMsgId: store IPv4 (4) + port (4) + commit-log offset (8), 32 hex chars."""
    raw = bytes.fromhex(msg_id)
    assert len(raw) == 16, msg_id
    ip = socket.inet_ntoa(raw[0:4])
    (port,) = struct.unpack(">I", raw[4:8])
    (offset,) = struct.unpack(">q", raw[8:16])
    return "%s:%d" % (ip, port), offset


class PythonClientTest(unittest.TestCase):
    """Shares one broker (embedded name server) across the tests; stops it with SIGTERM at the end."""

    @classmethod
    def setUpClass(cls):
        build_dir = os.environ.get("MQ_BUILD_DIR")
        if not build_dir:
            raise RuntimeError("MQ_BUILD_DIR is not set (run this test through ctest)")
        cls.root = tempfile.mkdtemp(prefix="mqpyinterop")
        store = os.path.join(cls.root, "store")
        os.makedirs(store)
        conf = os.path.join(cls.root, "broker.conf")
        with open(conf, "w") as f:
            f.write("brokerClusterName=PyCluster\nbrokerName=py-broker\nbrokerId=0\n"
                    "brokerIP1=127.0.0.1\nlistenPort=0\nembeddedNamesrvEnable=true\n"
                    "namesrvListenPort=0\nstorePathRootDir=%s\n"
                    "plugins=storage-mmap,transport-thrift\n" % store)
        cls.log_path = os.path.join(cls.root, "broker.log")
        cls.log = open(cls.log_path, "wb")
        cls.broker = subprocess.Popen([os.path.join(build_dir, "bin", "mqbroker"), "-c", conf],
                                      stdout=cls.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            def ports():
                if cls.broker.poll() is not None:
                    raise RuntimeError("mqbroker exited during start-up:\n" + cls.broker_log())
                bp = read_port(os.path.join(store, "broker.port"))
                np = read_port(os.path.join(store, "namesrv.port"))
                if bp and np and port_accepts(bp) and port_accepts(np):
                    return bp, np
                return None
            broker_port, namesrv_port = wait_for(ports, START_TIMEOUT_S, "the broker's port files")
        except BaseException:
            cls.broker.kill()
            cls.broker.wait()
            cls.log.close()
            if os.environ.get("MQ_KEEP_TEST_DIRS") is None:
                shutil.rmtree(cls.root, ignore_errors=True)
            raise
        cls.broker_addr = "127.0.0.1:%d" % broker_port
        cls.namesrv_addr = "127.0.0.1:%d" % namesrv_port

    @classmethod
    def tearDownClass(cls):
        code = None
        if cls.broker.poll() is None:
            cls.broker.send_signal(signal.SIGTERM)
            try:
                code = cls.broker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cls.broker.kill()
                cls.broker.wait()
        else:
            code = cls.broker.returncode
        cls.log.close()
        log = cls.broker_log()
        if os.environ.get("MQ_KEEP_TEST_DIRS") is None:
            shutil.rmtree(cls.root, ignore_errors=True)
        if code != 0:
            raise AssertionError("mqbroker did not exit 0 after SIGTERM (exit %r); log:\n%s" % (code, log))

    @classmethod
    def broker_log(cls):
        try:
            with open(cls.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def setUp(self):
        self.broker_conn = Connection(self.broker_addr, BrokerService)
        self.ns_conn = Connection(self.namesrv_addr, NameServerService)
        self.broker = self.broker_conn.client
        self.namesrv = self.ns_conn.client

    def tearDown(self):
        self.broker_conn.close()
        self.ns_conn.close()

    # ---- helpers a client author would write ----

    def create_topic_and_route(self, topic, queues):
        response = self.broker.createTopic(TopicConfig(topicName=topic, readQueueNums=queues,
                                                       writeQueueNums=queues, perm=6))
        self.assertEqual(response.code, SUCCESS, response.remark)

        def routed():
            route = self.namesrv.getRouteInfoByTopic(topic)
            return route if route.code == SUCCESS and route.queues else None
        # The broker registers a new topic with its name servers promptly.
        return wait_for(routed, 20, "a route for " + topic)

    def pull_all(self, group, topic, queue_id, start=0, commit=-1):
        """Pulls one queue from `start` until PULL_NOT_FOUND; returns (messages, next offset)."""
        offset, out = start, []
        while True:
            response = self.broker.pull(PullRequest(
                consumerGroup=group, topic=topic, queueId=queue_id, queueOffset=offset, maxMsgs=32,
                suspendTimeoutMs=0, commitOffset=commit, subscription="*", clientVersion=PROTOCOL_VERSION))
            if response.code == SUCCESS:
                self.assertTrue(response.messages)
                out.extend(response.messages)
                self.assertGreater(response.nextBeginOffset, offset)
                offset = response.nextBeginOffset
            elif response.code == PULL_NOT_FOUND:
                return out, response.nextBeginOffset
            elif response.code == PULL_OFFSET_MOVED:
                offset = response.nextBeginOffset
            else:
                self.fail("pull %s/%d at %d: %d %s" % (topic, queue_id, offset, response.code, response.remark))

    # ---- tests ----

    def test_route_lists_the_broker_and_its_queues(self):
        route = self.create_topic_and_route("PyRouteTopic", 4)
        self.assertEqual(len(route.queues), 1)
        self.assertEqual(route.queues[0].brokerName, "py-broker")
        self.assertEqual(route.queues[0].writeQueueNums, 4)
        self.assertEqual(route.queues[0].readQueueNums, 4)
        self.assertEqual(len(route.brokers), 1)
        self.assertEqual(route.brokers[0].brokerAddrs[0], self.broker_addr)
        missing = self.namesrv.getRouteInfoByTopic("PyNoSuchTopic")
        self.assertEqual(missing.code, TOPIC_NOT_EXIST)

    def test_server_info_reports_the_protocol_version(self):
        info = self.broker.getServerInfo()
        self.assertEqual(info.code, SUCCESS, info.remark)
        self.assertGreaterEqual(info.protocolVersion, PROTOCOL_VERSION)
        self.assertLessEqual(info.minClientVersion, PROTOCOL_VERSION)
        self.assertTrue(info.serverVersion)

    def test_send_single_and_batch_then_pull_every_queue(self):
        topic, group, queues = "PyInteropTopic", "py-consumer-group", 4
        route = self.create_topic_and_route(topic, queues)
        broker_addr = route.brokers[0].brokerAddrs[0]
        self.assertEqual(broker_addr, self.broker_addr)

        sent = {}  # uniq key -> (queue id, queue offset, offset msg id, body, properties)
        # Single sends, round robin over the write queues as a client does.
        for i in range(20):
            queue_id = i % route.queues[0].writeQueueNums
            uniq = new_uniq_key()
            props = {"TAGS": "TagA" if i % 2 == 0 else "TagB", "KEYS": "order-%d k%d" % (i, i),
                     "UNIQ_KEY": uniq, "color": "red" if i % 3 == 0 else "blue"}
            body = ("single-%d" % i).encode()
            response = self.broker.send(SendRequest(
                producerGroup="py-producer-group", topic=topic, queueId=queue_id,
                messages=[Message(topic=topic, properties=props, body=body)],
                bornTimestamp=int(time.time() * 1000), bornHost="127.0.0.1:0",
                clientVersion=PROTOCOL_VERSION))
            self.assertEqual(response.code, SUCCESS, response.remark)
            self.assertEqual(response.queueId, queue_id)
            self.assertEqual(len(response.results), 1)
            item = response.results[0]
            self.assertEqual(item.msgId, uniq)
            sent[uniq] = (queue_id, item.queueOffset, item.offsetMsgId, body, props)

        # One batch: stored consecutively in one queue, one result per message, same order.
        batch_queue = 2
        batch = []
        for i in range(10):
            props = {"TAGS": "TagBatch", "KEYS": "batch-%d" % i, "UNIQ_KEY": new_uniq_key(), "n": str(i)}
            batch.append(Message(topic=topic, properties=props, body=("batch-%d" % i).encode()))
        response = self.broker.send(SendRequest(
            producerGroup="py-producer-group", topic=topic, queueId=batch_queue, messages=batch,
            bornTimestamp=int(time.time() * 1000), bornHost="127.0.0.1:0", clientVersion=PROTOCOL_VERSION))
        self.assertEqual(response.code, SUCCESS, response.remark)
        self.assertEqual(response.queueId, batch_queue)
        self.assertEqual(len(response.results), len(batch))
        for i, (msg, item) in enumerate(zip(batch, response.results)):
            self.assertEqual(item.msgId, msg.properties["UNIQ_KEY"])
            if i > 0:
                self.assertEqual(item.queueOffset, response.results[i - 1].queueOffset + 1)
            sent[item.msgId] = (batch_queue, item.queueOffset, item.offsetMsgId, msg.body, msg.properties)

        # Oneway: no response; it shows up in the pull below.
        oneway_uniq = new_uniq_key()
        self.broker.sendOneway(SendRequest(
            producerGroup="py-producer-group", topic=topic, queueId=1,
            messages=[Message(topic=topic, properties={"TAGS": "TagOneway", "UNIQ_KEY": oneway_uniq},
                              body=b"oneway")],
            bornTimestamp=int(time.time() * 1000), bornHost="127.0.0.1:0", clientVersion=PROTOCOL_VERSION))

        # Pull every queue from offset 0 (dispatch to the consume queue is asynchronous).
        def pulled_everything():
            got = {}
            for q in range(queues):
                messages, _ = self.pull_all(group, topic, q)
                for m in messages:
                    got[m.properties["UNIQ_KEY"]] = m
            return got if len(got) == len(sent) + 1 else None
        got = wait_for(pulled_everything, 20, "every sent message to be pullable")

        self.assertEqual(got[oneway_uniq].body, b"oneway")
        self.assertEqual(got[oneway_uniq].queueId, 1)
        for uniq, (queue_id, queue_offset, offset_msg_id, body, props) in sent.items():
            m = got[uniq]
            self.assertEqual(m.topic, topic)
            self.assertEqual(m.queueId, queue_id)
            self.assertEqual(m.queueOffset, queue_offset)
            self.assertEqual(m.body, body)
            self.assertEqual(m.offsetMsgId, offset_msg_id)
            for k, v in props.items():
                self.assertEqual(m.properties.get(k), v, "property " + k)
            host, commit_log_offset = decode_offset_msg_id(offset_msg_id)
            self.assertEqual(host, self.broker_addr)
            self.assertEqual(commit_log_offset, m.commitLogOffset)
            self.assertEqual(m.storeHost, self.broker_addr)

        # Tag filtering on the broker: only TagBatch from the batch queue.
        response = self.broker.pull(PullRequest(
            consumerGroup=group, topic=topic, queueId=batch_queue, queueOffset=0, maxMsgs=64,
            suspendTimeoutMs=0, subscription="TagBatch || TagNone"))
        self.assertEqual(response.code, SUCCESS, response.remark)
        self.assertEqual([m.properties["TAGS"] for m in response.messages], ["TagBatch"] * 10)

    def test_long_poll_is_woken_by_a_new_message(self):
        topic = "PyLongPollTopic"
        self.create_topic_and_route(topic, 1)
        sender = Connection(self.broker_addr, BrokerService)
        try:
            start = time.monotonic()
            # Nothing there: a short long poll comes back with PULL_NOT_FOUND after the suspend.
            response = self.broker.pull(PullRequest(consumerGroup="py-lp", topic=topic, queueId=0,
                                                    queueOffset=0, suspendTimeoutMs=300))
            self.assertEqual(response.code, PULL_NOT_FOUND, response.remark)
            self.assertEqual(response.nextBeginOffset, 0)
            self.assertGreaterEqual(time.monotonic() - start, 0.2)
            # A message sent while a pull is held answers that pull.
            result = {}

            def poll():
                result["r"] = self.broker.pull(PullRequest(consumerGroup="py-lp", topic=topic, queueId=0,
                                                           queueOffset=0, suspendTimeoutMs=15000))
            t = threading.Thread(target=poll)
            t.start()
            time.sleep(0.3)
            r = sender.client.send(SendRequest(producerGroup="py-p", topic=topic, queueId=0, messages=[
                Message(topic=topic, properties={"UNIQ_KEY": new_uniq_key()}, body=b"wake")]))
            self.assertEqual(r.code, SUCCESS, r.remark)
            t.join(20)
            self.assertFalse(t.is_alive())
            self.assertEqual(result["r"].code, SUCCESS, result["r"].remark)
            self.assertEqual([m.body for m in result["r"].messages], [b"wake"])
            self.assertEqual(result["r"].nextBeginOffset, 1)
        finally:
            sender.close()

    def test_commit_and_query_consumer_offset(self):
        topic, group = "PyOffsetTopic", "py-offset-group"
        self.create_topic_and_route(topic, 2)
        for i in range(5):
            r = self.broker.send(SendRequest(producerGroup="py-p", topic=topic, queueId=0, messages=[
                Message(topic=topic, properties={"UNIQ_KEY": new_uniq_key()}, body=b"m%d" % i)]))
            self.assertEqual(r.code, SUCCESS, r.remark)

        ref = ConsumerOffsetRequest(consumerGroup=group, topic=topic, queueId=0)
        self.assertEqual(self.broker.queryConsumerOffset(ref).code, QUERY_NOT_FOUND)

        # Explicit commit.
        update = ConsumerOffsetRequest(consumerGroup=group, topic=topic, queueId=0, offset=3)
        self.assertEqual(self.broker.updateConsumerOffset(update).code, SUCCESS)
        queried = self.broker.queryConsumerOffset(ref)
        self.assertEqual(queried.code, SUCCESS, queried.remark)
        self.assertEqual(queried.offset, 3)

        # Piggy-backed commit on a pull.
        messages, next_offset = wait_for(lambda: (lambda r: r if len(r[0]) == 2 else None)(
            self.pull_all(group, topic, 0, start=3, commit=4)), 20, "two messages from offset 3")
        self.assertEqual([m.body for m in messages], [b"m3", b"m4"])
        self.assertEqual(next_offset, 5)
        self.assertEqual(self.broker.queryConsumerOffset(ref).offset, 4)

        max_offset = self.broker.getMaxOffset(QueueRef(topic=topic, queueId=0))
        self.assertEqual(max_offset.code, SUCCESS)
        self.assertEqual(max_offset.offset, 5)
        min_offset = self.broker.getMinOffset(QueueRef(topic=topic, queueId=0))
        self.assertEqual(min_offset.code, SUCCESS)
        self.assertEqual(min_offset.offset, 0)

    def test_heartbeat_registers_a_consumer_and_unregister_removes_it(self):
        group, client_id = "py-heartbeat-group", "127.0.0.1@%d@py" % os.getpid()
        request = HeartbeatRequest(
            clientId=client_id, producerGroups=["py-producer-group"],
            consumers=[ConsumerData(groupName=group, consumeType="PUSH", messageModel="CLUSTERING",
                                    consumeFromWhere="CONSUME_FROM_FIRST_OFFSET",
                                    subscriptions=[SubscriptionData(topic="PyInteropTopic",
                                                                    expressionType="TAG",
                                                                    expression="TagA || TagB")])],
            clientVersion=PROTOCOL_VERSION)
        self.assertEqual(self.broker.heartbeat(request).code, SUCCESS)
        members = self.broker.getConsumerList(group)
        self.assertEqual(members.code, SUCCESS, members.remark)
        self.assertEqual(members.consumerIds, [client_id])

        # A long poll on the group's membership answers at once for an unknown version.
        change = self.broker.waitConsumerGroupChange(ConsumerGroupChangeRequest(
            consumerGroup=group, clientId=client_id, knownVersion=-1, timeoutMs=1000))
        self.assertEqual(change.code, SUCCESS, change.remark)
        self.assertEqual(change.consumerIds, [client_id])

        self.assertEqual(self.broker.unregisterClient(client_id).code, SUCCESS)
        after = self.broker.getConsumerList(group)
        self.assertNotIn(client_id, after.consumerIds or [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
