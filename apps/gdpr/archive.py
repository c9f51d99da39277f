"""The export archive: one JSON file per provider, CSV for each table, and a manifest."""

import csv
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

from django.conf import settings

# A spreadsheet treats a cell starting with one of these as a formula (or, for tab and carriage
# return, shifts it into one), so such text is prefixed with a quote to stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def csv_cell(value):
    """One cell's text for CSV: numbers stay numbers, formula-like text becomes inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def table_csv(table_rows: list[dict]) -> str:
    columns = []
    for row in table_rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(column) for column in columns])
    for row in table_rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def export_dir() -> Path:
    path = Path(settings.GDPR_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def parts_dir(request_id: int) -> Path:
    path = export_dir() / f"request-{request_id}.parts"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def readable_json(tables: dict[str, list[dict]]) -> str:
    """The tables as JSON with one row per line.

    As readable as an indented document for a person opening it, but each row is written by
    json's C encoder: ``indent=`` switches to the pure-Python one, which spent seconds on a
    subject with thousands of security events.
    """
    blocks = []
    for table, table_rows in sorted(tables.items()):
        lines = ",\n".join(f"    {json.dumps(row, sort_keys=True)}" for row in table_rows)
        blocks.append(
            f"  {json.dumps(table)}: [\n{lines}\n  ]" if lines else f"  {json.dumps(table)}: []"
        )
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def write_part(request_id: int, provider_name: str, tables: dict) -> None:
    """Write one provider's export where a rerun finds it; replace, never append."""
    target = parts_dir(request_id) / f"{provider_name}.json"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(readable_json(tables), encoding="utf-8")
    temporary.replace(target)


def build_archive(request_id: int, provider_names: list[str], file_name: str) -> tuple[int, str]:
    """Assemble the ZIP from the parts; return its size and SHA-256."""
    parts = parts_dir(request_id)
    manifest = {"request": request_id, "files": []}
    target = export_dir() / file_name
    temporary = target.with_suffix(".tmp")

    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in provider_names:
            text = (parts / f"{name}.json").read_text(encoding="utf-8")
            tables = json.loads(text)
            archive.writestr(f"{name}.json", text)
            manifest["files"].append(
                {"path": f"{name}.json", "provider": name, "format": "json",
                 "tables": sorted(tables), "sha256": hashlib.sha256(text.encode()).hexdigest()}
            )  # fmt: skip
            for table, table_rows in sorted(tables.items()):
                if not table_rows:
                    continue
                body = table_csv(table_rows)
                path = f"csv/{name}/{table}.csv"
                archive.writestr(path, body)
                manifest["files"].append(
                    {"path": path, "provider": name, "format": "csv", "table": table,
                     "rows": len(table_rows), "sha256": hashlib.sha256(body.encode()).hexdigest()}
                )  # fmt: skip
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))

    temporary.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return target.stat().st_size, digest


def remove_parts(request_id: int) -> None:
    """Called once the archive is recorded; until then a rerun needs the parts."""
    parts = export_dir() / f"request-{request_id}.parts"
    if parts.exists():
        for part in parts.iterdir():
            part.unlink()
        parts.rmdir()
