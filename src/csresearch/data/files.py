"""Is each source file what it claims to be? Checked before DuckDB reads it: a CSV that is empty,
binary, not UTF-8 (UTF-16 or another encoding), in another delimiter or with a duplicated header; a
Parquet file that is not Parquet (garbage, another format, a truncated copy) or repeats a column name;
and a file DuckDB could not read, named with its file and line instead of a traceback."""

from __future__ import annotations

from pathlib import Path

from .violation import EXAMPLES_SHOWN, Violation

_SAMPLE_BYTES = 1 << 16
_CHUNK_BYTES = 1 << 20
_BINARY_MAGIC = {
    b"PAR1": "a Parquet file", b"PK\x03\x04": "a ZIP archive (an Excel .xlsx?)", b"\x1f\x8b": "gzip-compressed",
    b"\xd0\xcf\x11\xe0": "an Excel .xls file", b"%PDF": "a PDF",
}
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"  # not in any text file
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}
NOT_UTF8 = "encoding is not UTF-8 (UTF-8 with or without a BOM is read): re-save the file as UTF-8"


def _inspect_csv(table: str, path: Path) -> tuple[list[str] | None, list[Violation]]:
    """The header of a CSV file, or the violations that stop it from being read as the contract's
    CSV: empty, binary, UTF-16 or another non-UTF-8 encoding, another delimiter, a duplicated column."""
    import codecs
    import csv
    import io

    def bad(rule: str, column: str = "", rows: int = 0, examples: list[dict] | None = None):
        return None, [Violation(table, column, rule, rows, examples or [], file=path.name)]

    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        return bad("the file is empty: a CSV needs a header row")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        return bad("encoding is UTF-16, not UTF-8 (UTF-8 with or without a BOM is read): re-save the file as UTF-8")
    kind = next((what for magic, what in _BINARY_MAGIC.items() if head.startswith(magic)), None)
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if kind or b"\x00" in head or controls > 0.02 * len(head):
        return bad(f"not a readable CSV file: binary content ({kind or 'not text'}), not comma-separated UTF-8 text")

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        lines = 0
        examples: list[dict] = []
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    lines += 1
                    if len(examples) < EXAMPLES_SHOWN:
                        text = line.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")
                        examples.append({"line": number, "text": f"'{text[:60]}'"})
        return bad(NOT_UTF8, rows=lines, examples=examples)

    text = head.decode("utf-8", errors="ignore").removeprefix("\ufeff")  # a BOM is fine
    first_line = text.splitlines()[0] if text.splitlines() else ""
    header = next(csv.reader(io.StringIO(text)), [])
    if len(header) <= 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in first_line:
                return bad(f"delimiter is {name}, expected ',' (the contract's CSV is comma-separated)",
                           examples=[{"header": repr(first_line[:80])}])
    seen: dict[str, str] = {}
    problems: list[Violation] = []
    for name in header:
        folded = name.lower()  # DuckDB's column names are case-insensitive
        if folded in seen and not any(v.column == seen[folded] for v in problems):
            problems.append(Violation(
                table, seen[folded], "duplicated header: more than one column has this name",
                0, [{"header": repr(first_line[:80])}], file=path.name))
        seen.setdefault(folded, name)
    return (None, problems) if problems else (header, [])


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 text without a BOM: every other byte of its ASCII characters is NUL."""
    sample = head[:4096]
    return len(sample) >= 16 and max(sample[0::2].count(0), sample[1::2].count(0)) > 0.4 * len(sample) / 2


def _inspect_parquet(table: str, paths: list[Path]) -> list[Violation]:
    """Parquet files that are not Parquet (binary garbage, a CSV renamed, a truncated copy), or
    whose columns repeat a name."""
    problems = []
    for path in paths:
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(4)
                fh.seek(max(size - 4, 0))
                tail = fh.read(4)
        except OSError as exc:
            problems.append(Violation(table, "", f"not a readable Parquet file: {exc.strerror or exc}", 0, file=path.name))
            continue
        if size < 12 or head != b"PAR1" or tail != b"PAR1":
            problems.append(Violation(table, "", "not a readable Parquet file: it does not start and end with "
                                      "Parquet's magic bytes (binary garbage, another format, or a truncated copy)",
                                      0, file=path.name))
    if problems or not paths:
        return problems
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(paths[0]).names
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a broken footer
        return [Violation(table, "", f"not a readable Parquet file: {str(exc).splitlines()[0]}", 0, file=paths[0].name)]
    seen: dict[str, str] = {}
    for name in names:
        first = seen.setdefault(name.lower(), name)  # DuckDB's column names are case-insensitive
        if first != name or names.count(name) > 1:
            if not any(v.column == first for v in problems):
                problems.append(Violation(table, first, "duplicated header: more than one column has this name", 0,
                                          [{"columns": ", ".join(names)}], file=paths[0].name))
    return problems


def _read_error(table: str, fmt: str, paths: list[Path], exc: Exception) -> Violation:
    """A file DuckDB could not read, as a named violation: for CSV the line and what is wrong with it."""
    import re

    message = str(exc).replace("Invalid Input Error: ", "").replace("IO Error: ", "")
    lines = [line.strip() for line in message.splitlines()]
    name = paths[0].name if len(paths) == 1 else f"{paths[0].parent.name}/"
    for path in paths:
        if path.name in message:
            name = path.name if len(paths) == 1 else f"{path.parent.name}/{path.name}"
    kind = "CSV" if fmt == "csv" else "Parquet"
    at = re.search(r"CSV Error on Line: (\d+)", message)
    if fmt == "csv" and at:
        original = next((line.removeprefix("Original Line:").strip() for line in lines
                         if line.startswith("Original Line:")), "")
        fixes = next((i for i, line in enumerate(lines) if line.startswith("Possible")), len(lines))
        reason = next((line for line in reversed(lines[:fixes]) if line), "the line does not parse")
        # DuckDB stops at the first bad line: it is shown, without claiming how many more there are
        example = [{"line": int(at.group(1)), "text": repr(original[:80])}]
        if "not utf-8" in reason.lower():
            return Violation(table, "", NOT_UTF8, 0, example, file=name)
        return Violation(table, "", f"not a readable CSV file: {reason.rstrip('.')}", 0, example, file=name)
    first = next((line for line in lines if line), type(exc).__name__)
    return Violation(table, "", f"not a readable {kind} file: {first}", 0, file=name)
