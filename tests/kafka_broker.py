"""Apache Kafka for the tests and for `make kafka`: one combined broker and controller (KRaft),
its jars assembled from Maven Central by `ops/kafka/pom.xml`, on ports of its own.

    python -m tests.kafka_broker fetch   # the jars, once (a second run downloads nothing)
    python -m tests.kafka_broker run     # a broker in the foreground, on 127.0.0.1:9092
"""

import argparse
import base64
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.services import free_port, wait_for_port

OPS = Path(__file__).resolve().parent.parent / "ops" / "kafka"
POM = OPS / "pom.xml"
LOGGING = OPS / "log4j2.properties"
HEAP = os.environ.get("MARKETPLACE_KAFKA_HEAP", "512m")
STARTED = "Kafka Server started"


class Unavailable(RuntimeError):
    """Apache Kafka cannot be set up on this machine; the message says why and what to do."""


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "marketplace"


def libs() -> Path:
    """The broker's jars, fetched by Maven the first time (keyed by the pom's content)."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    target = _cache_root() / f"kafka-{digest}"
    if (target / ".complete").exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise Unavailable(
            "Apache Kafka's jars come from Maven Central through Maven, and `mvn` is not "
            "installed (apt-get install maven); or point the tests at a broker of yours "
            "with MARKETPLACE_TEST_KAFKA=host:port"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="kafka-", dir=target.parent))
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise Unavailable(
            "Maven could not fetch Apache Kafka from Maven Central (is the registry "
            "reachable?):\n" + "\n".join(tail)
        )
    (staging / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise Unavailable("Apache Kafka needs Java 17 or newer (apt-get install openjdk-17-jre)")
    return java


def _with_parent(command: list[str]) -> list[str]:
    """The command, made to get SIGKILL when the thread that starts it dies (util-linux's
    setpriv), so a killed test run or a stopped `make kafka` leaves no JVM behind."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


def cluster_id() -> str:
    """A KRaft cluster id: a UUID in URL-safe base64 without padding, as Kafka spells them."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


class ApacheKafka:
    """One broker and controller on `directory`; killed, paused or restarted on the same log."""

    def __init__(
        self,
        directory: Path | None = None,
        port: int | None = None,
        controller_port: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="kafka-broker-"))
        self.host = host
        self.port = port or free_port()
        # Kept for the broker's life: the formatted quorum names the controller's address.
        self.controller_port = controller_port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.libs = libs()
        self.java = _java()

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "broker.log"

    def _properties(self) -> Path:
        path = self.directory / "server.properties"
        path.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"listeners=PLAINTEXT://{self.host}:{self.port},"
                    f"CONTROLLER://{self.host}:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"controller.quorum.bootstrap.servers={self.host}:{self.controller_port}",
                    f"log.dirs={self.directory / 'data'}",
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    # A group forms as soon as its first member joins: tests and demos wait less.
                    "group.initial.rebalance.delay.ms=0",
                    # Kill tests use 3 s sessions; the broker's default floor is 6 s.
                    "group.min.session.timeout.ms=1000",
                    "",
                ]
            )
        )
        return path

    def _classpath(self) -> list[str]:
        return [
            self.java,
            f"-Xms{HEAP}",
            f"-Xmx{HEAP}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOGGING}",
            "-cp",
            str(self.libs / "*"),
        ]

    def _format(self, properties: Path) -> None:
        if (self.directory / "data" / "meta.properties").exists():
            return
        result = subprocess.run(
            [
                *self._classpath(),
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                # One argument: an id may start with "-".
                f"--cluster-id={cluster_id()}",
                "--config",
                str(properties),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise Unavailable(f"formatting Kafka's log directory failed:\n{result.stderr[-3000:]}")

    def start(self, timeout: float = 90.0) -> None:
        """Starts the broker (formatting its log directory the first time) and waits until
        it says it has started."""
        self.directory.mkdir(parents=True, exist_ok=True)
        properties = self._properties()
        self._format(properties)
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                _with_parent([*self._classpath(), "kafka.Kafka", str(properties)]),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise Unavailable(f"Apache Kafka exited at start:\n{self._tail(offset)}")
            if STARTED in self._tail(offset, whole=True):
                break
            if time.monotonic() > deadline:
                raise Unavailable(f"Apache Kafka did not start in {timeout:.0f} s:\n{self._tail()}")
            time.sleep(0.2)
        wait_for_port(self.port)

    def _tail(self, offset: int = 0, whole: bool = False) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return text if whole else text[-3000:]

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self) -> None:
        """`kill -9`: no shutdown, no flush; the log directory stays for a restart."""
        if self.process is not None:
            self._signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stops the broker and forgets its log directory."""
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.kafka_broker")
    parser.add_argument("command", choices=["fetch", "run"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("KAFKA_PORT", "9092")))
    parser.add_argument("--dir", type=Path, default=Path("var/kafka"))
    args = parser.parse_args()
    try:
        if args.command == "fetch":
            print(f"Apache Kafka's jars are in {libs()}")
            return
        broker = ApacheKafka(args.dir.resolve(), args.port, args.port + 1)
        broker.start()
    except Unavailable as error:
        sys.exit(f"error: {error}")
    print(
        f"Apache Kafka is up: MARKETPLACE_KAFKA_BOOTSTRAP={broker.bootstrap} "
        f"(log directory {broker.directory}; Ctrl-C stops it)",
        flush=True,
    )
    assert broker.process is not None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        broker.process.wait()
    except (KeyboardInterrupt, SystemExit):
        broker.process.terminate()
        broker.process.wait()


if __name__ == "__main__":
    main()
