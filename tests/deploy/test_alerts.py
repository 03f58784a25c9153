"""deploy/alerts.yml: valid, loaded by deploy/prometheus.yml, on metrics akhbar exports, and
firing when (and only when) its unit tests in alerts_test.yml say."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.metrics_core import Metric

from services.core.metrics import REGISTRY
from tests.deploy.prometheus import DEPLOY

HERE = DEPLOY.parent / "tests" / "deploy"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (sudo bash scripts/install-system-tools.sh)")
    return subprocess.run(
        ["promtool", *args], capture_output=True, text=True, cwd=DEPLOY, timeout=60, check=False
    )


def exported_names() -> set[str]:
    names = set()
    family: Metric
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


def test_rules_and_config_pass_promtool_check() -> None:
    for args in (("check", "rules", "alerts.yml"), ("check", "config", "prometheus.yml")):
        done = promtool(*args)
        assert done.returncode == 0, done.stdout + done.stderr


def test_alert_unit_tests_pass() -> None:
    done = promtool("test", "rules", str(HERE / "alerts_test.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_unit_tested_and_uses_exported_metrics() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert {"AkhbarServiceDown", "AkhbarFeedFailing", "AkhbarConsumerLagGrowing"} <= set(alerts)
    assert "AkhbarDeadLetters" in alerts

    tests = yaml.safe_load((HERE / "alerts_test.yml").read_text(encoding="utf-8"))
    firing = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert firing == set(alerts), "each alert needs a unit test in which it fires"

    exported = exported_names()
    for name, rule in alerts.items():
        used = set(re.findall(r"\b(akhbar_[a-z_]+)\b", rule["expr"]))
        assert used <= exported, f"{name} uses metrics akhbar does not export: {used - exported}"
