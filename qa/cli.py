"""The ``qa`` command: thin sub-commands over the service. Results go to stdout, progress and
errors to stderr; ``--json`` prints exactly one JSON object as the last line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.config import Settings, get_settings
from qa.errors import QAError
from qa.question import DEFAULT_TOP_K


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "docs", None):
        overrides["docs_dir"] = Path(args.docs)
    if getattr(args, "index", None):
        overrides["index_dir"] = Path(args.index)
    return get_settings().model_copy(update=overrides)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False))


def cmd_build(args: argparse.Namespace) -> int:
    if args.ray is not None:  # chunked and embedded on a Ray cluster (qa.ray_build)
        from qa.embedding import Embedder
        from qa.ray_build import build_on_ray, require_ray

        require_ray()  # before anything else: without Ray, a clear error and nothing created
        settings = _settings(args)
        report = build_on_ray(
            settings, Embedder.from_settings(settings), args.ray or None, full=args.full
        )
    else:
        from qa.app import compose

        report = compose(_settings(args)).library.rebuild(full=args.full)
    for failure in report.failed:
        print(f"skipped {failure['source']}: {failure['error']}", file=sys.stderr)
    if args.json:
        _print_json(report.as_dict())
    else:
        print(
            f"{report.documents} documents, {report.passages} passages "
            f"(added {report.added}, updated {report.updated}, removed {report.removed}, "
            f"unchanged {report.unchanged}, failed {len(report.failed)}; "
            f"embedded {report.embedded} passages in {report.seconds:.1f}s)"
        )
        for node, texts in report.embedded_by.items():
            print(f"  ray node {node}: {texts} texts embedded")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0: the index is intact and holds what the docs folder holds; 1: intact, but the
    docs folder has changed since (``qa index build`` brings it in step); 2: damaged or missing.

    The docs folder is ``--docs`` if given, else the one the index was built from (its manifest
    says), else the configured one."""
    from qa.documents import parse_document
    from qa.embedding import Embedder
    from qa.errors import UnreadableDocument
    from qa.reconcile import compare
    from qa.store import check_model, open_store

    settings = _settings(args)
    loaded = open_store(settings).open()  # IndexCorrupt says why, in one line: exit 2
    embedder = Embedder.from_settings(settings)  # only its checksum: nothing loads
    check_model(loaded.data.manifest, embedder.name, embedder.checksum)
    counts = loaded.data.manifest["counts"]
    print(f"ok: {loaded.version}, {counts['documents']} documents, {counts['passages']} passages")
    recorded = loaded.data.manifest.get("docs_dir")
    docs_dir = Path(args.docs) if args.docs else Path(recorded or settings.docs_dir)
    if not docs_dir.is_dir():
        print(f"qa: warning: docs folder {docs_dir} does not exist: not compared", file=sys.stderr)
        return 1
    drift = compare(docs_dir, loaded.data.documents)
    for source in list(drift.added):  # a build skips a file it cannot read: not a difference
        try:
            parse_document((docs_dir / source).read_bytes(), source)
        except (UnreadableDocument, OSError) as error:
            print(f"skipped {source}: {error}", file=sys.stderr)
            drift.added.remove(source)
    if drift:
        print(
            f"qa: warning: the index is intact but out of step with {docs_dir}: "
            f"{drift.summary()}; run: qa index build",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_adapt(args: argparse.Namespace) -> int:
    """Fine-tune the model on the index's passages (qa.adaptation) and say how to use it."""
    from qa.adaptation import adapt_model, stderr_progress
    from qa.embedding import Embedder
    from qa.store import check_model, open_store

    settings = _settings(args)
    loaded = open_store(settings).open()  # IndexMissing / IndexCorrupt: one line, exit 2
    embedder = Embedder.from_settings(settings)
    check_model(loaded.data.manifest, embedder.name, embedder.checksum)
    output = Path(args.output).absolute()

    report = adapt_model(
        loaded.data,
        loaded.version,
        embedder.path,
        embedder.weights_checksum,
        output,
        pairs=args.pairs,
        progress=stderr_progress("adapting"),
    )
    if args.json:
        _print_json(asdict(report))
    else:
        print(
            f"adapted model saved in {output} ({report.pairs} pairs from {report.passages} "
            f"passages, {report.seconds:.0f}s).\nUse it for building and serving alike:\n"
            f"  QA_MODEL={output} qa index build\n  QA_MODEL={output} qa serve"
        )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    from qa.app import compose
    from qa.citations import page_label

    # The same seam as the API and the chat: the question normalised and checked alike.
    answer = asyncio.run(compose(_settings(args)).asker.answer(args.question, args.top_k))
    if args.json:
        _print_json(answer.as_dict())
        return 0
    print(answer.answer if answer.found else "I could not find this in the documents.")
    for passage in answer.passages:
        page = page_label(passage.page, passage.page_end)
        print(
            f"\n[{passage.rank}] {passage.title} ({passage.published or 'undated'}"
            f"{', ' + page if page else ''}) "
            f"{passage.source}:{passage.start}-{passage.end}  score {passage.score:.4f}"
        )
        print("    " + " ".join(passage.text.split()))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.embedding import Embedder
    from qa.evaluation import Collection, evaluate, load_questions, macro_average
    from qa.indexer import build_index, require_docs_folder
    from qa.retrieval import Components
    from qa.service import QAService

    settings = _settings(args)
    collections = [Collection.parse(spec) for spec in args.files]
    # Every input checked before anything is built: a failed command leaves nothing behind.
    questions_of = [load_questions(c.questions) for c in collections]
    for collection in collections:
        require_docs_folder(collection.docs_dir or settings.docs_dir)
    embedder = Embedder.from_settings(settings)
    variants = {"full system": Components()}
    if args.ablation:
        variants = {
            "dense only": Components(bm25=False, sentences=False, dates=False, aliases=False),
            "bm25 only": Components(dense=False, sentences=False, dates=False, aliases=False),
            "fusion (dense+bm25)": Components(sentences=False, dates=False, aliases=False),
            "+ dates": Components(sentences=False, aliases=False),
            "+ aliases": Components(sentences=False),
            "+ sentence scoring (full)": Components(),
        }
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for collection, questions in zip(collections, questions_of, strict=True):
        if collection.docs_dir is None and len(collections) == 1:
            served = settings  # one file over the configured folders: as before
        else:
            docs = collection.docs_dir or settings.docs_dir
            served = settings.model_copy(
                update={"docs_dir": docs, "index_dir": collection.index_folder(settings.cache_dir)}
            )
            print(f"{collection.name}: indexing {docs}", file=sys.stderr)
            build_index(served, embedder)
        service = QAService(served, embedder)
        service.warm_up()  # index and model loaded first: ms/q is answering, not start-up
        results[collection.name] = {}
        for name, components in variants.items():

            def ask(
                question: str, components: Components = components, service: Any = service
            ) -> Any:
                return service.ask(question, top_k=5, components=components)

            results[collection.name][name] = evaluate(questions, ask).as_dict()
    full = {name: variants_of[list(variants)[-1]] for name, variants_of in results.items()}
    macro = macro_average(full)
    if args.json:
        if len(collections) == 1 and not args.ablation:
            _print_json(next(iter(full.values())))
        else:
            _print_json({"collections": results, "macro": macro})
        return 0
    for name, by_variant in results.items():
        _print_collection(name, by_variant, verbose=len(collections) == 1)
    if len(collections) > 1:
        print("\nper collection (full system)")
        print(f"{'collection':18} hit@1  hit@3  MRR@5  answer  refused  false-refusals")
        for name, r in full.items():
            print(
                f"{name:18} {r['hit_at_1']:.3f}  {r['hit_at_3']:.3f}  {r['mrr_at_5']:.3f}  "
                f"{r['answer_accuracy']:.3f}   {r['abstained_correctly']}/{r['unanswerable']}"
                f"      {r['false_abstentions']}/{r['answerable']}"
            )
        print(
            f"{'macro average':18} {macro['hit_at_1']:.3f}  {macro['hit_at_3']:.3f}  "
            f"{macro['mrr_at_5']:.3f}  {macro['answer_accuracy']:.3f}   "
            f"{macro['refused']:.2f}     {macro['false_refusals']:.3f}"
        )
    return 0


def _print_collection(name: str, by_variant: dict[str, dict[str, Any]], verbose: bool) -> None:
    """One collection's table, its answers by confidence band, and (``verbose``) its misses."""
    print(f"\n== {name}")
    print(f"{'variant':28} hit@1  hit@3  MRR@5  answer  abstain  ms/q")
    for variant, r in by_variant.items():
        print(
            f"{variant:28} {r['hit_at_1']:.3f}  {r['hit_at_3']:.3f}  {r['mrr_at_5']:.3f}  "
            f"{r['answer_accuracy']:.3f}   {r['abstained_correctly']}/{r['unanswerable']}    "
            f"{r['mean_ms']:.1f}"
        )
    full = by_variant[list(by_variant)[-1]]
    print(
        f"answerable questions wrongly abstained: {full['false_abstentions']}/{full['answerable']}"
    )
    bands = ", ".join(
        f"{band}: {b['right']}/{b['answers']} right"
        for band, b in full["bands"].items()
        if b["answers"]
    )
    print(f"answers by confidence: {bands or 'none'}")
    if verbose:
        for miss in full["misses"]:
            rest = {k: v for k, v in miss.items() if k != "q"}
            print(f"missed: {miss['q']!r}: {json.dumps(rest, ensure_ascii=False)}")


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Readers' confirmed answers as evaluation questions (``qa.feedback``), for ``qa eval``."""
    from qa.feedback import FeedbackStore

    settings = get_settings()
    if args.data:
        settings = settings.model_copy(update={"data_dir": Path(args.data)})
    store = FeedbackStore(settings.data_dir)
    if args.out == "-":
        report = store.export_jsonl(sys.stdout)
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as handle:
            report = store.export_jsonl(handle)
    print(
        f"{report.questions} questions ({report.answerable} answerable, {report.unanswerable} "
        f"unanswerable) from {report.entries} feedback entries in {store.path}; "
        f"{report.skipped} skipped (no confirmed sentence)",
        file=sys.stderr,
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from qa.indexer import require_docs_folder

    settings = serve_settings(args)
    require_docs_folder(settings.docs_dir)  # the source of truth: refused before anything starts
    # ui.server mounts the chat on the API app; the parts come from the composition root.
    from ui.server import create_app

    host, port = settings.host, settings.port
    print(f"serving chat at http://{host}:{port}/  API docs at /docs", file=sys.stderr)
    if settings.watch:
        print(f"watching {settings.docs_dir} for changes (QA_WATCH)", file=sys.stderr)
    workers = settings.answer_workers
    print(
        f"answering questions in {workers} worker process{'es' if workers != 1 else ''}"
        if workers
        else "answering questions in the server process",
        "(QA_ANSWER_WORKERS)",
        file=sys.stderr,
    )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        # Gradio keeps heartbeat connections open; without a limit a stop waits ~15 s for them.
        timeout_graceful_shutdown=5,
    )
    return 0


def serve_settings(args: argparse.Namespace) -> Settings:
    """Options given win; otherwise QA_HOST / QA_PORT, otherwise the settings' defaults."""
    overrides: dict[str, Any] = {"host": args.host, "port": args.port}
    if getattr(args, "watch", False):
        overrides["watch"] = True
    return _settings(args).model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )


def cmd_bench(args: argparse.Namespace) -> int:
    try:  # the harness lives in bench/ (a face of its own); its options are its own too
        from bench.run import main as bench_main
    except ModuleNotFoundError as error:
        raise QAError(f"the benchmark harness is not installed ({error})") from None
    return bench_main(args.options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions of your documents.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_paths(sub: argparse.ArgumentParser, docs: bool = True) -> argparse.ArgumentParser:
        if docs:
            sub.add_argument("--docs", help="documents folder (default: seeds/, or QA_DOCS_DIR)")
        sub.add_argument("--index", help="index folder (default: index/, or QA_INDEX_DIR)")
        return sub

    index = commands.add_parser(
        "index", help="build, verify or adapt the model to the index"
    ).add_subparsers(dest="index_command", required=True)
    build = with_paths(index.add_parser("build", help="embed new and changed documents"))
    build.add_argument("--full", action="store_true", help="re-embed everything")
    build.add_argument("--json", action="store_true", help="print one JSON object")
    build.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="chunk and embed on Ray: the cluster at ADDRESS (host:port), or without one a local "
        "Ray on this machine's cores (needs pip install '.[scale]')",
    )
    build.set_defaults(handler=cmd_build)
    with_paths(
        index.add_parser(
            "verify",
            help="check the index is intact (exit 2 if not) and holds what the docs folder "
            "holds (exit 1 if not)",
        )
    ).set_defaults(handler=cmd_verify)
    adapt = with_paths(
        index.add_parser(
            "adapt",
            help="fine-tune the model on the indexed passages, without labels (minutes of CPU); "
            "then build and serve with QA_MODEL=OUTPUT",
        ),
        docs=False,
    )
    adapt.add_argument("output", help="a new folder for the adapted model")
    adapt.add_argument(
        "--pairs", type=int, default=3000, help="at most this many training pairs (default 3000)"
    )
    adapt.add_argument("--json", action="store_true", help="print one JSON object")
    adapt.set_defaults(handler=cmd_adapt)

    ask = with_paths(commands.add_parser("ask", help="answer one question"))
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=cmd_ask)

    evaluate = with_paths(
        commands.add_parser("eval", help="score JSONL question files, one per collection")
    )
    evaluate.add_argument(
        "files",
        nargs="+",
        metavar="QUESTIONS[=DOCS]",
        help="a question file, with its documents folder (default: the folder beside it named "
        "like it without _qa, else --docs)",
    )
    evaluate.add_argument("--ablation", action="store_true", help="score each component's share")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=cmd_eval)

    feedback = commands.add_parser("feedback", help="readers' feedback").add_subparsers(
        dest="feedback_command", required=True
    )
    export = feedback.add_parser(
        "export", help="write confirmed answers as evaluation JSONL (for qa eval)"
    )
    export.add_argument("--data", help="data folder (default: data/, or QA_DATA_DIR)")
    export.add_argument("--out", default="-", help="file to write (default: stdout)")
    export.set_defaults(handler=cmd_feedback_export)

    serve = with_paths(commands.add_parser("serve", help="serve the chat and the API"))
    serve.add_argument("--host", help="address to listen on (default: 127.0.0.1, or QA_HOST)")
    serve.add_argument("--port", type=int, help="port (default: 8000, or QA_PORT)")
    serve.add_argument(
        "--watch",
        action="store_true",
        help="index changes to the docs folder as they happen (or QA_WATCH=1)",
    )
    serve.set_defaults(handler=cmd_serve)

    # prefix_chars="+": every option after "bench" is passed through to bench's own parser.
    bench = commands.add_parser(
        "bench", help="measure speed and memory (qa bench --help)", add_help=False, prefix_chars="+"
    )
    bench.add_argument("options", nargs=argparse.REMAINDER)
    bench.set_defaults(handler=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except QAError as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a folder that cannot be made or written: one line, not a traceback
        print(f"qa: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
