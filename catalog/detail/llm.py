"""One text slot at a time from an OpenAI-compatible chat endpoint (POST {base_url}/chat/completions).

A model is asked one small question with the product's facts and the template's draft; its answer
is cleaned to one line. Anything else (the endpoint down, slow, an HTTP error, a body that is not a
chat completion, an empty answer) raises ChatError with the reason, and the caller keeps the draft.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping

from catalog.detail.settings import LlmSettings
from catalog.errors import CatalogError

SYSTEM_PROMPT = (
    "你是电商详情页的文案助手。只根据给出的商品事实回答，不得编造材质、成分、百分比、功能或认证；"
    "不得使用“最”“第一”“唯一”“国家级”等绝对化用语。只输出一句文案，不要解释，不要引号。"
)


class ChatError(Exception):
    """The endpoint gave no usable answer; `reason` says why (down, slow, HTTP 500, not a completion ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatClient:
    def __init__(self, settings: LlmSettings, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.settings = settings
        self.key = ""
        if settings.api_key_env:
            self.key = environ.get(settings.api_key_env, "")
            if not self.key:
                raise CatalogError(
                    "detail.llm.api_key_env", f"the environment variable {settings.api_key_env} is not set"
                )
        self.url = settings.base_url.rstrip("/") + "/chat/completions"

    def complete(self, question: str) -> str:
        body = {
            "model": self.settings.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}],
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "stream": False,
        }
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                raw = response.read(256_000)
        except urllib.error.HTTPError as exc:
            raise ChatError(f"HTTP {exc.code} from {self.url}") from exc
        except TimeoutError as exc:
            raise ChatError(f"no answer within {self.settings.timeout_s:g} s (slow)") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise ChatError(f"no answer within {self.settings.timeout_s:g} s (slow)") from exc
            raise ChatError(f"endpoint down ({reason})") from exc
        return _answer(raw)


def _answer(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ChatError("the answer is not a chat completion") from exc
    if not isinstance(content, str):
        raise ChatError("the answer's content is not text")
    line = " ".join(content.split()).strip("\"'“”‘’「」 ")
    if not line:
        raise ChatError("the answer is empty")
    return line


def question_for(question: str, facts: dict[str, str], draft: str, max_chars: int) -> str:
    """The one small question a slot asks, with the facts the answer may use."""
    listed = "\n".join(f"- {key}: {value}" for key, value in facts.items())
    limit = f"不超过{max_chars}个字。" if max_chars else ""
    return f"{question}。{limit}\n商品事实（只能用这些）：\n{listed}\n参考草稿：{draft or '（无）'}"
