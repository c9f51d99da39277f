"""Every operation in the OpenAPI schema shows an example of what it takes and what it answers.

For each operation: a request body, when there is one, carries an example; every successful
response with a body carries one; and the refusal (403) shows the one error body, which names
nothing internal. Generated from the live schema, so a new endpoint without examples fails.
"""

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def _has_example(media: dict) -> bool:
    return bool(media.get("examples")) or media.get("example") is not None


def test_every_operation_has_an_example_of_its_request_and_its_answer(schema):
    missing = []
    for name, operation in _operations(schema):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if media_type == "application/json" and not _has_example(media):
                missing.append(f"{name}: request")
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            for media in response.get("content", {}).values():
                if not _has_example(media):
                    missing.append(f"{name}: {status}")

    assert missing == []


def test_every_operation_shows_a_refusal_that_names_no_internals(schema):
    for name, operation in _operations(schema):
        refusal = operation["responses"]["403"]["content"]["application/json"]
        examples = refusal["examples"]
        assert examples, name
        for example in examples.values():
            assert set(example["value"]) == {"code", "message", "fields"}, name
            assert "role" not in example["value"]["message"].lower(), name


def test_the_schema_has_operations(schema):
    # Guards the two tests above against passing on an empty schema.
    assert len(list(_operations(schema))) >= 25
