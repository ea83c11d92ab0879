"""Property-based fuzzing of the HTTP API from its own /openapi.json (Schemathesis, in-process ASGI).

Every operation gets generated requests, valid and invalid: none may get a 5xx, and every
response must match the schema (status documented, body shaped as declared). The app runs over
private copies of two short documents and their index, so fuzzed uploads, deletes and rebuilds
touch nothing else. Run with ``pytest -s`` to see how many cases ran.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from qa.api import create_api
from qa.app import QAApp, compose
from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.feedback import RateLimit
from qa.indexer import build_index

pytestmark = pytest.mark.slow

TOKEN = "fuzz-token"
EXAMPLES_PER_OPERATION = 60
CASES: Counter[str] = Counter()  # "METHOD /path (mode)" -> cases sent
STATUSES: Counter[int] = Counter()


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[QAApp]:
    """The parts over two short seed excerpts in a temp folder, with writes behind a token."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "docs").mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[:2]:
        (root / "docs" / seed.name).write_text(seed.read_text()[:1500])
    fuzz_settings = Settings(
        docs_dir=root / "docs",
        index_dir=root / "index",
        data_dir=root / "data",
        admin_token=TOKEN,
        host="127.0.0.1",
        max_upload_mb=0.05,  # fuzzed uploads stay small, so indexing them stays quick
        answer_workers=1,  # fuzzed questions reach a worker, and its failures fall back
    )
    build_index(fuzz_settings, embedder)
    qa = compose(fuzz_settings, embedder)
    # The fuzzer posts hundreds of verdicts a minute; the rate limit has tests of its own
    # (tests/test_feedback.py), so here it is set out of the way.
    qa.feedback.limit = RateLimit(10**6, 10**6)
    yield qa
    with qa.service.write_lock:  # a fuzzed background rebuild finishes before the folder goes
        pass
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_service: QAApp) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            # Writes carry the token, except in the cases that test refusing them without it.
            "auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}},
            # Unknown query parameters are ignored, as in most HTTP APIs, not refused.
            "generation": {"allow-extra-parameters": False},
            # A schema-violating body may also be refused for its size alone (413, documented).
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "413",
                        "415",
                        "422",
                        "428",
                        "429",
                    ]
                }
            },
            # A schema-valid upload may still be refused for its content (empty, not a document
            # type, too large), which no schema can describe: those refusals are documented.
            "operations": [
                # In multipart every part is bytes under a file name: a "boolean" item arrives
                # as a file named "files" holding "true", a plain text named with no type,
                # which qa reads. So no upload is schema-violating data; a request without
                # files is refused with 422 (tests/test_api_writes.py).
                {
                    "include-path": "/documents",
                    "include-method": "POST",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "401", "403", "409", "413", "415", "422"]
                        },
                        "negative_data_rejection": {"enabled": False},
                    },
                },
                # A well-formed revision no index version keeps is Gone (documented), like an
                # unknown doc_id is Not Found.
                {
                    "include-path": "/documents/{doc_id}",
                    "include-method": "GET",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "410"]}
                    },
                },
            ],
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", create_api(fuzz_service), config=config)


@pytest.fixture(scope="module", autouse=True)
def report_cases() -> Iterator[None]:
    yield
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(STATUSES.items()))
    print(
        f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations and modes; "
        f"statuses {statuses}"
    )
    for operation, count in sorted(CASES.items()):
        print(f"  {operation}: {count}")


# Schemathesis' own pytest loader (schemathesis.pytest.from_fixture) reads Item._nodeid, which
# pytest 9 no longer has; so each operation's Hypothesis strategy is driven here directly.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_responses_match_the_schema(
    fuzz_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        fuzz_operation(operation, mode)


def fuzz_operation(operation: schemathesis.APIOperation, mode: GenerationMode) -> None:
    label = f"{operation.method.upper()} {operation.path} ({mode.value})"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same cases every run: a failure here reproduces, never flakes
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call_and_validate()
        CASES[label] += 1
        STATUSES[response.status_code] += 1
        assert response.status_code < 500, response.text

    try:
        fuzz()
    except Unsatisfiable:  # nothing in the request can be made invalid (GET /health)
        assert mode is GenerationMode.NEGATIVE, label
