"""`newsbot extract` and `newsbot eval`: the contract other tooling depends on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

KEYS = {
    "id",
    "is_summit",
    "score",
    "reasons",
    "participants",
    "location",
    "start_date",
    "end_date",
    "status",
    "agenda",
    "quotes",
    "summary",
}
TITLE = "Leaders of South Korea and Japan to hold summit in Busan"
BODY = (
    "South Korean President Lee Jae-myung and Japanese Prime Minister Shigeru Ishiba will hold "
    "a summit in Busan on Friday, the presidential office said on Tuesday. The two leaders are "
    "expected to discuss trade and security at the talks."
)
PAGE = f"""<html><head><title>{TITLE}</title>
<meta property="article:published_time" content="2026-11-24T09:00:00Z"></head>
<body><article><h1>{TITLE}</h1><p>{BODY}</p><p>{BODY}</p></article></body></html>""".encode()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(Settings, "secrets_path", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBOT_ALLOW_HOSTS", raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/busan"
    httpd.shutdown()
    httpd.server_close()


def test_text_file_human_and_json(cli: CliRunner, tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(f"{TITLE}\n\n{BODY}\n", encoding="utf-8")
    human = cli.invoke(app, ["extract", str(article), "--published", "2026-11-24"])
    assert human.exit_code == 0, human.output
    assert "SUMMIT" in human.output
    assert "Lee Jae-myung" in human.output
    as_json = cli.invoke(app, ["extract", str(article), "--published", "2026-11-24", "--json"])
    data = json.loads(as_json.stdout)
    assert set(data) == KEYS
    assert data["is_summit"] is True
    assert data["start_date"] == "2026-11-27"
    assert data["status"] == "upcoming"
    assert {p["name"] for p in data["participants"]} == {"Lee Jae-myung", "Shigeru Ishiba"}
    assert data["location"] == {"city": "Busan", "country": "South Korea", "venue": None}


def test_stdin(cli: CliRunner) -> None:
    result = cli.invoke(app, ["extract", "-", "--json"], input=f"{TITLE}\n{BODY}\n")
    assert json.loads(result.stdout)["is_summit"] is True


def test_url_through_the_safe_fetcher(
    cli: CliRunner, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = cli.invoke(app, ["extract", site])
    assert refused.exit_code == 1
    assert "address not allowed" in refused.output
    assert refused.output.count("\n") == 1, "one clear line"
    monkeypatch.setenv("NEWSBOT_ALLOW_HOSTS", "127.0.0.1")
    fetched = cli.invoke(app, ["extract", site, "--json"])
    assert fetched.exit_code == 0, fetched.output
    data = json.loads(fetched.stdout)
    assert data["is_summit"] is True
    assert data["start_date"] == "2026-11-27", "the page's own date resolves 'on Friday'"


def test_jsonl_batch_one_line_out_per_line_in(cli: CliRunner, tmp_path: Path) -> None:
    rows = [
        json.dumps({"id": "a", "title": TITLE, "text": BODY, "published": "2026-11-24", "x": 1}),
        "{not json",
        json.dumps({"id": "c", "title": "Climbers reach the summit", "text": "Mount Everest."}),
        json.dumps({"id": "d", "title": "t", "text": "x", "published": "24/11/2026"}),
        json.dumps(["not", "an", "object"]),
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli.invoke(app, ["extract", "--jsonl", str(src), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == len(rows)
    assert set(out[0]) == KEYS
    assert (out[0]["id"], out[0]["is_summit"]) == ("a", True)
    assert "error" in out[1]
    assert (out[2]["id"], out[2]["is_summit"]) == ("c", False)
    assert out[3]["id"] == "d"
    assert "YYYY-MM-DD" in out[3]["error"]
    assert "error" in out[4]


def test_bad_arguments_are_clear(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["extract"]).exit_code == 2
    bad_date = cli.invoke(app, ["extract", "-", "--published", "2019-13-01"], input="t\nx")
    assert bad_date.exit_code == 2
    assert "YYYY-MM-DD" in bad_date.output
    missing = cli.invoke(app, ["extract", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1
    assert "cannot read" in missing.output


def test_a_missing_model_names_the_install_command(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_NLP__MODEL", "no_such_pipeline_xyz")
    result = cli.invoke(app, ["extract", "-"], input="t\nx")
    assert result.exit_code == 1
    assert "pip install" in result.output or "spacy" in result.output


def test_eval_on_a_labelled_file_of_our_own(cli: CliRunner, tmp_path: Path) -> None:
    gold = [
        {
            "id": "g1",
            "is_summit": True,
            "title": TITLE,
            "text": BODY,
            "published": "2026-11-24",
            "participants": ["Lee Jae-myung", "Shigeru Ishiba"],
            "location": {"city": "Busan", "country": "South Korea", "venue": None},
            "start_date": "2026-11-27",
            "end_date": None,
            "status": "upcoming",
        },
        {
            "id": "g2",
            "is_summit": False,
            "hard": True,
            "title": "Climbers reach the summit of Everest",
            "text": "A team of climbers reached the summit of Mount Everest on Monday.",
            "published": "2026-11-24",
        },
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in gold) + "\n", encoding="utf-8")
    result = cli.invoke(app, ["eval", str(path)])
    assert result.exit_code == 0, result.output
    assert "summit F1" in result.output
    assert "1.000" in result.output
