"""The LLM editor end to end, against a real local server speaking the OpenAI protocol."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from openai_server import Fail, Garbage, Hang, Item, Reply, ScriptedOpenAI

from codeplan.edit.answer import parse_answer
from codeplan.edit.llm import LLMEditor, LLMSettings, llm_settings, redact
from codeplan.edit.model import EarlierEdit, EditContext, EditRequest, MeteredEditor, RelatedCode
from codeplan.edit.pricing import DEFAULT_PRICES, cost_usd, price_for, price_table
from codeplan.edit.prompts import PromptSet
from codeplan.edit.response_cache import CachedAnswer, ResponseCache
from codeplan.errors import ConfigError, EditError

KEY = "sk-test-SECRET123"
SOURCE = "    def area(self):\n        return self.w * self.h\n"
EDITED = "    def area(self):\n        return self.width * self.height"


def request(**context: Any) -> EditRequest:
    context.setdefault("task", "Rename Shape.w to Shape.width")
    return EditRequest(
        "pkg/shape.py", "Shape.area", "method", "python", SOURCE, "", EditContext(**context)
    )


def editor(server: ScriptedOpenAI, **settings: Any) -> LLMEditor:
    cache = settings.pop("cache", None)
    log = settings.pop("log", None)
    options: dict[str, Any] = {"base_url": server.base_url, "api_key": KEY, "max_retries": 2}
    return LLMEditor(LLMSettings(**{**options, **settings}), PromptSet(), cache, log)


def test_a_fenced_answer_is_the_new_code_and_no_change_is_none() -> None:
    script = [Reply(f"Here it is:\n```python\n{EDITED}\n```\nDone."), Reply("NO CHANGE")]
    with ScriptedOpenAI(script) as server:
        edit = editor(server, model="gpt-4o")
        assert isinstance(edit, MeteredEditor)
        assert edit(request()) == EDITED
        assert edit(request(task="another task")) is None
        body = server.requests[0].body or {}
        assert body["model"] == "gpt-4o" and body["temperature"] == 0.0
        assert [message["role"] for message in server.requests[0].messages] == ["system", "user"]


def test_the_prompt_has_the_five_parts_and_the_feedback() -> None:
    context = {
        "task": "Rename Shape.w to Shape.width",
        "causes": ("`Shape.__init__` renamed its attribute `w`",),
        "earlier_edits": (
            EarlierEdit(
                "pkg/shape.py", "Shape.__init__", "self.w = w", "self.width = w", "the task"
            ),
        ),
        "related": (RelatedCode("pkg/report.py", "total", "called by", "def total(shapes): ..."),),
        "sketch": "class Shape:\n    def __init__(self, w): ...\n" + SOURCE,
        "feedback": ("the answer renamed the method",),
    }
    with ScriptedOpenAI([Reply("NO CHANGE")]) as server:
        editor(server)(request(**context))
    system, user = (message["content"] for message in server.requests[0].messages)
    assert "NO CHANGE" in system and "ONE fenced code block" in system
    for part in (
        "Rename Shape.w to Shape.width",
        "`Shape.__init__` renamed its attribute `w`",
        "self.w = w",
        "self.width = w",
        "Cause: the task",
        "pkg/report.py :: total (called by)",
        "def total(shapes): ...",
        "class Shape:",
        "method `Shape.area` in pkg/shape.py",
        SOURCE.rstrip(),  # the block keeps its indentation
        "the answer renamed the method",
    ):
        assert part in user, part
    assert user.index("## Task") < user.index("## Earlier edits") < user.index("## Why")
    assert user.index("## Why") < user.index("## Related code") < user.index("## Code to change")


def test_a_fence_inside_the_code_gets_a_longer_fence() -> None:
    tricky = EditRequest("a.py", "doc", "function", "python", 'def doc():\n    """```x```"""\n', "")
    content = PromptSet().messages(tricky)[1]["content"]
    assert "````python" in content


def test_429_with_retry_after_is_retried_by_the_client() -> None:
    script: list[Item] = [Fail(429, headers={"retry-after": "0.2"}), Reply(f"```\n{EDITED}\n```")]
    with ScriptedOpenAI(script) as server:
        started = time.monotonic()
        assert editor(server)(request()) == EDITED
        assert time.monotonic() - started >= 0.2
    assert len(server.requests) == 2
    assert server.requests[1].headers.get("x-stainless-retry-count") == "1"


def test_500_then_success() -> None:
    with ScriptedOpenAI([Fail(500), Reply(f"```\n{EDITED}\n```")]) as server:
        assert editor(server)(request()) == EDITED
    assert len(server.requests) == 2


def test_a_hanging_endpoint_times_out_into_an_edit_error() -> None:
    events: list[dict[str, Any]] = []
    with ScriptedOpenAI([Hang(5), Hang(5)]) as server:
        edit = editor(server, timeout_seconds=0.5, max_retries=1, log=events.append)
        with pytest.raises(EditError, match=r"timed out after 0\.5 s"):
            edit(request())
    assert len(server.requests) == 2
    assert events[-1]["event"] == "llm_error"


def test_exhausted_retries_and_unusable_answers_are_edit_errors() -> None:
    with ScriptedOpenAI([Fail(500)] * 3) as server:
        with pytest.raises(EditError, match=r"HTTP 500 for model gpt-4o-mini \(3 attempts\)"):
            editor(server)(request())
        assert len(server.requests) == 3
        assert "127.0.0.1" in server.base_url
    with (
        ScriptedOpenAI([Garbage("{not json")]) as server,
        pytest.raises(EditError, match="unusable answer"),
    ):
        editor(server)(request())


def test_empty_choices_or_null_content_is_an_empty_answer() -> None:
    empty = Garbage('{"id": "x", "object": "chat.completion", "choices": []}')
    with ScriptedOpenAI([empty, Reply(None)]) as server:
        edit = editor(server)
        assert edit(request()) == ""
        assert edit(request(task="other")) == ""
        assert edit.usage.calls == 2


def test_answers_are_cached_across_editors(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "responses.sqlite"
    with ScriptedOpenAI([Reply(f"```\n{EDITED}\n```", 1000, 100)] * 2) as server:
        first = editor(server, model="gpt-4o", cache=ResponseCache(path))
        assert first(request()) == EDITED
        paid = first.usage
        assert first(request()) == EDITED
        assert len(server.requests) == 1
        assert first.usage.calls == 2 and first.usage.cached_calls == 1
        assert first.usage.cost_usd == paid.cost_usd > 0
        second = editor(server, model="gpt-4o", cache=ResponseCache(path))
        assert second(request()) == EDITED
        assert len(server.requests) == 1
        assert (second.usage.calls, second.usage.cached_calls, second.usage.cost_usd) == (1, 1, 0.0)
        # another model, or another sampling temperature, is another question
        assert editor(server, model="gpt-4.1", cache=ResponseCache(path))(request()) is not None
    assert len(server.requests) == 2


def test_cache_schema_is_versioned(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    key = ResponseCache.key("m", [{"role": "user", "content": "x"}], {"a": 1, "b": 2})
    assert key == ResponseCache.key("m", [{"content": "x", "role": "user"}], {"b": 2, "a": 1})
    with ResponseCache(path) as cache:
        cache.put(key, CachedAnswer("text", 1, 2))
        assert cache.get(key) == CachedAnswer("text", 1, 2)
    with ResponseCache(path) as cache:
        assert cache.get(key) == CachedAnswer("text", 1, 2)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    with ResponseCache(path) as cache:
        assert cache.get(key) is None
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ConfigError, match="not a response cache"):
        ResponseCache(tmp_path / "junk.sqlite")


def test_cost_follows_the_price_table() -> None:
    reply = Reply("NO CHANGE", prompt_tokens=1_000_000, completion_tokens=100_000)
    with ScriptedOpenAI([reply] * 3) as server:
        known = editor(server, model="gpt-4o-2024-08-06")
        known(request())
        assert known.usage.cost_usd == pytest.approx(2.50 + 1.00)
        assert known.usage.tokens == 1_100_000
        local = editor(server, model="llama3.1:8b")
        local(request())
        assert local.usage.cost_usd == 0.0 and local.usage.prompt_tokens == 1_000_000
        prices = price_table({"llama3.1:8b": {"input": 1, "output": 10}})
        priced = editor(server, model="llama3.1:8b", prices=prices)
        priced(request())
        assert priced.usage.cost_usd == pytest.approx(2.0)


def test_pricing_lookup() -> None:
    assert price_for("gpt-4o-2024-08-06") == DEFAULT_PRICES["gpt-4o"]
    assert price_for("gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["gpt-4o-mini"]
    assert price_for("openai/GPT-4.1-mini") == DEFAULT_PRICES["gpt-4.1-mini"]
    assert price_for("o3-mini-2025-01-31") == DEFAULT_PRICES["o3-mini"]
    assert price_for("my-local-model") is None
    assert cost_usd("my-local-model", 10**9, 10**9) == 0.0
    table = price_table({"gpt-4o": {"input": 0, "output": 0.5}})
    assert cost_usd("gpt-4o-2024-11-20", 2_000_000, 2_000_000, table) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match=r'\[llm.prices."x"\] output'):
        price_table({"x": {"input": 1, "output": "cheap"}})


def test_the_key_reaches_the_endpoint_and_nowhere_else(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    cache_path = tmp_path / "responses.sqlite"
    leak = {"error": {"message": f"Incorrect API key provided: {KEY}."}}
    script: list[Item] = [Reply(f"```\n{EDITED}\n```"), Fail(401, leak), Fail(500, leak)]
    with ScriptedOpenAI(script) as server:
        edit = editor(server, cache=ResponseCache(cache_path), log=events.append, max_retries=0)
        edit(request())
        errors = []
        for task in ("second", "third"):
            with pytest.raises(EditError) as raised:
                edit(request(task=task))
            errors.append(str(raised.value))
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert "check the key in $OPENAI_API_KEY" in errors[0]
    assert "[REDACTED]" in errors[1]
    settings = edit.settings
    assert settings.api_key == KEY
    exposed = [repr(settings), str(settings), repr(edit), *errors, repr(events)]
    assert all(KEY not in text for text in exposed)
    for suffix in ("", "-wal"):
        file = Path(f"{cache_path}{suffix}")
        if file.exists():
            assert KEY.encode() not in file.read_bytes()
    assert redact(f"key {KEY} and sk-otherkey12345", [KEY]) == "key [REDACTED] and [REDACTED]"


def test_a_local_endpoint_needs_no_key_but_openai_does() -> None:
    with ScriptedOpenAI([Reply("NO CHANGE")]) as server:
        edit = LLMEditor(LLMSettings(base_url=server.base_url), PromptSet())
        assert edit(request()) is None
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"
    with pytest.raises(ConfigError, match=r"\$OPENAI_API_KEY"):
        LLMEditor(LLMSettings(), PromptSet())


def test_reasoning_models_get_their_own_parameter_names() -> None:
    with ScriptedOpenAI([Reply("NO CHANGE")] * 2) as server:
        editor(server, model="o4-mini", max_output_tokens=500)(request())
        editor(server, model="gpt-4o", max_output_tokens=500)(request())
    reasoning, chat = (recorded.body or {} for recorded in server.requests)
    assert reasoning["max_completion_tokens"] == 500 and "temperature" not in reasoning
    assert chat["max_tokens"] == 500 and chat["temperature"] == 0.0


def test_usage_is_exact_under_concurrent_calls() -> None:
    def responder(body: dict[str, Any]) -> Reply:
        return Reply("NO CHANGE", prompt_tokens=7, completion_tokens=3)

    with ScriptedOpenAI(responder=responder) as server:
        edit = editor(server, model="gpt-4o-mini")
        threads = [
            threading.Thread(target=lambda n=n: [edit(request(task=f"{n}-{i}")) for i in range(5)])
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(server.requests) == 20
    assert (edit.usage.calls, edit.usage.prompt_tokens, edit.usage.completion_tokens) == (
        20,
        140,
        60,
    )
    assert edit.usage.cost_usd == pytest.approx(cost_usd("gpt-4o-mini", 140, 60))


def test_llm_settings_precedence_and_errors() -> None:
    config = {"llm": {"model": "gpt-4.1", "base_url": "http://file:1/v1", "api_key_env": "MY_KEY"}}
    settings = llm_settings(config, {"MY_KEY": KEY, "OPENAI_API_KEY": "sk-other-key-000"})
    assert (settings.model, settings.base_url, settings.api_key) == (
        "gpt-4.1",
        "http://file:1/v1",
        KEY,
    )
    env = {"CODEPLAN_MODEL": "o4-mini", "OPENAI_BASE_URL": "http://env:2/v1"}
    settings = llm_settings(config, env)
    assert (settings.model, settings.base_url, settings.api_key) == (
        "o4-mini",
        "http://env:2/v1",
        None,
    )
    default = llm_settings({}, {})
    assert default == LLMSettings() and default.model == "gpt-4o-mini"
    assert (
        llm_settings({"llm": {"timeout_seconds": 3, "max_retries": 0}}, {}).timeout_seconds == 3.0
    )
    for bad, key in (
        ({"timeout_seconds": "fast"}, "timeout_seconds"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"model": 4}, "model"),
        ({"use_cache": "yes"}, "use_cache"),
        ({"modle": "gpt-4o"}, "modle"),
        ({"api_key": KEY}, "api_key"),
        ({"prices": {"m": 3}}, "prices"),
    ):
        with pytest.raises(ConfigError, match=key) as raised:
            llm_settings({"llm": bad}, {})
        assert KEY not in str(raised.value)


def test_prompt_override_folder_from_config(tmp_path: Path) -> None:
    folder = tmp_path / "my-prompts"
    folder.mkdir()
    (folder / "edit_system.j2").write_text("Edit {{ request.language }} code.")
    (folder / "edit_user.j2").write_text("{{ context.task }}\n{{ request.source | code }}")
    messages = PromptSet.from_config(tmp_path, {"prompts": {"dir": "my-prompts"}}).messages(
        request()
    )
    assert messages == [
        {"role": "system", "content": "Edit python code.\n"},
        {"role": "user", "content": "Rename Shape.w to Shape.width\n" + SOURCE},
    ]
    assert PromptSet.from_config(tmp_path, {}).folder != folder
    (folder / "edit_user.j2").write_text("{{ no_such_variable }}")
    with pytest.raises(ConfigError, match="no_such_variable"):
        PromptSet(folder).messages(request())
    (folder / "edit_user.j2").unlink()
    with pytest.raises(ConfigError, match=r"edit_user\.j2 is missing"):
        PromptSet.from_config(tmp_path, {"prompts": {"dir": "my-prompts"}})
    with pytest.raises(ConfigError, match="does not exist"):
        PromptSet.from_config(tmp_path, {"prompts": {"dir": "nowhere"}})


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("NO CHANGE", None),
        ("  no_change.  ", None),
        ("**No change**", None),
        ("```\nNO CHANGE\n```", None),
        ("NO CHANGE\n\nThe block already uses `width`.", None),
        ("```python\n    def f():\n        pass\n```", "    def f():\n        pass"),
        ("~~~\nx = 1\n~~~", "x = 1"),
        ("a:\n```\nx = 1\n```\nb:\n```python\ny = 2\nz = 3\n```", "y = 2\nz = 3"),
        ("```python\n\ndef f():\n    return 1\n", "def f():\n    return 1"),  # cut off
        ("````\ndef f():\n    '''```x```'''\n````", "def f():\n    '''```x```'''"),
        ("\n\n    x = 1\n\n", "    x = 1"),
        ("<think>NO CHANGE? no.</think>\n```\nx = 2\n```", "x = 2"),
        ("NO_CHANGE = 1", "NO_CHANGE = 1"),
        ("", ""),
    ],
)
def test_parse_answer(answer: str, expected: str | None) -> None:
    assert parse_answer(answer) == expected
