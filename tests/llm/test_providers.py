"""Which chat model the settings select; no network."""

from __future__ import annotations

import pytest
from langchain_deepseek import ChatDeepSeek
from langchain_openai import ChatOpenAI

from common.errors import ConfigurationError
from common.llm.providers import chat_model_factory, choose_provider, describe
from common.llm.scripted import ScriptedChatModel, echo_policy
from common.settings import load_settings


def settings(**env: str):
    return load_settings(env)


def test_no_key_and_no_base_url_selects_the_offline_scripted_model():
    choice = choose_provider(settings())

    assert (choice.provider, choice.client) == ("offline", "scripted")
    assert describe(settings()) == "offline scripted model (scripted)"


def test_a_deepseek_key_selects_deepseek_chat():
    choice = choose_provider(settings(DEEPSEEK_API_KEY="sk-ds"))

    assert (choice.provider, choice.model, choice.api_key) == ("deepseek", "deepseek-chat", "sk-ds")
    assert choice.base_url == "https://api.deepseek.com/v1"


def test_the_generic_key_wins_over_the_provider_key():
    choice = choose_provider(settings(AGENTFLEET_LLM_API_KEY="sk-mine", DEEPSEEK_API_KEY="sk-ds"))

    assert (choice.provider, choice.api_key) == ("deepseek", "sk-mine")


def test_an_openai_key_alone_selects_openai():
    choice = choose_provider(settings(OPENAI_API_KEY="sk-oa"))

    assert (choice.provider, choice.model, choice.base_url) == ("openai", "gpt-4o-mini", None)


def test_a_base_url_alone_selects_an_openai_compatible_endpoint():
    choice = choose_provider(settings(AGENTFLEET_LLM_BASE_URL="http://127.0.0.1:9100/v1"))

    assert (choice.provider, choice.client) == ("openai-compatible", "openai")
    assert choice.base_url == "http://127.0.0.1:9100/v1"


def test_offline_can_be_forced_even_with_a_key():
    choice = choose_provider(settings(AGENTFLEET_LLM_PROVIDER="offline", DEEPSEEK_API_KEY="sk"))

    assert choice.client == "scripted"


@pytest.mark.parametrize(
    ("provider", "base_url"),
    [("ollama", "http://localhost:11434/v1"), ("vllm", "http://localhost:8000/v1")],
)
def test_local_servers_get_their_usual_base_url(provider, base_url):
    choice = choose_provider(
        settings(AGENTFLEET_LLM_PROVIDER=provider, AGENTFLEET_LLM_MODEL="qwen2.5")
    )

    assert (choice.client, choice.base_url, choice.model) == ("openai", base_url, "qwen2.5")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"AGENTFLEET_LLM_PROVIDER": "deepseek"}, "DEEPSEEK_API_KEY"),
        ({"AGENTFLEET_LLM_PROVIDER": "openai"}, "OPENAI_API_KEY"),
        ({"AGENTFLEET_LLM_PROVIDER": "vllm"}, "AGENTFLEET_LLM_MODEL"),
    ],
)
def test_an_explicit_provider_without_what_it_needs_is_a_configuration_error(env, missing):
    with pytest.raises(ConfigurationError, match=missing):
        choose_provider(settings(**env))


def test_the_description_names_provider_model_and_url_but_never_the_key():
    line = describe(settings(DEEPSEEK_API_KEY="sk-secret", AGENTFLEET_LLM_TIMEOUT="30"))

    assert line == (
        "deepseek deepseek-chat at https://api.deepseek.com/v1 (timeout 30s, client retries off)"
    )
    assert "sk-secret" not in repr(choose_provider(settings(DEEPSEEK_API_KEY="sk-secret")))


def test_the_offline_factory_builds_a_scripted_model_running_the_agents_policy():
    model = chat_model_factory(settings())(echo_policy)

    assert isinstance(model, ScriptedChatModel)
    assert model.policy is echo_policy


@pytest.mark.parametrize(
    ("env", "client_type"),
    [
        ({"DEEPSEEK_API_KEY": "sk-ds"}, ChatDeepSeek),
        ({"OPENAI_API_KEY": "sk-oa"}, ChatOpenAI),
        ({"AGENTFLEET_LLM_PROVIDER": "ollama"}, ChatOpenAI),
    ],
)
async def test_real_clients_have_their_hidden_retries_off_and_the_configured_timeout(
    env, client_type
):
    factory = chat_model_factory(settings(AGENTFLEET_LLM_TIMEOUT="12", **env))
    try:
        model = factory(echo_policy)

        assert type(model) is client_type
        assert model.max_retries == 0
        assert model.request_timeout == 12
        assert model.root_async_client.max_retries == 0
    finally:
        await factory.aclose()


async def test_clients_of_one_factory_share_one_connection_pool():
    factory = chat_model_factory(settings(DEEPSEEK_API_KEY="sk-ds"))
    try:
        first, second = factory(echo_policy), factory(echo_policy)

        assert first.http_async_client is second.http_async_client
    finally:
        await factory.aclose()
