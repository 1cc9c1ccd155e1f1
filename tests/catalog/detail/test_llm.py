"""The optional LLM writes one text slot at a time; when it is down, slow or answers nonsense the slot
keeps its template text and says so.

The endpoint is a local HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol
(POST /v1/chat/completions, {"choices": [{"message": {"content": ...}}]}), as DeepSeek, vLLM and
Ollama do; no hosted model can be reached from the tests.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from detail_support import FIXTURES, images_of, product

from catalog import CatalogError
from catalog.detail import ChatClient, DetailSettings, LlmSettings, plan_detail


class ChatServer:
    """answer(question) -> (status, body bytes, delay seconds); every request is recorded."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                status, payload, delay = server.answer(body["messages"][-1]["content"])
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (the slow case)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(text: str) -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        }
    ).encode()


def by_question(answers: dict[str, str], default: str = "好看"):
    def answer(question: str):
        asked = question.split("。")[0]  # the slot's question; the facts and the draft follow
        text = next((a for key, a in answers.items() if key in asked), default)
        return 200, completion(text), 0.0

    return answer


def plan_with(url, analyses, settings, timeout_s=5.0, **llm):
    custom = DetailSettings(
        llm=LlmSettings(enabled=True, base_url=url, model="test-model", timeout_s=timeout_s, **llm),
        ad_law_phrases=settings.ad_law_phrases,
        ad_law_exceptions=settings.ad_law_exceptions,
    )
    prod = product("CARD-001")
    return plan_detail(prod, custom, images=images_of(prod, analyses), base_dir=FIXTURES)


def test_a_good_answer_fills_the_slot_and_the_request_is_a_chat_completion(analyses, settings, monkeypatch):
    monkeypatch.setenv("DETAIL_TEST_KEY", "sk-test-123")
    answers = {"首屏": "燕麦色羊毛开衫，温柔又好搭", "版型": "宽松版型，随性好搭"}
    with ChatServer(by_question(answers)) as server:
        plan = plan_with(server.url, analyses, settings, api_key_env="DETAIL_TEST_KEY")
    title = plan.page("hero").slot("title")
    assert title.source == "llm" and title.text == "燕麦色羊毛开衫，温柔又好搭"
    point = plan.page("highlights").slot("point1")
    assert point.source == "llm" and point.text == "宽松版型，随性好搭"
    first = server.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer sk-test-123"
    assert first["body"]["model"] == "test-model" and first["body"]["messages"][0]["role"] == "system"
    assert "羊毛80%" in first["body"]["messages"][-1]["content"]  # the facts travel with the question
    # Only slots marked llm = true are asked, one request per slot.
    asked = sum(1 for p in plan.pages for s in p.slots if s.kind == "text" and s.source == "llm")
    assert asked >= 5 and len(server.requests) >= asked
    assert plan.page("care").slot("text").source == "template"


def test_answers_with_banned_or_invented_claims_are_not_used(analyses, settings):
    answers = {
        "首屏": "全网最火的羊毛开衫",
        "版型": "100%真丝，防水透气",
        "面料": "含羊毛50%，抗菌防螨",
    }
    with ChatServer(by_question(answers)) as server:
        plan = plan_with(server.url, analyses, settings)
    title = plan.page("hero").slot("title")
    assert title.source == "template" and title.text == "燕麦色羊毛针织开衫女秋冬宽松外套"
    assert any("广告法" in n and "template text" in n for n in title.notes)
    point = plan.page("highlights").slot("point1")
    assert point.source == "template" and point.text == "宽松版型，中长款，上身利落"
    assert any("真丝" in n and "100%" in n and "防水" in n for n in point.notes)
    fabric = plan.page("fabric").slot("text")
    assert fabric.source == "template" and any("50%" in n and "抗菌" in n for n in fabric.notes)
    assert plan.ready  # nothing of the answers reached the page


@pytest.mark.parametrize(
    "reply, reason",
    [
        ((200, b"<html>gateway</html>", 0.0), "not a chat completion"),
        ((200, json.dumps({"choices": []}).encode(), 0.0), "not a chat completion"),
        ((200, completion("   "), 0.0), "empty"),
        ((200, completion("asdf qwer zxcv"), 0.0), "not Chinese copy"),
        ((500, b'{"error": {"message": "overloaded"}}', 0.0), "HTTP 500"),
    ],
)
def test_nonsense_or_errors_fall_back_to_the_template_text(analyses, settings, reply, reason):
    with ChatServer(lambda question: reply) as server:
        plan = plan_with(server.url, analyses, settings)
    title = plan.page("hero").slot("title")
    assert title.source == "template" and title.text == "燕麦色羊毛针织开衫女秋冬宽松外套"
    assert any(reason in n and "template text is used" in n for n in title.notes), title.notes
    assert plan.ready


def test_a_slow_endpoint_times_out_and_is_not_asked_again(analyses, settings):
    with ChatServer(lambda question: (200, completion("慢吞吞的回答"), 1.5)) as server:
        started = time.perf_counter()
        plan = plan_with(server.url, analyses, settings, timeout_s=0.3)
        elapsed = time.perf_counter() - started
    title = plan.page("hero").slot("title")
    assert title.source == "template" and any("slow" in n for n in title.notes)
    assert len(server.requests) == 1 and elapsed < 3
    assert any("switched off" in n for n in plan.notes)


def test_a_down_endpoint_falls_back_at_once(analyses, settings):
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    plan = plan_with(f"http://127.0.0.1:{port}/v1", analyses, settings)
    title = plan.page("hero").slot("title")
    assert title.source == "template" and any("down" in n for n in title.notes)
    assert plan.ready


def test_llm_settings_are_checked():
    with pytest.raises(CatalogError, match="detail.llm"):
        LlmSettings(enabled=True, base_url="127.0.0.1:8000", model="m")
    with pytest.raises(CatalogError, match="DETAIL_MISSING_KEY"):
        ChatClient(LlmSettings(enabled=True, base_url="http://x/v1", model="m", api_key_env="DETAIL_MISSING_KEY"), {})
    settings = DetailSettings.from_config({"llm": {"enabled": False}, "jpeg_quality": 85}, {"banned_claims": ["最"]})
    assert settings.jpeg_quality == 85 and settings.ad_law_phrases == ("最",) and not settings.llm.enabled
    with pytest.raises(CatalogError, match="catalog.detail.llm"):
        DetailSettings.from_config({"llm": {"key": "sk-in-config"}})
