"""The envelope contract (protocol §2) and every malformed request of the core issue."""
import json

import pytest


async def test_general_status_answers_the_seed_shape(api):
    answer = await api.get("/api/general/status/en")
    assert answer.status == 200
    assert set(answer.body) == {"success", "answer", "timestamp", "language", "session"}
    assert answer.body["success"] == 1 and answer.body["session"] == {} and answer.body["language"] == "en"
    assert isinstance(answer.body["timestamp"], int)
    data = answer.answer["data"]
    assert data["Config"] == {"comfirmation-email": True, "allow-registration": True, "sendmail-delete-user": True}
    assert data["App"]["app-name"] == "Ugene" and data["App"]["default-language"] == "en"
    assert data["App"]["version"]


async def test_status_through_post_with_seed_timestamp(api):
    answer = await api.post({"module": "general", "param": "status", "args": {}, "language": "vi",
                             "timestamp": "111111", "extra": "ignored"})
    assert answer.ok and answer.body["language"] == "vi"


async def test_unknown_language_falls_back_to_default(api):
    answer = await api.call("general", "status", language="xx")
    assert answer.ok and answer.body["language"] == "en"


async def test_messages_table_in_each_language(api):
    texts = {}
    for lang in ("en", "vi", "ru", "chi"):
        answer = await api.get(f"/api/general/messages/{lang}")
        assert answer.ok and answer.body["language"] == lang
        texts[lang] = answer.answer["data"]["001402"]
    assert len(set(texts.values())) == 4


def assert_error(answer, code, status):
    assert answer.body["success"] == 0, answer
    assert answer.body["error"] == code, answer
    assert answer.status == status
    assert answer.body["text"]
    expected = {"success", "error", "text", "timestamp", "language", "session"}
    if code == "002003":
        expected.add("details")
    assert set(answer.body) == expected
    assert "X-Request-Id" in answer.headers


@pytest.mark.check
async def test_invalid_json_is_002002(api):
    assert_error(await api.post(None, raw=b"{not json"), "002002", 400)


@pytest.mark.check
async def test_json_array_is_002002(api):
    assert_error(await api.post(None, raw=b"[1, 2]"), "002002", 400)


@pytest.mark.check
async def test_missing_module_or_param_is_002002(api):
    assert_error(await api.post({"param": "status"}), "002002", 400)
    assert_error(await api.post({"module": "general"}), "002002", 400)
    assert_error(await api.post({"module": 5, "param": "status"}), "002002", 400)


async def test_unknown_module_is_002000(api):
    assert_error(await api.call("nope", "status"), "002000", 404)


async def test_unknown_param_is_002001(api):
    assert_error(await api.call("general", "nope"), "002001", 404)


@pytest.mark.check
async def test_unknown_args_are_002003_with_details(api):
    answer = await api.call("general", "status", surprise=1)
    assert_error(answer, "002003", 400)
    assert answer.body["details"] == [{"arg": "surprise", "problem": "extra_forbidden"}]


async def test_an_argument_is_known_by_its_protocol_name_only(api):
    await api.user("alice", "Correct7Horse")
    answer = await api.call("auth", "signin", uname="alice", password="Correct7Horse")
    assert_error(answer, "002003", 400)
    assert answer.body["details"] == [{"arg": "pass", "problem": "missing"},
                                      {"arg": "password", "problem": "extra_forbidden"}]
    answer = await api.call("auth", "refresh-session", refresh_token="x")
    assert_error(answer, "002003", 400)


async def test_args_not_an_object_is_002003(api):
    assert_error(await api.post({"module": "general", "param": "status", "args": [1]}), "002003", 400)


@pytest.mark.check
async def test_body_over_the_limit_is_002007(api):
    big = json.dumps({"module": "general", "param": "status", "args": {}, "pad": "x" * (1024 * 1024 + 10)})
    assert_error(await api.post(None, raw=big.encode()), "002007", 413)


@pytest.mark.check
async def test_unknown_path_under_api_answers_an_envelope(api):
    response = await api.client.get("/api/a/b/c/d/e")
    body = await response.json()
    assert body["success"] == 0 and body["error"] == "002002"
    response = await api.client.delete("/api")
    assert (await response.json())["error"] == "002002"


async def test_health_and_readiness(api):
    assert (await api.client.get("/healthz")).status == 200
    assert (await api.client.get("/readyz")).status == 200


async def test_metrics_count_requests_by_module_param_and_code(api):
    await api.get("/api/general/status/en")
    text = await (await api.client.get("/metrics")).text()
    assert 'ugene_requests_total{code="100000",module="general",param="status"}' in text
    assert "ugene_request_seconds_bucket" in text and "ugene_outbox_mails" in text
