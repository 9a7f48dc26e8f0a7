"""Arrow's CSV parser (the fast path for plain files) gives exactly the cells and row numbers of the
exact reader, on every fixture, every broken variant and random damage — or steps aside."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from kpi.ingest import read as reader
from tests.ingest.conftest import FIXTURES, REAL
from tests.ingest.test_fuzz import VARIANTS

FILES = sorted(p for p in [*FIXTURES.rglob("*.csv"), *REAL.rglob("*.csv")])
TRICKY = {
    "quoted newline": b'a,b\nx,"two\nlines"\ny,z\n',
    "blank line inside": b"a,b\nx,1\n\ny,2\n",
    "blank cells row": b"a,b\nx,1\n,\ny,2\n",
    "crlf": b"a,b\r\nx,1\r\ny,2\r\n",
    "bom": b"\xef\xbb\xbfId,Name\n1,A\n",
    "semicolons": b"a;b\n1,5;2\n3;4\n",
    "doubled quotes": b'a,b\n"say ""hi""",1\n',
    "text after a closing quote": b'a,b\n"ab"c,1\n',
    "stray quote": b'a,b\nab"c,1\n',
    "repeated header": b"Id,Id,Name\n1,2,x\n",
    "spaces in header": b" Id , Name \n1,x\n",
    "no final newline": b"a,b\n1,2",
    "only blank rows": b"a,b\n,\n \n",
    "footer": b"a,b\n1,2\n3,4\n\nGrand Totals (2 records)\n",
    "data loader quoting": b'"Id","Name","Notes"\r\n"006A","Acme, Inc.","say ""hi"""\r\n'
                           b'"006B","","two\r\nlines"\r\n',
    "quoted header only": b'"Id","Name"\n',
    "tabs": b"Id\tName\n1\tA B\n",
    "unicode": "Id,Name\n1,Zoë Ångström\n2,東京\n".encode(),
    "latin-1": "Id,Name\n1,Zoë\n".encode("latin-1"),
}


def exact(name: str, data: bytes) -> object:
    try:
        return reader._csv(name, reader._decode(name, data))
    except reader.Unreadable as exc:
        return exc.problem


def fast(name: str, data: bytes) -> object:
    try:
        return reader._fast_csv(name, data, "utf-8-sig")
    except reader.Unreadable as exc:
        return exc.problem


def assert_same(name: str, data: bytes) -> bool:
    """True when the fast path read the file (and then gave what the exact one gives)."""
    got = fast(name, data)
    if got is None:
        return False
    want = exact(name, data)
    if isinstance(want, reader.RawFile):
        assert isinstance(got, reader.RawFile), (name, got)
        assert list(got.frame.columns) == list(want.frame.columns)
        assert got.frame["_row"].tolist() == want.frame["_row"].tolist()
        for column in want.frame.columns[1:]:
            assert got.frame[column].dtype == object
            assert got.frame[column].tolist() == want.frame[column].tolist(), (name, column)
        assert (got.delimiter, got.header_row, got.repeated, got.notes) == \
            (want.delimiter, want.header_row, want.repeated, want.notes)
    else:
        assert got == want, name
    return True


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_fixture_reads_the_same(path: Path) -> None:
    assert_same(path.name, path.read_bytes())


@pytest.mark.parametrize("case", sorted(TRICKY))
def test_tricky_files_read_the_same_or_take_the_exact_path(case: str) -> None:
    assert_same("x.csv", TRICKY[case])


def test_the_fast_path_reads_most_files() -> None:
    """Most fixtures are plain CSV: the fast path must read them, or the tests above prove little."""
    taken = sum(assert_same(p.name, p.read_bytes()) for p in FILES)
    assert taken >= 0.8 * len(FILES), f"the fast path read {taken} of {len(FILES)} files"
    assert fast("x.csv", TRICKY["text after a closing quote"]) is None
    assert fast("x.csv", TRICKY["footer"]) is None


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v[2].endswith(".csv")],
                         ids=lambda v: v[0])
def test_broken_variants_read_the_same(variant: tuple) -> None:
    assert_same(variant[2], variant[3])


def damaged(seed: int) -> bytes:
    rng = random.Random(seed)
    text = (REAL / "salesforce_migration_pack" / "Opportunity.csv").read_bytes()[:6000]
    data = bytearray(text[:text.rfind(b"\n") + 1])
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data))
        action = rng.choice(["insert", "delete", "replace"])
        piece = rng.choice([b'"', b",", b"\n", b"\r", b" ", b'""', b"\n\n", b"x", b";", b"\r\n"])
        if action == "insert":
            data[at:at] = piece
        elif action == "delete":
            del data[at:at + rng.randint(1, 3)]
        else:
            data[at:at + len(piece)] = piece
    return bytes(data)


@pytest.mark.parametrize("seed", range(80))
def test_random_damage_reads_the_same(seed: int) -> None:
    assert_same("Opportunity.csv", damaged(seed))


def test_random_damage_reaches_the_fast_path() -> None:
    taken = sum(fast("Opportunity.csv", damaged(seed)) is not None for seed in range(80))
    assert taken >= 10, f"only {taken} of 80 damaged files took the fast path"


def test_equal_texts_share_one_object() -> None:
    data = b"Id,OwnerId\n" + b"".join(b"%d,005A\n" % i for i in range(1000))
    raw = fast("x.csv", data)
    assert isinstance(raw, reader.RawFile)
    assert len({id(v) for v in raw.frame["OwnerId"]}) == 1
    assert raw.frame["Id"].tolist() == [str(i) for i in range(1000)]
    assert isinstance(raw.frame, pd.DataFrame)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_a_file_read_from_its_path_is_read_as_its_bytes(path: Path, monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Large files are parsed from the path (here every file is 'large')."""
    monkeypatch.setattr(reader, "LARGE", 0)
    try:
        want = reader.read(path.name, path.read_bytes())
    except reader.Unreadable as exc:
        with pytest.raises(reader.Unreadable) as caught:
            reader.read(path.name, path)
        assert caught.value.problem == exc.problem
        return
    got = reader.read(path.name, path)
    assert got.frame.equals(want.frame)
    assert (got.delimiter, got.header_row, got.repeated, got.notes) == \
        (want.delimiter, want.header_row, want.repeated, want.notes)


def test_the_path_is_parsed_by_the_fast_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    monkeypatch.setattr(reader, "LARGE", 0)
    path = tmp_path / "Opportunity.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (REAL / "salesforce_migration_pack" / "Opportunity.csv"
                                        ).read_bytes().removeprefix(b"\xef\xbb\xbf"))
    calls = []
    monkeypatch.setattr(reader, "_csv", lambda *a: calls.append(a))
    raw = reader.read(path.name, path)
    assert not calls and raw.frame.columns[1] == "Id" and len(raw.frame) == 774


def test_stray_quotes_are_found_across_chunk_edges(tmp_path: Path) -> None:
    for at in range(0, 12):
        data = b"a,b\n" + b"x" * at + b'x"y' + b",1\n"
        path = tmp_path / "q.csv"
        path.write_bytes(data)
        assert reader._stray_quote(data, chunk=4) and reader._stray_quote(path, chunk=4), at
        clean = data.replace(b'x"y', b"xy")
        assert not reader._stray_quote(clean, chunk=4)
