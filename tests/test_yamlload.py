"""The fast YAML path must give exactly what PyYAML's safe loader gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from feedpub.sources.yamlsafe import FrontMatterLoader as _FrontMatterLoader
from feedpub.sources.yamlsafe import load_yaml

from .conftest import CORPUS

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def reference(text: str) -> object:
    return yaml.load(text, Loader=_FrontMatterLoader)


@given(documents, st.sampled_from([None, "'", '"']), st.booleans())
def test_fast_path_equals_pyyaml(document: object, style: str | None, flow: bool) -> None:
    text = yaml.safe_dump(
        document, default_style=style, default_flow_style=flow, allow_unicode=True
    )
    assert load_yaml(text) == reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1, 2]\nb: *x\n",
        "base: &b {k: 1}\nderived:\n  <<: *b\n  j: 2\n",
        "when: 2024-05-01\nexplicit: !!str 12\nset: !!set {a, b}\n",
        "yes: no\non: off\n~: null\n0x1F: 0o17\n1_000: .inf\n",
    ],
)
def test_unusual_documents_fall_back_to_pyyaml(text: str) -> None:
    assert load_yaml(text) == reference(text)


@pytest.mark.parametrize(
    "text", ['x: !!python/object/apply:os.system ["true"]\n', "? [1, 2]\n: unhashable key\n"]
)
def test_refusals_are_pyyaml_s(text: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        reference(text)
    with pytest.raises(yaml.constructor.ConstructorError):
        load_yaml(text)


def test_real_corpus_loads_identically() -> None:
    files = sorted(CORPUS.glob("*/_news/*.md"))
    if not files:
        pytest.skip("the shared corpus is not here")
    for path in files:
        block = path.read_text(encoding="utf-8-sig").split("---", 2)[1]
        assert load_yaml(block) == reference(block), path


def test_bundled_example_loads_identically() -> None:
    for path in sorted((Path(__file__).parent.parent / "example" / "_news").glob("*.md")):
        block = path.read_text(encoding="utf-8-sig").split("---", 2)[1]
        assert load_yaml(block) == reference(block), path
