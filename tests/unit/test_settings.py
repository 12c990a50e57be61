"""Settings are read once, validated, and a misspelled variable is an error."""

import pytest

from common.errors import ConfigurationError
from common.settings import load_settings


def test_defaults_need_no_environment():
    settings = load_settings({})
    assert settings.store_backend == "sqlite"
    assert settings.concurrency == 16
    assert settings.lease_seconds == 60
    assert settings.heartbeat_seconds == 20


def test_prefixed_and_provider_variables_are_read():
    settings = load_settings(
        {"AGENTFLEET_CONCURRENCY": "4", "MONGODB_URL": "mongodb://db:27017", "PATH": "/bin"}
    )
    assert settings.concurrency == 4
    assert settings.store_backend == "mongodb"


def test_misspelled_setting_is_rejected_with_a_suggestion():
    with pytest.raises(ConfigurationError, match="AGENTFLEET_CONCURRENCY"):
        load_settings({"AGENTFLEET_CONCURENCY": "4"})


def test_invalid_value_names_the_variable():
    with pytest.raises(ConfigurationError, match="AGENTFLEET_CONCURRENCY"):
        load_settings({"AGENTFLEET_CONCURRENCY": "zero"})


def test_heartbeat_must_be_shorter_than_the_lease():
    with pytest.raises(ConfigurationError, match="heartbeat"):
        load_settings({"AGENTFLEET_LEASE_SECONDS": "10", "AGENTFLEET_HEARTBEAT_SECONDS": "20"})


def test_overrides_are_validated_too():
    settings = load_settings({})
    assert settings.with_overrides(concurrency=3).concurrency == 3
    with pytest.raises(ConfigurationError):
        settings.with_overrides(concurrency=0)
