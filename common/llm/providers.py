"""Which chat model an agent gets: the offline scripted one, or a real OpenAI-compatible client.

`choose_provider(settings)` is the pure decision; `chat_model_factory(settings)` turns it into a
factory that agents call with the offline policy they would like to run. Real clients are built
with the client library's own retries off (`max_retries=0`): every retry is the fleet's, parked
and visible in the execution's `attempts`.

Selection with `AGENTFLEET_LLM_PROVIDER=auto` (the default), first match wins:

1. `AGENTFLEET_LLM_BASE_URL` set: an OpenAI-compatible endpoint at that URL (the local fake
   provider, a proxy, vLLM, Ollama …), key from `AGENTFLEET_LLM_API_KEY` if any;
2. `AGENTFLEET_LLM_API_KEY` or `DEEPSEEK_API_KEY`: DeepSeek;
3. `OPENAI_API_KEY`: OpenAI;
4. otherwise the offline scripted model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel

from common.errors import ConfigurationError
from common.flow.chat import FlowControlledChatModel
from common.flow.controller import FlowController
from common.llm.scripted import SCRIPTED_MODEL_NAME, Policy, ScriptedChatModel
from common.settings import Settings

DEEPSEEK_BASE_URL = "https://api.deepseek.com/v1"
DEFAULT_MODELS = {
    "deepseek": "deepseek-chat",
    "openai": "gpt-4o-mini",
    "ollama": "llama3.1",
    "openai-compatible": "deepseek-chat",
}
LOCAL_BASE_URLS = {"ollama": "http://localhost:11434/v1", "vllm": "http://localhost:8000/v1"}
#: Local servers ignore the key, but the OpenAI client refuses to send a request without one.
PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class ProviderChoice:
    """What `choose_provider` decided. `client` is the LangChain class family to build."""

    provider: str  # offline | deepseek | openai | ollama | vllm | openai-compatible
    client: str  # scripted | deepseek | openai
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)


def _offline(s: Settings) -> ProviderChoice:
    return ProviderChoice("offline", "scripted", s.llm_model or SCRIPTED_MODEL_NAME)


def _deepseek(s: Settings) -> ProviderChoice:
    key = s.llm_api_key or s.deepseek_api_key
    base_url = s.llm_base_url or DEEPSEEK_BASE_URL
    if not key and base_url == DEEPSEEK_BASE_URL:
        raise ConfigurationError(
            "the deepseek provider needs DEEPSEEK_API_KEY (or AGENTFLEET_LLM_API_KEY)"
        )
    model = s.llm_model or DEFAULT_MODELS["deepseek"]
    return ProviderChoice("deepseek", "deepseek", model, base_url, key or PLACEHOLDER_KEY)


def _openai(s: Settings) -> ProviderChoice:
    key = s.llm_api_key or s.openai_api_key
    if not key and not s.llm_base_url:
        raise ConfigurationError(
            "the openai provider needs OPENAI_API_KEY (or AGENTFLEET_LLM_API_KEY)"
        )
    model = s.llm_model or DEFAULT_MODELS["openai"]
    return ProviderChoice("openai", "openai", model, s.llm_base_url, key or PLACEHOLDER_KEY)


def _local(provider: str) -> Callable[[Settings], ProviderChoice]:
    def choose(s: Settings) -> ProviderChoice:
        model = s.llm_model or DEFAULT_MODELS.get(provider)
        if not model:
            raise ConfigurationError(f"the {provider} provider needs AGENTFLEET_LLM_MODEL")
        base_url = s.llm_base_url or LOCAL_BASE_URLS[provider]
        return ProviderChoice(provider, "openai", model, base_url, s.llm_api_key or PLACEHOLDER_KEY)

    return choose


def _compatible(s: Settings) -> ProviderChoice:
    model = s.llm_model or DEFAULT_MODELS["openai-compatible"]
    key = s.llm_api_key or PLACEHOLDER_KEY
    return ProviderChoice("openai-compatible", "openai", model, s.llm_base_url, key)


def _auto(s: Settings) -> ProviderChoice:
    if s.llm_base_url:
        return _compatible(s)
    if s.llm_api_key or s.deepseek_api_key:
        return _deepseek(s)
    if s.openai_api_key:
        return _openai(s)
    return _offline(s)


_CHOOSERS: dict[str, Callable[[Settings], ProviderChoice]] = {
    "auto": _auto,
    "offline": _offline,
    "deepseek": _deepseek,
    "openai": _openai,
    "ollama": _local("ollama"),
    "vllm": _local("vllm"),
}


def choose_provider(settings: Settings) -> ProviderChoice:
    """Decide the provider from settings alone; `ConfigurationError` if it cannot work."""
    return _CHOOSERS[settings.llm_provider](settings)


def describe(settings: Settings) -> str:
    """One line for start-up logs; never contains the key."""
    choice = choose_provider(settings)
    if choice.client == "scripted":
        return f"offline scripted model ({choice.model})"
    where = choice.base_url or "https://api.openai.com/v1"
    return (
        f"{choice.provider} {choice.model} at {where} "
        f"(timeout {settings.llm_timeout:g}s, client retries off)"
    )


class ChatModelFactory:
    """Builds the chat model for one agent run: `factory(policy) -> BaseChatModel`.

    Real clients of one factory share one HTTP connection pool (built on first use, in the
    running event loop); close it with `aclose()` at shutdown.
    """

    def __init__(self, settings: Settings, flow: FlowController | None = None) -> None:
        self.settings = settings
        self.choice = choose_provider(settings)
        self.flow = flow
        self._http: httpx.AsyncClient | None = None
        self._http_sync: httpx.Client | None = None

    @property
    def offline(self) -> bool:
        return self.choice.client == "scripted"

    @property
    def key(self) -> str:
        """The provider key flow control and `AGENTFLEET_PROVIDER_LIMITS` know it by."""
        return provider_key(self.choice)

    def __call__(self, policy: Policy) -> BaseChatModel:
        if self.offline:
            return ScriptedChatModel(policy=policy, model_name=self.choice.model)
        client = self._client()
        if self.flow is None:
            return client
        return FlowControlledChatModel(inner=client, flow=self.flow, key=self.key)

    def _client(self) -> BaseChatModel:
        choice = self.choice
        options: dict[str, Any] = {
            "model": choice.model,
            "api_key": choice.api_key,
            "base_url": choice.base_url,
            "timeout": self.settings.llm_timeout,
            "max_retries": 0,
            "stream_usage": True,
            "http_async_client": self._async_http(),
            "http_client": self._sync_http(),
        }
        if choice.client == "deepseek":
            from langchain_deepseek import ChatDeepSeek

            return ChatDeepSeek(**options)
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(**options)

    def _limits(self) -> httpx.Limits:
        # Enough connections for every in-flight execution of this worker, not httpx's 100.
        return httpx.Limits(
            max_connections=max(1000, self.settings.concurrency), max_keepalive_connections=100
        )

    def _async_http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(limits=self._limits())
        return self._http

    def _sync_http(self) -> httpx.Client:
        # Unused by async agents, but without it each client instance builds its own.
        if self._http_sync is None:
            self._http_sync = httpx.Client(limits=self._limits())
        return self._http_sync

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._http_sync is not None:
            self._http_sync.close()
            self._http_sync = None


def provider_key(choice: ProviderChoice) -> str:
    """`provider/model`, e.g. `deepseek/deepseek-chat`: one flow-control state per key."""
    return f"{choice.provider}/{choice.model}"


def chat_model_factory(settings: Settings, flow: FlowController | None = None) -> ChatModelFactory:
    """The factory agents call with their offline policy: `factory(policy) -> BaseChatModel`;
    with `flow`, every call of a real provider goes through the fleet's flow control."""
    return ChatModelFactory(settings, flow)
