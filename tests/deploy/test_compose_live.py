"""The compose deployment, run for real in a private Docker engine.

Builds the images, starts deploy/docker-compose.yml, replays the seeds and then a few thousand
generated Arabic articles through the compose network while a parser is SIGKILLed and Valkey
is restarted, and checks that every document lands in the corpus volume exactly once. A real
Prometheus scrapes the published /metrics with deploy/prometheus.yml and its alert rules.
Afterwards nothing of the engine is left on the host: no process, interface, iptables rule.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import yaml

from services.core.messages import document_id
from tests.conftest import SEEDS
from tests.deploy.conftest import Compose
from tests.deploy.engine import DockerEngine
from tests.deploy.images import build_akhbar_image, build_base_images
from tests.deploy.prometheus import DEPLOY, Prometheus, scrape_config_copy
from tests.localsite import page_html

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

# Enough that parsing outlasts publishing by many seconds on two cores, so the kill and the
# restart land mid-run.
DOCUMENTS = 3000
HOST_PORTS = {"fetcher": 9101, "store": 9103}  # as deploy/docker-compose.yml publishes them
SERVICES = 5  # valkey, fetcher, two parsers, store


def write_documents(folder: Path, count: int) -> set[str]:
    """Distinct Arabic articles (random word sequences), a third as web pages; returns the
    ids they get when replayed from /replay inside a container."""
    rng = random.Random(5)
    words = sorted(
        {
            w
            for p in SEEDS.glob("*.txt")
            for w in p.read_text(encoding="utf-8").split()
            if len(w) > 2
        }
    )
    folder.mkdir(mode=0o755)
    ids = set()
    for n in range(count):
        title = f"نبأ رقم {n}"
        body = "\n\n".join(" ".join(rng.choices(words, k=30)) + "." for _ in range(4))
        if n % 3:
            name, text = f"doc{n:05d}.txt", f"{title}\n\n{body}"
        else:
            name, text = f"doc{n:05d}.html", page_html(title, body)
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod(0o644)
        ids.add(document_id(f"file:///replay/{name}"))
    return ids


def seed_ids() -> set[str]:
    return {document_id(f"file:///app/seeds/{p.name}") for p in SEEDS.glob("*.txt")}


def corpus_ids(compose: Compose, strict: bool = False) -> Counter[str]:
    """How often each document id is in the corpus volume, read from the store container."""
    done = compose(
        "exec", "-T", "store", "find", "/data/corpus", "-name", "*.jsonl", "-exec", "cat", "{}", "+"
    )
    ids: Counter[str] = Counter()
    for line in done.stdout.splitlines():
        try:
            ids[json.loads(line)["id"]] += 1
        except json.JSONDecodeError:
            if strict:
                raise
    return ids


def wait_for_corpus(compose: Compose, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sum(corpus_ids(compose).values()) < count:
        if time.monotonic() > deadline:
            stats = compose("exec", "-T", "store", "akhbar", "stats", check=False).stdout
            raise AssertionError(f"corpus short of {count} after {timeout}s:\n{stats}")
        time.sleep(2)


def stored_so_far() -> float:
    """The store's akhbar_stored_total, scraped from the port compose publishes on the host."""
    url = f"http://127.0.0.1:{HOST_PORTS['store']}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("akhbar_stored_total "):
                return float(line.split()[1])
    return 0.0


def wait_stored(count: int, replay: subprocess.Popen[bytes], timeout: float = 120) -> float:
    """Wait until the store has stored `count` documents; returns how many it has."""
    deadline = time.monotonic() + timeout
    while (stored := stored_so_far()) < count:
        assert time.monotonic() < deadline, f"only {stored:.0f} stored (replay: {replay.poll()})"
        time.sleep(0.1)
    return stored


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_compose_deployment_runs_survives_failures_and_is_scraped(
    engine: DockerEngine, compose: Compose, tmp_path: Path
) -> None:
    busy = [port for port in HOST_PORTS.values() if port_in_use(port)]
    assert not busy, f"host ports {busy} are taken; deploy/docker-compose.yml publishes them"
    times: dict[str, float] = {}
    started = time.monotonic()

    times["base images"], built = build_base_images(engine)
    times["akhbar image"] = build_akhbar_image(engine)

    step = time.monotonic()
    compose("up", "--detach", "--no-build")
    compose.wait_healthy(SERVICES, timeout=180)
    times["up to healthy"] = time.monotonic() - step

    prometheus = Prometheus(scrape_config_copy(tmp_path / "prometheus"), tmp_path / "prometheus")
    prometheus.start()
    try:
        # The seeds shipped in the image, replayed through the compose network.
        replayed = compose("run", "--rm", "fetcher", "replay", "/app/seeds")
        assert f"published {len(seed_ids())} documents" in replayed.stdout
        wait_for_corpus(compose, len(seed_ids()), timeout=60)

        compose("up", "--detach", "--no-build", "--scale", "parser=3")
        parsers = compose.containers("parser")
        assert len(parsers) == 3

        # A larger run, with a parser SIGKILLed and Valkey restarted while it is parsed.
        expected = write_documents(tmp_path / "replay", DOCUMENTS) | seed_ids()
        step = time.monotonic()
        replay_args = ("run", "--rm", "-v", f"{tmp_path / 'replay'}:/replay:ro", "fetcher")
        replay = compose.popen(*replay_args, "replay", "/replay", log=tmp_path / "replay.log")
        victim = parsers[-1]
        at_kill = wait_stored(DOCUMENTS // 20, replay)
        os.kill(int(compose.inspect(victim, "{{.State.Pid}}")), signal.SIGKILL)
        valkey = compose.containers("valkey")[0]
        valkey_started = compose.inspect(valkey, "{{.State.StartedAt}}")
        at_restart = wait_stored(DOCUMENTS // 4, replay)
        compose("restart", "valkey")
        assert at_restart < len(expected), "the run ended before the broker restart"
        print(f"stored at parser kill {at_kill:.0f}, at Valkey restart {at_restart:.0f}")
        if replay.wait(timeout=180) != 0:
            # The restart cut the publisher off: publish everything again, as an operator
            # would; the store keeps each document once however often it arrives.
            print("replay cut by the restart:", (tmp_path / "replay.log").read_text()[-300:])
            compose(*replay_args, "replay", "/replay")
        times["publish"] = time.monotonic() - step

        wait_for_corpus(compose, len(expected), timeout=240)
        times["run to complete"] = time.monotonic() - step
        time.sleep(3)  # anything stored twice would land within the store's next batches
        ids = corpus_ids(compose, strict=True)
        assert set(ids) == expected, (
            f"missing {len(expected - set(ids))}, extra {len(set(ids) - expected)}"
        )
        assert max(ids.values()) == 1, "a document was stored twice"
        stats = compose("exec", "-T", "store", "akhbar", "stats").stdout
        assert f"corpus: {len(expected)} documents" in stats, stats
        assert compose.inspect(valkey, "{{.State.StartedAt}}") != valkey_started
        assert int(compose.inspect(victim, "{{.RestartCount}}")) >= 1, "docker did not restart it"

        check_prometheus(prometheus)
    finally:
        prometheus.stop()

    step = time.monotonic()
    compose("down", "--volumes", "--rmi", "all", "--remove-orphans")
    engine.stop()
    times["teardown"] = time.monotonic() - step
    assert engine.leftovers() == []
    times["whole test"] = time.monotonic() - started
    print(built.strip())
    print(", ".join(f"{name} {seconds:.0f} s" for name, seconds in times.items()))


def check_prometheus(prometheus: Prometheus) -> None:
    """The shipped scrape config reaches both published targets and the rules load."""
    deadline = time.monotonic() + 30
    while True:
        up = prometheus.query('up{job="akhbar"}')
        if len(up) == len(HOST_PORTS) and set(up.values()) == {1.0}:
            break
        assert time.monotonic() < deadline, f"targets not up: {prometheus.api('targets')}"
        time.sleep(0.5)
    targets = prometheus.api("targets")["activeTargets"]
    assert {t["labels"]["service"]: t["health"] for t in targets} == {
        "fetcher": "up",
        "store": "up",
    }
    assert prometheus.query("akhbar_stored_total")  # the store counted what it stored
    for name, value in prometheus.query("akhbar_group_pending or akhbar_group_lag").items():
        assert value == 0, f"{name} is {value} after the run"
    assert set(prometheus.query('akhbar_stream_length{stream="dead"}').values()) == {0.0}
    # The feed alert's metric, from the fetcher polling its unreachable feed.
    assert prometheus.query('akhbar_feed_consecutive_failures{feed="unreachable"} > 0')
    rules = prometheus.api("rules")["groups"]
    loaded = {rule["name"]: rule["health"] for group in rules for rule in group["rules"]}
    alerts = yaml.safe_load((DEPLOY / "alerts.yml").read_text(encoding="utf-8"))
    assert set(loaded) == {rule["alert"] for group in alerts["groups"] for rule in group["rules"]}
    assert set(loaded.values()) == {"ok"}, loaded
