"""Score a reply with fitted weights: plain numpy, no scikit-learn (the worker's hot path).

A model file (``.npz``) holds, per kind, a vocabulary (feature name -> row), one float32 weight
matrix whose columns are the heads side by side, and a bias vector; a JSON ``meta`` entry names
each head's classes and carries the combination settings chosen on dev data. Heads:

- ``outcome``: softmax over the kind's outcomes and ``-`` (the reply states none);
- ``primary``: softmax over reason codes and ``-`` (no reason given);
- ``reasons``: one sigmoid per reason code (is it among the reasons, in any place);
- ``review``: one sigmoid (would a careful reader send it to review).
"""

from __future__ import annotations

import io
import json
import math
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from feedback.classify.classification import ClassificationResult
from feedback.classify.model.features import (
    RULE_WEIGHT,
    char_grams,
    length_feature,
    rule_features,
    words_of,
)

NONE = "-"  # the class "the reply states no outcome / no reason"
HEADS = ("outcome", "primary", "reasons", "review")
SHIPPED = "classifier.npz"

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Scores:
    """A model's reading of one reply."""

    outcome: dict[str, float]  # class -> probability (sums to 1; ``-`` = no outcome)
    primary: dict[str, float]  # class -> probability (sums to 1; ``-`` = no reason)
    reasons: dict[str, float]  # code -> probability of being one of the reasons
    review: float  # probability a careful reader would send it to review


class _WordTable:
    """Per-word sums of the weight rows of its character n-grams, filled as words are met.

    A reply's character part is then one row per word (the sum of that word's n-gram rows)
    instead of one row per n-gram: a few dozen rows taken and added instead of several hundred.
    Row ``i`` of ``sums`` belongs to the ``i``-th word met; ``words`` maps a word to (its row,
    how many n-grams it has, its own ``w|`` vocabulary row or -1)."""

    __slots__ = ("lock", "sums", "used", "words")

    LIMIT = 100_000  # words kept before the table starts again (bounds memory on odd input)

    def __init__(self, columns: int) -> None:
        self.words: dict[str, tuple[int, int, int]] = {}
        self.sums: F32 = np.zeros((1024, columns), dtype=np.float32)
        self.used = 0
        self.lock = threading.Lock()  # a new word takes a row: one thread at a time


@dataclass(frozen=True, slots=True)
class KindWeights:
    vocab: dict[str, int]
    weights: F32  # (features, columns)
    bias: F32  # (columns,)
    classes: dict[str, tuple[str, ...]]  # head -> class names, in column order
    slices: dict[str, tuple[int, int]]  # head -> (first column, end)
    # (previous word, word) -> vocabulary row of the pair feature ``b|previous word``
    pairs: dict[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)
    table: _WordTable = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", _WordTable(self.weights.shape[1]))
        if not self.pairs:
            for name, i in self.vocab.items():
                if name.startswith("b|"):
                    first, _, second = name[2:].partition(" ")
                    self.pairs[(first, second)] = i

    def _word(self, table: _WordTable, w: str) -> tuple[int, int, int]:
        """(row in ``table``, number of n-grams, ``w|`` row or -1) of ``w``, computed once."""
        hit = table.words.get(w)
        if hit is not None:
            return hit
        vocab = self.vocab
        grams = char_grams(w)
        rows = [r for g in grams if (r := vocab.get(g)) is not None]
        total = self.weights.take(np.array(rows, dtype=np.intp), axis=0).sum(axis=0) if rows else 0.0
        with table.lock:
            hit = table.words.get(w)
            if hit is None:
                if table.used == len(table.sums):
                    table.sums = np.concatenate([table.sums, np.zeros_like(table.sums)])
                table.sums[table.used] = total
                hit = (table.used, len(grams), vocab.get("w|" + w, -1))
                table.used += 1
                table.words[w] = hit
        return hit

    def score(self, text: str, rules: ClassificationResult | None) -> Scores:
        """The heads' probabilities; the same numbers as ``featurise`` + the fitted regressions
        (up to float32 rounding), computed from per-word sums of character n-gram rows."""
        words = words_of(text)
        vocab = self.vocab
        table = self.table
        if len(table.words) + len(words) > table.LIMIT:  # bounds memory: a fresh table; a reply
            table = _WordTable(self.weights.shape[1])  # being scored keeps the one it started with
            object.__setattr__(self, "table", table)
        known, word = table.words.get, self._word
        hits = [known(w) or word(table, w) for w in words]
        distinct = dict(zip(words, hits, strict=True))
        pairs = set(zip(["<s>", *words], [*words, "</s>"], strict=True))
        question = "?" in text
        n_word_features = len(distinct) + len(pairs) + question
        # distinct words and pairs have distinct rows: sets of rows, -1 for the unknown, no Python loop
        known_rows = set(map(itemgetter(2), distinct.values()))
        known_rows.update(map(self.pairs.get, pairs, repeat(-1)))
        known_rows.discard(-1)
        rows = list(known_rows)
        if question and (r := vocab.get("p|?")) is not None:
            rows.append(r)
        n_word = len(rows)
        for name in rule_features(rules):
            if (r := vocab.get(name)) is not None:
                rows.append(r)
        n_rule = len(rows) - n_word
        if (r := vocab.get(length_feature(words))) is not None:
            rows.append(r)
        # one coefficient per row: word features share 1/sqrt(their number), rules RULE_WEIGHT,
        # the length bucket 1 (numpy calls cost microseconds each: as few as possible)
        coef = np.repeat(
            np.array([1.0 / math.sqrt(n_word_features), RULE_WEIGHT, 1.0], dtype=np.float32),
            [n_word, n_rule, len(rows) - n_word - n_rule],
        )
        z = self.bias + coef @ self.weights.take(np.array(rows, dtype=np.intp), axis=0)
        total = sum(h[1] for h in hits)
        if total:
            at = np.array([h[0] for h in hits], dtype=np.intp)
            z += table.sums.take(at, axis=0).sum(axis=0) * np.float32(1.0 / math.sqrt(total))
        return self.from_logits(z)

    def from_logits(self, z: F32) -> Scores:
        # the sigmoids in one go (clipped: exp never overflows), the two softmaxes in plain floats
        sig = (1.0 / (1.0 + np.exp(-z.astype(np.float64).clip(-500.0, 500.0)))).tolist()
        logits = z.tolist()
        slices, classes = self.slices, self.classes

        def softmax(head: str) -> dict[str, float]:
            a, b = slices[head]
            part = logits[a:b]
            if not part:
                return {}
            top = max(part)
            e = [math.exp(x - top) for x in part]
            total = sum(e)
            return {c: x / total for c, x in zip(classes[head], e, strict=True)}

        a, b = slices["reasons"]
        reasons = dict(zip(classes["reasons"], sig[a:b], strict=True))
        a, b = slices["review"]
        return Scores(
            outcome=softmax("outcome"),
            primary=softmax("primary"),
            reasons=reasons,
            review=sig[a] if b > a else 0.0,
        )


@dataclass(frozen=True, slots=True)
class ClassifierModel:
    """Fitted weights for some kinds, and the settings that combine them with the rules."""

    kinds: dict[str, KindWeights]
    meta: dict[str, Any] = field(default_factory=dict)
    version: int | None = None  # the database version it came from; None for the shipped one
    # the bytes it was read from: pickling a version for the analysis pool sends them as they are
    # instead of compressing 9 MB again for every batch
    source: bytes | None = field(default=None, repr=False, compare=False)

    def score(self, text: str, *, kind: str, rules: ClassificationResult | None) -> Scores | None:
        weights = self.kinds.get(kind)
        return None if weights is None else weights.score(text, rules)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled for the analysis process pool: the shipped model by reference (each process
        loads its own copy once), a trained version by its bytes, decoded once per process."""
        if self.version is None and self is shipped_model():
            return (shipped_model, ())
        return (_restore, (self.version, self.to_bytes()))

    def setting(self, kind: str, name: str, default: float) -> float:
        value = self.meta.get("combine", {}).get(kind, {}).get(name, default)
        return float(value)

    def to_bytes(self) -> bytes:
        if self.source is not None:
            return self.source
        arrays: dict[str, Any] = {"meta": np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8)}
        for kind, kw in self.kinds.items():
            names = sorted(kw.vocab, key=kw.vocab.__getitem__)
            arrays[f"{kind}.vocab"] = np.frombuffer("\x00".join(names).encode(), dtype=np.uint8)
            arrays[f"{kind}.weights"] = kw.weights.astype(np.float32)
            arrays[f"{kind}.bias"] = kw.bias.astype(np.float32)
            arrays[f"{kind}.classes"] = np.frombuffer(json.dumps(kw.classes).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, version: int | None = None) -> ClassifierModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes().decode())
            kinds: dict[str, KindWeights] = {}
            for kind in meta.get("kinds", []):
                names = npz[f"{kind}.vocab"].tobytes().decode().split("\x00")
                classes = {
                    h: tuple(c) for h, c in json.loads(npz[f"{kind}.classes"].tobytes().decode()).items()
                }
                kinds[kind] = make_kind_weights(names, npz[f"{kind}.weights"], npz[f"{kind}.bias"], classes)
        source = bytes(data) if version is not None else None  # the shipped one goes by reference
        return cls(kinds=kinds, meta=meta, version=version, source=source)


def make_kind_weights(
    names: list[str], weights: Any, bias: Any, classes: dict[str, tuple[str, ...]]
) -> KindWeights:
    slices: dict[str, tuple[int, int]] = {}
    start = 0
    for head in HEADS:
        n = len(classes.get(head, ()))
        slices[head] = (start, start + n)
        start += n
    return KindWeights(
        vocab={n: i for i, n in enumerate(names)},
        weights=np.ascontiguousarray(weights, dtype=np.float32),
        bias=np.ascontiguousarray(bias, dtype=np.float32),
        classes={h: tuple(classes.get(h, ())) for h in HEADS},
        slices=slices,
    )


_RESTORED: dict[int | None, ClassifierModel] = {}


def _restore(version: int | None, data: bytes) -> ClassifierModel:
    """A trained version in another process: decoded the first time, reused after."""
    model = _RESTORED.get(version)
    if model is None or version is None:
        model = ClassifierModel.from_bytes(data, version=version)
        _RESTORED.clear()  # one active version at a time
        _RESTORED[version] = model
    return model


_SHIPPED_LOCK = threading.Lock()


def shipped_model() -> ClassifierModel | None:
    """The model fitted on the shipped labelled corpus (package data), or None if absent.

    Exactly one instance per process, also when two threads (the worker's batches in flight) ask
    first at the same moment: the analysis pool receives the shipped model by reference only if
    it *is* that instance; a second copy would be compressed and sent whole with every batch."""
    with _SHIPPED_LOCK:
        return _load_shipped()


@lru_cache(maxsize=1)
def _load_shipped() -> ClassifierModel | None:
    try:
        data = resources.files("feedback.classify.model").joinpath(SHIPPED).read_bytes()
    except (FileNotFoundError, OSError):
        return None
    return ClassifierModel.from_bytes(data)
