"""`akhbar export --format parquet`: the corpus read back with pyarrow."""

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.core.errors import ConfigError
from services.store.corpus import CorpusWriter
from services.store.export import export_corpus
from tests.store.factory import record, seed_texts


def write_corpus(corpus: Path) -> list[str]:
    texts = seed_texts()
    rows = []
    for n, text in enumerate(texts):
        rec = record(f"r{n}", f"https://x.com/{n}", text)
        rec.stored_at = datetime(2024, 5, 12, 10, 30, tzinfo=UTC)
        rec.date = "2024-05-12" if n == 0 else None
        rows.append(rec.model_dump_json())
    CorpusWriter(corpus, "w1", 1 << 20).append(rows[:1])
    CorpusWriter(corpus, "w2", 1 << 20).append(rows[1:])
    return texts


def test_parquet_has_list_columns_utc_timestamps_and_the_text_as_is(tmp_path: Path) -> None:
    texts = write_corpus(tmp_path / "corpus")
    out = tmp_path / "out" / "corpus.parquet"
    assert export_corpus(tmp_path / "corpus", out) == 2
    table = pq.read_table(out)
    assert table.num_rows == 2
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.schema.field("stored_at").type == pa.timestamp("us", tz="UTC")
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == ["r0", "r1"]
    assert [r["text"] for r in rows] == texts
    assert rows[0]["tags"] == ["قطر", "تركيا"]
    assert rows[0]["categories"] == ["سياسة"]
    assert rows[0]["stored_at"] == datetime(2024, 5, 12, 10, 30, tzinfo=UTC)
    assert [r["date"] for r in rows] == ["2024-05-12", None]
    assert not list(out.parent.glob("*.partial"))


def test_export_command(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    out = tmp_path / "corpus.parquet"
    args = ["export", "--format", "parquet", str(out), "--corpus", str(tmp_path / "corpus")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "exported 2 records" in result.output
    assert pq.read_table(out).num_rows == 2
    refused = CliRunner().invoke(app, ["export", "--format", "csv", str(out)])
    assert refused.exit_code == 2


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="parquet"):
        export_corpus(tmp_path, tmp_path / "x.csv", "csv")
