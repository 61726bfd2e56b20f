"""What the fuzzers check, shared by the atheris harnesses and the test suite.

Each ``check_*`` takes the raw bytes of an uploaded file and runs them through the same
steps the import does, stopping short of the database. The parsers' documented errors
(``GiftError``/``Invalid`` for GIFT, ``ContentError`` for module files) are the expected
answer to bad input and pass; anything else (another exception, a problem without a line,
a line outside the file, a round trip that changes the text, unsafe HTML) is a crash.
"""

from __future__ import annotations

import re
from typing import Any

#: Tags, attributes and URL schemes that must never come out of the module renderer.
_UNSAFE_HTML = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|svg|math|link|meta|base)\b"
    r"|\son[a-z]+\s*="
    r"|(href|src)\s*=\s*[\"']?\s*(javascript|vbscript|data:text)",
    re.IGNORECASE,
)

_app: Any = None


def app_context() -> Any:
    """An app context on an in-memory database, made once (question types need the app)."""
    global _app
    if _app is None:
        import tempfile

        from lms import create_app

        _app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "SECRET_KEY": "fuzz-" + "x" * 32,
                "TESTING": True,
                "LOAD_ENTRYPOINTS": False,
                "INSTANCE_PATH": tempfile.mkdtemp(prefix="lms-fuzz-"),
            }
        )
    return _app.app_context()


def decode_upload(data: bytes, decode: Any) -> tuple[str, bool]:
    """(text, accepted): the text the upload would give, or a lenient decoding of rejected
    bytes so that every input still reaches the parser."""
    from lms.errors import Invalid

    try:
        return decode(data), True
    except Invalid as error:
        str(error.message)  # the message itself must render
        return data.decode("utf-8", "replace"), False


def _line_count(text: str) -> int:
    return len(re.split(r"\r\n|\r|\n", text))


def check_gift(data: bytes) -> None:
    """Bytes of a GIFT upload: decoded, parsed, checked by the question types, written back
    and read again."""
    from quizzes import gift_io
    from quizzes.gift import GiftError, parse_gift, write_gift

    text, _accepted = decode_upload(data, gift_io.decode_gift)
    lines = _line_count(text)
    with app_context():
        try:
            result = parse_gift(text, "fuzz.gift")
            gift_io.check_questions(result.questions, "fuzz.gift")
        except GiftError as error:
            assert error.problems, "GiftError without problems"
            for problem in error.problems:
                assert 1 <= problem.line <= lines, f"problem on line {problem.line} of {lines}"
                assert str(problem.message).strip()
            str(error.message)
            return
        written = write_gift(result.questions)
        again = parse_gift(written, "written.gift")
        assert again.questions == result.questions, "GIFT round trip changed the questions"


def check_markdown(data: bytes) -> None:
    """Bytes of a module file: decoded as the import does, parsed, rendered to HTML (which
    must stay safe), written in canonical form and read again unchanged."""
    from curriculum.content import ContentError, parse_module_file
    from curriculum.render import render_document

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
    lines = _line_count(text)
    try:
        document = parse_module_file(text, "fuzz.md")
    except ContentError as error:
        assert error.problems, "ContentError without problems"
        for problem in error.problems:
            assert problem.line is None or 1 <= problem.line <= lines + 1, (
                f"problem on line {problem.line} of {lines}"
            )
            assert str(problem.message).strip()
        str(error)
        return
    html = str(render_document(document.blocks))
    unsafe = _UNSAFE_HTML.search(html)
    assert unsafe is None, f"unsafe HTML in the rendering: {unsafe.group(0)!r}"
    canonical = document.serialise()
    again = parse_module_file(canonical, "canonical.md")
    assert again.meta == document.meta, "front matter changed in a round trip"
    assert again.blocks == document.blocks, "blocks changed in a round trip"
    assert again.content_hash == document.content_hash
