"""Run by .ci/fresh-install with a fresh venv's Python (a plain ``pip install .``, no extras):
one document of each format plus a Windows-1252 and a UTF-16 text file, indexed and asked about
with the venv's own ``qa`` command, as a new user would.

Only the standard library and what the plain install brings (python-docx) are used; the PDF is
written by hand. Exits non-zero with the reason if anything differs from what a user must get.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docx

POUND_SENTENCE = "The Saltmere harbour master charges £14 a night for a mooring beside the café."
QUESTION = "How much does the Saltmere harbour master charge for a mooring?"


def minimal_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a text layer (Helvetica), its objects and cross-references by hand."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " T* ".join(f"({escape(line)}) Tj" for line in lines)
    content = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + escape(title).encode("latin-1") + b") >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write_documents(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "orchard.txt").write_text(
        "Orchard notes\n\nThe Fenwick orchard grows forty varieties of pear on the east slope.\n",
        encoding="utf-8",
    )
    (folder / "choir.md").write_text(
        "# Choir rota\n\nThe Dunmore choir rehearses every Thursday in the old corn exchange.\n",
        encoding="utf-8",
    )
    (folder / "ferry.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Ferry timetable</title></head>"
        "<body><article><h1>Ferry timetable</h1><p>The Kessock ferry leaves the north pier "
        "at seven each morning and returns at noon.</p></article></body></html>",
        encoding="utf-8",
    )
    (folder / "lanterns.pdf").write_bytes(
        minimal_pdf(
            "Lantern survey",
            [
                "Lantern survey of Brackwater",
                "The Brackwater lantern survey counted 312 lanterns in 2024.",
            ],
        )
    )
    document = docx.Document()
    document.core_properties.title = "Bell tower repairs"
    document.add_paragraph("Bell tower repairs")
    document.add_paragraph("The Ashcombe bell tower was re-roofed with slate from Delabole.")
    document.save(folder / "belltower.docx")
    (folder / "harbour-1252.txt").write_bytes(
        f"Harbour fees\n\n{POUND_SENTENCE}\nThe slipway is free on Sundays.\n".encode("cp1252")
    )
    (folder / "allotments-16.txt").write_bytes(
        "Allotment rules\n\nThe Pellow allotments open at dawn; bonfires are not allowed.\n".encode(
            "utf-16"
        )
    )


def qa(*args: str) -> dict:
    """Run the venv's ``qa`` and return the JSON object its last line prints."""
    command = [str(Path(sys.executable).with_name("qa")), *args]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    print(f"qa {args[0]} {args[1]}: {time.monotonic() - began:.0f} s", file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="qa-fresh-install-") as root:
        docs, index = Path(root) / "docs", Path(root) / "index"
        write_documents(docs)
        paths = ["--docs", str(docs), "--index", str(index)]
        built = qa("index", "build", "--json", *paths)
        if built["documents"] != 7 or built["failed"]:
            sys.exit(f"expected 7 documents and none failed, got {built}")
        answer = qa("ask", "--json", QUESTION, *paths)
        if not answer["found"] or POUND_SENTENCE not in answer["answer"]:
            sys.exit(f"the £ sentence was not quoted exactly: {answer['answer']!r}")
        top = answer["passages"][0]
        if top["source"] != "harbour-1252.txt" or POUND_SENTENCE not in top["text"]:
            sys.exit(f"the first passage is not the Windows-1252 file's: {top}")
    print(f"fresh install: 7 documents indexed, none failed; qa ask quoted: {answer['answer']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
