"""The LLM editor: an `Editor` that asks an OpenAI-compatible chat-completions endpoint.

Retries are the openai client's (backoff on 429 honouring Retry-After, 5xx, timeouts and
lost connections); what is still failing after them becomes an `EditError`.  The API key goes
to the endpoint and nowhere else: not to logs, the cache, prompts, reprs or error messages.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from codeplan.edit.answer import parse_answer, parse_triage
from codeplan.edit.model import EditRequest, TriageRequest, Usage
from codeplan.edit.pricing import DEFAULT_PRICES, Price, cost_usd, price_table
from codeplan.edit.prompts import PromptSet
from codeplan.edit.response_cache import CachedAnswer, ResponseCache
from codeplan.errors import ConfigError, EditError

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# local servers (vLLM, llama.cpp, Ollama) ignore the key, but the client insists on one
LOCAL_PLACEHOLDER_KEY = "not-needed"

# reasoning models refuse `temperature` and `max_tokens`, and want `max_completion_tokens`
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")
_RETRIED_STATUS = {408, 409, 429}

LogSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class LLMSettings:
    model: str = DEFAULT_MODEL
    base_url: str | None = None  # None: OpenAI's own API
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str = DEFAULT_KEY_ENV  # named in error messages, so users know where to look
    timeout_seconds: float = 120.0
    max_retries: int = 4
    temperature: float = 0.0
    max_output_tokens: int | None = None
    prices: Mapping[str, Price] = field(default_factory=lambda: DEFAULT_PRICES)
    use_cache: bool = True


_CONFIG_KEYS = (
    "model",
    "base_url",
    "api_key_env",
    "timeout_seconds",
    "max_retries",
    "temperature",
    "max_output_tokens",
    "prices",
    "use_cache",
)


def llm_settings(config: Mapping[str, Any], env: Mapping[str, str]) -> LLMSettings:
    """Settings from the configuration's `[llm]` table, overridden by the environment.

    The environment wins over the file, so that one run can try another model or endpoint
    without editing it: `CODEPLAN_MODEL` over `[llm] model`, `OPENAI_BASE_URL` over
    `[llm] base_url`.  The key is only ever read from the environment variable named by
    `[llm] api_key_env` (default `OPENAI_API_KEY`): keys do not belong in committed files.
    """
    section = config.get("llm", {})
    if not isinstance(section, Mapping):
        raise ConfigError("[llm] must be a table")
    if "api_key" in section:
        raise ConfigError(
            "[llm] api_key: keep API keys out of configuration files; put the key in an"
            " environment variable and name it with [llm] api_key_env"
        )
    unknown = sorted(str(key) for key in section if key not in _CONFIG_KEYS)
    if unknown:
        raise ConfigError(f"[llm] has unknown keys {unknown}; known: {', '.join(_CONFIG_KEYS)}")
    key_env = _text(section, "api_key_env") or DEFAULT_KEY_ENV
    timeout = _number(section, "timeout_seconds", 120.0)
    if timeout <= 0:
        raise ConfigError("[llm] timeout_seconds must be positive")
    temperature = _number(section, "temperature", 0.0)
    if not 0.0 <= temperature <= 2.0:
        raise ConfigError("[llm] temperature must be between 0 and 2")
    max_output = section.get("max_output_tokens")
    if max_output is not None and (_integer(section, "max_output_tokens", 1) < 1):
        raise ConfigError("[llm] max_output_tokens must be at least 1")
    max_retries = _integer(section, "max_retries", 4)
    if max_retries < 0:
        raise ConfigError("[llm] max_retries must not be negative")
    use_cache = section.get("use_cache", True)
    if not isinstance(use_cache, bool):
        raise ConfigError("[llm] use_cache must be true or false")
    return LLMSettings(
        model=env.get("CODEPLAN_MODEL") or _text(section, "model") or DEFAULT_MODEL,
        base_url=env.get("OPENAI_BASE_URL") or _text(section, "base_url"),
        api_key=env.get(key_env) or None,
        api_key_env=key_env,
        timeout_seconds=timeout,
        max_retries=max_retries,
        temperature=temperature,
        max_output_tokens=None if max_output is None else int(max_output),
        prices=price_table(section.get("prices")),
        use_cache=use_cache,
    )


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret, and anything shaped like an OpenAI key, blacked out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    return _KEY_LIKE.sub("[REDACTED]", text)


class LLMEditor:
    """Asks the model for each block's new text; meters tokens and cost; caches answers."""

    def __init__(
        self,
        settings: LLMSettings,
        prompts: PromptSet,
        cache: ResponseCache | None = None,
        log: LogSink | None = None,
    ) -> None:
        self.settings = settings
        self._prompts = prompts
        self._cache = cache if settings.use_cache else None
        self._log = log
        password = urlsplit(settings.base_url or "").password
        self._secrets = tuple(secret for secret in (settings.api_key, password) if secret)
        self._host = _host(settings.base_url or DEFAULT_BASE_URL)
        if not settings.api_key and settings.base_url is None:
            raise ConfigError(
                f"no API key for the LLM: set ${settings.api_key_env}, or point [llm] base_url"
                " at a local endpoint that needs none"
            )
        import openai  # here, not at the top: a third of a second every command would pay

        self._client = openai.OpenAI(
            api_key=settings.api_key or LOCAL_PLACEHOLDER_KEY,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )
        self._lock = threading.Lock()
        self._usage = Usage()

    @property
    def usage(self) -> Usage:
        with self._lock:
            return self._usage

    def __call__(self, request: EditRequest) -> str | None:
        messages = self._prompts.messages(request)
        return parse_answer(self.complete(messages, path=request.path, qualname=request.qualname))

    def triage(self, request: TriageRequest) -> frozenset[str]:
        """The candidates the model says need an edit; all of them when its answer cannot
        be read (a block left out would never be asked about again)."""
        answer = self.complete(self._prompts.triage_messages(request), purpose="triage")
        chosen = parse_triage(answer, len(request.candidates))
        if chosen is None:
            self._emit({"event": "triage_unread", "answer": answer})
            return frozenset(c.block_id for c in request.candidates)
        return frozenset(request.candidates[number - 1].block_id for number in chosen)

    def complete(self, messages: list[dict[str, str]], **where: str) -> str:
        """The model's raw answer to `messages`, through the cache, metered and logged
        (`where` says what it is about, for the log).  Other prompts than edits (picking
        seeds from a task) come through here too."""
        model = self.settings.model
        params = self._params()
        about = {"model": model, **where}
        self._emit({"event": "llm_request", **about, "messages": messages})
        started = time.monotonic()
        key = ResponseCache.key(model, messages, params)
        hit = self._cache.get(key) if self._cache is not None else None
        if hit is not None:
            self._account(Usage(calls=1, cached_calls=1))
            self._emit_answer(about, hit.text, 0, 0, 0.0, True, started, None)
            return hit.text
        text, prompt_tokens, completion_tokens, finish = self._complete(messages, params, about)
        cost = cost_usd(model, prompt_tokens, completion_tokens, self.settings.prices)
        self._account(Usage(1, 0, prompt_tokens, completion_tokens, cost))
        # an empty answer is more likely a glitch than the model's considered reply
        if self._cache is not None and text.strip():
            self._cache.put(key, CachedAnswer(text, prompt_tokens, completion_tokens))
        self._emit_answer(
            about, text, prompt_tokens, completion_tokens, cost, False, started, finish
        )
        return text

    def _params(self) -> dict[str, Any]:
        """The sampling parameters, named as the model's family expects them."""
        reasoning = _REASONING_MODEL.match(self.settings.model.rsplit("/", 1)[-1]) is not None
        params: dict[str, Any] = {}
        if not reasoning:
            params["temperature"] = self.settings.temperature
        if self.settings.max_output_tokens is not None:
            name = "max_completion_tokens" if reasoning else "max_tokens"
            params[name] = self.settings.max_output_tokens
        return params

    def _complete(
        self, messages: list[dict[str, str]], params: dict[str, Any], where: dict[str, str]
    ) -> tuple[str, int, int, str | None]:
        import openai

        started = time.monotonic()
        try:
            completion = self._client.chat.completions.create(
                model=self.settings.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                **params,
            )
        # ValueError: a body that is not JSON, which the client does not wrap
        except (openai.OpenAIError, ValueError) as error:
            message = self._describe(error)
            self._emit(
                {"event": "llm_error", **where, "error": message, "seconds": _since(started)}
            )
            # `from None`: the openai error holds the request, and with it the key
            raise EditError(message) from None
        choices = getattr(completion, "choices", None) or []
        text = (choices[0].message.content or "") if choices else ""
        finish = choices[0].finish_reason if choices else None
        usage = getattr(completion, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return text, prompt_tokens, completion_tokens, finish

    def _describe(self, error: Exception) -> str:
        """A message for the user: what failed, where, and what to check; never the key."""
        import openai

        model, host = self.settings.model, self._host
        tries = f"{self.settings.max_retries + 1} attempts"
        if isinstance(error, openai.APITimeoutError):
            text = (
                f"the LLM request for model {model} at {host} timed out after"
                f" {self.settings.timeout_seconds:g} s ({tries}); raise [llm] timeout_seconds"
                " or check the endpoint"
            )
        elif isinstance(error, openai.APIConnectionError):
            reason = error.__cause__ or error
            text = f"cannot reach the LLM endpoint {host} for model {model} ({tries}): {reason}"
        elif isinstance(error, openai.APIStatusError):
            status = error.status_code
            retried = status in _RETRIED_STATUS or status >= 500
            text = (
                f"the LLM endpoint {host} answered HTTP {status} for model {model}"
                f"{f' ({tries})' if retried else ''}: {error.message}"
            )
            if status in (401, 403):
                text += f"; check the key in ${self.settings.api_key_env}"
            elif status == 404:
                text += "; check [llm] model and base_url"
        else:
            text = f"the LLM endpoint {host} gave an unusable answer for model {model}: {error}"
        return redact(text, self._secrets)

    def _account(self, usage: Usage) -> None:
        with self._lock:
            self._usage = self._usage + usage

    def _emit_answer(
        self,
        where: dict[str, str],
        text: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        cached: bool,
        started: float,
        finish_reason: str | None,
    ) -> None:
        self._emit(
            {
                "event": "llm_answer",
                **where,
                "answer": text,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "cost_usd": cost,
                "cached": cached,
                "finish_reason": finish_reason,
                "seconds": _since(started),
            }
        )

    def _emit(self, event: dict[str, Any]) -> None:
        if self._log is not None:
            self._log(event)


def _host(url: str) -> str:
    """The endpoint's host and port: never the user:password a URL may carry."""
    parts = urlsplit(url)
    if parts.hostname is None:
        return url if "@" not in url else "(unparsable URL)"
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _text(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[llm] {key} must be a non-empty string")
    return value.strip()


def _number(section: Mapping[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"[llm] {key} must be a number")
    return float(value)


def _integer(section: Mapping[str, Any], key: str, default: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"[llm] {key} must be a whole number")
    return value
